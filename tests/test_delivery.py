"""Delivery decisions without Telegram (watching/delivery.py): a plain `send` function
stands in for the chat side and answers with outcomes."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from storage.alerts import PendingAlert
from tests.alert_helpers import alert_env
from watching.delivery import (
    MAX_SEND_ATTEMPTS,
    PER_CHAT_GAP,
    Outcome,
    SendResult,
    deliver_pending,
)
from watching.poller import poll_cycle

ITEM = "712345678901"


class ScriptedSend:
    """Answers each send with the next scripted result (then SENT); records (chat, time)."""

    def __init__(self, clock, *script: SendResult) -> None:  # type: ignore[no-untyped-def]
        self.clock = clock
        self.script = list(script)
        self.calls: list[tuple[int, int, float]] = []

    async def __call__(self, alert: PendingAlert, chat_id: int) -> SendResult:
        self.calls.append((alert.id, chat_id, self.clock.monotonic()))
        return self.script.pop(0) if self.script else SendResult(Outcome.SENT)


async def test_moved_chat_follows_and_retry_after_waits_then_sends(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        env.set_price("xianyu", ITEM, "5000")
        await env.watch(1, "xianyu", ITEM, chat_id=-100)
        env.set_price("xianyu", ITEM, "4000")
        rt = env.services.watching
        assert (await poll_cycle(rt)).alerts_created == 1
        send = ScriptedSend(
            env.clock,
            SendResult(Outcome.MOVED, new_chat_id=-1009),
            SendResult(Outcome.RETRY_AFTER, wait=7.0),
        )
        report = await deliver_pending(rt, send)
        assert (report.sent, report.rate_limited) == (1, 1)
        (first, moved, after_wait) = send.calls
        assert (first[1], moved[1], after_wait[1]) == (-100, -1009, -1009)
        assert after_wait[2] - moved[2] == 7.0
        assert (await env.services.watches.for_user(1))[0].watch.chat_id == -1009
        assert (await env.services.alerts.counts()).pending == 0


async def test_blocked_pauses_refused_fails_transient_retries_until_given_up(
    tmp_path: Path,
) -> None:
    async with alert_env(tmp_path) as env:
        await env.watched_drop(ITEM, "5000", "4000")
        rt = env.services.watching
        await poll_cycle(rt)
        send = ScriptedSend(
            env.clock,
            SendResult(Outcome.BLOCKED),
            SendResult(Outcome.REFUSED, "bad_request: chat not found"),
            *[SendResult(Outcome.FAILED, "NetworkError")] * MAX_SEND_ATTEMPTS,
        )
        report = await deliver_pending(rt, send)
        assert (report.blocked, report.failed, report.retried) == (1, 1, 1)
        for _ in range(MAX_SEND_ATTEMPTS - 1):
            report = await deliver_pending(rt, send)
        assert report.failed == 1 and (await env.services.alerts.counts()).pending == 0
        paused = [
            e.watch.paused_reason for u in (1, 2, 3) for e in await env.services.watches.for_user(u)
        ]
        assert paused == ["blocked", None, None]


async def test_one_chat_gets_its_alerts_a_second_apart(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        for item in (ITEM, "6987654321098"):
            env.set_price("xianyu", item, "5000")
            await env.watch(1, "xianyu", item)
            env.set_price("xianyu", item, "4000")
        rt = env.services.watching
        await poll_cycle(rt)
        send = ScriptedSend(env.clock)
        assert (await deliver_pending(rt, send)).sent == 2
        (_, _, first), (_, _, second) = send.calls
        assert second - first >= PER_CHAT_GAP


async def test_a_chat_with_many_alerts_holds_no_other_chat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No page waits for the slowest chat of the page before: each chat has its own queue."""
    async with alert_env(tmp_path) as env:
        env.set_price("xianyu", ITEM, "5000")
        await env.watch(1, "xianyu", ITEM)
        env.set_price("xianyu", ITEM, "4000")
        rt = env.services.watching
        await poll_cycle(rt)
        [template] = await rt.alerts.pending()
        busy = [dataclasses.replace(template, id=n, chat_id=1) for n in range(1, 6)]
        others = [dataclasses.replace(template, id=5 + n, chat_id=100 + n) for n in (1, 2, 3)]

        async def pending(after_id: int = 0, limit: int = 500) -> list[PendingAlert]:
            return [a for a in busy + others if a.id > after_id][:2]  # pages of two

        monkeypatch.setattr(rt.alerts, "pending", pending)
        others_sent = asyncio.Event()
        sent: list[int] = []

        async def send(alert: PendingAlert, chat_id: int) -> SendResult:
            if alert.id == 2:  # the busy chat's second alert is slow to go
                await others_sent.wait()
            sent.append(alert.id)
            if {6, 7, 8} <= set(sent):
                others_sent.set()
            return SendResult(Outcome.SENT)

        async with asyncio.timeout(10):  # a page barrier would wait here for ever
            report = await deliver_pending(rt, send)
        assert report.sent == 8
        assert sent[0] == 1 and set(sent[1:4]) == {6, 7, 8} and sent[4:] == [2, 3, 4, 5]


async def test_a_free_place_goes_to_the_chat_with_most_alerts_left() -> None:
    """A chat with many alerts keeps its pace: its next alert does not queue behind every
    single alert read before it (bench/alerts.py broadcast --one-chat 50: 1.02x ideal)."""
    from watching.delivery import _Places

    places = _Places(1)
    await places.take(1)  # held
    order: list[str] = []

    async def wait(name: str, left: int) -> None:
        await places.take(left)
        order.append(name)
        places.give_back()

    waiters = [asyncio.create_task(wait(f"single {n}", 1)) for n in range(3)]
    await asyncio.sleep(0)
    waiters.append(asyncio.create_task(wait("busy", 49)))
    await asyncio.sleep(0)
    places.give_back()
    await asyncio.gather(*waiters)
    assert order == ["busy", "single 0", "single 1", "single 2"]
