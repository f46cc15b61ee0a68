"""Price alerts in the background: plan, check, record, decide, deliver.

The JobQueue runs `poll_job` every `ALERT_INTERVAL_SECONDS`. It calls
`run_poll_cycle(services, bot, now)`, which tests and benchmarks call directly
with a `FakeClock`:

1. **Plan.** Per platform, the listings with at least one active subscription. One
   upstream call per listing however many users watch it. The number of calls this
   cycle comes from the platform's remaining daily quota *after the chat reserve*
   (`Gateway.quota_left(..., Priority.BACKGROUND)`), spread evenly over what is left
   of the platform day (midnight UTC+8): each cycle earns
   `quota_left * interval / seconds_left` calls of credit, and spends it on the
   stalest listings first (never checked, then least recently checked). A cycle
   never plans more than half of what the platform's per-second rate allows in one
   interval (the other half is chat's), nor more than one round of all listings.
2. **Check** with `gateway.listing(ref, fresh=True, priority=BACKGROUND)`: a check
   that read the cache would be no check. 'Not found' means the listing is gone
   (taken down). A quota or breaker refusal stops the platform for this cycle.
3. **Record and decide** in one transaction per listing (`SubscriptionStore.record_check`):
   the observation, the snapshot, each subscription's rule (`handlers.rules`), its
   new base and its alert, keyed so the same change is recorded only once.
4. **Deliver** (`deliver_pending`): every unsent alert, oldest first, at most one
   message per second to a chat and Telegram's overall limit kept by the
   application's `AIORateLimiter` (whose `retry_after` handling we back up). An alert
   is marked sent right after Telegram accepts it; on start, whatever is still
   unsent is sent. Forbidden (the user blocked the bot) pauses that chat's
   subscriptions; any other error leaves subscriptions alone.
"""

from __future__ import annotations

import asyncio
import html
import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ContextTypes

from bot.services import Services
from clients.clock import CHINA_TZ
from clients.errors import NotFound, PlatformError, QuotaExhausted, TemporarilyUnavailable
from clients.gateway import Priority
from clients.models import ListingRef, ListingStatus, PriceUnit
from handlers import callbacks as cb
from handlers.cards import money
from handlers.rules import (
    Base,
    Change,
    Observation,
    Rule,
    RuleKind,
    change_percent,
    evaluate,
)
from handlers.texts import t
from storage.accounts import AccountStore
from storage.alerts import AlertStore, PendingAlert
from storage.subscriptions import (
    AlertDraft,
    Decision,
    NewBase,
    Subscription,
    SubscriptionStore,
    WatchedListing,
)

log = logging.getLogger(__name__)

#: share of a platform's per-second rate one cycle may plan (the rest is for chat)
RATE_SHARE = 0.5
CHECK_CONCURRENCY = 16  # checks in flight per platform; the gateway keeps the rate
SEND_CONCURRENCY = 64  # messages in flight; AIORateLimiter keeps Telegram's 30/s
PER_CHAT_GAP = 1.0  # seconds between two messages to one chat (CONTRACT 4.2)
#: groups get 20 messages a minute; a little more than 3 s apart keeps any minute under it
PER_GROUP_GAP = 3.1
MAX_SEND_ATTEMPTS = 5  # network failures before an alert is given up
MAX_RETRY_AFTER_WAITS = 5  # 429s for one alert, after the rate limiter's own retries
DELIVERY_BATCH = 500
TITLE_LIMIT = 200
BLOCKED = "blocked"


# -- the state kept per application -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlatformPlan:
    platform: str
    watched: int  # listings with an active subscription
    quota_left: int | None  # background calls left today (None: the platform sets no number)
    planned: int
    checked: int = 0  # checks that got an answer (a listing or 'not found')
    errors: int = 0
    stopped: str | None = None  # why the platform was left early this cycle


