"""End-to-end fixture: sandbox platforms + local Bot API emulator + the real bot, on 127.0.0.1.

async def test_x(bot_env):
    user = bot_env.user(1, "zh-hans")
    replies = await bot_env.say(user, "https://bj.ke.com/ershoufang/101127449675.html")
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import start_updates
from bot.app import build_application
from bot.config import Settings, load_settings
from bot.rate_limiter import FloodSafeRateLimiter
from bot.services import Services, build_services
from clock import FakeClock
from sandbox.botapi import BotApiEmulator, FloodRules, SentMessage, User
from sandbox.server import Sandbox

TOKEN = "123456:TEST-TOKEN-not-a-secret"
#: tiers generous enough that tests are never slowed by per-second limits
E2E_TIERS = {
    "anjuke": "enterprise_advanced",
    "xianyu": "enterprise_advanced",
    "aihuishou": "commercial",
}


def run_python(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python <args>` in a child process, as an operator runs it (60 s at most)."""
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


@dataclass
class BotEnv:
    clock: FakeClock
    sandbox: Sandbox
    emulator: BotApiEmulator
    settings: Settings
    services: Services
    application: Any
    #: stops receiving updates (polling or the webhook server), from `start_bot`
    stop_updates: Any = None

    def user(self, user_id: int = 1001, language_code: str = "en", **kw: Any) -> User:
        return self.emulator.user(user_id, language_code=language_code, **kw)

    def catalogue(self, platform: str) -> Any:
        return self.sandbox.state.catalogues[platform]

    def messages(self, chat_id: int) -> list[SentMessage]:
        return list(self.emulator.sent.get(chat_id, []))

    async def say(
        self, user: User, text: str, *, chat: Any = None, expect: int = 1, timeout: float = 10.0
    ) -> list[SentMessage]:
        """The user writes `text`; wait for `expect` new bot messages in that chat; return them."""
        chat_id = chat.id if chat is not None else user.id
        before = len(self.emulator.sent.get(chat_id, []))
        await self.emulator.send_text(user, chat, text)
        await self.emulator.wait_for_messages(chat_id, before + expect, timeout=timeout)
        return self.messages(chat_id)[before:]

    async def press(self, user: User, message: SentMessage, button: int | str) -> str:
        return await self.emulator.press(user, message, button)

    async def restart(self) -> None:
        """Stop the bot as a deploy does and start a new one on the same database."""
        await stop_bot(self.application, self.stop_updates)
        await self.services.close()
        self.services = build_services(self.settings, self.clock)
        self.application = build_application(self.settings, self.services, rate_limiter=unpaced())
        self.stop_updates = await start_bot(self.application, self.settings)


#: a test user types faster than any person: flood control (a wall-clock bucket) is kept
#: out of tests about other things and pinned by tests/test_fairness_e2e.py
ROOMY_FLOOD_BURST = 1000


class SettledClock(FakeClock):
    """A `FakeClock` that keeps time as a scheduler would, for pacing tests.

    A plain FakeClock jumps by the full amount whenever anything sleeps, so two tasks
    sleeping a second each move it two seconds, and a request that takes a real
    millisecond to reach the emulator could arrive "seconds" after it left: jitter no
    network has. This one wakes sleepers one at a time, earliest first, moving time to
    that sleeper's moment and no further, and never while a Bot API request is on its
    way (`request`), so the emulator judges each message at the moment the limiter let
    it go: what the limiter promises. The margins for real round trips are measured in
    real time by bench/alerts.py and bench/fairness.py.
    """

    def __init__(self) -> None:
        super().__init__()
        self.in_flight = 0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._wake_planned = False

    async def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self.slept.append(seconds)
        woken = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.monotonic() + seconds, next(self._order), woken))
        self._plan_wake()
        await woken

    async def request(self, call: Any) -> Any:
        """Await `call`, a request to the Bot API, with the clock standing still."""
        self.in_flight += 1
        try:
            return await call
        finally:
            self.in_flight -= 1
            self._plan_wake()

    def _plan_wake(self) -> None:
        if not self._wake_planned:
            self._wake_planned = True
            asyncio.get_running_loop().call_soon(self._wake_next)

    def _wake_next(self) -> None:
        """After every task ready now has run: the earliest sleeper wakes."""
        self._wake_planned = False
        if self.in_flight or not self._sleepers:
            return  # a request's end plans the next wake
        at, _, woken = heapq.heappop(self._sleepers)
        if at > self.monotonic():
            self.advance(at - self.monotonic())
        if not woken.done():
            woken.set_result(None)
        self._plan_wake()


