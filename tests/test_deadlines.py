"""No platform answer can hang us (issue 18 point 2).

A platform that sends its headers and then one byte a second, or a body that never
ends, over real HTTP from the sandbox (`Fault("trickle")`, `Fault("huge")`):

- every client gives up at its deadline (connect, headers and whole body together) and
  stops reading at the answer size cap, with memory bounded;
- through the bot: the card's answer comes within the deadline, Aihuishou's concurrency
  slots are given back, and the poll cycle finishes, with another platform's drop
  alerted while the trickling platform is still being waited for.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import load_settings
from clients.errors import Transient
from clients.models import ListingRef, Quote, QuoteRequest
from clients.registry import build_clients
from clock import FakeClock
from gateway.budget import SYSTEM
from handlers.alerts import run_poll_cycle
from handlers.texts import t
from sandbox.core import Fault
from sandbox.server import Sandbox
from tests.conftest import BotEnv, start_bot_env

DEADLINE = 0.5  # seconds, via PLATFORM_DEADLINE_SECONDS
CAP = 256 * 1024  # bytes, via PLATFORM_MAX_ANSWER_BYTES
#: what a hung client would wait for: far past every deadline here
HANG = 30.0
QUOTE = QuoteRequest("手机", "苹果", "iPhone 14 Pro", "256GB", "95新")
XIANYU_LINK = "https://www.goofish.com/item?id=712345678901"
BEIKE_LINK = "https://m.ke.com/bj/ershoufang/101127449675.html"

Call = Callable[[], Awaitable[object]]


@pytest.fixture
async def platform_calls() -> AsyncIterator[tuple[Sandbox, dict[str, Call]]]:
    clock = FakeClock()
    async with Sandbox(clock=clock) as sandbox, httpx.AsyncClient() as http:
        settings = load_settings(
            require_token=False,
            **sandbox.settings_overrides(),
            platform_deadline_seconds=DEADLINE,
            platform_max_answer_bytes=CAP,
        )
        clients: dict[str, Any] = build_clients(settings.platform_configs(), http, clock)
        calls: dict[str, Call] = {
            "anjuke": lambda: clients["anjuke"].fetch_listing(ListingRef("anjuke", "A1234567890")),
            "beike": lambda: clients["beike"].fetch_listing(
                ListingRef("beike", "101127449675", "110000")
            ),
            "xianyu": lambda: clients["xianyu"].fetch_listing(ListingRef("xianyu", "712345678901")),
            "aihuishou": lambda: clients["aihuishou"].fetch_quote(QUOTE),
            "anjuke_open": lambda: clients["anjuke_open"].get_info("13800138000", "phone"),
        }
        yield sandbox, calls


PLATFORMS = ["anjuke", "anjuke_open", "beike", "xianyu", "aihuishou"]


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_trickling_platform_is_given_up_at_the_deadline(
    platform_calls: tuple[Sandbox, dict[str, Call]], platform: str
) -> None:
    sandbox, calls = platform_calls
    trickle = Fault("trickle", delay=HANG, interval=0.05)
    sandbox.state.inject(platform, trickle)
    loop = asyncio.get_running_loop()
    started = loop.time()

    with pytest.raises(Transient, match="timed out"):
        async with asyncio.timeout(5):  # a hang fails the test here, as TimeoutError
            await calls[platform]()

    assert loop.time() - started < DEADLINE + 1.0
    assert trickle.written > 0  # the headers and some bytes came: a trickle, not a refusal


def peak_rss_kib() -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]


def current_rss_kib() -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]


def reset_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # Linux: VmHWM starts again from VmRSS


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_an_endless_body_is_cut_off_at_the_cap_and_memory_stays_bounded(
    platform_calls: tuple[Sandbox, dict[str, Call]], platform: str
) -> None:
    sandbox, calls = platform_calls
    # "endless" for a client that reads all: 64 MiB, so a regression fails fast, not never
    huge = Fault("huge", delay=HANG, size=64 * 1024 * 1024)
    sandbox.state.inject(platform, huge)
    reset_peak_rss()
    before = current_rss_kib()

    with pytest.raises(Transient, match="answer too large"):
        async with asyncio.timeout(10):
            await calls[platform]()

    grown_mib = (peak_rss_kib() - before) / 1024
    assert grown_mib < 24, f"memory grew by {grown_mib:.0f} MiB while reading"
    # what the sandbox wrote: the cap plus what socket buffers hold, not the body
    assert huge.written < 8 * 1024 * 1024


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[BotEnv]:
    async for bot_env in start_bot_env(tmp_path, platform_deadline_seconds=DEADLINE):
        yield bot_env


async def test_a_card_from_a_trickling_platform_is_answered_within_the_deadline(
    env: BotEnv,
) -> None:
    user = env.user(4101)
    # every try of the call trickles: the first and both retries
    env.sandbox.state.inject("xianyu", Fault("trickle", delay=HANG, interval=0.05), times=3)
    loop = asyncio.get_running_loop()
    started = loop.time()

    (reply,) = await env.say(user, XIANYU_LINK, timeout=10)

    # a person waits one deadline for the whole call (the retries go on for the cache)
    assert loop.time() - started < DEADLINE + 1.0
    assert reply.text == t("en", "error_transient", platform="Xianyu")


async def test_trickling_quotes_give_their_concurrency_slots_back(env: BotEnv) -> None:
    gateway = env.services.gateway
    state = env.sandbox.state
    conditions = ["全新", "99新", "95新", "九成新", "八成新", "七成新及以下"]
    requests = [QuoteRequest("手机", "苹果", "iPhone 14 Pro", "256GB", c) for c in conditions]
    # four of Aihuishou's five slots held by a platform that never finishes its answer
    state.inject("aihuishou", Fault("trickle", delay=HANG, interval=0.05), times=4)

    loop = asyncio.get_running_loop()
    started = loop.time()
    async with asyncio.timeout(10):
        told = await asyncio.gather(
            *(gateway.quote(r, payer=SYSTEM) for r in requests[:4]), return_exceptions=True
        )
    # each person is told "didn't answer in time" at the deadline
    assert all(isinstance(e, Transient) and "timed out" in str(e) for e in told)
    assert loop.time() - started < DEADLINE + 1.0
    # while the calls went on: their retries answered, and asking again is served
    async with asyncio.timeout(10):
        again = await asyncio.gather(*(gateway.quote(r, payer=SYSTEM) for r in requests[:4]))
    assert all(isinstance(q, Quote) for q in again)

    # the slots are free: five quotes held by the platform at once all run together
    async with asyncio.timeout(5):  # the sandbox notices the closed trickles at its next byte
        while state.aihuishou_in_flight:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    state.aihuishou_peak_in_flight = 0
    env.clock.advance(1)
    state.inject("aihuishou", Fault("timeout", delay=0.3), times=5)
    fresh = [replace_storage(r) for r in requests[:5]]
    async with asyncio.timeout(10):
        await asyncio.gather(*(gateway.quote(r, payer=SYSTEM) for r in fresh))
    assert state.aihuishou_peak_in_flight == 5


def replace_storage(request: QuoteRequest) -> QuoteRequest:
    return QuoteRequest(
        request.device_type, request.brand, request.model, "128GB", request.condition
    )


async def test_a_trickling_platform_never_delays_another_platforms_alert(env: BotEnv) -> None:
    user = env.user(4102)
    env.catalogue("beike").set_price("101127449675", Decimal("235"))
    await env.say(user, f"/watch {BEIKE_LINK}")
    await env.say(user, f"/watch {XIANYU_LINK}")
    env.catalogue("beike").set_price("101127449675", Decimal("200"))
    # Xianyu hangs: each request gives up at DEADLINE, and the platform's part of the
    # cycle at its own deadline, long before all its tries are done
    env.services.watching.platform_deadline = 1.0
    env.sandbox.state.inject("xianyu", Fault("trickle", delay=HANG, interval=0.05), times=3)
    before = len(env.messages(user.id))
    env.clock.advance(300)

    cycle = asyncio.create_task(run_poll_cycle(env.services, env.application.bot))
    async with asyncio.timeout(10):
        (alert,) = (await env.emulator.wait_for_messages(user.id, before + 1, timeout=10))[before:]
        assert not cycle.done()  # Beike's alert went out while Xianyu was still waited for
        report = await cycle

    assert "200" in alert.text
    plans = {plan.platform: plan for plan in report.plans}
    assert plans["beike"].checked == 1
    assert plans["xianyu"].checked == 0
    assert plans["xianyu"].stopped == "deadline"
    assert report.alerts_created == 1


async def test_a_link_lookup_on_a_trickling_open_api_is_answered_within_the_deadline(
    env: BotEnv,
) -> None:
    """/link's look-up (after the shared contact) is a chat call like any other: a person
    waits one deadline, retries included, however the open API answers."""
    user = env.user(4102)
    env.sandbox.state.inject("anjuke_open", Fault("trickle", delay=HANG, interval=0.05), times=3)
    await env.say(user, "/link")  # the request_contact button; nothing looked up yet
    before = len(env.messages(user.id))
    loop = asyncio.get_running_loop()
    started = loop.time()
    await env.emulator.send_contact(user, "8613988888888")
    (reply,) = (await env.emulator.wait_for_messages(user.id, before + 1, timeout=10))[before:]
    assert loop.time() - started < DEADLINE + 1.0
    assert "didn't answer in time" in reply.visible or "couldn't do that" in reply.visible
    assert await env.services.accounts.get(user.id) is None