@dataclass(frozen=True, slots=True)
class CycleReport:
    started_at: float
    duration: float
    checks: int
    errors: int
    quota_errors: int
    alerts_created: int
    duplicates: int
    plans: tuple[PlatformPlan, ...]


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0  # given up for a reason other than a block
    blocked: int = 0  # alerts not sent because the chat blocked the bot
    retried: int = 0  # left pending after a network failure, tried again later
    rate_limited: int = 0  # 429 answers that reached us (after the rate limiter's retries)


@dataclass
class AlertRuntime:
    """What the alert machinery keeps between cycles, one per application (in `Services.extra`)."""

    subscriptions: SubscriptionStore
    alerts: AlertStore
    accounts: AccountStore
    #: platform -> checks earned but not made yet (fractions carry over between cycles)
    credit: dict[str, float] = field(default_factory=dict)
    last_cycle: CycleReport | None = None
    last_delivery: DeliveryReport | None = None
    delivery_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    cycle_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def runtime(services: Services) -> AlertRuntime:
    rt = services.extra.get("alerts")
    if rt is None:
        rt = AlertRuntime(
            SubscriptionStore(services.database),
            AlertStore(services.database),
            AccountStore(services.database),
        )
        services.extra["alerts"] = rt
    return rt


# -- planning ---------------------------------------------------------------------------


def seconds_left_in_day(now: float) -> float:
    """Seconds until the platforms' next day (midnight UTC+8), when daily quotas reset."""
    current = datetime.fromtimestamp(now, CHINA_TZ)
    midnight = (current + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1.0, (midnight - current).total_seconds())


def checks_this_cycle(
    *,
    watched: int,
    quota_left: int | None,
    per_second: float | None,
    interval: float,
    seconds_left: float,
    credit: float,
) -> tuple[int, float]:
    """How many listings to check now, and the credit after earning this cycle's share.

    The share spreads the quota left evenly over the rest of the day, so checks of
    one listing come at an even pace; the fraction of a call not spent carries over.
    Credit never exceeds one round of all listings (a burst would only bunch checks),
    the quota left, or the cycle's share of the platform's rate.
    """
    if watched <= 0:
        return 0, 0.0
    if quota_left is None:
        share = float(watched)
    else:
        share = quota_left * min(1.0, interval / max(seconds_left, 1.0))
    credit = min(credit + share, float(watched))
    if quota_left is not None:
        credit = min(credit, float(quota_left))
    if per_second:
        credit = min(credit, float(max(1, math.floor(per_second * interval * RATE_SHARE))))
    return max(0, math.floor(credit + 1e-9)), credit


# -- deciding ---------------------------------------------------------------------------


def decide(subscription: Subscription, seen: Observation) -> Decision:
    """What an observation means for one subscription (the rules are in `handlers.rules`)."""
    rule = Rule(RuleKind(subscription.rule), subscription.rule_value)
    base = Base(
        subscription.base_price,
        ListingStatus(subscription.base_status),
        subscription.base_version,
    )
    verdict = evaluate(rule, base, seen)
    new_base = NewBase(verdict.base.price, verdict.base.status.value, verdict.base.version)
    if not verdict.alert:
        return Decision(new_base)
    draft = AlertDraft(
        key=verdict.key(subscription.id, base),
        changes=tuple(c.value for c in verdict.changes),
        old_price=verdict.old_price,
        new_price=verdict.new_price,
        status=verdict.status.value,
    )
    return Decision(new_base, draft)


# -- the cycle --------------------------------------------------------------------------


async def run_poll_cycle(
    services: Services, bot: Bot | None, now: float | None = None, *, deliver: bool = True
) -> CycleReport:
    """One poll cycle: plan, check, record, decide; then deliver when `deliver` and a bot."""
    rt = runtime(services)
    async with rt.cycle_lock:  # a slow cycle and the next one never overlap
        report = await _cycle(services, rt, services.clock.time() if now is None else now)
    rt.last_cycle = report
    log.info(
        "poll cycle: %d checks, %d errors, %d alerts in %.1fs",
        report.checks,
        report.errors,
        report.alerts_created,
        report.duration,
    )
    if deliver and bot is not None:
        await deliver_pending(services, bot)
    return report


