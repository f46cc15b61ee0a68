"""Telegram's flood limits as the bot's rate limiter keeps them (bot/rate_limiter.py).

Time is a `FakeClock` shared by the limiter and the Bot API emulator: a pacing wait
advances it at once (never less than asked), and the emulator judges every message by the
same clock (a `SettledClock`, which stands still while a request is on its way), so no
test waits in real time and none depends on the machine's speed. The
emulator reads Telegram's published numbers (Bots FAQ) three ways (`FloodRules.counting`):
the bot must draw no 429 under any of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import warnings
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from telegram import InputMediaPhoto
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import BaseRateLimiter, ExtBot

from bot.rate_limiter import (
    CHAT_GAP,
    GLOBAL_FLOOD_CHATS,
    GROUP_GAP,
    OVERALL_PER_SECOND,
    REPLY_DEADLINE,
    FloodSafeRateLimiter,
    messages_in,
)
from clock import FakeClock
from handlers.sending import Lane, retry_after_seconds
from sandbox.botapi import BotApiEmulator, FloodRules
from tests.conftest import TOKEN, SettledClock, SettledLimiter

READINGS = ["sliding", "fixed", "even"]
EPSILON = 1e-9


def busiest(stamps: list[float], window: float) -> int:
    stamps = sorted(stamps)
    return max(sum(1 for t in stamps if s <= t < s + window) for s in stamps)


def smallest_gap(stamps: list[float]) -> float:
    stamps = sorted(stamps)
    return min(b - a for a, b in itertools.pairwise(stamps))


def per_minute(stamps: list[float]) -> float:
    return (len(stamps) - 1) / (max(stamps) - min(stamps)) * 60


async def departures(
    limiter: FloodSafeRateLimiter, clock: FakeClock, requests: list[tuple[str, dict[str, Any]]]
) -> list[float]:
    """Send `requests` (endpoint, data) at once; when each left, on the fake clock."""
    stamps: list[float] = []

    async def send() -> dict[str, bool]:
        stamps.append(clock.monotonic())
        return {"ok": True}

    await asyncio.gather(
        *(limiter.process_request(send, (), {}, name, data, None) for name, data in requests)
    )
    return stamps


# -- the pace, without Telegram -------------------------------------------------------------


def test_the_limiter_is_pythontelegrambots_public_hook() -> None:
    assert issubclass(FloodSafeRateLimiter, BaseRateLimiter)
    assert "AIORateLimiter" not in [c.__name__ for c in FloodSafeRateLimiter.__mro__]


async def test_all_chats_together_get_an_even_pace_under_thirty_a_second() -> None:
    clock = FakeClock()
    limiter = FloodSafeRateLimiter(clock=clock)
    stamps = await departures(
        limiter, clock, [("sendMessage", {"chat_id": 1000 + n}) for n in range(90)]
    )
    assert smallest_gap(stamps) >= 1 / OVERALL_PER_SECOND - EPSILON  # no burst, ever
    assert busiest(stamps, 1.0) <= 29
    assert (len(stamps) - 1) / (max(stamps) - min(stamps)) == pytest.approx(OVERALL_PER_SECOND)


async def test_a_chat_gets_one_message_a_second_and_no_burst() -> None:
    clock = FakeClock()
    limiter = FloodSafeRateLimiter(clock=clock)
    start = clock.monotonic()
    stamps = await departures(limiter, clock, [("sendMessage", {"chat_id": 7})] * 5)
    assert min(stamps) == start  # the first goes at once
    assert smallest_gap(stamps) >= CHAT_GAP - EPSILON


async def test_a_group_gets_twenty_a_minute_as_an_even_pace() -> None:
    clock = FakeClock()
    limiter = FloodSafeRateLimiter(clock=clock)
    stamps = await departures(limiter, clock, [("sendMessage", {"chat_id": -100700})] * 41)
    assert smallest_gap(stamps) >= GROUP_GAP - EPSILON
    assert busiest(stamps, 60.0) <= 20
    assert per_minute(stamps) == pytest.approx(60 / GROUP_GAP)  # 19.4: the full rate


async def test_chat_actions_and_button_answers_are_not_paced_as_messages() -> None:
    """Telegram's limits are on messages; a chat action is no message (Bot API,
    sendChatAction: "the status is set for 5 seconds or less")."""
    assert messages_in("sendChatAction", {"chat_id": -1, "action": "typing"}) == 0
    assert messages_in("answerCallbackQuery", {"callback_query_id": "1"}) == 0
    assert messages_in("deleteMessage", {"chat_id": -1, "message_id": 1}) == 0
    assert messages_in("sendMessage", {"chat_id": -1}) == 1
    assert messages_in("editMessageText", {"chat_id": -1}) == 1
    assert messages_in("sendMediaGroup", {"chat_id": -1, "media": [1, 2, 3, 4]}) == 4

    clock = FakeClock()
    limiter = FloodSafeRateLimiter(clock=clock)
    group = {"chat_id": -100701}
    stamps = await departures(
        limiter, clock, [("sendChatAction", {**group, "action": "typing"})] * 30
    )
    assert max(stamps) == min(stamps)  # thirty typing actions, none waited
    cards = await departures(
        limiter, clock, [("sendChatAction", {**group, "action": "typing"}), ("sendMessage", group)]
    )
    assert max(cards) == min(cards)  # the card after a typing action waits for nothing


async def test_a_flood_pause_for_everyone_ends_without_a_burst() -> None:
    clock = FakeClock()
    limiter = FloodSafeRateLimiter(1, clock=clock)
    stamps: list[float] = []
    start = clock.monotonic()

    async def get_me() -> bool:
        raise RetryAfter(1)  # names no chat: the bot as a whole is too fast

    async def send() -> bool:
        stamps.append(clock.monotonic())
        return True

    flood = limiter.process_request(get_me, (), {}, "getMe", {}, None)
    sends = [
        limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 2000 + n}, None)
        for n in range(40)
    ]
    results = await asyncio.gather(flood, *sends, return_exceptions=True)
    assert isinstance(results[0], RetryAfter)  # told again after its one retry
    assert min(stamps) >= start + 1.0
    assert smallest_gap(stamps) >= 1 / OVERALL_PER_SECOND - EPSILON


async def test_chat_replies_go_before_alerts_but_alerts_are_never_starved() -> None:
    clock = FakeClock()
    limiter = FloodSafeRateLimiter(clock=clock)
    lanes: list[Lane] = []

    def request(n: int, lane: Lane) -> Any:
        async def send() -> bool:
            lanes.append(lane)
            return True

        return limiter.process_request(send, (), {}, "sendMessage", {"chat_id": n}, lane)

    alerts = [request(4000 + n, Lane.BACKGROUND) for n in range(20)]
    replies = [request(5000 + n, Lane.CHAT) for n in range(20)]
    await asyncio.gather(*alerts, *replies)
    # while both lanes wait: never more than 3 replies in a row, never 2 alerts in a row
    both_wait = lanes[2 : len(lanes) - lanes[::-1].index(Lane.CHAT)]  # two alerts queued none
    runs = [(lane, len(list(run))) for lane, run in itertools.groupby(both_wait)]
    assert max(n for lane, n in runs if lane == Lane.CHAT) == 3
    assert max(n for lane, n in runs if lane == Lane.BACKGROUND) == 1
    assert lanes.count(Lane.BACKGROUND) == 20 and lanes.count(Lane.CHAT) == 20


# -- against the Bot API emulator enforcing Telegram's limits --------------------------------


class ObservedLimiter(SettledLimiter):
    """Notes, after each flood answer it reads, whether every chat is paused."""

    def __init__(self, clock: SettledClock) -> None:
        super().__init__(clock)
        self.everyone_paused: list[bool] = []

    def _pause(self, chat: int | str | None, wait: float) -> None:
        super()._pause(chat, wait)
        self.everyone_paused.append(self.paused())


@pytest.fixture
async def paced_bot() -> AsyncIterator[tuple[ExtBot[None], BotApiEmulator, ObservedLimiter]]:
    async with paced_bot_on(FloodRules()) as paced:
        yield paced


@contextlib.asynccontextmanager
async def paced_bot_on(
    rules: FloodRules,
) -> AsyncIterator[tuple[ExtBot[None], BotApiEmulator, ObservedLimiter]]:
    clock = SettledClock()
    async with BotApiEmulator(
        token=TOKEN, clock=clock, enforce_limits=True, flood_rules=rules
    ) as emulator:
        limiter = ObservedLimiter(clock)
        bot: ExtBot[None] = ExtBot(TOKEN, base_url=f"{emulator.base_url}/bot", rate_limiter=limiter)
        async with bot:
            yield bot, emulator, limiter


async def test_a_private_chat_is_paced_so_telegram_never_answers_429(paced_bot) -> None:  # type: ignore[no-untyped-def]
    bot, emulator, _ = paced_bot
    chat = emulator.private_chat(emulator.user(501))
    await asyncio.gather(*(bot.send_message(chat.id, f"card {n}") for n in range(6)))
    assert emulator.flood_answers == []
    assert len(emulator.sent[chat.id]) == 6


async def test_a_flood_answer_for_one_chat_holds_that_chat_only(paced_bot) -> None:  # type: ignore[no-untyped-def]
    bot, emulator, limiter = paced_bot
    slow = emulator.private_chat(emulator.user(502))
    other = emulator.private_chat(emulator.user(503))
    start = emulator.clock.monotonic()
    emulator.fail_next("sendMessage", 429, "Too Many Requests: retry after 2", 2, chat_id=slow.id)
    await asyncio.gather(bot.send_message(slow.id, "waits"), bot.send_message(other.id, "goes"))

    assert emulator.flood_answers == [(slow.id, 2)]
    assert limiter.everyone_paused == [False]  # nobody else was paused
    [waited] = emulator.delivered[slow.id]
    [went] = emulator.delivered[other.id]
    assert went < waited and waited >= start + 2.0


async def test_flood_answers_on_many_chats_or_without_a_chat_pause_everyone(paced_bot) -> None:  # type: ignore[no-untyped-def]
    bot, emulator, limiter = paced_bot
    chats = [emulator.private_chat(emulator.user(510 + n)) for n in range(GLOBAL_FLOOD_CHATS)]
    for chat in chats:
        emulator.fail_next(
            "sendMessage", 429, "Too Many Requests: retry after 1", 1, chat_id=chat.id
        )
    await asyncio.gather(*(bot.send_message(c.id, "hi") for c in chats))
    # two chats: each waits alone; the third: the bot as a whole is too fast
    assert limiter.everyone_paused == [False] * (GLOBAL_FLOOD_CHATS - 1) + [True]

    emulator.fail_next("getMe", 429, "Too Many Requests: retry after 1", 1)  # no chat named
    await bot.get_me()
    assert emulator.flood_answers[-1] == (None, 1)
    assert limiter.everyone_paused[-1] is True


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
    first, *_, last = emulator.delivered[chat.id]
    assert last - first >= 4 * CHAT_GAP - EPSILON


@pytest.mark.parametrize("counting", READINGS)
async def test_no_reading_of_telegrams_numbers_draws_a_429(counting: str) -> None:
    """A busy minute: 40 members of a group each get a typing action and a card, an album
    goes to the group, 120 private chats get alerts, one of them two cards and an album;
    under every reading of "20 a minute" and "30 a second" nothing is refused, and the
    group still gets its full rate."""
    async with paced_bot_on(FloodRules(counting=counting)) as (bot, emulator, _):  # type: ignore[arg-type]
        group = emulator.group_chat(-100702, "flat hunters", supergroup=True)
        people = [emulator.private_chat(emulator.user(3000 + n)) for n in range(120)]
        album = [InputMediaPhoto(f"https://img.example.test/{n}.jpg") for n in range(3)]

        turns = asyncio.Semaphore(2)  # the bot handles two of a chat's updates at once

        async def member(bot: ExtBot[None], chat_id: int, n: int, turns: Any = turns) -> None:
            async with turns:
                await bot.send_chat_action(chat_id, "typing")
                await bot.send_message(chat_id, f"card {n}")

        await asyncio.gather(
            *(member(bot, group.id, n) for n in range(40)),
            bot.send_media_group(group.id, album),
            *(bot.send_message(p.id, "alert") for p in people),
            bot.send_message(people[0].id, "card"),
            bot.send_message(people[0].id, "card"),
            bot.send_media_group(people[0].id, album),
        )
        assert emulator.flood_answers == []
        assert len(emulator.sent[group.id]) == 43
        assert per_minute(emulator.delivered[group.id]) >= 18


# -- one Bot API hiccup: sent again within the deadline -------------------------------------


async def test_one_server_error_is_sent_again(paced_bot) -> None:  # type: ignore[no-untyped-def]
    bot, emulator, limiter = paced_bot
    chat = emulator.private_chat(emulator.user(530))
    emulator.fail_next("sendMessage", 500, "Internal Server Error", chat_id=chat.id)
    emulator.fail_next("sendPhoto", 502, "", chat_id=chat.id, body="<html>502 Bad Gateway</html>")
    await bot.send_message(chat.id, "the card")
    await bot.send_photo(chat.id, "https://img.example.test/1.jpg")
    card, photo = emulator.sent[chat.id]
    assert card.text == "the card" and photo.photo is not None
    assert limiter.hiccups_retried == {"sendMessage": 1, "sendPhoto": 1}


async def test_a_flood_answer_is_obeyed_then_sent_again(paced_bot) -> None:  # type: ignore[no-untyped-def]
    bot, emulator, _ = paced_bot
    chat = emulator.private_chat(emulator.user(531))
    start = emulator.clock.monotonic()
    emulator.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", 3, chat_id=chat.id)
    await bot.send_message(chat.id, "the card")
    assert emulator.delivered[chat.id][0] >= start + 3.0


async def test_a_hiccup_that_lasts_past_the_deadline_reaches_the_caller(paced_bot) -> None:  # type: ignore[no-untyped-def]
    bot, emulator, limiter = paced_bot
    chat = emulator.private_chat(emulator.user(532))
    start = emulator.clock.monotonic()
    emulator.fail_next("sendMessage", 500, "Internal Server Error", count=100, chat_id=chat.id)
    with pytest.raises(NetworkError):
        await bot.send_message(chat.id, "never")
    # 0.5 + 1 + 2 + 4 + 8 = 15.5 s of waits; the next (16 s) would end past 30 s
    assert limiter.hiccups_retried["sendMessage"] == 5
    assert emulator.clock.monotonic() - start <= REPLY_DEADLINE

    other = emulator.private_chat(emulator.user(533))
    emulator.fail_next(
        "sendMessage", 429, "Too Many Requests: retry after 60", 60, chat_id=other.id
    )
    start = emulator.clock.monotonic()
    with pytest.raises(RetryAfter):  # longer than the deadline: told at once, not waited
        await bot.send_message(other.id, "later")
    assert emulator.clock.monotonic() - start < 1.0


async def test_what_may_have_arrived_or_was_refused_is_not_sent_again() -> None:
    clock = FakeClock()
    limiter = FloodSafeRateLimiter(clock=clock)
    for error in (TimedOut(), BadRequest("Bad Request: message text is empty")):
        calls = 0

        async def send(error: Exception = error) -> bool:
            nonlocal calls
            calls += 1
            raise error

        with pytest.raises(type(error)):
            await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 1}, None)
        assert calls == 1


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
def test_retry_after_is_read_from_the_public_attribute_without_warnings() -> None:
    whole, part = RetryAfter(3), RetryAfter(timedelta(seconds=2.5))  # PTB itself warns here
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert retry_after_seconds(whole) == 3.0
        assert retry_after_seconds(part) == 2.5