class SettledLimiter(FloodSafeRateLimiter):
    """The bot's limiter on a `SettledClock` (tests only)."""

    def __init__(self, clock: SettledClock, **options: Any) -> None:
        super().__init__(clock=clock, **options)
        self.settled = clock

    async def process_request(  # type: ignore[override]
        self,
        callback: Any,
        args: Any,
        kwargs: Any,
        endpoint: str,
        data: Any,
        rate_limit_args: Any,
    ) -> Any:
        async def request(*a: Any, **kw: Any) -> Any:
            return await self.settled.request(callback(*a, **kw))

        return await super().process_request(request, args, kwargs, endpoint, data, rate_limit_args)


def unpaced(clock: FakeClock | None = None) -> FloodSafeRateLimiter:
    """The bot's limiter without the pace per chat (one a second in a chat, one each 3.1 s
    in a group). This emulator does not enforce Telegram's limits, so the pace would only
    make every test wait a second per reply; the pace itself is tested against an emulator
    that enforces them (tests/test_rate_limiter.py, tests/test_pacing_e2e.py,
    bench/fairness.py). With `clock`, the waits it still makes (a flood answer's
    retry_after) are kept on that fake clock instead of the wall clock."""
    return FloodSafeRateLimiter(chat_gap=0.0, group_gap=0.0, clock=clock)


async def start_bot(application: Any, settings: Settings) -> Any:
    """Start as bot/__main__.py does; returns what stops receiving updates."""
    await application.initialize()
    await application.start()
    await application.post_init(application)  # as bot/__main__.py does
    return await start_updates(application, settings, poll_timeout=1)  # polling or webhook


async def stop_bot(application: Any, stop_updates: Any) -> None:
    await stop_updates()
    await application.stop()
    await application.shutdown()


async def start_bot_env(
    tmp_path: Path,
    *,
    demo_market: bool = False,
    telegram_limits: FloodRules | None = None,
    **settings_overrides: Any,
) -> AsyncIterator[BotEnv]:
    """`demo_market`: the sandbox can be changed from the chat (/demo_drop), as in --demo.
    `telegram_limits`: the emulator enforces Telegram's limits read so, and the bot keeps
    them with its own limiter; both on the env's FakeClock (a pacing wait advances it)."""
    enforce = telegram_limits is not None
    clock = SettledClock() if enforce else FakeClock()
    async with (
        Sandbox(clock=clock, tiers=E2E_TIERS) as sandbox,
        BotApiEmulator(
            token=TOKEN,
            clock=clock if enforce else None,
            enforce_limits=enforce,
            flood_rules=telegram_limits,
        ) as emulator,
    ):
        overrides = {
            **sandbox.settings_overrides(),
            "telegram_api_url": emulator.base_url,
            "telegram_bot_token": TOKEN,
            "database_path": tmp_path / "bot.sqlite3",
            "flood_burst": ROOMY_FLOOD_BURST,
            **settings_overrides,
        }
        settings = load_settings(**overrides)
        services = build_services(settings, clock)
        services.demo_market = sandbox if demo_market else None
        env = BotEnv(clock, sandbox, emulator, settings, services, None)
        limiter = SettledLimiter(clock) if isinstance(clock, SettledClock) else unpaced()
        env.application = build_application(settings, services, rate_limiter=limiter)
        env.stop_updates = await start_bot(env.application, settings)
        try:
            yield env
        finally:
            await stop_bot(env.application, env.stop_updates)


@pytest.fixture
async def bot_env(tmp_path: Path) -> AsyncIterator[BotEnv]:
    async for env in start_bot_env(tmp_path):
        yield env
