"""Fairness and isolation (issue 9), through the real bot on the Bot API emulator.

One user flooding, one chat hogging workers, one slow platform: each must cost the
others nothing they would notice.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Chat, Message, Update

from bot.flood import FLOOD_BURST, FloodGuard, PerChatUpdateProcessor
from handlers import listings
from handlers.texts import t
from sandbox.core import Fault
from tests.conftest import BotEnv, start_bot_env

XIANYU_LINK = "https://www.goofish.com/item?id=756789012345"
BEIKE_LINK = "https://bj.ke.com/ershoufang/101127449675.html"


def flood_guard(env: BotEnv) -> FloodGuard:
    return env.application.update_processor.guard  # type: ignore[no-any-return]


# -- flood control -------------------------------------------------------------------------


@pytest.fixture
async def bot_env(tmp_path: Path) -> AsyncIterator[BotEnv]:
    """The bot with the flood control it ships with (other tests' users are let through)."""
    async for env in start_bot_env(tmp_path, flood_burst=FLOOD_BURST):
        yield env


async def test_a_burst_gets_one_slow_down_reply_and_the_rest_is_dropped(bot_env: BotEnv) -> None:
    flooder, other = bot_env.user(9201, "zh-hans"), bot_env.user(9202)
    guard = flood_guard(bot_env)
    for n in range(30):
        await bot_env.emulator.send_text(flooder, None, f"hello {n}")
    await bot_env.emulator.wait_for(lambda: guard.admitted + guard.dropped >= 30, timeout=10)
    let_through = guard.admitted
    # the bucket drains one place every 3 s: on a slow machine one more may pass
    assert FLOOD_BURST <= let_through <= FLOOD_BURST + 1

    [card] = await bot_env.say(other, XIANYU_LINK)  # the other user is answered at once
    assert card.buttons
    # each message let through is answered, plus one slow-down for all the dropped ones
    await bot_env.emulator.wait_for_messages(flooder.id, let_through + 1, timeout=20)
    replies = [m.visible for m in bot_env.messages(flooder.id)]
    assert replies.count(t("zh", "slow_down")) == 1
    assert len(replies) == let_through + 1


async def test_a_user_who_slowed_down_is_answered_again_and_warned_once_per_burst(
    bot_env: BotEnv,
) -> None:
    flooder = bot_env.user(9203)
    guard = flood_guard(bot_env)
    for n in range(FLOOD_BURST + 3):
        await bot_env.emulator.send_text(flooder, None, f"hi {n}")
    await bot_env.emulator.wait_for(lambda: guard.admitted + guard.dropped >= FLOOD_BURST + 3)
    # every message let in is answered (one a second: Telegram's pace), plus one warning
    await bot_env.emulator.wait_for_messages(flooder.id, guard.admitted + 1, timeout=20)
    warnings = [m for m in bot_env.messages(flooder.id) if m.visible == t("en", "slow_down")]
    assert len(warnings) == 1
    # the bucket drains: simulate its time passing (aiolimiter reads the loop's clock)
    bucket = guard._buckets[flooder.id]
    bucket._level = 0.0
    [hint] = await bot_env.say(flooder, "hello again")
    assert "no listing" in hint.visible.lower()


async def test_one_chat_holds_at_most_two_workers_and_never_blocks_another_chat() -> None:
    processor = PerChatUpdateProcessor(4, per_chat=2)
    busy_chat, quiet_chat = Chat(1, "private"), Chat(2, "private")
    release = asyncio.Event()
    running: dict[int, int] = {1: 0, 2: 0}
    most: dict[int, int] = {1: 0, 2: 0}
    done: list[int] = []

    async def work(chat_id: int) -> None:
        running[chat_id] += 1
        most[chat_id] = max(most[chat_id], running[chat_id])
        if chat_id == 1:
            await release.wait()
        running[chat_id] -= 1
        done.append(chat_id)

    def update(chat: Chat, n: int) -> Update:

        message = Message(n, None, chat)  # type: ignore[arg-type]
        return Update(n, message=message)

    busy = [
        asyncio.create_task(processor.process_update(update(busy_chat, n), work(1)))
        for n in range(10)
    ]
    quiet = asyncio.create_task(processor.process_update(update(quiet_chat, 99), work(2)))
    await asyncio.wait_for(quiet, timeout=5)  # done while the busy chat's work hangs
    assert done == [2]
    assert most[1] == 2
    assert processor.current_concurrent_updates == 2  # not 4: the rest wait outside
    release.set()
    await asyncio.gather(*busy)
    assert done.count(1) == 10 and most[1] == 2


# -- a slow platform ----------------------------------------------------------------------


async def test_a_slow_platform_gets_still_fetching_and_its_card_is_edited_in(
    bot_env: BotEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listings, "FETCH_PATIENCE", 0.3)
    monkeypatch.setattr(listings, "ORDER_GRACE", 0.1)
    monkeypatch.setattr(listings, "HANDLER_PATIENCE", 0.2)
    bot_env.sandbox.state.inject("beike", Fault("timeout", delay=3.0))
    user = bot_env.user(9301)
    text = f"贝壳 {BEIKE_LINK} 闲鱼 {XIANYU_LINK}"
    first, second = await bot_env.say(user, text, expect=2)
    # the ready Xianyu card did not wait for Beike; Beike got a placeholder
    assert first.buttons and "Xianyu" in first.visible
    assert second.visible == t("en", "still_fetching", platform="Beike")
    # the handler is done while Beike still hangs: the slow platform holds no update worker
    processor = bot_env.application.update_processor
    await bot_env.emulator.wait_for(lambda: processor.current_concurrent_updates == 0)
    assert not second.edits

    await bot_env.emulator.wait_for(lambda: second.edits, timeout=10)
    assert "双裕花园西区" in second.visible
    assert second.buttons  # the card's buttons came with the edit
    assert len(bot_env.messages(user.id)) == 2


# -- a locked database ----------------------------------------------------------------------


async def test_a_cached_card_arrives_while_another_process_holds_the_write_lock(
    bot_env: BotEnv,
) -> None:
    await bot_env.say(bot_env.user(9401), XIANYU_LINK)  # now in the cache
    locker = sqlite3.connect(bot_env.settings.database_path, timeout=0, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        newcomer = bot_env.user(9402, "zh-hans")  # first contact: the user row is written
        # the write waits on the database's thread for up to 5 s; the card does not
        [again] = await bot_env.say(newcomer, XIANYU_LINK, timeout=3)
        assert again.buttons and "闲鱼" in again.visible
        assert locker.in_transaction  # the card came while the lock was still held
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    # the write waited for the lock and then landed
    database = bot_env.services.database
    language = await database.run(
        lambda db: db.execute("SELECT language FROM users WHERE user_id = 9402").fetchone()
    )
    assert language == ("zh",)
