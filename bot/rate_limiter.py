"""Telegram's flood limits (CONTRACT 4.2), as Telegram publishes them, and one hiccup survived.

Telegram's numbers (Bots FAQ, "My bot is hitting limits, how do I avoid this?",
https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this): "When
sending messages inside a particular chat, avoid sending more than one message per second.
We may allow short bursts that go over this limit, but eventually you'll begin receiving
429 errors"; "the API will not allow more than 30 messages per second or so"; "your bot
will not be able to send more than 20 messages per minute to the same group".

How they are kept, with no burst anywhere (a burst Telegram "may allow" is not promised):

- **A chat** takes one message each `CHAT_GAP` (1.1 s) after its previous one left: one a
  second, with 10 % kept back because a request reaches Telegram a round trip after it
  leaves and round trips vary.
- **A group** (a negative chat id or an @name) takes one each `GROUP_GAP` (3.1 s): "20
  a minute" as an even pace, which is the strictest reading and keeps the others too: no
  sliding 60 s, and so no clock minute, ever holds more than 20 (60 / 3.1 -> 19.4).
- **All chats** together take one message each 1 / `OVERALL_PER_SECOND` (28.3) s: no
  second, sliding or clock-aligned, holds more than 29 of "30 a second".
- **An album** of n photos counts n messages (Telegram counts each item): it goes when its
  chat is free and takes n turns, so its chat's next message and everyone's next one wait.
- **What counts**: messages are sent (`send*`, `copy*`, `forward*`) or edited (`edit*`;
  paced too: they change a message in the chat). A chat action is no message (Bot API,
  sendChatAction: "the status is set for 5 seconds or less"), nor are answers to button
  presses and inline queries, deletions and reads: they are never paced, so the typing
  shown before a card never spends the card's turn (in a group that halved the cards).
- **A 429** carries `retry_after` (Bot API, ResponseParameters: "In case of exceeding
  flood control, the number of seconds left to wait before the request can be
  repeated"): the chat it names waits that long (+0.1 s) and the request is sent again;
  one without a chat, or answers on `GLOBAL_FLOOD_CHATS` chats within
  `GLOBAL_FLOOD_WINDOW` seconds (the bot as a whole is too fast), pause every chat.
  Nothing queued during a pause goes at once when it ends: each still waits its turn.
- **Two lanes** (issue 19.1): a request names its lane in `rate_limit_args`, the
  argument python-telegram-bot gives every method for this ("can e.g. be used to
  specify the priority of the request"): `Lane.CHAT` (the default: someone is waiting
  for it) or `Lane.BACKGROUND` (alerts). When both wait for a turn among all chats, chat
  goes first, but background gets one turn in every `CHAT_TURNS_IN_A_ROW` + 1, so a busy
  chat slows alerts down to a quarter of the pace at worst and never stops them.
- **One hiccup** (issue 18.5): a request that meets a 5xx or a connection failure is sent
  again after 0.5 s, 1 s, 2 s ... while `REPLY_DEADLINE` (30 s from the first failure)
  allows, as alerts are retried, so a card or an answer is not lost to one bad moment. A
  request that timed out is not sent again (Telegram may have it: a card would come
  twice), nor one Telegram refused (400, 403).

This is python-telegram-bot's public hook for it, a `BaseRateLimiter` ("you are welcome
to implement your own subclass"), with no private attribute of the library read here;
the wait a `RetryAfter` carries is read by `handlers.sending.retry_after_seconds`.
Time comes from a `Clock`, so tests drive it with `FakeClock`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from cachetools import TTLCache
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter

from clock import Clock, SystemClock
from handlers.sending import Lane, retry_after_seconds

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]
Send = Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]]

#: seconds between two messages to one chat: one a second, 10 % kept back for round trips
CHAT_GAP = 1.1
#: seconds between two messages to one group: 20 a minute as an even pace, 0.1 s kept back
GROUP_GAP = 3.1
#: messages a second to all chats together, evenly spaced (Telegram: 30)
OVERALL_PER_SECOND = 28.3
#: turns the chat lane may take in a row while background requests wait for one
CHAT_TURNS_IN_A_ROW = 3
#: 429 answers obeyed per request before the error reaches the caller
MAX_RETRIES = 3
#: seconds added to a retry_after: Telegram counts whole seconds from its own clock
RETRY_AFTER_MARGIN = 0.1
#: seconds from a request's first failure within which it is sent again
REPLY_DEADLINE = 30.0
#: the first wait after a 5xx or a connection failure; doubled each time
HICCUP_BACKOFF = 0.5
#: flood answers on this many chats within the window pause every chat
GLOBAL_FLOOD_CHATS = 3
GLOBAL_FLOOD_WINDOW = 2.0
#: chats whose pacing and pauses are remembered
PACED_CHATS = 100_000
PACE_MEMORY_SECONDS = 120.0  # longer than any chat waits after a message (an album: 31 s)
PAUSE_MEMORY_SECONDS = 3600.0
#: methods named like a send that send no message (Bot API, sendChatAction)
NOT_MESSAGES = frozenset({"sendchataction"})
MESSAGE_PREFIXES = ("send", "copy", "forward", "edit")


class Turns:
    """Turns among all chats, one at a time: the chat lane first, the background lane one
    turn in every `CHAT_TURNS_IN_A_ROW` + 1 while both wait; first come first served
    within a lane."""

    def __init__(self) -> None:
        self._held = False
        self._waiting: tuple[deque[asyncio.Future[None]], ...] = (deque(), deque())
        self._chat_in_a_row = 0

    @contextlib.asynccontextmanager
    async def hold(self, lane: Lane) -> AsyncIterator[None]:
        if self._held:
            handed = asyncio.get_running_loop().create_future()
            self._waiting[lane].append(handed)
            try:
                await handed
            except asyncio.CancelledError:
                if handed.done() and not handed.cancelled():
                    self._pass_on()  # the turn came with the cancellation: give it on
                raise
        self._held = True
        if lane == Lane.CHAT:
            self._chat_in_a_row += 1
        else:
            self._chat_in_a_row = 0
        try:
            yield
        finally:
            self._pass_on()

    def _pass_on(self) -> None:
        chat, background = (self._drop_cancelled(queue) for queue in self._waiting)
        if chat and (not background or self._chat_in_a_row < CHAT_TURNS_IN_A_ROW):
            chat.popleft().set_result(None)
        elif background:
            background.popleft().set_result(None)
        else:
            self._held = False

    @staticmethod
    def _drop_cancelled(queue: deque[asyncio.Future[None]]) -> deque[asyncio.Future[None]]:
        while queue and queue[0].done():
            queue.popleft()
        return queue


class FloodSafeRateLimiter(BaseRateLimiter[Lane]):
    """Paces every message by Telegram's published numbers; see the module docstring."""

    def __init__(
        self,
        max_retries: int = MAX_RETRIES,
        *,
        clock: Clock | None = None,
        chat_gap: float = CHAT_GAP,
        group_gap: float = GROUP_GAP,
        overall_per_second: float = OVERALL_PER_SECOND,
        deadline: float = REPLY_DEADLINE,
    ) -> None:
        self.max_retries = max_retries
        self.clock: Clock = clock or SystemClock()
        self.chat_gap, self.group_gap = chat_gap, group_gap
        self.overall_gap = 1.0 / overall_per_second
        self.deadline = deadline
        #: when each chat may take its next message (its last departure + its gap)
        self._chat_free: TTLCache[int | str, float] = TTLCache(PACED_CHATS, PACE_MEMORY_SECONDS)
        self._chat_turns: dict[int | str, tuple[asyncio.Lock, int]] = {}
        self._overall_free = -math.inf
        self._overall_turns = Turns()
        self._chat_paused_until: TTLCache[int | str, float] = TTLCache(
            PACED_CHATS, PAUSE_MEMORY_SECONDS
        )
        self._everyone_paused_until = -math.inf
        self._recent_floods: deque[tuple[float, int | str]] = deque()
        #: flood answers read, per chat (None: answers that named no chat)
        self.flood_answers_read: Counter[int | str | None] = Counter()
        #: 5xx answers and connection failures that were sent again, per method
        self.hiccups_retried: Counter[str] = Counter()

    async def initialize(self) -> None:
        """Nothing to set up: the limiter holds only counters."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Send,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Lane | None,
    ) -> bool | JSONDict | list[JSONDict]:
        max_retries = self.max_retries
        lane = Lane.BACKGROUND if rate_limit_args == Lane.BACKGROUND else Lane.CHAT
        chat = chat_key(data.get("chat_id"))
        messages = messages_in(endpoint, data)
        flood_answers = 0
        hiccups = 0
        give_up_at: float | None = None
        while True:
            await self._wait_for_turn(chat, messages, lane)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = retry_after_seconds(exc) + RETRY_AFTER_MARGIN
                self._pause(chat, wait)
                now = self.clock.monotonic()
                give_up_at = now + self.deadline if give_up_at is None else give_up_at
                flood_answers += 1
                if flood_answers > max_retries or now + wait > give_up_at:
                    log.warning("Telegram flood answer for %s: not sent again", endpoint)
                    raise
            except NetworkError as exc:
                if isinstance(exc, BadRequest | TimedOut):
                    raise  # refused, or perhaps delivered: sending again cannot help
                now = self.clock.monotonic()
                give_up_at = now + self.deadline if give_up_at is None else give_up_at
                backoff = HICCUP_BACKOFF * 2**hiccups
                if now + backoff > give_up_at:
                    raise
                hiccups += 1
                self.hiccups_retried[endpoint] += 1
                log.info(
                    "Telegram failed %s (%s); sent again in %.1f s",
                    endpoint,
                    type(exc).__name__,
                    backoff,
                )
                await self.clock.sleep(backoff)

    # -- whose turn -----------------------------------------------------------------------

    async def _wait_for_turn(
        self, chat: int | str | None, messages: int, lane: Lane = Lane.CHAT
    ) -> None:
        """Return when `messages` messages may go to `chat` now; take their turns."""
        if messages == 0 or chat is None:  # no message (or none to a chat): pauses only
            await self._pauses_over(chat)
            if messages:
                await self._overall(chat, messages, lane)
            return
        lock, users = self._chat_turns.get(chat, (asyncio.Lock(), 0))
        self._chat_turns[chat] = (lock, users + 1)
        try:
            async with lock:  # one chat's messages take their turns in order
                await self._until(self._chat_free.get(chat, -math.inf))
                left_at = await self._overall(chat, messages, lane)
                gap = self.group_gap if is_group(chat) else self.chat_gap
                self._chat_free[chat] = left_at + messages * gap
        finally:
            lock, users = self._chat_turns[chat]
            if users == 1:
                del self._chat_turns[chat]
            else:
                self._chat_turns[chat] = (lock, users - 1)

    async def _overall(self, chat: int | str | None, messages: int, lane: Lane) -> float:
        """Wait for any pause and a turn among all chats; return when the turn is taken."""
        while True:
            await self._pauses_over(chat)  # outside the turn: a paused chat holds nobody
            async with self._overall_turns.hold(lane):
                await self._until(self._overall_free)
                now = self.clock.monotonic()
                if self._paused_until(chat) > now:
                    continue  # a pause began while this waited: wait it out, then queue again
                self._overall_free = now + messages * self.overall_gap
                return now

    async def _until(self, moment: float) -> None:
        while (wait := moment - self.clock.monotonic()) > 0:
            await self.clock.sleep(wait)

    # -- flood answers --------------------------------------------------------------------

    def _paused_until(self, chat: int | str | None) -> float:
        chat_until = self._chat_paused_until.get(chat, -math.inf) if chat is not None else -math.inf
        return max(self._everyone_paused_until, chat_until)

    async def _pauses_over(self, chat: int | str | None) -> None:
        while (until := self._paused_until(chat)) > self.clock.monotonic():
            await self._until(until)

    def paused(self, chat: int | str | None = None) -> bool:
        """Whether `chat` (None: every chat) waits out a flood answer now."""
        now = self.clock.monotonic()
        if chat is None:
            return self._everyone_paused_until > now
        return self._paused_until(chat) > now

    def _pause(self, chat: int | str | None, wait: float) -> None:
        """Pause the chat the answer named, or everyone when the bot as a whole is too fast."""
        now = self.clock.monotonic()
        self.flood_answers_read[chat] += 1
        if chat is not None:
            until = max(self._chat_paused_until.get(chat, -math.inf), now + wait)
            self._chat_paused_until[chat] = until
            self._recent_floods.append((now, chat))
        while self._recent_floods and self._recent_floods[0][0] < now - GLOBAL_FLOOD_WINDOW:
            self._recent_floods.popleft()
        flooded_chats = {c for _, c in self._recent_floods}
        if chat is None or len(flooded_chats) >= GLOBAL_FLOOD_CHATS:
            log.info("Telegram flood answer for the bot: every chat waits %.1f s", wait)
            self._everyone_paused_until = max(self._everyone_paused_until, now + wait)
        else:
            log.info("Telegram flood answer for one chat: it waits %.1f s", wait)


def messages_in(endpoint: str, data: dict[str, Any]) -> int:
    """How many messages Telegram counts for this request; 0 for one that sends none."""
    name = endpoint.lower()
    if name in NOT_MESSAGES or not name.startswith(MESSAGE_PREFIXES):
        return 0
    if name == "sendmediagroup":  # Telegram counts each item of an album
        media = data.get("media")
        return max(1, len(media)) if isinstance(media, list | tuple) else 1
    return 1


def is_group(chat: int | str) -> bool:
    """Groups, supergroups and channels have negative ids, or are named by @name."""
    return isinstance(chat, str) or chat < 0


def chat_key(chat_id: object) -> int | str | None:
    """The chat a request goes to: an id, an @channel name, or None (no chat)."""
    if chat_id is None:
        return None
    with contextlib.suppress(ValueError, TypeError):
        return int(chat_id)  # type: ignore[call-overload]  # any object: int() refuses what is no number
    return str(chat_id)
