"""Telegram's flood limits as the emulator reads them.

Limits (only with `enforce_limits=True`; CONTRACT 4.2), Telegram's published numbers
(Bots FAQ, "My bot is hitting limits, how do I avoid this?"): one message a second in a
chat, 20 a minute in a group, 30 a second in all. Counted per delivered message
(sendMessage, sendPhoto, sendMediaGroup; an album counts each item; chat actions and
edits are no messages). A chat, private or group, takes one message each second and
no burst (the FAQ's "short bursts" are a tolerance Telegram "may" allow, not one it
promises): an album goes when its chat is free and leaves the chat owing one second
per photo. "20 a minute" (a group; `FloodRules.minute`, for tests that scale it) and
"30 a second" (all chats) are counted as `FloodRules.counting` says, so a test can pick
the reading: "sliding" (the default: at most N in any window of that length), "fixed"
(at most N in each clock-aligned window, a laxer reading) or "even" (the strictest:
one each period/N, no two closer, an album taking N slots). Excess answers 429 "Too
Many Requests: retry after N" with `parameters.retry_after` = N whole seconds until the
request would pass (Bot API, ResponseParameters: "the number of seconds left to wait
before the request can be repeated").
Time comes from `clock.monotonic()`; long-poll waits are real time (PTB waits in real
time too).
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Literal

from clock import Clock
from sandbox.botapi.models import ApiError, Chat

GLOBAL_PER_SECOND = 30
CHAT_PER_SECOND = 1
GROUP_PER_MINUTE = 20


Counting = Literal["sliding", "fixed", "even"]


@dataclass(frozen=True)
class FloodRules:
    """How the emulator reads Telegram's published limits (module docstring)."""

    per_second: int = GLOBAL_PER_SECOND  # all chats together
    chat_per_second: int = CHAT_PER_SECOND  # one chat, private or group: an even pace
    group_per_minute: int = GROUP_PER_MINUTE
    minute: float = 60.0
    #: how "30 a second" and "20 a minute" are counted: "sliding", "fixed" or "even"
    counting: Counting = "sliding"


class _Pace:
    """One limit: `limit` messages per `period` seconds, counted the `counting` way."""

    def __init__(self, limit: int, period: float, counting: Counting) -> None:
        self.limit, self.period, self.counting = limit, period, counting
        self._stamps: deque[float] = deque()  # sliding: when each message went
        self._window = (-1, 0)  # fixed: (window number, messages in it)
        self._free_at = -math.inf  # even: when the next slot opens

    def wait(self, now: float, count: int) -> float:
        """Seconds until `count` more messages may go (0: now)."""
        if self.counting == "even":
            return max(0.0, self._free_at - now)
        if self.counting == "fixed":
            number, taken = self._window
            current = math.floor(now / self.period)
            if number == current and taken + count > self.limit:
                return (current + 1) * self.period - now
            return 0.0
        stamps = self._stamps
        while stamps and stamps[0] <= now - self.period:
            stamps.popleft()
        excess = len(stamps) + count - self.limit
        if excess > 0 and stamps:
            return stamps[min(excess, len(stamps)) - 1] + self.period - now
        return 0.0

    def take(self, now: float, count: int) -> None:
        if self.counting == "even":
            self._free_at = max(self._free_at, now) + count * self.period / self.limit
        elif self.counting == "fixed":
            number, taken = self._window
            current = math.floor(now / self.period)
            self._window = (current, (taken if number == current else 0) + count)
        else:
            self._stamps.extend([now] * count)


class SendLimits:
    """The three limits of CONTRACT 4.2; see the module docstring for the exact rules."""

    def __init__(self, clock: Clock, rules: FloodRules) -> None:
        self._clock = clock
        self.rules = rules
        self._all = _Pace(rules.per_second, 1.0, rules.counting)
        # one message a second in a chat: an even pace whatever the counting (no burst)
        self._chats: dict[int, _Pace] = defaultdict(
            lambda: _Pace(rules.chat_per_second, 1.0, "even")
        )
        self._groups: dict[int, _Pace] = defaultdict(
            lambda: _Pace(rules.group_per_minute, rules.minute, rules.counting)
        )

    def acquire(self, chat: Chat, count: int = 1) -> None:
        """Take `count` messages to `chat` or raise 429 with the seconds to wait."""
        now = self._clock.monotonic()
        paces = [self._all, self._chats[chat.id]]
        if chat.type != "private":
            paces.append(self._groups[chat.id])
        wait = max(pace.wait(now, count) for pace in paces)
        if wait > 1e-9:
            retry_after = max(1, math.ceil(wait - 1e-9))
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        for pace in paces:
            pace.take(now, count)
