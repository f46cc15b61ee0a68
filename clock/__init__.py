"""Time as the platform layer sees it: wall time, a monotonic timer and sleeping.

Everything that expires, counts per second or per day, or waits takes a `Clock`,
so tests and benchmarks can drive time with `FakeClock` instead of sleeping.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from typing import Protocol

# The platforms are Chinese: their days (and daily quotas) start at midnight UTC+8.
CHINA_TZ = timezone(timedelta(hours=8), "UTC+8")


class Clock(Protocol):
    def time(self) -> float:
        """Seconds since the Unix epoch (wall clock)."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""


class SystemClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that moves only when told to; `sleep` advances it at once."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self._now = start
        self._mono = 1000.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += seconds
        self._mono += seconds

    async def sleep(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        self.slept.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)


def china_day(clock: Clock, *, days_ago: int = 0) -> str:
    """The platform day (UTC+8) as `YYYY-MM-DD`; daily quotas reset when it changes."""
    day = datetime.fromtimestamp(clock.time(), CHINA_TZ) - timedelta(days=days_ago)
    return day.strftime("%Y-%m-%d")


def seconds_left_in_day(now: float) -> float:
    """Seconds until the platforms' next day (midnight UTC+8), when daily quotas reset."""
    current = datetime.fromtimestamp(now, CHINA_TZ)
    midnight = (current + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1.0, (midnight - current).total_seconds())
