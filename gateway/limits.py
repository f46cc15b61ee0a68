"""Rate policies: the per-second window a platform counts, and a platform's own rate ban."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import Any

from clients.errors import TemporarilyUnavailable
from clock import Clock

log = logging.getLogger(__name__)

#: rate windows are kept slightly longer than a second: the seeds punish overshoot
#: with a 10-minute ban, and network jitter can bunch requests on arrival
RATE_WINDOW = 1.1
#: the shortest wait for a rate slot: a clock read must always move on after a wait
MIN_SLEEP = 1e-4


class SlidingWindowLimiter:
    """At most `count` requests in any `window` seconds, as the platform counts them.

    The platform counts arrivals, and a request arrives somewhere between its start and
    its answer. So a slot is taken when a request starts and comes back `window` seconds
    after the answer (`release`), not after the start: two requests of one slot then
    arrive at least `window` apart whatever the network does. A window counted from the
    starts let a slow first arrival and a fast second one land in one platform second
    (bench/gateway.py: 5 rate refusals in 1 run of 5); the seeds punish that with a ban.
    A slot taken for a request that was never sent goes back at once (`cancel`).
    Waiters go in order.
    """

    def __init__(self, count: int, window: float, clock: Clock) -> None:
        self.count = max(1, int(count))
        self.window = window
        self.clock = clock
        # when each released slot leaves the window, in order; an expiry is kept, not a
        # release time, so a sleep of exactly `expiry - now` lands on it (a release + window
        # recomputed after the sleep can fall a rounding error short, forever)
        self._expiries: deque[float] = deque()
        self._in_flight = 0
        self._released = asyncio.Event()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait for a slot; give it back with `release` (answered) or `cancel` (not sent)."""
        async with self._lock:
            while True:
                now = self.clock.monotonic()
                while self._expiries and self._expiries[0] <= now:
                    self._expiries.popleft()
                if len(self._expiries) + self._in_flight < self.count:
                    self._in_flight += 1
                    return
                if self._expiries:
                    await self.clock.sleep(max(self._expiries[0] - now, MIN_SLEEP))
                else:  # every slot is in flight: the first answer starts a window
                    self._released.clear()
                    await self._released.wait()

    def release(self) -> None:
        """The request was answered (or failed after it was sent)."""
        self._in_flight -= 1
        self._expiries.append(self.clock.monotonic() + self.window)
        self._released.set()

    def cancel(self) -> None:
        """The slot was taken but no request went out."""
        self._in_flight -= 1
        self._released.set()


class RateBan:
    """A platform's own ban after a rate overshoot (Anjuke: 10 minutes for the key).

    Kept in SQLite through `store`, so a restart inside the ban does not call into it
    (every call would extend the ban); nobody calls the platform until it ends.
    """

    def __init__(self, platform: str, seconds: float, store: Any, clock: Clock) -> None:
        self.platform = platform
        self.seconds = seconds
        self.store = store
        self.clock = clock

    def check(self) -> None:
        until = self.store.paused_until(self.platform)
        if until is not None and self.clock.time() < until:
            raise TemporarilyUnavailable(self.platform, "paused by the platform's rate ban")

    def start(self) -> None:
        log.warning("%s: rate ban, paused for %ds", self.platform, self.seconds)
        self.store.pause(self.platform, self.clock.time() + self.seconds)
