"""/stats for the operators named in `ADMIN_IDS`: users, watches, quota, cache, last poll.

Operator-facing, so English only and numbers first. Everyone else gets a short
refusal and learns nothing.
"""

from __future__ import annotations

import html
from typing import Any

from telegram import Update

from handlers.common import reply, services
from handlers.context import BotContext, Services
from handlers.texts import lang_of, plural, t


async def stats_text(s: Services) -> str:
    users = await s.users.count()
    subs = await s.watches.counts()
    alerts = await s.alerts.counts()
    accounts = await s.accounts.count()
    lines = [
        "📊 <b>Bot statistics</b>",
        f"Users: {users} (with watches: {subs.users}; linked accounts: {accounts})",
        f"Watches: {subs.active} active, {subs.paused} paused",
        f"Distinct listings watched: {subs.listings}",
        f"Alerts: {alerts.sent} sent, {alerts.pending} pending, {alerts.failed} given up",
        "",
        "<b>Platforms</b> (quota used / per day · left for chat · left for polling · cache hits"
        " · each user's daily budget, users who spent it today)",
    ]
    hits = misses = 0
    for platform, d in sorted(s.gateway.stats().items()):
        hits += d["cache_hits"]
        misses += d["cache_misses"]
        if not d["enabled"]:
            lines.append(f"{html.escape(platform)}: off")
            continue
        lines.append(
            f"{html.escape(platform)}: {d['quota_used']} / {_n(d['quota_per_day'])} · "
            f"{_n(d['quota_left_chat'])} · {_n(d['quota_left_background'])} · "
            f"{_rate(d['cache_hits'], d['cache_misses'])}"
            + (
                f" · per user {d['budget_per_user']}, {d['users_at_budget']} at it"
                if "budget_per_user" in d
                else ""
            )
            + (f" · breaker {d['breaker']}" if d["breaker"] != "closed" else "")
            + (f" · errors {_errors(d['errors'])}" if d["errors"] else "")
        )
    lines.append(f"Cache hit rate (all): {_rate(hits, misses)}")
    lines.append("")
    cycle = s.watching.last_cycle
    if cycle is None:
        lines.append("Last poll cycle: none yet")
    else:
        lines.append(
            f"Last poll cycle: {cycle.duration:.1f} s, {plural('en', 'n_checks', cycle.checks)}, "
            f"{plural('en', 'n_errors', cycle.errors)} ({cycle.quota_errors} quota), "
            f"{plural('en', 'n_alerts', cycle.alerts_created)}"
        )
        for plan in cycle.plans:
            lines.append(
                f"  {html.escape(plan.platform)}: {plan.checked}/{plan.planned} of "
                f"{plural('en', 'n_listings', plan.watched)}"
                + (f", stopped: {plan.stopped}" if plan.stopped else "")
            )
    return "\n".join(lines)


def _n(value: Any) -> str:
    return "∞" if value is None else str(value)


def _rate(hits: int, misses: int) -> str:
    total = hits + misses
    return f"{hits / total:.0%}" if total else "—"


def _errors(errors: dict[str, int]) -> str:
    return ", ".join(f"{html.escape(k)} {v}" for k, v in sorted(errors.items()))


async def stats_command(update: Update, context: BotContext) -> None:
    user = update.effective_user
    if user is None:
        return
    s = services(context)
    if user.id not in s.settings.admin_ids:
        await reply(update, t(lang_of(user), "admin_only"))
        return
    await reply(update, await stats_text(s))
