"""`python -m bot check`: a day-one check of the operator's settings, one call per platform.

With the settings `python -m bot` uses (CONTRACT section 1) it prints one line saying
what it spends, then one table: Telegram (getMe: the bot's @username and name), then
every platform of `clients.registry.PLATFORMS` (one without credentials: "off: no
credentials"), each with: reachable, credentials (signature or token) accepted, tier,
quota left today, and the result, which for a refusal names its documented meaning
(wrong key, wrong secret, clock skew, permission, quota...), the setting to fix and the
seed's own words. It exits 0 when everything works, 1 otherwise.

Each platform gets exactly one call, its client's `probe_call` (the cheapest call its
seed documents), through the gateway: it is counted in the bot's quota ledger
(`quota_usage`, on DATABASE_PATH), because the platform counts it too, and never retried.
Nothing printed can hold a secret: every line goes through the log redactor's secret
filter (tokens, keys, signed values; the bot's own @username stays readable).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import TextIO

import httpx
from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.config import Settings
from bot.logs import RedactingFormatter, secret_values
from bot.services import HTTP_TIMEOUT
from clients import registry
from clients.probe import ProbeResult
from clock import Clock, SystemClock
from gateway import Gateway, Priority
from storage.database import Database
from storage.quota import QuotaStore

log = logging.getLogger(__name__)

#: how the table names each platform; a platform not listed is shown by its id
LABELS = {
    "anjuke": "Anjuke",
    "beike": "Beike",
    "xianyu": "Xianyu",
    "aihuishou": "Aihuishou",
    "anjuke_open": "Anjuke open API",
}
HEADER = ("platform", "reachable", "credentials", "tier", "quota left (our count)", "result")
#: Bot API, getMe: "A simple method for testing your bot's authentication token"
TELEGRAM_REFUSAL = (
    "wrong token: check TELEGRAM_BOT_TOKEN (Bot API, getMe: "
    '"A simple method for testing your bot\'s authentication token"; Telegram refused it)'
)


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    reachable: str
    credentials: str
    tier: str
    quota: str
    result: str
    ok: bool

    def cells(self) -> tuple[str, ...]:
        return (self.name, self.reachable, self.credentials, self.tier, self.quota, self.result)


async def check_telegram(settings: Settings) -> Row:
    """getMe with the token: PTB's `Bot.initialize` makes exactly that one call."""
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    api = settings.telegram_api_url
    bot = Bot(token, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot")
    try:
        await bot.initialize()
    except InvalidToken:
        return Row("Telegram", "yes", "refused", "-", "-", TELEGRAM_REFUSAL, False)
    except NetworkError as exc:
        return Row("Telegram", "no", "not proven", "-", "-", f"unreachable: {exc}", False)
    except TelegramError as exc:
        return Row("Telegram", "yes", "not proven", "-", "-", f"refused: {exc}", False)
    me = bot.bot
    try:
        await bot.shutdown()
    except TelegramError:
        pass  # nothing was opened that needs closing
    return Row(
        "Telegram", "yes", "accepted", "-", "-", f"ok: @{me.username} ({me.first_name})", True
    )


def platform_row(gateway: Gateway, platform: str, result: ProbeResult | None) -> Row:
    """One table row from a probe's result (None: the platform has no credentials)."""
    name = LABELS.get(platform, platform)
    client = gateway.client(platform)
    if result is None:
        return Row(name, "-", "-", "-", "-", "off: no credentials", True)
    per_day = client.limits.per_day
    left = gateway.quota_left(platform, Priority.CHAT)
    quota = "no daily number" if per_day is None else f"{left} of {per_day}"
    reachable = "yes" if result.reached else ("no" if result.called else "not called")
    credentials = {True: "accepted", False: "refused", None: "not proven"}[result.accepted]
    if result.ok:
        text = f"ok: {result.answer}"
    elif result.refusal is not None:
        refusal = result.refusal
        text = (
            f"{refusal.cause}: check {refusal.setting}. Answer: {result.answer}. "
            f'Seed: "{refusal.seed}"'
        )
    elif not result.reached:
        text = f"unreachable: {result.answer}"
    else:
        text = f"unexpected answer: {result.answer}"
    return Row(name, reachable, credentials, client.config.tier or "-", quota, text, result.ok)


async def check_platforms(settings: Settings, database: Database, clock: Clock) -> list[Row]:
    """One probe per platform with credentials, in the registry's order."""
    async with httpx.AsyncClient(
        timeout=HTTP_TIMEOUT, headers={"User-Agent": "listing-assistant-bot/0.1 (check)"}
    ) as http:
        clients = registry.build_clients(settings.platform_configs(), http, clock)
        gateway = Gateway(clients, QuotaStore(database), clock)
        rows = []
        for platform, client in clients.items():
            try:
                result = await gateway.probe(platform) if client.enabled else None
            except Exception as exc:  # a bug reading an answer: that row, not the check
                log.exception("%s: the probe failed", platform)
                name = LABELS.get(platform, platform)
                text = f"check failed: {type(exc).__name__} (see the log)"
                rows.append(Row(name, "?", "not proven", "-", "-", text, False))
                continue
            rows.append(platform_row(gateway, platform, result))
        return rows


def render(rows: list[Row]) -> str:
    """The table: columns padded to their widest cell, the result last and free."""
    table = [HEADER, *(row.cells() for row in rows)]
    widths = [max(len(cells[i]) for cells in table) for i in range(len(HEADER) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=False))
        + "  "
        + cells[-1]
        for cells in table
    )


def spending_line(platforms: int) -> str:
    calls = platforms + 1
    return (
        f"This check makes 1 call per platform ({calls} in all: Telegram getMe and "
        f"{platforms} platform{'s' if platforms != 1 else ''}) and counts against today's quota."
    )


async def run_check(
    settings: Settings, *, out: TextIO | None = None, clock: Clock | None = None
) -> int:
    """Print the spending line and the table; 0 when every enabled service works, else 1."""
    out = out or sys.stdout
    redactor = RedactingFormatter("%(message)s", secret_values(settings))
    clock = clock or SystemClock()
    enabled = sum(1 for config in settings.platform_configs().values() if config.has_credentials)
    print(redactor.redact_secrets(spending_line(enabled)), file=out, flush=True)
    rows = [await check_telegram(settings)]
    database = Database(settings.database_path, clock)
    try:
        rows += await check_platforms(settings, database, clock)
    finally:
        database.close()  # the quota counts written behind land first
    print(redactor.redact_secrets(render(rows)), file=out, flush=True)
    return 0 if all(row.ok for row in rows) else 1