async def _cycle(services: Services, rt: AlertRuntime, now: float) -> CycleReport:
    gateway = services.gateway
    started = services.clock.monotonic()
    interval = float(services.settings.alert_interval_seconds)
    seconds_left = seconds_left_in_day(now)
    counts = rt.subscriptions.watched_counts()

    jobs = []
    for platform, watched in sorted(counts.items()):
        if platform not in gateway.platforms or not gateway.enabled(platform):
            continue
        quota_left = gateway.quota_left(platform, Priority.BACKGROUND)
        planned, credit = checks_this_cycle(
            watched=watched,
            quota_left=quota_left,
            per_second=gateway.limits(platform).per_second,
            interval=interval,
            seconds_left=seconds_left,
            credit=rt.credit.get(platform, 0.0),
        )
        rt.credit[platform] = credit
        plan = PlatformPlan(platform, watched, quota_left, planned)
        jobs.append(_check_platform(services, rt, plan))

    results = await asyncio.gather(*jobs)
    plans = tuple(plan for plan, _, _, _ in results)
    return CycleReport(
        started_at=now,
        duration=services.clock.monotonic() - started,
        checks=sum(p.checked for p in plans),
        errors=sum(p.errors for p in plans),
        quota_errors=sum(q for _, q, _, _ in results),
        alerts_created=sum(a for _, _, a, _ in results),
        duplicates=sum(d for _, _, _, d in results),
        plans=plans,
    )


async def _check_platform(
    services: Services, rt: AlertRuntime, plan: PlatformPlan
) -> tuple[PlatformPlan, int, int, int]:
    """Check the planned listings of one platform; (plan with outcome, quota errors, alerts, dups)."""
    listings = rt.subscriptions.stalest(plan.platform, plan.planned)
    semaphore = asyncio.Semaphore(CHECK_CONCURRENCY)
    stop: list[str] = []
    tally = {"checked": 0, "errors": 0, "quota": 0, "alerts": 0, "dups": 0, "calls": 0}

    async def check(listing: WatchedListing) -> None:
        async with semaphore:
            if stop:
                return
            try:
                outcome = await check_listing(services, rt, listing)
            except Exception:  # a bug in one check must not cost every other listing its turn
                log.exception("alert check of %s failed", listing.ref_key)
                # counted as checked, so a listing that always fails cannot take every turn
                rt.subscriptions.record_failure(listing.ref_key, "internal", services.clock.time())
                outcome = CheckOutcome(error="internal")
        tally["calls"] += outcome.calls
        if outcome.stop:
            stop.append(outcome.stop)
        if outcome.quota_error:
            tally["quota"] += 1
        if outcome.error:
            tally["errors"] += 1
        else:
            tally["checked"] += 1
            tally["alerts"] += outcome.alerts
            tally["dups"] += outcome.duplicates

    await asyncio.gather(*(check(listing) for listing in listings))
    rt.credit[plan.platform] = max(0.0, rt.credit.get(plan.platform, 0.0) - tally["calls"])
    done = replace(
        plan, checked=tally["checked"], errors=tally["errors"], stopped=stop[0] if stop else None
    )
    return done, tally["quota"], tally["alerts"], tally["dups"]


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    calls: int = 1  # quota spent (0 when refused before any upstream call)
    error: str | None = None
    quota_error: bool = False
    stop: str | None = None
    alerts: int = 0
    duplicates: int = 0


