"""One bot per database: a second `python -m bot` on the same database stops in one line
(exit 5) naming the holder, the first goes on; a killed bot's lock never blocks the next.
Real child processes; waits are on the emulator's calls and the children's exits."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from bot.instance import InstanceLocked, hold_instance_lock, lock_path
from sandbox.botapi import BotApiEmulator

REPO = Path(__file__).resolve().parent.parent
TOKEN = "555000222:instance-test-token"


def child_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("TELEGRAM_", "ANJUKE_", "BEIKE_", "XIANYU_", "AIHUISHOU_", "DATABASE_", "WEBHOOK_")
        )
    }
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return {**env, **extra}


async def spawn_bot(cwd: Path, env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.PIPE,  # kept open: the demo's terminal chat waits for a line
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def refused(cwd: Path, env: dict[str, str], *args: str) -> tuple[int, list[str]]:
    """Run a bot that should refuse to start; its exit code and non-empty output lines."""
    process = await spawn_bot(cwd, env, *args)
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    except BaseException:
        process.kill()
        raise
    assert process.returncode is not None
    lines = [line for line in (stderr + stdout).decode().splitlines() if line.strip()]
    return process.returncode, lines


async def stop(process: asyncio.subprocess.Process) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


def test_the_lock_is_exclusive_names_its_holder_and_goes_with_its_descriptor(
    tmp_path: Path,
) -> None:
    database = tmp_path / "data" / "bot.sqlite3"
    # a stale file from a killed process: content without a lock blocks nothing
    database.parent.mkdir()
    lock_path(database).write_text("pid 999999 since 2020-01-01 00:00:00 UTC\n")
    first = hold_instance_lock(database)
    assert lock_path(database).read_text().startswith(f"pid {os.getpid()} since ")
    with pytest.raises(InstanceLocked) as refused_lock:
        hold_instance_lock(database)  # flock: a second open file conflicts, even in-process
    assert f"pid {os.getpid()} since " in str(refused_lock.value)
    assert str(database) in str(refused_lock.value)
    first.release()
    hold_instance_lock(database).release()


async def test_a_second_bot_on_the_same_database_stops_in_one_line_and_the_first_goes_on(
    tmp_path: Path,
) -> None:
    async with BotApiEmulator(token=TOKEN) as emulator:
        env = child_env(
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=emulator.base_url,
            DATABASE_PATH=str(tmp_path / "bot.sqlite3"),
        )
        first = await spawn_bot(tmp_path, env)
        try:
            await emulator.wait_for(
                lambda: emulator.calls_to("getUpdates") and emulator.calls_to("setMyCommands"),
                timeout=60,
            )
            code, lines = await refused(tmp_path, env)
            assert code == 5, lines
            assert len(lines) == 1, lines
            assert lines[0].startswith("error: another instance of the bot (pid "), lines
            assert f"(pid {first.pid} since " in lines[0]
            assert str(tmp_path / "bot.sqlite3") in lines[0]
            assert len(emulator.calls_to("getMe")) == 1  # the second never reached Telegram
            # the first is untouched: it still answers
            user = emulator.user(77, language_code="en")
            await emulator.send_text(user, None, "hello")
            [answer] = await emulator.wait_for_messages(user.id, 1, timeout=30)
        except BaseException:
            first.kill()
            raise
        code, stderr = await stop(first)
    assert "I found no listing" in answer.visible
    assert code == 0, stderr


async def test_a_killed_bots_lock_does_not_block_the_next_start(tmp_path: Path) -> None:
    async with BotApiEmulator(token=TOKEN) as emulator:
        env = child_env(
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=emulator.base_url,
            DATABASE_PATH=str(tmp_path / "bot.sqlite3"),
        )
        killed = await spawn_bot(tmp_path, env)
        try:
            await emulator.wait_for(lambda: emulator.calls_to("getUpdates"), timeout=60)
        finally:
            # running (its command menu set, then polling); now kill -9: no clean-up runs
            menus, polls = len(emulator.calls_to("setMyCommands")), len(emulator.calls)
            killed.kill()
            await killed.wait()
        assert killed.returncode == -signal.SIGKILL
        assert f"pid {killed.pid} " in lock_path(tmp_path / "bot.sqlite3").read_text()
        successor = await spawn_bot(tmp_path, env)
        try:
            # the successor sets the menu again, then polls
            await emulator.wait_for(
                lambda: (
                    len(emulator.calls_to("setMyCommands")) == 2 * menus
                    and emulator.calls[-1].method == "getUpdates"
                    and len(emulator.calls) > polls
                ),
                timeout=60,
            )
        except BaseException:
            successor.kill()
            raise
        assert f"pid {successor.pid} " in lock_path(tmp_path / "bot.sqlite3").read_text()
        code, stderr = await stop(successor)
    assert code == 0, stderr


async def test_a_second_demo_in_the_same_folder_stops_in_one_line(tmp_path: Path) -> None:
    demo = await spawn_bot(tmp_path, child_env(), "--demo")
    assert demo.stdout is not None
    try:
        logs = await asyncio.wait_for(demo.stdout.readline(), timeout=60)
        assert logs == b"Logs go to data/demo.log\n"  # printed once the lock is held
        banner = await asyncio.wait_for(demo.stdout.readline(), timeout=60)
        assert banner.startswith(b"Chatting with")
        code, lines = await refused(tmp_path, child_env(), "--demo")
    except BaseException:
        demo.kill()
        raise
    assert code == 5, lines
    assert len(lines) == 1, lines
    assert f"(pid {demo.pid} since " in lines[0] and "data/demo.sqlite3" in lines[0]
    code, stderr = await stop(demo)
    assert code == 0, stderr
