"""The health check tells the truth (issue 18 point 3).

The running bot (long polling against the local Bot API emulator, a `FakeClock`) writes
its facts as the heartbeat; `bot.health.judge` says why it is unhealthy. A hung poll
cycle and a Bot API that went away are each named; a quiet bot with no users is healthy.
`python -m bot.health` (the Docker HEALTHCHECK) prints one line per failing condition.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from bot.app import beat
from bot.health import (
    BOT_API_STALE_AFTER,
    POLL_GRACE,
    STALE_AFTER,
    HealthFacts,
    heartbeat_path,
    judge,
)
from handlers.alerts import run_poll_cycle
from sandbox.core import Fault
from tests.conftest import BotEnv, start_bot_env

REPO = Path(__file__).resolve().parent.parent
XIANYU_LINK = "https://www.goofish.com/item?id=712345678901"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[BotEnv]:
    async for bot_env in start_bot_env(tmp_path):
        yield bot_env


def facts_of(env: BotEnv) -> HealthFacts:
    (job,) = env.application.job_queue.get_jobs_by_name("heartbeat")
    assert isinstance(job.data, HealthFacts)
    return job.data


async def heartbeat(env: BotEnv) -> dict[str, Any]:
    """What the heartbeat job writes now (the bot's clock is the fake one)."""
    await beat(env.application, facts_of(env))
    path = heartbeat_path(env.settings.database_path)
    return json.loads(path.read_text())


async def test_a_quiet_bot_with_no_users_is_healthy(env: BotEnv) -> None:
    # minutes with no user: empty getUpdates answers still count as receiving
    for _ in range(4):
        env.clock.advance(60)
        await wait_for_get_updates(env)
        assert judge(await heartbeat(env), heartbeat_age=0) == []


async def wait_for_get_updates(env: BotEnv) -> None:
    """Until the bot's long poll (1 s in tests) has been answered at the clock's time now."""
    facts, now = facts_of(env), env.clock.time()
    async with asyncio.timeout(10):
        while facts.updates_at is None or facts.updates_at < now:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def fresh_heartbeat(env: BotEnv, advance: float) -> dict[str, Any]:
    """The heartbeat after `advance` seconds of the bot's clock, once the long poll
    (1 s in tests) has answered in the new time."""
    env.clock.advance(advance)
    await wait_for_get_updates(env)
    return await heartbeat(env)


async def test_a_hung_poll_cycle_is_unhealthy_and_says_so(env: BotEnv) -> None:
    user = env.user(4201)
    await env.say(user, f"/watch {XIANYU_LINK}")
    watching = env.services.watching
    # Xianyu never finishes its answers; the cycle's own deadline is far off in real time
    env.sandbox.state.inject("xianyu", Fault("trickle", delay=30, interval=0.05), times=3)
    env.clock.advance(300)
    cycle = asyncio.create_task(run_poll_cycle(env.services, env.application.bot))
    try:
        async with asyncio.timeout(10):
            while watching.cycle_running_since is None:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        assert judge(await fresh_heartbeat(env, 1), heartbeat_age=0) == []  # within deadline

        late = watching.cycle_deadline + POLL_GRACE + 1
        reasons = judge(await fresh_heartbeat(env, late), heartbeat_age=0)
    finally:
        cycle.cancel()
    assert reasons == [
        f"the poll cycle has run for {late + 1:.0f}s,"
        f" past its deadline of {watching.cycle_deadline:.0f}s"
    ]


async def test_a_poll_cycle_that_never_comes_is_unhealthy(env: BotEnv) -> None:
    watching = env.services.watching
    await run_poll_cycle(env.services, env.application.bot)
    assert judge(await heartbeat(env), heartbeat_age=0) == []

    # the JobQueue stopped running the cycle: nothing is running, nothing finished
    late = watching.interval + watching.cycle_deadline + POLL_GRACE + 1
    reasons = judge(await fresh_heartbeat(env, late), heartbeat_age=0)

    assert reasons == [
        f"no poll cycle has finished for {late:.0f}s (one is due every {watching.interval:.0f}s)"
    ]


async def test_a_bot_api_unreachable_past_the_threshold_is_unhealthy(env: BotEnv) -> None:
    assert judge(await fresh_heartbeat(env, 60), heartbeat_age=0) == []

    facts = facts_of(env)
    await env.emulator.stop()  # the Bot API is gone: connections are refused
    async with asyncio.timeout(10):  # the long poll in flight was answered; the next fails
        while facts.bot_api_failed_at is None:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    env.clock.advance(BOT_API_STALE_AFTER + 10)
    reasons = judge(await heartbeat(env), heartbeat_age=0)  # its getMe probe fails too

    assert reasons == [
        f"no getUpdates answer for {BOT_API_STALE_AFTER + 10:.0f}s",
        f"the Bot API has not answered for {BOT_API_STALE_AFTER + 10:.0f}s",
    ]


async def test_a_database_that_stops_answering_is_unhealthy(
    env: BotEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert judge(await heartbeat(env), heartbeat_age=0) == []

    async def locked(_work: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(env.services.database, "read", locked)
    reasons = judge(await fresh_heartbeat(env, STALE_AFTER + 1), heartbeat_age=0)

    assert reasons == [f"the database has not answered for {STALE_AFTER + 1:.0f}s"]


def test_a_stale_heartbeat_is_unhealthy_whatever_it_says() -> None:
    facts = asdict(HealthFacts(started_at=1000.0, written_at=1000.0))
    assert judge(facts, heartbeat_age=STALE_AFTER + 5)[0] == (
        f"no heartbeat for {STALE_AFTER + 5:.0f}s (the bot's loop is stuck)"
    )


def health_command(database_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    env |= {"DATABASE_PATH": str(database_path), "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "bot.health"],
        cwd=database_path.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_health_command_prints_one_line_per_failing_condition(tmp_path: Path) -> None:
    now = time.time()
    facts = HealthFacts(
        started_at=now - 3600,
        written_at=now,
        updates_at=now - 200,  # getUpdates went quiet
        bot_api_at=now - 200,  # and so did every other call
        database_at=now,
        poll_interval=300.0,
        poll_deadline=300.0,
        poll_running_since=now - 1000,  # a cycle hung past its deadline
        poll_finished_at=now - 1300,
    )
    path = heartbeat_path(tmp_path / "bot.sqlite3")
    path.write_text(json.dumps(asdict(facts)))

    result = health_command(tmp_path / "bot.sqlite3")

    assert result.returncode == 1
    # the file's age (the command's start-up) adds a second or so to each age
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert re.fullmatch(r"unhealthy: no getUpdates answer for 20\ds", lines[0])
    assert re.fullmatch(r"unhealthy: the Bot API has not answered for 20\ds", lines[1])
    assert re.fullmatch(
        r"unhealthy: the poll cycle has run for 100\ds, past its deadline of 300s", lines[2]
    )

    healthy = HealthFacts(
        started_at=now - 3600,
        written_at=now,
        updates_at=now - 5,
        bot_api_at=now - 5,
        database_at=now,
        poll_interval=300.0,
        poll_deadline=300.0,
        poll_finished_at=now - 100,
    )
    path.write_text(json.dumps(asdict(healthy)))
    result = health_command(tmp_path / "bot.sqlite3")
    assert (result.returncode, result.stdout.strip()) == (0, "healthy")
