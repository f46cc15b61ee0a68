"""Delivering recorded alerts: in which order, how far apart, and what each failure means.

`deliver_pending(rt, send)` sends every unsent alert, oldest first, at most one
message per second to a chat (3.1 s in groups, CONTRACT 4.2). Each chat has a queue of
its own, served as soon as its first alert is read: alerts are read in pages as room
frees (`MAX_QUEUED` held at once), so no chat waits for a slower chat's page to finish. `send` is the chat
side (`handlers.alerts`): it renders and sends one alert and answers with a
`SendResult`, so the decisions below need no Telegram. An alert is marked sent right
after the chat accepts it; on start, whatever is still unsent is sent. A blocked chat
pauses that chat's watches; any other error leaves watches alone.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from storage.alerts import PendingAlert
from storage.database import StorageError
from watching.poller import AlertRuntime

log = logging.getLogger(__name__)

#: alerts between their chat's turn and Telegram's answer. Few, so that a chat with many
#: alerts, whose turn comes each second, finds at most this many ahead of it in the
#: limiter's queue (one turn each 35 ms); places go to the chat with most alerts left
SEND_CONCURRENCY = 8
#: seconds between two messages to one chat (CONTRACT 4.2: the limiter's CHAT_GAP, so an
#: alert never holds a place among SEND_CONCURRENCY waiting for its chat)
PER_CHAT_GAP = 1.1
#: groups get 20 messages a minute; a little more than 3 s apart keeps any minute under it
PER_GROUP_GAP = 3.1
MAX_SEND_ATTEMPTS = 5  # failures before an alert is given up
MAX_RETRY_AFTER_WAITS = 5  # 429s for one alert, after the rate limiter's own retries
DELIVERY_BATCH = 500  # alerts read from storage at a time
MAX_QUEUED = 5_000  # alerts held in the chats' queues at once (memory stays bounded)
BLOCKED = "blocked"


class Outcome(StrEnum):
    SENT = "sent"
    BLOCKED = "blocked"  # the user blocked the bot
    MOVED = "moved"  # the group became a supergroup with a new id
    RETRY_AFTER = "retry_after"  # flood control: wait `wait` seconds, then send again
    REFUSED = "refused"  # the request itself is wrong: retrying cannot help
    FAILED = "failed"  # a transient failure: try again at a later delivery


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    detail: str = ""
    new_chat_id: int | None = None
    wait: float = 0.0


#: renders and sends one alert to the given chat id
AlertSend = Callable[[PendingAlert, int], Awaitable[SendResult]]


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0  # given up for a reason other than a block
    blocked: int = 0  # alerts not sent because the chat blocked the bot
    retried: int = 0  # left pending after a network failure, tried again later
    rate_limited: int = 0  # 429 answers that reached us (after the rate limiter's retries)


async def deliver_pending(rt: AlertRuntime, send: AlertSend) -> DeliveryReport:
    """Send every unsent alert, oldest first; return what happened.

    One delivery runs at a time; a second caller waits for it and then finds little
    or nothing left. Alerts recorded while a delivery runs are picked up by it.
    """
    report = DeliveryReport()
    async with rt.delivery_lock:
        await _mark_sent_late(rt)
        delivery = _Delivery(rt, send, report)
        room = asyncio.Semaphore(MAX_QUEUED)
        queues: dict[int, deque[PendingAlert]] = {}
        workers: set[asyncio.Task[None]] = set()
        errors: list[BaseException] = []

        async def serve(chat_id: int, queue: deque[PendingAlert]) -> None:
            """One chat's alerts in order, until its queue is empty."""
            try:
                while queue:
                    try:
                        await delivery.send_next(queue)
                    finally:
                        room.release()
            finally:
                for _ in queue:  # left by an error: their room is given back
                    room.release()
                queue.clear()
                del queues[chat_id]

        def finished(worker: asyncio.Task[None]) -> None:
            workers.discard(worker)
            if not worker.cancelled() and (error := worker.exception()) is not None:
                errors.append(error)

        after = 0
        try:
            while page := await rt.alerts.pending(after, DELIVERY_BATCH):
                after = page[-1].id
                for alert in page:
                    if alert.id in rt.sent_unmarked:
                        continue
                    await room.acquire()
                    if alert.chat_id in queues:
                        queues[alert.chat_id].append(alert)
                        continue
                    queue = queues[alert.chat_id] = deque([alert])
                    worker = asyncio.create_task(serve(alert.chat_id, queue))
                    workers.add(worker)
                    worker.add_done_callback(finished)
        except BaseException:
            for worker in workers:  # cancelled or failed: the chats' queues stop too
                worker.cancel()
            raise
        finally:
            while workers:
                await asyncio.wait(set(workers))
                await asyncio.sleep(0)  # their done callbacks run
        if errors:
            raise errors[0]
    if report.sent or report.failed or report.blocked:
        log.info(
            "alerts delivered: %d sent, %d blocked, %d failed, %d to retry",
            report.sent,
            report.blocked,
            report.failed,
            report.retried,
        )
    return report


