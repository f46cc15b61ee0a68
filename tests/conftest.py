"""End-to-end fixture: sandbox platforms + local Bot API emulator + the real bot, on 127.0.0.1.

async def test_x(bot_env):
    user = bot_env.user(1, "zh-hans")
    replies = await bot_env.say(user, "https://bj.ke.com/ershoufang/101127449675.html")
"""

from __future__ import annotations

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
from clients.clock import FakeClock
from sandbox.botapi import BotApiEmulator, SentMessage, User
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


def unpaced() -> FloodSafeRateLimiter:
    """The bot's limiter without the pace per chat (one a second in private, 18 a minute in
    groups). This emulator does not enforce Telegram's limits, so the pace would only make
    every test wait a second per reply; the pace itself is tested against an emulator that
    enforces them (tests/test_rate_limiter.py, bench/fairness.py)."""
    return FloodSafeRateLimiter(
        private_burst=1000, private_per_second=1000.0, group_burst=1000, group_period=1.0
    )


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
    tmp_path: Path, *, demo_market: bool = False, **settings_overrides: Any
) -> AsyncIterator[BotEnv]:
    """`demo_market`: the sandbox can be changed from the chat (/demo_drop), as in --demo."""
    clock = FakeClock()
    async with (
        Sandbox(clock=clock, tiers=E2E_TIERS) as sandbox,
        BotApiEmulator(token=TOKEN) as emulator,
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
        env.application = build_application(settings, services, rate_limiter=unpaced())
        env.stop_updates = await start_bot(env.application, settings)
        try:
            yield env
        finally:
            await stop_bot(env.application, env.stop_updates)


@pytest.fixture
async def bot_env(tmp_path: Path) -> AsyncIterator[BotEnv]:
    async for env in start_bot_env(tmp_path):
        yield env
