"""Telegram's flood limits (CONTRACT 4.2) kept by python-telegram-bot's `AIORateLimiter`.

Two things differ from the stock limiter, both measured with bench/alerts.py against
the Bot API emulator enforcing Telegram's limits:

- The overall bucket holds two messages and refills 28.3 times a second, so no second
  ever sees more than 2 + 28.3 -> 30 messages. The stock bucket of 30 lets 30 go at
  once and 30 more within the same second (77 answers 429 in 300 alerts); a bucket of
  one loses every late wake-up (27.6/s instead of 28.5/s).
- No token is handed out while a `retry_after` pause is on. The stock limiter takes the
  token first and waits out the pause afterwards, so every request that queues during
  a pause holds a token and all of them go at once when it ends: one 429 breeds a burst
  that draws the next (1,284 answers 429 in 10,000 alerts on a loaded machine).
- Every chat is paced, private chats too: a bucket of `PRIVATE_BURST` messages refilled
  at `PRIVATE_PER_SECOND`, just under Telegram's one a second; groups at most 18 in any
  minute (the stock limiter paces groups only, and its bucket of 20 a minute lets 40
  through in a minute).
- A `retry_after` answer for one chat pauses that chat only; the stock limiter pauses
  every chat. A flood answer without a chat, or on `GLOBAL_FLOOD_CHATS` chats within
  `GLOBAL_FLOOD_WINDOW` seconds (the bot as a whole is too fast), pauses everyone.

Relies on `AIORateLimiter`'s private helpers (`_base_limiter`, `_get_group_limiter`,
`_group_max_rate`, `_retry_after_event`); python-telegram-bot is pinned below 23.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, deque
from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from cachetools import TTLCache
from telegram._utils.types import JSONDict
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

Send = Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]]

#: messages per second to all chats together, and how many may go back to back
OVERALL_PER_SECOND = 28.3
OVERALL_BURST = 2
#: retry_after answers obeyed per request before the error reaches the caller
MAX_RETRIES = 3
#: messages a private chat may get back to back, then about one a second. Telegram lets
#: a private chat take a short burst (the emulator: 3, then 1/s); one message and 10 % of
#: the pace are kept back, as a request reaches Telegram a round trip after it is paced
PRIVATE_BURST = 2
PRIVATE_PER_SECOND = 1 / 1.1
#: a group takes `GROUP_BURST` back to back, then refills over `GROUP_PERIOD` seconds: at
#: most 2 x 9 = 18 in any minute, under Telegram's 20 however it counts the minute (a
#: bucket of 20 lets 40 through in the first minute, which a sliding window refuses)
GROUP_BURST = 9
GROUP_PERIOD = 60.0
#: flood answers on this many chats within the window pause every chat
GLOBAL_FLOOD_CHATS = 3
GLOBAL_FLOOD_WINDOW = 2.0
#: chats whose pacing is remembered; one idle this long is fully refilled anyway
PACED_CHATS = 100_000
PACE_MEMORY_SECONDS = 120.0


class FloodSafeRateLimiter(AIORateLimiter):
    """`AIORateLimiter` paced per chat, whose flood pauses hold only the chat they name."""

    def __init__(
        self,
        max_retries: int = MAX_RETRIES,
        *,
        private_burst: int = PRIVATE_BURST,
        private_per_second: float = PRIVATE_PER_SECOND,
        group_burst: int = GROUP_BURST,
        group_period: float = GROUP_PERIOD,
    ) -> None:
        super().__init__(
            overall_max_rate=OVERALL_BURST,
            overall_time_period=OVERALL_BURST / OVERALL_PER_SECOND,
            group_max_rate=group_burst,
            group_time_period=group_period,
            max_retries=max_retries,
        )
        self.private_burst, self.private_per_second = private_burst, private_per_second
        self._private_limiters: TTLCache[int, AsyncLimiter] = TTLCache(
            PACED_CHATS, PACE_MEMORY_SECONDS
        )
        self._chat_paused_until: TTLCache[int | str, float] = TTLCache(
            PACED_CHATS, PACE_MEMORY_SECONDS
        )
        self._recent_floods: deque[tuple[float, int | str]] = deque()
        self._global_resume: asyncio.TimerHandle | None = None
        self._global_until = 0.0
        #: flood answers read, per chat (None: answers that named no chat)
        self.flood_answers_read: Counter[int | str | None] = Counter()

    async def process_request(
        self,
        callback: Send,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        if data.get("allow_paid_broadcast", False):  # Telegram's paid lane: the stock rules
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )
        max_retries = rate_limit_args or self._max_retries
        chat = chat_key(data.get("chat_id"))
        # Telegram counts each item of an album as a message of its own
        media = data.get("media") if endpoint == "sendMediaGroup" else None
        messages = max(1, len(media)) if isinstance(media, list | tuple) else 1
        for attempt in range(max_retries + 1):
            await self._chat_pause_over(chat)
            try:
                return await self._run_request(
                    chat=chat is not None,
                    group=chat if chat is not None else False,
                    allow_paid_broadcast=False,
                    callback=callback,
                    args=args,
                    kwargs=kwargs,
                    messages=messages,
                )
            except RetryAfter as exc:
                if attempt == max_retries:
                    log.warning("Telegram flood answer after %d retries: giving up", max_retries)
                    raise
                wait = exc._retry_after.total_seconds() + 0.1
                self._pause(chat, wait)
        raise AssertionError("unreachable")  # the loop returns or raises

    def _pause(self, chat: int | str | None, wait: float) -> None:
        """Pause the chat the answer named, or everyone when the bot as a whole is too fast."""
        now = asyncio.get_running_loop().time()
        self.flood_answers_read[chat] += 1
        if chat is not None:
            self._chat_paused_until[chat] = max(self._chat_paused_until.get(chat, 0.0), now + wait)
            self._recent_floods.append((now, chat))
        while self._recent_floods and self._recent_floods[0][0] < now - GLOBAL_FLOOD_WINDOW:
            self._recent_floods.popleft()
        flooded_chats = {c for _, c in self._recent_floods}
        if chat is None or len(flooded_chats) >= GLOBAL_FLOOD_CHATS:
            log.info("Telegram flood answer for the bot: every chat waits %.1f s", wait)
            self._pause_everyone(now + wait)
        else:
            log.info("Telegram flood answer for one chat: it waits %.1f s", wait)

    def _pause_everyone(self, until: float) -> None:
        if until <= self._global_until:
            return
        self._global_until = until
        if self._global_resume is not None:
            self._global_resume.cancel()
        self._retry_after_event.clear()
        loop = asyncio.get_running_loop()
        self._global_resume = loop.call_at(until, self._retry_after_event.set)

    async def _chat_pause_over(self, chat: int | str | None) -> None:
        while chat is not None:
            left = self._chat_paused_until.get(chat, 0.0) - asyncio.get_running_loop().time()
            if left <= 0:
                return
            await asyncio.sleep(left)

    def _chat_limiter(self, chat: int | str) -> AsyncLimiter | None:
        """Telegram's pace for one chat: groups (negative ids, @names) 18 in any minute."""
        if isinstance(chat, str) or chat < 0:
            return self._get_group_limiter(chat) if self._group_max_rate else None
        limiter = self._private_limiters.get(chat)
        if limiter is None:
            limiter = AsyncLimiter(self.private_burst, self.private_burst / self.private_per_second)
            self._private_limiters[chat] = limiter
        return limiter

    async def _run_request(
        self,
        chat: bool,
        group: str | int | bool,
        allow_paid_broadcast: bool,
        callback: Send,
        args: Any,
        kwargs: dict[str, Any],
        messages: int = 1,
    ) -> bool | JSONDict | list[JSONDict]:
        if allow_paid_broadcast:  # Telegram's paid lane has limits of its own
            return await super()._run_request(
                chat, group, allow_paid_broadcast, callback, args, kwargs
            )
        while True:
            await self._retry_after_event.wait()
            paced = self._chat_limiter(group) if group is not False else None
            limiters = [lim for lim in (paced, self._base_limiter if chat else None) if lim]
            # an album goes when its chat could take a burst, and its other items are paid
            # for after it is sent: the chat's next messages wait for them
            upfront = [min(messages, int(lim.max_rate)) for lim in limiters]
            for limiter, amount in zip(limiters, upfront, strict=True):
                await limiter.acquire(amount)
            if self._retry_after_event.is_set():
                result = await callback(*args, **kwargs)
                for limiter, amount in zip(limiters, upfront, strict=True):
                    for _ in range(messages - amount):
                        await limiter.acquire()
                return result
            # a pause began while this request queued for its tokens: they are spent
            # unused (they cannot be given back) and the request queues again after the pause


def chat_key(chat_id: object) -> int | str | None:
    """The chat a request goes to: an id, an @channel name, or None (no chat)."""
    if chat_id is None:
        return None
    with contextlib.suppress(ValueError, TypeError):
        return int(chat_id)  # type: ignore[call-overload]
    return str(chat_id)
