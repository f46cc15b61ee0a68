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

Relies on `AIORateLimiter`'s private helpers (`_base_limiter`, `_get_group_limiter`,
`_group_max_rate`, `_retry_after_event`); python-telegram-bot is pinned below 23.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

from telegram._utils.types import JSONDict
from telegram.ext import AIORateLimiter

#: messages per second to all chats together, and how many may go back to back
OVERALL_PER_SECOND = 28.3
OVERALL_BURST = 2
#: retry_after answers obeyed per request before the error reaches the caller
MAX_RETRIES = 3


class FloodSafeRateLimiter(AIORateLimiter):
    """`AIORateLimiter` whose tokens are taken only when no flood pause is on."""

    def __init__(self, max_retries: int = MAX_RETRIES) -> None:
        super().__init__(
            overall_max_rate=OVERALL_BURST,
            overall_time_period=OVERALL_BURST / OVERALL_PER_SECOND,
            max_retries=max_retries,
        )

    async def _run_request(
        self,
        chat: bool,
        group: str | int | bool,
        allow_paid_broadcast: bool,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
    ) -> bool | JSONDict | list[JSONDict]:
        if allow_paid_broadcast:  # Telegram's paid lane has limits of its own
            return await super()._run_request(
                chat, group, allow_paid_broadcast, callback, args, kwargs
            )
        while True:
            await self._retry_after_event.wait()
            base = self._base_limiter if chat and self._base_limiter else contextlib.nullcontext()
            in_group = (
                self._get_group_limiter(group)
                if group and self._group_max_rate
                else contextlib.nullcontext()
            )
            async with in_group, base:
                if self._retry_after_event.is_set():
                    return await callback(*args, **kwargs)
            # a pause began while this request queued for its token: the token is spent
            # unused (it cannot be given back) and the request queues again after the pause
