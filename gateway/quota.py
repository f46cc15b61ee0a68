"""The daily quota: each platform's calls per platform day, with a share kept for chat."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any

from clients.errors import QuotaExhausted
from clock import Clock, china_day

#: share of each platform's daily quota kept for interactive chat; polling never touches it
CHAT_RESERVE = 0.3


class Priority(StrEnum):
    CHAT = "chat"  # a person is waiting
    BACKGROUND = "background"  # alert polling and other jobs


class QuotaLedger:
    """Today's use of one platform's daily quota, persisted through `store`."""

    def __init__(
        self, platform: str, per_day: int | None, store: Any, clock: Clock, reserve: float
    ) -> None:
        self.platform = platform
        self.per_day = per_day
        self.store = store
        self.clock = clock
        self.reserve = reserve

    def allowance(self, priority: Priority) -> int | None:
        if self.per_day is None:
            return None
        if priority is Priority.CHAT:
            return self.per_day
        return self.per_day - math.ceil(self.per_day * self.reserve)

    def used(self) -> int:
        used: int = self.store.usage(self.platform, china_day(self.clock)).used
        return used

    def left(self, priority: Priority) -> int | None:
        usage = self.store.usage(self.platform, china_day(self.clock))
        if usage.exhausted:
            return 0
        allowance = self.allowance(priority)
        return None if allowance is None else max(0, allowance - usage.used)

    def spend(self, priority: Priority) -> None:
        """Take one unit or raise `QuotaExhausted` (with no platform code: it is ours)."""
        day = china_day(self.clock)
        usage = self.store.usage(self.platform, day)
        allowance = self.allowance(priority)
        if usage.exhausted or (allowance is not None and usage.used >= allowance):
            what = (
                "daily quota used up"
                if priority is Priority.CHAT or usage.exhausted
                else ("background share of the daily quota used up")
            )
            raise QuotaExhausted(self.platform, what)
        self.store.add(self.platform, day)

    def platform_says_exhausted(self) -> None:
        self.store.mark_exhausted(self.platform, china_day(self.clock))