async def check_listing(
    services: Services, rt: AlertRuntime, listing: WatchedListing
) -> CheckOutcome:
    """Ask the platform about one watched listing and record what it says."""
    ref = ListingRef.from_key(listing.ref_key)
    try:
        fetched = await services.gateway.listing(ref, fresh=True, priority=Priority.BACKGROUND)
    except NotFound:
        fetched, status = None, ListingStatus.TAKEN_DOWN
    except QuotaExhausted as exc:
        log.warning("%s: quota refused an alert check (%s)", ref.platform, exc.kind)
        return CheckOutcome(calls=0, error=exc.kind, quota_error=True, stop="quota")
    except TemporarilyUnavailable as exc:
        return CheckOutcome(calls=0, error=exc.kind, stop="unavailable")
    except PlatformError as exc:
        log.info("%s: alert check failed (%s)", ref.platform, exc.kind)
        rt.subscriptions.record_failure(listing.ref_key, exc.kind, services.clock.time())
        return CheckOutcome(error=exc.kind)
    else:
        status = fetched.status
    seen = Observation(fetched.price if fetched else listing.price, status)
    try:
        result = rt.subscriptions.record_check(
            listing.ref_key,
            fetched,
            status.value,
            services.clock.time(),
            lambda sub: decide(sub, seen),
        )
    except LookupError:  # the last watcher left while we were asking
        return CheckOutcome()
    return CheckOutcome(alerts=result.alerts_created, duplicates=result.duplicates)


# -- delivery ---------------------------------------------------------------------------


async def deliver_pending(services: Services, bot: Bot) -> DeliveryReport:
    """Send every unsent alert, oldest first; return what happened.

    One delivery runs at a time; a second caller waits for it and then finds little
    or nothing left. Alerts recorded while a delivery runs are picked up by it.
    """
    rt = runtime(services)
    report = DeliveryReport()
    async with rt.delivery_lock:
        sender = _Sender(services, rt, bot, report)
        after = 0
        while True:
            batch = rt.alerts.pending(after, DELIVERY_BATCH)
            if not batch:
                break
            after = batch[-1].id
            by_chat: dict[int, list[PendingAlert]] = defaultdict(list)
            for alert in batch:
                by_chat[alert.chat_id].append(alert)
            await asyncio.gather(*(sender.send_chat(alerts) for alerts in by_chat.values()))
    rt.last_delivery = report
    if report.sent or report.failed or report.blocked:
        log.info(
            "alerts delivered: %d sent, %d blocked, %d failed, %d to retry",
            report.sent,
            report.blocked,
            report.failed,
            report.retried,
        )
    return report


