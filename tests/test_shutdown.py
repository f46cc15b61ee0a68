"""Ctrl-C (SIGINT) and SIGTERM stop `python -m bot` and the demo cleanly: exit 0, no traceback."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from sandbox.botapi import BotApiEmulator

REPO = Path(__file__).resolve().parent.parent
TOKEN = "555000111:shutdown-test-token"


def bot_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "ANJUKE_", "BEIKE_", "XIANYU_", "AIHUISHOU_"))
    }
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("DATABASE_PATH", None)
    return {**env, **extra}


async def finish(process: asyncio.subprocess.Process, sig: int) -> tuple[int, str]:
    process.send_signal(sig)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_the_bot_stops_cleanly_on_a_signal(tmp_path: Path, sig: int) -> None:
    async with BotApiEmulator(token=TOKEN) as emulator:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=tmp_path,
            env=bot_env(
                TELEGRAM_BOT_TOKEN=TOKEN,
                TELEGRAM_API_URL=emulator.base_url,
                DATABASE_PATH=str(tmp_path / "bot.sqlite3"),
            ),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            # running for real: the command menu is set and long polling has begun
            await emulator.wait_for(
                lambda: emulator.calls_to("getUpdates") and emulator.calls_to("setMyCommands"),
                timeout=60,
            )
        except BaseException:
            process.kill()
            raise
        code, stderr = await finish(process, sig)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert "stopping" in stderr  # the bot's own shutdown ran, not an abrupt death


async def test_the_demo_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--demo",
        cwd=tmp_path,
        env=bot_env(),
        stdin=asyncio.subprocess.PIPE,  # kept open: the terminal chat waits for a line
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        logs = await asyncio.wait_for(process.stdout.readline(), timeout=60)
        banner = await asyncio.wait_for(process.stdout.readline(), timeout=60)
    except BaseException:
        process.kill()
        raise
    assert logs == b"Logs go to data/demo.log\n"
    assert banner.startswith(b"Chatting with")
    code, stderr = await finish(process, signal.SIGINT)
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert (tmp_path / "data" / "demo.sqlite3").exists()


async def test_the_demo_with_a_token_is_a_telegram_bot_backed_by_the_sandbox(
    tmp_path: Path,
) -> None:
    async with BotApiEmulator(token=TOKEN) as emulator:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "--demo",
            cwd=tmp_path,
            env=bot_env(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=emulator.base_url),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await emulator.wait_for(lambda: emulator.calls_to("getUpdates"), timeout=60)
            user = emulator.user(4242, language_code="en")
            await emulator.send_text(user, None, "https://www.goofish.com/item?id=712345678901")
            [card] = await emulator.wait_for_messages(user.id, 1, timeout=30)
        except BaseException:
            process.kill()
            raise
        code, stderr = await finish(process, signal.SIGINT)
    assert "sandbox" in card.visible and card.buttons
    assert code == 0, stderr
    assert "Traceback" not in stderr
