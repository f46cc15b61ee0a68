"""--demo shows an alert within a minute: a short poll interval and /demo_drop."""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from bot.__main__ import DEMO_ALERT_INTERVAL, start_demo
from bot.config import load_settings
from handlers.demo import drop_percent
from sandbox.terminal_chat import run_terminal_chat
from tests.conftest import BotEnv, start_bot_env

ITEM = "712345678901"
ITEM_LINK = f"https://www.goofish.com/item?id={ITEM}"


@pytest.fixture
async def demo_env(tmp_path: Path) -> AsyncIterator[BotEnv]:
    async for env in start_bot_env(tmp_path, demo_market=True):
        yield env


def history_button(message) -> str:  # type: ignore[no-untyped-def]
    return next(b["callback_data"] for b in message.buttons if b["callback_data"].startswith("h|"))


async def test_demo_drop_brings_the_alert_and_its_chart(demo_env: BotEnv) -> None:
    demo_env.catalogue("xianyu").set_price(ITEM, Decimal("5000"))
    ann = demo_env.user(1)
    (watching,) = await demo_env.say(ann, f"/watch {ITEM_LINK}")
    assert "Watching" in watching.visible
    replies = await demo_env.say(ann, "/demo_drop 20", expect=2)
    assert "Sandbox: 1 watched listing now 20% cheaper" in replies[0].visible  # not "(s)"
    alert = replies[1]
    assert "Price drop" in alert.visible and "¥5,000 → ¥4,000 (−20.0%)" in alert.visible
    before = len(demo_env.messages(ann.id))
    await demo_env.press(ann, alert, history_button(alert))
    (chart,) = (await demo_env.emulator.wait_for_messages(ann.id, before + 1))[before:]
    assert chart.photo is not None and "lowest seen: ¥4,000" in chart.visible


async def test_demo_drop_without_watches_or_with_a_bad_percent_changes_nothing(
    demo_env: BotEnv,
) -> None:
    ann = demo_env.user(1, "zh-hans")
    (nothing,) = await demo_env.say(ann, "/demo_drop")
    assert "还没有关注" in nothing.visible
    items = demo_env.catalogue("xianyu")
    before = items.price(items.item(ITEM))
    await demo_env.say(ann, f"/watch {ITEM_LINK}")
    for bad in ("/demo_drop 95", "/demo_drop abc", "/demo_drop 5 6", "/demo_drop NaN"):
        (usage,) = await demo_env.say(ann, bad)
        assert "用法" in usage.visible
    assert items.price(items.item(ITEM)) == before


async def test_demo_drop_is_not_a_command_outside_the_demo(bot_env: BotEnv) -> None:
    ann = bot_env.user(1)
    await bot_env.say(ann, f"/watch {ITEM_LINK}")
    before = len(bot_env.messages(ann.id))
    await bot_env.emulator.send_text(ann, None, "/demo_drop")
    (reply,) = await bot_env.say(ann, "/watches")  # the bot answers what comes next...
    assert len(bot_env.messages(ann.id)) == before + 1  # ...and said nothing to /demo_drop
    assert "1." in reply.visible


@pytest.mark.parametrize(
    ("args", "percent"),
    [([], Decimal(10)), (["15"], Decimal(15)), (["12.5%"], Decimal("12.5")), (["0"], None)],
)
def test_drop_percent_reads_what_the_user_typed(args: list[str], percent: Decimal | None) -> None:
    assert drop_percent(args) == percent


async def test_the_demo_polls_often_unless_told_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import contextlib

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALERT_INTERVAL_SECONDS", raising=False)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:not-used")
    async with contextlib.AsyncExitStack() as stack:
        settings, sandbox, emulator = await start_demo(load_settings(), stack)
        assert settings.alert_interval_seconds == DEMO_ALERT_INTERVAL <= 60
        assert emulator is None and sandbox.state.tiers["xianyu"] == "enterprise_advanced"
    monkeypatch.setenv("ALERT_INTERVAL_SECONDS", "120")
    async with contextlib.AsyncExitStack() as stack:
        settings, _, _ = await start_demo(load_settings(), stack)
        assert settings.alert_interval_seconds == 120
    assert os.environ["ALERT_INTERVAL_SECONDS"] == "120"


# -- the terminal chat's log lines go to a file --------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


def demo_env_vars(**extra: str) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "HOME": "/tmp", "PYTHONPATH": str(ROOT), **extra}


@pytest.mark.parametrize("database", [None, "state/bot.sqlite3"])
def test_the_terminal_chat_logs_to_a_file_named_once_at_the_start(
    tmp_path: Path, database: str | None
) -> None:
    extra = {"DATABASE_PATH": str(tmp_path / database)} if database else {}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--demo"],
        cwd=tmp_path,
        env=demo_env_vars(LOG_LEVEL="DEBUG", **extra),
        input="hello\n/help\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    log_file = (
        (tmp_path / database).with_name("demo.log") if database else tmp_path / "data/demo.log"
    )
    lines = done.stdout.splitlines()
    assert lines[0] == f"Logs go to {log_file if database else 'data/demo.log'}"
    assert sum("Logs go to" in line for line in lines) == 1
    assert "you: hello" in lines and any(
        line.startswith("bot: I found no listing") for line in lines
    )
    # not one log line in the conversation, nor on stderr: all of them are in the file
    assert [line for line in lines if LOG_LINE.match(line)] == []
    assert done.stderr == ""
    logged = log_file.read_text(encoding="utf-8")
    assert "bot running (demo, sandbox platforms)" in logged and " DEBUG " in logged


async def test_the_demo_with_a_real_token_keeps_logging_to_stderr(tmp_path: Path) -> None:
    from sandbox.botapi import BotApiEmulator

    token = "123456:TEST-TOKEN-not-a-secret"
    async with BotApiEmulator(token=token) as emulator:
        env = demo_env_vars(TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_URL=emulator.base_url)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "--demo",
            cwd=tmp_path,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert process.stderr is not None and process.stdout is not None
        stderr = b""
        try:
            async with asyncio.timeout(60):
                while b"bot running" not in stderr:
                    line = await process.stderr.readline()
                    assert line, stderr.decode()
                    stderr += line
        finally:
            process.send_signal(signal.SIGINT)
            out, _ = await asyncio.wait_for(process.communicate(), 30)
    assert b"Logs go to" not in out
    assert LOG_LINE.match(stderr.decode().splitlines()[-1])
    assert not (tmp_path / "data" / "demo.log").exists()


async def test_the_terminal_chat_shares_the_demo_phone_from_the_link_button(
    bot_env: BotEnv,
) -> None:
    """The terminal has no phone: pressing /link's request_contact button shares the demo
    user's number (sandbox/terminal_chat.py DEMO_PHONE), as Telegram would share the
    verified one, and the sandbox account of that number is linked."""
    ann = bot_env.user(77, first_name="Ann")
    out = io.StringIO()
    await run_terminal_chat(
        bot_env.emulator,
        user=ann,
        stdin=io.StringIO("/link\n1\n"),
        stdout=out,  # type: ignore[arg-type]
        bot_username=bot_env.emulator.bot_username,
        quiet_period=0.5,
    )
    transcript = out.getvalue()
    assert "[1] 📱 Share my phone number" in transcript
    assert "you pressed [1] 📱 Share my phone number" in transcript
    assert "Linked Anjuke account 17895896" in transcript
    linked = await bot_env.services.accounts.get(ann.id)
    assert linked is not None and linked.proven