class _Sender:
    def __init__(
        self, services: Services, rt: AlertRuntime, bot: Bot, report: DeliveryReport
    ) -> None:
        self.services = services
        self.rt = rt
        self.bot = bot
        self.report = report
        self.clock = services.clock
        self.semaphore = asyncio.Semaphore(SEND_CONCURRENCY)
        self.blocked: set[int] = set()
        self.last_sent: dict[int, float] = {}
        self.languages: dict[int, str] = {}

    def language(self, user_id: int) -> str:
        if user_id not in self.languages:
            user = self.services.users.get(user_id)
            self.languages[user_id] = (user.language if user else None) or "en"
        return self.languages[user_id]

    async def send_chat(self, alerts: list[PendingAlert]) -> None:
        """One chat's alerts in order: a second apart in private chats, 3.1 s in groups."""
        for alert in alerts:
            chat_id = alert.chat_id
            if chat_id in self.blocked:
                return
            last = self.last_sent.get(chat_id)
            if last is not None:
                gap = PER_CHAT_GAP if chat_id > 0 else PER_GROUP_GAP  # groups have ids < 0
                wait = last + gap - self.clock.monotonic()
                if wait > 0:
                    await self.clock.sleep(wait)
            async with self.semaphore:
                await self.send(alert)
            self.last_sent[chat_id] = self.clock.monotonic()

    async def send(self, alert: PendingAlert) -> None:
        try:
            text, keyboard = render_alert(alert, self.language(alert.user_id))
        except Exception:  # a rendering bug must not stop the others; the alert stays
            log.exception("alert %d could not be rendered", alert.id)
            self._retry_later(alert, "render")
            return
        chat_id = alert.chat_id
        waits = 0
        while True:
            try:
                await self.bot.send_message(
                    chat_id,
                    text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=keyboard,
                    disable_web_page_preview=True,
                )
            except RetryAfter as exc:
                self.report.rate_limited += 1
                waits += 1
                if waits > MAX_RETRY_AFTER_WAITS:
                    self._retry_later(alert, "retry_after")
                    return
                await self.clock.sleep(retry_after_seconds(exc))
                continue
            except Forbidden:
                self._blocked(chat_id)
                return
            except ChatMigrated as exc:
                # the group became a supergroup: its watches move with it, then try again
                self.rt.subscriptions.move_chat(chat_id, exc.new_chat_id)
                chat_id = exc.new_chat_id
                continue
            except BadRequest as exc:
                # our own bug or a chat that is gone: retrying the same request cannot help,
                # and nobody's subscriptions are touched for it
                log.error("alert %d refused by Telegram: %s", alert.id, exc.message)
                self.rt.alerts.mark_failed(alert.id, f"bad_request: {exc.message}")
                self.report.failed += 1
                return
            except NetworkError as exc:
                log.warning("alert %d not sent (%s); will retry", alert.id, type(exc).__name__)
                self._retry_later(alert, type(exc).__name__)
                return
            except TelegramError as exc:
                log.error("alert %d not sent: %s", alert.id, type(exc).__name__)
                self._retry_later(alert, type(exc).__name__)
                return
            break
        self.rt.alerts.mark_sent(alert.id)
        self.report.sent += 1

    def _retry_later(self, alert: PendingAlert, error: str) -> None:
        if self.rt.alerts.note_attempt(alert.id, error) >= MAX_SEND_ATTEMPTS:
            self.rt.alerts.mark_failed(alert.id, f"gave up: {error}")
            self.report.failed += 1
        else:
            self.report.retried += 1

    def _blocked(self, chat_id: int) -> None:
        self.blocked.add(chat_id)
        paused = self.rt.subscriptions.pause_chat(chat_id, BLOCKED)
        dropped = self.rt.alerts.fail_pending_for_chat(chat_id, BLOCKED)
        self.report.blocked += dropped
        log.info("a chat blocked the bot: %d subscriptions paused", paused)


def retry_after_seconds(exc: RetryAfter) -> float:
    # the private timedelta: the public attribute warns while it may still be an int
    value: Any = getattr(exc, "_retry_after", None)
    if isinstance(value, timedelta):
        return value.total_seconds()
    raw: Any = exc.retry_after
    return raw.total_seconds() if isinstance(raw, timedelta) else float(raw)


# -- the alert message ------------------------------------------------------------------


def format_price(price: Decimal | None, unit: str, lang: str) -> str:
    if price is None:
        return "—"
    if unit == PriceUnit.WAN_YUAN:
        return t(lang, "price_wan", price=money(price), yuan=money(price * 10000))
    if unit == PriceUnit.YUAN_PER_MONTH:
        return t(lang, "price_month", price=money(price))
    return t(lang, "price_yuan", price=money(price))


def rule_text(rule: str, value: Decimal | None, unit: str, lang: str) -> str:
    if rule == RuleKind.PERCENT:
        return t(lang, "rule_percent", percent=money(value or Decimal(0)))
    if rule == RuleKind.TARGET:
        return t(lang, "rule_target", price=format_price(value, unit, lang))
    return t(lang, "rule_any_drop")


_HEADLINE_ORDER = (
    Change.SOLD,
    Change.RENTED,
    Change.TAKEN_DOWN,
    Change.BACK_ON_SALE,
    Change.TARGET_REACHED,
    Change.PRICE_DROP,
)


