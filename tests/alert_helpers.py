"""Shared by the price-alert tests: a sandbox-backed `Services`, a recording bot, watching."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.config import load_settings
from bot.services import Services, build_services
from clients.models import ListingRef
from clock import CHINA_TZ, FakeClock
from gateway.budget import SYSTEM
from sandbox.server import Sandbox
from storage.watches import Watch
from watching.rules import initial_base, parse_rule, resolve_rule

#: noon in China: half a platform day left, so pacing is easy to reason about
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=CHINA_TZ).timestamp()
#: tiers generous enough that one cycle checks every listing
GENEROUS = {"xianyu": "enterprise_advanced", "anjuke": "enterprise_advanced"}


@dataclass
class Sent:
    chat_id: int
    text: str
    markup: Any
    at: float  # the fake clock's monotonic time
    options: dict[str, Any] = field(default_factory=dict)  # the rest of the request


@dataclass
class RecordingBot:
    """Stands in for `telegram.Bot` where only delivery is under test.

    `failures[chat_id]` lists exceptions the next sends to that chat raise, in order.
    """

    clock: FakeClock
    sent: list[Sent] = field(default_factory=list)
    failures: dict[int, list[BaseException]] = field(default_factory=dict)

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> None:
        queue = self.failures.get(chat_id)
        if queue:
            raise queue.pop(0)
        markup = kwargs.pop("reply_markup", None)
        self.sent.append(Sent(chat_id, text, markup, self.clock.monotonic(), kwargs))

    async def do_api_request(self, endpoint: str, api_kwargs: dict[str, Any], **_: Any) -> None:
        """Alerts go as the Bot API's own objects (handlers/sending.py `send_message_raw`)."""
        assert endpoint == "sendMessage", endpoint
        params = dict(api_kwargs)
        await self.send_message(params.pop("chat_id"), params.pop("text"), **params)

    def to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id]


@dataclass
class AlertEnv:
    clock: FakeClock
    sandbox: Sandbox
    services: Services
    bot: RecordingBot
    database_path: Path

    def catalogue(self, platform: str) -> Any:
        return self.sandbox.state.catalogues[platform]

    async def watch(
        self,
        user_id: int,
        platform: str,
        listing_id: str,
        rule: str = "",
        city_id: str | None = None,
        chat_id: int | None = None,
    ) -> Watch:
        """What /watch does once it has the listing."""
        listing = await self.services.gateway.listing(
            ListingRef(platform, listing_id, city_id), payer=SYSTEM
        )
        resolved = resolve_rule(parse_rule(rule), listing.price_unit)
        base = initial_base(resolved, listing.price, listing.status)
        sub, _ = await self.services.watches.add(
            user_id=user_id,
            chat_id=chat_id or user_id,
            listing=listing,
            rule=resolved.kind.value,
            rule_value=resolved.value,
            base_price=base.price,
            max_per_user=self.services.settings.max_watches_per_user,
        )
        return sub

    def set_price(self, platform: str, listing_id: str, price: str) -> None:
        self.catalogue(platform).set_price(listing_id, Decimal(price))

    async def watched_drop(
        self, listing_id: str, before: str, after: str, users: tuple[int, ...] = (1, 2, 3)
    ) -> None:
        """`users` watch the Xianyu item at `before` (each in their own chat), then its price
        becomes `after`: the next check records one alert per watcher."""
        self.set_price("xianyu", listing_id, before)
        for user in users:
            await self.watch(user, "xianyu", listing_id)
        self.set_price("xianyu", listing_id, after)

    async def restart(self) -> None:
        """A new process on the same database file: fresh runtime, nothing in memory."""
        await self.services.close()
        self.services = build_services(self.services.settings, self.clock)


@contextlib.asynccontextmanager
async def alert_env(
    tmp_path: Path, *, tiers: dict[str, str] | None = None, start: float = NOON, **settings: Any
) -> AsyncIterator[AlertEnv]:
    clock = FakeClock(start)
    async with Sandbox(clock=clock, tiers=tiers or GENEROUS) as sandbox:
        overrides = {
            **sandbox.settings_overrides(),
            "database_path": tmp_path / "bot.sqlite3",
            **settings,
        }
        config = load_settings(require_token=False, **overrides)
        services = build_services(config, clock)
        env = AlertEnv(clock, sandbox, services, RecordingBot(clock), tmp_path / "bot.sqlite3")
        try:
            yield env
        finally:
            await env.services.close()