async def _mark_sent_late(rt: AlertRuntime) -> None:
    """Mark the alerts sent whose mark the database refused last time (never resent)."""
    for alert_id in sorted(rt.sent_unmarked):
        try:
            await rt.alerts.mark_sent(alert_id)
        except StorageError:
            return  # still locked: the next delivery tries again
        rt.sent_unmarked.discard(alert_id)


class _Places:
    """`SEND_CONCURRENCY` places for sends. When several wait, the chat with most alerts
    left goes first, then first come: a chat with 50 alerts keeps its one-a-second pace
    while single alerts fill the turns between (first come alone would put each of its
    alerts behind every other chat's)."""

    def __init__(self, places: int) -> None:
        self.free = places
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    async def take(self, left: int) -> None:
        if self.free and not self._waiting:
            self.free -= 1
            return
        given = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (-left, next(self._order), given))
        try:
            await given
        except asyncio.CancelledError:
            if given.done() and not given.cancelled():
                self.give_back()  # the place came with the cancellation: pass it on
            raise

    def give_back(self) -> None:
        while self._waiting:
            given = heapq.heappop(self._waiting)[2]
            if not given.done():
                given.set_result(None)
                return
        self.free += 1


class _Delivery:
    def __init__(self, rt: AlertRuntime, send: AlertSend, report: DeliveryReport) -> None:
        self.rt = rt
        self.send_one = send
        self.report = report
        self.clock = rt.clock
        self.places = _Places(SEND_CONCURRENCY)
        self.blocked: set[int] = set()
        self.last_sent: dict[int, float] = {}

    async def send_next(self, queue: deque[PendingAlert]) -> None:
        """The first alert of one chat's queue: a second after the chat's last one in
        private chats, 3.1 s in groups. A chat that blocked the bot gets nothing more."""
        alert = queue.popleft()
        chat_id = alert.chat_id
        if chat_id in self.blocked:
            return
        last = self.last_sent.get(chat_id)
        if last is not None:
            gap = PER_CHAT_GAP if chat_id > 0 else PER_GROUP_GAP  # groups have ids < 0
            wait = last + gap - self.clock.monotonic()
            if wait > 0:
                await self.clock.sleep(wait)
        await self.places.take(len(queue) + 1)
        self.last_sent[chat_id] = self.clock.monotonic()  # the limiter paces from here too
        try:
            await self.send(alert)
        finally:
            self.places.give_back()

    async def send(self, alert: PendingAlert) -> None:
        chat_id = alert.chat_id
        waits = 0
        while True:
            result = await self.send_one(alert, chat_id)
            if result.outcome == Outcome.RETRY_AFTER:
                self.report.rate_limited += 1
                waits += 1
                if waits > MAX_RETRY_AFTER_WAITS:
                    await self._retry_later(alert, "retry_after")
                    return
                await self.clock.sleep(result.wait)
                continue
            if result.outcome == Outcome.MOVED and result.new_chat_id is not None:
                # the group became a supergroup: its watches move with it, then try again
                await self.rt.watches.move_chat(chat_id, result.new_chat_id)
                chat_id = result.new_chat_id
                continue
            break
        if result.outcome == Outcome.SENT:
            await self._mark_sent(alert)
        elif result.outcome == Outcome.BLOCKED:
            await self._blocked(chat_id)
        elif result.outcome == Outcome.REFUSED:
            # our own bug or a chat that is gone: nobody's watches are touched for it
            await self.rt.alerts.mark_failed(alert.id, result.detail)
            self.report.failed += 1
        else:
            await self._retry_later(alert, result.detail)

    async def _mark_sent(self, alert: PendingAlert) -> None:
        self.report.sent += 1
        try:
            await self.rt.alerts.mark_sent(alert.id)
        except StorageError as exc:
            # Telegram has it: remembered, so it is never sent twice
            log.warning("alert %d sent, its mark waits for the database: %s", alert.id, exc)
            self.rt.sent_unmarked.add(alert.id)

    async def _retry_later(self, alert: PendingAlert, error: str) -> None:
        if await self.rt.alerts.note_attempt(alert.id, error) >= MAX_SEND_ATTEMPTS:
            await self.rt.alerts.mark_failed(alert.id, f"gave up: {error}")
            self.report.failed += 1
        else:
            self.report.retried += 1

    async def _blocked(self, chat_id: int) -> None:
        self.blocked.add(chat_id)
        paused = await self.rt.watches.pause_chat(chat_id, BLOCKED)
        dropped = await self.rt.alerts.fail_pending_for_chat(chat_id, BLOCKED)
        self.report.blocked += dropped
        log.info("a chat blocked the bot: %d watches paused", paused)