def render_alert(alert: PendingAlert, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    """The alert's HTML text and buttons (view card, price history, unwatch)."""
    changes = set(alert.changes)
    headline = next(c for c in _HEADLINE_ORDER if c.value in changes)
    title = alert.title if len(alert.title) <= TITLE_LIMIT else alert.title[:TITLE_LIMIT] + "…"
    e = html.escape
    lines = [f"{t(lang, f'alert_{headline.value}')} · {e(t(lang, f'platform_{alert.platform}'))}"]
    if alert.url.startswith(("https://", "http://")):
        lines.append(f'<a href="{e(alert.url, quote=True)}">{e(title)}</a>')
    else:
        lines.append(f"<b>{e(title)}</b>")

    unit = alert.price_unit
    old, new = alert.old_price, alert.new_price
    price_moved = bool(changes & {Change.PRICE_DROP.value, Change.TARGET_REACHED.value})
    off_sale = alert.status != ListingStatus.ON_SALE
    if off_sale:
        lines.append(t(lang, "alert_last_price", price=e(format_price(new, unit, lang))))
    elif old is not None and new is not None and (price_moved or old != new):
        percent = change_percent(old, new)
        lines.append(
            t(
                lang,
                "alert_price_change",
                old=e(format_price(old, unit, lang)),
                new=e(format_price(new, unit, lang)),
                percent=f"{percent:+}".replace("-", "−") if percent is not None else "",
            )
        )
    else:
        lines.append(t(lang, "alert_price_now", price=e(format_price(new, unit, lang))))
    if alert.lowest_price is not None:
        lines.append(t(lang, "alert_lowest", price=e(format_price(alert.lowest_price, unit, lang))))
    lines.append(t(lang, "alert_rule", rule=e(rule_text(alert.rule, alert.rule_value, unit, lang))))

    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t(lang, "btn_view_card"),
                    callback_data=cb.encode(cb.ViewCard(ListingRef.from_key(alert.ref_key))),
                ),
                InlineKeyboardButton(
                    t(lang, "btn_history"),
                    callback_data=cb.encode(cb.History(alert.subscription_id)),
                ),
                InlineKeyboardButton(
                    t(lang, "btn_unwatch"),
                    callback_data=cb.encode(cb.Unwatch(alert.subscription_id)),
                ),
            ]
        ]
    )
    return "\n".join(lines), keyboard


# -- wiring into the Application ----------------------------------------------------------

POLL_JOB = "price-alerts-poll"
FIRST_POLL_AFTER = 30.0  # seconds after start; restarts must not starve the checks


async def poll_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The JobQueue callback: one cycle, then delivery in the background (it may take long)."""
    services: Services = context.application.bot_data["services"]
    await run_poll_cycle(services, context.bot, deliver=False)
    if not runtime(services).delivery_lock.locked():
        context.application.create_task(
            deliver_pending(services, context.bot), name="price-alerts-delivery"
        )


async def deliver_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send what a previous run recorded but did not send (run once at start)."""
    services: Services = context.application.bot_data["services"]
    await deliver_pending(services, context.bot)


def start_alerts(application: Application) -> None:  # type: ignore[type-arg]
    """Schedule the poll job and the delivery of alerts left unsent by a previous run."""
    services: Services = application.bot_data["services"]
    job_queue = application.job_queue
    if job_queue is None:
        log.error("no JobQueue (python-telegram-bot[job-queue] missing): price alerts are off")
        return
    interval = services.settings.alert_interval_seconds
    job_queue.run_once(deliver_job, when=0, name="price-alerts-pending")
    job_queue.run_repeating(
        poll_job,
        interval=interval,
        first=min(float(interval), FIRST_POLL_AFTER),
        name=POLL_JOB,
        job_kwargs={"max_instances": 1, "coalesce": True},
    )


async def resume_on_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any update from a chat whose watches were paused (it had blocked the bot) resumes them."""
    chat = update.effective_chat
    if chat is None:
        return
    if runtime(context.application.bot_data["services"]).subscriptions.resume_chat(chat.id):
        log.info("a chat that had blocked the bot is back: its watches resume")
