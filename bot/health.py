"""`python -m bot.health`: exit 0 when the running bot is healthy, 1 otherwise (Docker HEALTHCHECK).

Healthy means all of these hold:

- the bot's heartbeat is fresh (its event loop and JobQueue run);
- updates are received: in long polling a getUpdates answered recently (an empty
  answer counts: no users is no fault); in webhook mode the webhook server answers;
- the Bot API answered recently (any answer below 500; a quiet bot asks `getMe`);
- the price-alert poll cycle finished within its deadline, and one finished recently;
- the database answered a query recently.

The running bot keeps these facts (`HealthFacts`): its Bot API requests report every
answer (`WatchedRequest`), and every `HEARTBEAT_SECONDS` a JobQueue job pings the
database and writes them as JSON to `heartbeat` beside the database. This command
reads that file, judges it (`judge`) and prints `healthy`, or `unhealthy: <why>` once
per failing condition. The facts' times are the bot's clock (a `FakeClock` in tests);
the file's age is wall time (its mtime), so the two never have to agree.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.json_request import JsonRequest

if TYPE_CHECKING:
    from telegram import Bot

    from bot.config import Settings
    from clock import Clock
    from handlers.context import Services

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 30
#: three missed beats and the bot counts as stuck
STALE_AFTER = 3 * HEARTBEAT_SECONDS
#: no getUpdates answer for this long (a long poll answers within 30 s + its read timeout)
UPDATES_STALE_AFTER = 90.0
#: no Bot API answer for this long
BOT_API_STALE_AFTER = 90.0
#: no database answer for this long
DATABASE_STALE_AFTER = 3 * HEARTBEAT_SECONDS
#: slack past a poll cycle's deadline before it counts as hung (a check in flight ends)
POLL_GRACE = 60.0
#: seconds the heartbeat job waits for the Bot API probe and for the database ping
PROBE_TIMEOUT = 5.0


def heartbeat_path(database_path: Path) -> Path:
    return database_path.parent / "heartbeat"


@dataclass
class HealthFacts:
    """What the running bot knows about its own health; written as the heartbeat."""

    started_at: float
    mode: str = "polling"  # or "webhook"
    #: where the webhook server listens (webhook mode), so the check asks it there
    webhook_listen: str | None = None
    webhook_port: int | None = None
    written_at: float | None = None
    updates_at: float | None = None  # last getUpdates answer or update received
    bot_api_at: float | None = None  # last Bot API answer
    bot_api_failed_at: float | None = None  # last Bot API request that got no answer
    database_at: float | None = None  # last database ping answered
    poll_interval: float | None = None
    poll_deadline: float | None = None
    poll_running_since: float | None = None
    poll_finished_at: float | None = None

    @classmethod
    def start(cls, clock: Clock, settings: Settings) -> HealthFacts:
        if not settings.webhook:
            return cls(started_at=clock.time())
        return cls(
            started_at=clock.time(),
            mode="webhook",
            webhook_listen=settings.webhook_listen,
            webhook_port=settings.webhook_port,
        )

    async def update_received(self, _update: object, context: Any) -> None:
        """A TypeHandler callback: an update came in (webhook mode)."""
        self.updates_at = context.bot_data.services.clock.time()


class WatchedRequest(JsonRequest):
    """python-telegram-bot's HTTPXRequest (posting JSON: bot/json_request.py) that tells
    `HealthFacts` when the Bot API answered.

    The application's getUpdates request is built with `updates=True`: each answer
    (updates or none) is a receipt.
    """

    def __init__(
        self, facts: HealthFacts, clock: Clock, *, updates: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.facts = facts
        self.clock = clock
        self.updates = updates

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        try:
            status, payload = await super().do_request(*args, **kwargs)
        except Exception:  # NetworkError, TimedOut: no answer (re-raised as it came)
            self.facts.bot_api_failed_at = self.clock.time()
            raise
        if status < 500:  # Telegram itself answered (a 5xx may be a proxy in between)
            now = self.clock.time()
            self.facts.bot_api_at = now
            if self.updates and status == 200:
                self.facts.updates_at = now
        return status, payload


async def refresh(facts: HealthFacts, services: Services, bot: Bot, path: Path) -> None:
    """The heartbeat: probe what went quiet, then write the facts to `path`."""
    clock = services.clock
    if facts.bot_api_at is None or clock.time() - facts.bot_api_at >= HEARTBEAT_SECONDS:
        try:  # a quiet bot (a webhook with no users) still shows the Bot API answers
            async with asyncio.timeout(PROBE_TIMEOUT):
                await bot.get_me()
        except Exception as exc:
            log.warning("health: the Bot API did not answer (%s)", type(exc).__name__)
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            await services.database.read(lambda db: db.execute("SELECT 1").fetchone())
        facts.database_at = clock.time()
    except Exception as exc:
        log.warning("health: the database did not answer (%s)", type(exc).__name__)
    watching = services.watching
    facts.poll_interval = watching.interval
    facts.poll_deadline = watching.cycle_deadline
    facts.poll_running_since = watching.cycle_running_since
    facts.poll_finished_at = watching.cycle_finished_at
    write(facts, path, clock.time())


def write(facts: HealthFacts, path: Path, now: float) -> None:
    facts.written_at = now
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(asdict(facts)))
    os.replace(temporary, path)  # the health command never reads half a file


def judge(
    facts: dict[str, Any], heartbeat_age: float, *, webhook_answers: bool | None = None
) -> list[str]:
    """Every reason the bot is unhealthy, one line each; empty when healthy.

    `heartbeat_age` is how long ago the file was written (wall time, its mtime); the
    facts' own times are the bot's clock, so they are judged at the bot's time now:
    `written_at + heartbeat_age`.
    """
    reasons: list[str] = []
    started = float(facts.get("started_at") or 0.0)
    now = float(facts.get("written_at") or started) + heartbeat_age

    def age(key: str) -> float:
        """Seconds since the fact, or since start when it never happened."""
        value = facts.get(key)
        return now - float(value if value is not None else started)

    if heartbeat_age > STALE_AFTER:
        reasons.append(f"no heartbeat for {heartbeat_age:.0f}s (the bot's loop is stuck)")
    if facts.get("mode") == "webhook":
        if webhook_answers is False:
            reasons.append("the webhook server does not answer")
    elif age("updates_at") > UPDATES_STALE_AFTER:
        reasons.append(f"no getUpdates answer for {age('updates_at'):.0f}s")
    if age("bot_api_at") > BOT_API_STALE_AFTER:
        reasons.append(f"the Bot API has not answered for {age('bot_api_at'):.0f}s")
    reasons.extend(_poll_reasons(facts, now, started))
    if age("database_at") > DATABASE_STALE_AFTER:
        reasons.append(f"the database has not answered for {age('database_at'):.0f}s")
    return reasons


def _poll_reasons(facts: dict[str, Any], now: float, started: float) -> list[str]:
    interval, deadline = facts.get("poll_interval"), facts.get("poll_deadline")
    if interval is None or deadline is None:
        return []  # no heartbeat from the job yet: the heartbeat's own age decides
    running = facts.get("poll_running_since")
    if running is not None and now - running > deadline + POLL_GRACE:
        return [
            f"the poll cycle has run for {now - running:.0f}s, past its deadline of {deadline:.0f}s"
        ]
    finished = facts.get("poll_finished_at")
    since = now - max(started, finished or started)
    if running is None and since > interval + deadline + POLL_GRACE:
        return [f"no poll cycle has finished for {since:.0f}s (one is due every {interval:.0f}s)"]
    return []


def webhook_answers(listen: str, port: int) -> bool:
    """Whether the webhook server answers HTTP at all (a refusal without the secret is fine)."""
    import httpx

    host = "127.0.0.1" if listen in ("0.0.0.0", "", "::") else listen
    host = f"[{host}]" if ":" in host else host
    try:
        httpx.get(f"http://{host}:{port}/", timeout=PROBE_TIMEOUT)
    except httpx.HTTPError:
        return False
    return True


def main() -> int:
    from bot.config import SettingsError, load_settings

    try:
        settings = load_settings(require_token=False)
    except SettingsError as exc:
        print(f"unhealthy: {exc}")
        return 1
    path = heartbeat_path(settings.database_path)
    try:
        heartbeat_age = time.time() - path.stat().st_mtime
        facts = json.loads(path.read_text())
        if not isinstance(facts, dict):
            raise ValueError("not an object")
    except (OSError, ValueError):
        print("unhealthy: no readable heartbeat (is the bot running?)")
        return 1
    answers = None
    if facts.get("mode") == "webhook":
        answers = webhook_answers(
            str(facts.get("webhook_listen") or settings.webhook_listen),
            int(facts.get("webhook_port") or settings.webhook_port),
        )
    reasons = judge(facts, heartbeat_age, webhook_answers=answers)
    for reason in reasons:
        print(f"unhealthy: {reason}")
    if not reasons:
        print("healthy")
    return 1 if reasons else 0


if __name__ == "__main__":
    sys.exit(main())
