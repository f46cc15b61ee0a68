"""Telegram's flood limits as the bot's rate limiter keeps them.

python-telegram-bot's limiter paces in real time (the event loop's clock), so these
tests take a few real seconds: that is what is being measured.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from telegram import InputMediaPhoto
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter, ExtBot

from bot.rate_limiter import (
    GLOBAL_FLOOD_CHATS,
    OVERALL_BURST,
    OVERALL_PER_SECOND,
    PRIVATE_BURST,
    FloodSafeRateLimiter,
)
from sandbox.botapi import BotApiEmulator
from tests.conftest import TOKEN


def busiest(stamps: list[float], window: float) -> int:
    stamps = sorted(stamps)
    return max(sum(1 for t in stamps if s <= t < s + window) for s in stamps)


async def send_all(
    limiter: AIORateLimiter, count: int, *, flood_first: bool = False
) -> tuple[list[float], float]:
    """`count` concurrent sends to different private chats; return when each went out and
    when the flood pause (if any) was answered."""
    stamps: list[float] = []
    flooded_at = 0.0
    first = True

    async def send() -> dict[str, bool]:
        nonlocal first, flooded_at
        if flood_first and first:
            first = False
            flooded_at = time.perf_counter()
            raise RetryAfter(timedelta(seconds=1))
        stamps.append(time.perf_counter())
        return {"ok": True}

    await asyncio.gather(
        *(
            limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 1000 + n}, None)
            for n in range(count)
        )
    )
    return stamps, flooded_at


async def test_no_second_ever_sees_more_than_thirty_messages() -> None:
    limiter = FloodSafeRateLimiter()
    stamps, _ = await send_all(limiter, 60)
    assert busiest(stamps, 1.0) <= 30
    rate = (len(stamps) - 1) / (max(stamps) - min(stamps))
    assert rate == pytest.approx(OVERALL_PER_SECOND, rel=0.05)


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_a_flood_pause_ends_without_a_burst() -> None:
    safe, _ = await send_all(FloodSafeRateLimiter(), 40, flood_first=True)
    assert busiest(safe, 0.1) <= OVERALL_BURST + 3  # 0.1 s holds 2.8 at the steady pace

    # the stock limiter with the same pace lets every request that queued during the
    # pause go at once when it ends: the burst that draws the next 429
    stock = AIORateLimiter(
        overall_max_rate=OVERALL_BURST,
        overall_time_period=OVERALL_BURST / OVERALL_PER_SECOND,
        max_retries=3,
    )
    bursty, _ = await send_all(stock, 40, flood_first=True)
    assert busiest(bursty, 0.1) > 15


# -- per chat, against the Bot API emulator enforcing Telegram's limits ----------------------


class ObservedLimiter(FloodSafeRateLimiter):
    """Says when it has read a flood answer (it reads one a round trip after it is sent)."""

    def __init__(self) -> None:
        super().__init__()
        self.read = asyncio.Event()

    def _pause(self, chat: int | str | None, wait: float) -> None:
        super()._pause(chat, wait)
        self.read.set()


async def limiter_reads(limiter: ObservedLimiter, floods: int) -> None:
    async with asyncio.timeout(5):
        while sum(limiter.flood_answers_read.values()) < floods:
            limiter.read.clear()
            await limiter.read.wait()


@pytest.fixture
async def paced_bot() -> AsyncIterator[tuple[ExtBot[None], BotApiEmulator, ObservedLimiter]]:
    async with BotApiEmulator(token=TOKEN, enforce_limits=True) as emulator:
        limiter = ObservedLimiter()
        bot: ExtBot[None] = ExtBot(TOKEN, base_url=f"{emulator.base_url}/bot", rate_limiter=limiter)
        async with bot:
            yield bot, emulator, limiter


async def test_a_private_chat_is_paced_so_telegram_never_answers_429(paced_bot) -> None:  # type: ignore[no-untyped-def]
    bot, emulator, _ = paced_bot
    chat = emulator.private_chat(emulator.user(501))
    await asyncio.gather(
        *(bot.send_message(chat.id, f"card {n}") for n in range(PRIVATE_BURST + 3))
    )
    assert emulator.flood_answers == []
    assert len(emulator.sent[chat.id]) == PRIVATE_BURST + 3


async def test_a_flood_answer_for_one_chat_holds_that_chat_only(paced_bot) -> None:  # type: ignore[no-untyped-def]
    bot, emulator, limiter = paced_bot
    slow = emulator.private_chat(emulator.user(502))
    other = emulator.private_chat(emulator.user(503))
    emulator.fail_next("sendMessage", 429, "Too Many Requests: retry after 2", 2, chat_id=slow.id)
    held = asyncio.create_task(bot.send_message(slow.id, "waits"))
    await limiter_reads(limiter, 1)

    await bot.send_message(other.id, "goes at once")  # while the other chat is paused
    assert not held.done() and emulator.sent[slow.id] == []
    assert limiter._retry_after_event.is_set()  # nobody else is paused
    await held
    assert [m.text for m in emulator.sent[slow.id]] == ["waits"]
    assert emulator.flood_answers == [(slow.id, 2)]


async def test_flood_answers_on_many_chats_or_without_a_chat_pause_everyone(paced_bot) -> None:  # type: ignore[no-untyped-def]
    bot, emulator, limiter = paced_bot
    chats = [emulator.private_chat(emulator.user(510 + n)) for n in range(GLOBAL_FLOOD_CHATS)]
    for chat in chats:
        emulator.fail_next(
            "sendMessage", 429, "Too Many Requests: retry after 1", 1, chat_id=chat.id
        )
    sends = [asyncio.create_task(bot.send_message(c.id, "hi")) for c in chats[:-1]]
    await limiter_reads(limiter, GLOBAL_FLOOD_CHATS - 1)
    assert limiter._retry_after_event.is_set()  # two chats: each waits alone
    sends.append(asyncio.create_task(bot.send_message(chats[-1].id, "hi")))
    await limiter_reads(limiter, GLOBAL_FLOOD_CHATS)
    assert not limiter._retry_after_event.is_set()  # the bot as a whole is too fast
    await asyncio.gather(*sends)
    assert limiter._retry_after_event.is_set()

    emulator.fail_next("getMe", 429, "Too Many Requests: retry after 1", 1)  # no chat named
    me = asyncio.create_task(bot.get_me())
    await limiter_reads(limiter, GLOBAL_FLOOD_CHATS + 1)
    assert emulator.flood_answers[-1] == (None, 1)
    assert not limiter._retry_after_event.is_set()
    await me


async def test_an_albums_photos_count_as_messages_of_their_own(paced_bot) -> None:  # type: ignore[no-untyped-def]
    """Telegram counts each photo of an album: a card's photo album and the next card in
    a private chat must not draw a flood answer."""
    bot, emulator, _ = paced_bot
    chat = emulator.private_chat(emulator.user(520))
    album = [InputMediaPhoto(f"https://img.example.test/{n}.jpg") for n in range(4)]
    await bot.send_media_group(chat.id, album)
    await bot.send_message(chat.id, "the next card")
    assert emulator.flood_answers == []
    assert len(emulator.sent[chat.id]) == 5


# -- groups: 20 in any minute, tested with the minute scaled down to 1.5 s ------------------

SCALED_MINUTE = 1.5


async def send_to_a_group(limiter: FloodSafeRateLimiter, count: int) -> BotApiEmulator:
    async with BotApiEmulator(
        token=TOKEN, enforce_limits=True, group_window=SCALED_MINUTE
    ) as emulator:
        group = emulator.group_chat(-100700, "flat hunters", supergroup=True)
        bot: ExtBot[None] = ExtBot(TOKEN, base_url=f"{emulator.base_url}/bot", rate_limiter=limiter)
        async with bot:
            await asyncio.gather(*(bot.send_message(group.id, f"card {n}") for n in range(count)))
        assert len(emulator.sent[group.id]) == count
        return emulator


async def test_a_group_is_paced_so_no_minute_holds_more_than_twenty() -> None:
    limiter = FloodSafeRateLimiter(group_period=SCALED_MINUTE)
    emulator = await send_to_a_group(limiter, 30)
    assert emulator.flood_answers == []  # the emulator answers 429 to a 21st in any window


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_a_bucket_of_twenty_a_minute_draws_flood_answers_in_a_group() -> None:
    """Why the group burst is 9: the stock pace (a bucket of 20 refilled over the minute)
    lets 40 through in the first minute, and Telegram counts any minute."""
    stock_pace = FloodSafeRateLimiter(group_burst=20, group_period=SCALED_MINUTE)
    emulator = await send_to_a_group(stock_pace, 30)
    assert emulator.flood_answers != []
