"""Flood control: one user cannot take the bot's update workers from the others.

Two of python-telegram-bot's own seams keep it:

- `FloodGuard`: each user (or, for an update without one, the chat that sent it) has a
  leaky bucket (aiolimiter) of `FLOOD_BURST` updates that
  drains at `FLOOD_PER_MINUTE`, taken when the update arrives (in the update processor).
  An update that finds the bucket full is dropped by a `TypeHandler` in group -3
  (before every other handler) with `ApplicationHandlerStop`; the first dropped update of a burst gets one localized
  "slow down" reply, the rest get nothing (a dropped button press gets the text as its
  answer, an inline query an empty answer with the text as its button: neither costs a
  message). Every update is screened, with a chat or without one (inline queries,
  chosen inline results): no kind of update is a side door around the bucket. Dropping, not queueing: a burst of 200 messages
  costs a few milliseconds each and nobody waits minutes behind it. Admins are exempt.
- `PerChatUpdateProcessor`, the application's update processor: at most
  `UPDATES_PER_CHAT` updates of one chat are handled at once, and an update waits for
  its chat's turn *before* it takes one of the application's shared workers, so one
  chat can never hold more than that many of them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from aiolimiter import AsyncLimiter
from cachetools import TTLCache
from telegram import InlineQueryResultsButton, Update
from telegram.ext import ApplicationHandlerStop, SimpleUpdateProcessor

from handlers.common import reply, sender_id, user_lang
from handlers.context import BotContext
from handlers.inline import START_PARAMETER as INLINE_START
from handlers.texts import t

log = logging.getLogger(__name__)

#: updates one user may send back to back, and the pace they may keep up after that
FLOOD_BURST = 8
FLOOD_PER_MINUTE = 20
#: update workers one chat may hold at once
UPDATES_PER_CHAT = 2
#: users (and chats) remembered; one idle for this long starts afresh
TRACKED = 100_000
IDLE_SECONDS = 600


class FloodGuard:
    """Each user's bucket: `screen` decides on arrival, `stop_dropped` (group -3) acts."""

    def __init__(
        self,
        admin_ids: frozenset[int] = frozenset(),
        burst: int = FLOOD_BURST,
        per_minute: float = FLOOD_PER_MINUTE,
    ) -> None:
        self.admin_ids = admin_ids
        self.burst = burst
        self.period = burst * 60.0 / per_minute  # the bucket drains fully in this time
        self._buckets: TTLCache[int, AsyncLimiter] = TTLCache(TRACKED, IDLE_SECONDS)
        self._warned: TTLCache[int, bool] = TTLCache(TRACKED, IDLE_SECONDS)
        self._dropped_updates: set[int] = set()
        self.admitted = 0
        self.dropped = 0

    async def screen(self, update: object) -> bool:
        """Take a place in the sender's bucket; False (and the update marked) when it is full."""
        if not isinstance(update, Update):
            return True
        sender = sender_id(update)
        if sender is None or sender in self.admin_ids:
            return True
        bucket = self._buckets.get(sender)
        if bucket is None:
            bucket = self._buckets[sender] = AsyncLimiter(self.burst, self.period)
        if not bucket.has_capacity():
            self.dropped += 1
            self._dropped_updates.add(update.update_id)
            return False
        await bucket.acquire()  # there is room: this takes it without waiting
        self._warned.pop(sender, None)  # the next burst earns a warning again
        self.admitted += 1
        return True

    async def stop_dropped(self, update: Update, context: BotContext) -> None:
        """The group -3 `TypeHandler` callback: no handler sees a dropped update."""
        if update.update_id not in self._dropped_updates:
            return
        self._dropped_updates.discard(update.update_id)
        sender = sender_id(update)
        if sender is not None and not self._warned.get(sender):
            self._warned[sender] = True
            await self._tell_to_slow_down(update, context)
        elif update.inline_query is not None:  # a query left unanswered spins in the client
            await update.inline_query.answer([], cache_time=0)
        raise ApplicationHandlerStop

    async def _tell_to_slow_down(self, update: Update, context: BotContext) -> None:
        text = t(user_lang(update, context), "slow_down")
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.inline_query is not None:
            button = InlineQueryResultsButton(text=text, start_parameter=INLINE_START)
            await update.inline_query.answer([], cache_time=0, button=button)
        elif update.effective_message is not None:
            await reply(update, text)


class PerChatUpdateProcessor(SimpleUpdateProcessor):
    """At most `per_chat` updates of one chat at once, out of `max_concurrent_updates`.

    A dropped update (see `FloodGuard.screen`) skips its chat's queue: it only needs a
    moment to be turned away, and must not wait behind the messages that were let in.
    """

    def __init__(
        self,
        max_concurrent_updates: int,
        guard: FloodGuard | None = None,
        per_chat: int = UPDATES_PER_CHAT,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self.guard = guard or FloodGuard()
        self.per_chat = per_chat
        self._chats: dict[int, tuple[asyncio.Semaphore, int]] = {}  # chat -> (turns, waiting)

    # python-telegram-bot marks process_update @final and offers do_process_update, but that
    # hook runs inside the shared worker semaphore: a chat's queued updates would hold
    # workers while they wait. The one reach past PTB's hooks; tests/test_ptb_seams.py
    # fails loudly if PTB stops routing updates through here or changes what super() does.
    async def process_update(  # type: ignore[misc]  # overrides a @final method: see above
        self, update: object, coroutine: Awaitable[Any]
    ) -> None:
        # every update meets the guard first, whether it has a chat or not
        admitted = await self.guard.screen(update)
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None or not admitted:
            await super().process_update(update, coroutine)
            return
        turns = self._enter(chat.id)
        try:
            async with turns:  # the chat's turn first, then one of the shared workers
                await super().process_update(update, coroutine)
        finally:
            self._leave(chat.id)

    def _enter(self, chat_id: int) -> asyncio.Semaphore:
        turns, users = self._chats.get(chat_id, (asyncio.Semaphore(self.per_chat), 0))
        self._chats[chat_id] = (turns, users + 1)
        return turns

    def _leave(self, chat_id: int) -> None:
        turns, users = self._chats[chat_id]
        if users <= 1:
            del self._chats[chat_id]  # nobody of this chat is waiting or working
        else:
            self._chats[chat_id] = (turns, users - 1)
