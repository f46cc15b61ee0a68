"""Fairness and isolation (issue 9), through the real bot on the Bot API emulator.

One user flooding, one chat hogging workers, one slow platform: each must cost the
others nothing they would notice.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from telegram import Chat, Message, Update

from bot.flood import FLOOD_BURST, FloodGuard, PerChatUpdateProcessor
from bot.services import Services
from clock import china_day
from handlers import listings
from handlers.alerts import run_poll_cycle, send_pending_alerts
from handlers.sending import Lane
from handlers.texts import t
from sandbox.core import Fault
from sandbox.lock_holder import release, write_lock_held_elsewhere
from storage import database
from tests.conftest import BotEnv, start_bot_env
from tests.test_quotes_e2e import data_of, press

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
    # these updates have no user, so the flood guard keys them by chat: a roomy bucket
    # keeps this test about the workers (a dropped update would skip the chat's queue)
    processor = PerChatUpdateProcessor(4, FloodGuard(burst=100), per_chat=2)
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


async def test_a_late_card_is_edited_in_on_the_background_lane(
    bot_env: BotEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The person already has "still fetching": people waiting for a first reply go first
    (a platform that comes back answers many late cards at once)."""
    monkeypatch.setattr(listings, "FETCH_PATIENCE", 0.3)
    monkeypatch.setattr(listings, "ORDER_GRACE", 0.1)
    monkeypatch.setattr(listings, "HANDLER_PATIENCE", 0.2)
    limiter = bot_env.application.bot.rate_limiter
    assert limiter is not None
    lanes: list[tuple[str, object]] = []
    process = limiter.process_request

    async def recorded(callback, args, kwargs, endpoint, data, rate_limit_args):  # type: ignore[no-untyped-def]
        lanes.append((endpoint, rate_limit_args))
        return await process(callback, args, kwargs, endpoint, data, rate_limit_args)

    monkeypatch.setattr(limiter, "process_request", recorded)
    bot_env.sandbox.state.inject("beike", Fault("timeout", delay=1.0))
    user = bot_env.user(9302)
    [placeholder] = await bot_env.say(user, BEIKE_LINK)
    assert placeholder.visible == t("en", "still_fetching", platform="Beike")
    await bot_env.emulator.wait_for(lambda: placeholder.edits, timeout=10)
    assert "双裕花园西区" in placeholder.visible
    sends = [lane for endpoint, lane in lanes if endpoint == "sendMessage"]
    edits = [lane for endpoint, lane in lanes if endpoint == "editMessageText"]
    assert sends and all(lane != Lane.BACKGROUND for lane in sends)
    assert edits == [Lane.BACKGROUND]


# -- a locked database ----------------------------------------------------------------------

XIANYU_NEW = "https://www.goofish.com/item?id=712345678901"  # never fetched before the lock
XIANYU_WATCHED = "https://www.goofish.com/item?id=767890123456"
XIANYU_OTHER = "https://www.goofish.com/item?id=778901234567"


def entered(monkeypatch: pytest.MonkeyPatch, store: object, method: str) -> asyncio.Event:
    """An event set when `store.method` is called (the call itself is unchanged)."""
    event = asyncio.Event()
    original = getattr(store, method)

    async def spy(*args: object, **kwargs: object) -> object:
        event.set()
        return await original(*args, **kwargs)

    monkeypatch.setattr(store, method, spy)
    return event


def file_rows(env: BotEnv, sql: str, *args: object) -> list[tuple[object, ...]]:
    """What is on disk, read by a connection of the test's own."""
    conn = sqlite3.connect(env.settings.database_path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


async def xianyu_quota_on_disk(services: Services, day: str) -> int | None:
    """Xianyu's count for `day` in the file, once every write queued before has landed."""
    rows = await services.database.run(
        lambda db: db.execute(
            "SELECT used FROM quota_usage WHERE platform = 'xianyu' AND day = ?", [day]
        ).fetchall()
    )
    return int(rows[0][0]) if rows else None


@pytest.fixture
async def patient_bot_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BotEnv]:
    """A busy timeout far longer than any test step: the writes that need the lock wait for
    it and land, however slow the machine (the lock is always given back within the test)."""
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 60_000)
    async for env in start_bot_env(tmp_path):
        yield env


@pytest.fixture
async def impatient_bot_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[BotEnv]:
    """A busy timeout of 0.2 s: a write that needs the lock gives up within the test."""
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 200)
    async for env in start_bot_env(tmp_path):
        yield env


async def test_a_cached_card_arrives_while_another_process_holds_the_write_lock(
    patient_bot_env: BotEnv,
) -> None:
    env = patient_bot_env
    await env.say(env.user(9401), XIANYU_LINK)  # now in the cache
    async with write_lock_held_elsewhere(env.settings.database_path) as holder:
        newcomer = env.user(9402, "zh-hans")  # first contact: the user row is queued
        [again] = await env.say(newcomer, XIANYU_LINK)
        assert again.buttons and "闲鱼" in again.visible
        assert holder.returncode is None  # the card came while the lock was still held
    # the write waited for the lock and then landed
    assert await env.services.database.run(
        lambda db: db.execute("SELECT language FROM users WHERE user_id = 9402").fetchall()
    ) == [("zh",)]


async def test_chat_polling_and_quotes_go_on_while_another_process_holds_the_write_lock(
    patient_bot_env: BotEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, s = patient_bot_env, patient_bot_env.services
    watcher, quoter, carder, late = (env.user(n, "en") for n in (9411, 9412, 9413, 9414))
    [started] = await env.say(watcher, f"/watch {XIANYU_WATCHED}")
    assert "Watching" in started.visible
    [question] = await env.say(quoter, "/quote iPhone 14 Pro")
    env.catalogue("xianyu").set_price("767890123456", Decimal("1"))  # the poller will see a drop
    day = china_day(env.clock)
    checking = entered(monkeypatch, s.watches, "record_check")
    watching = entered(monkeypatch, s.watches, "add")

    async with write_lock_held_elsewhere(env.settings.database_path) as holder:
        # an uncached card: an upstream call, its quota and budget counted in memory
        calls = s.gateway.quota_store.usage("xianyu", day).used
        [card] = await env.say(carder, XIANYU_NEW)
        assert card.buttons and "Xianyu" in card.visible
        assert s.gateway.quota_store.usage("xianyu", day).used == calls + 1
        # /watches reads on the reader thread
        [listed] = await env.say(watcher, "/watches")
        assert "1." in listed.visible and "Switch" in listed.visible
        # a step of the quote conversation
        [condition] = await press(env, quoter, question, data_of(question, "256GB"))
        assert "What condition" in condition.visible
        # the poller's write waits for the lock; the loop does not
        poll = asyncio.create_task(run_poll_cycle(s, env.application.bot))
        await asyncio.wait_for(checking.wait(), 10)
        [meanwhile] = await env.say(carder, XIANYU_LINK)
        assert meanwhile.buttons and not poll.done()
        # a watch must be on disk before the user hears "watching": it waits for the lock
        before = len(env.messages(late.id))
        await env.emulator.send_text(late, None, f"/watch {XIANYU_NEW}")
        await asyncio.wait_for(watching.wait(), 10)
        assert len(env.messages(late.id)) == before and holder.returncode is None
        await release(holder)

    [watching] = (await env.emulator.wait_for_messages(late.id, before + 1, timeout=10))[before:]
    assert "Watching" in watching.visible
    report = await asyncio.wait_for(poll, 10)
    assert report.alerts_created == 1
    [alert] = (await env.emulator.wait_for_messages(watcher.id, 3, timeout=10))[2:]
    assert "¥1" in alert.visible
    # the queued writes landed: the watch, the quota count, the conversation state
    assert file_rows(env, "SELECT COUNT(*) FROM watches WHERE user_id = ?", late.id) == [(1,)]
    assert await xianyu_quota_on_disk(s, day) == s.gateway.quota_store.usage("xianyu", day).used
    await env.application.update_persistence()
    assert file_rows(env, "SELECT COUNT(*) FROM conversations WHERE user_id = ?", quoter.id) == [
        (1,)
    ]


async def test_a_write_the_lock_outlasts_is_refused_politely_and_nothing_is_lost(
    impatient_bot_env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    env, s = impatient_bot_env, impatient_bot_env.services
    watcher, carder = env.user(9421, "zh-hans"), env.user(9422, "en")
    await env.say(watcher, f"/watch {XIANYU_WATCHED}")
    env.catalogue("xianyu").set_price("767890123456", Decimal("1"))
    day = china_day(env.clock)
    async with write_lock_held_elsewhere(env.settings.database_path):
        # the watch cannot be saved: the user is told so, and nothing is half-made
        [busy] = await env.say(watcher, f"/watch {XIANYU_NEW}")
        assert busy.visible == t("zh", "error_storage_busy")
        # the card needs no lock: its counts wait in memory (their write fails, kept marked)
        [card] = await env.say(carder, XIANYU_OTHER)
        assert card.buttons
        await s.database.run(lambda db: None)  # the writes queued before it have run
        # a flush the lock outlasted is expected: a warning, no error with a traceback
        assert any("database busy" in r.getMessage() for r in caplog.records)
        assert not [r for r in caplog.records if r.name == "storage.database" and r.exc_info]
        # the poller's round records nothing; the listing stays due
        report = await run_poll_cycle(s, env.application.bot)
        assert report.alerts_created == 0 and report.errors == 1
    assert file_rows(env, "SELECT COUNT(*) FROM watches WHERE user_id = ?", watcher.id) == [(1,)]
    # after the lock: the next round finds the drop, and the alert goes out
    report = await run_poll_cycle(s, env.application.bot)
    assert report.alerts_created == 1
    assert any("¥1" in m.visible for m in env.messages(watcher.id))
    # the counts the failed writes missed are written with the next change, never lost:
    # the carder's budget too, though only someone else's lookup changes anything now
    await env.say(env.user(9423, "en"), XIANYU_LINK)
    assert await xianyu_quota_on_disk(s, day) == s.gateway.quota_store.usage("xianyu", day).used
    assert s.gateway.budgets is not None
    spent = s.gateway.budgets.ledger.used(carder.id, "xianyu", day)
    assert spent == 1
    assert file_rows(
        env, "SELECT used FROM user_budget_usage WHERE user_id = ? AND day = ?", carder.id, day
    ) == [(spent,)]
    [watching] = await env.say(watcher, f"/watch {XIANYU_NEW}")  # and it can be saved now
    assert "已关注" in watching.visible


async def test_forget_during_the_lock_leaves_no_row_that_a_queued_write_made(
    patient_bot_env: BotEnv,
) -> None:
    env = patient_bot_env
    user = env.user(9431, "zh-hans")
    async with write_lock_held_elsewhere(env.settings.database_path) as holder:
        await env.say(user, XIANYU_NEW)  # first contact: the user row is queued behind the lock
        [question] = await env.say(user, "/forget")  # the question only reads
        yes = next(b["callback_data"] for b in question.buttons if b["callback_data"][:3] == "fy|")
        before = len(env.messages(user.id))
        await env.press(user, question, yes)
        assert len(env.messages(user.id)) == before and holder.returncode is None
        await release(holder)
    [done] = (await env.emulator.wait_for_messages(user.id, before + 1, timeout=10))[before:]
    assert "0" in done.visible
    # the queued write landed first, the delete after it: nothing of the user is left
    assert file_rows(env, "SELECT COUNT(*) FROM users WHERE user_id = ?", user.id) == [(0,)]
    assert await env.services.users.get(user.id) is None


async def test_an_alert_sent_while_its_mark_cannot_be_written_is_never_sent_twice(
    impatient_bot_env: BotEnv,
) -> None:
    env, s = impatient_bot_env, impatient_bot_env.services
    watcher = env.user(9441, "en")
    await env.say(watcher, f"/watch {XIANYU_WATCHED}")
    env.catalogue("xianyu").set_price("767890123456", Decimal("1"))
    assert (await run_poll_cycle(s, None)).alerts_created == 1  # recorded, not sent yet
    before = len(env.messages(watcher.id))
    async with write_lock_held_elsewhere(env.settings.database_path):
        report = await send_pending_alerts(s, env.application.bot)
        assert report.sent == 1
        [alert] = env.messages(watcher.id)[before:]
        assert "¥1" in alert.visible
        report = await send_pending_alerts(s, env.application.bot)  # still locked
        assert report.sent == 0
    report = await send_pending_alerts(s, env.application.bot)
    assert report.sent == 0 and len(env.messages(watcher.id)) == before + 1
    assert file_rows(env, "SELECT sent_at IS NOT NULL FROM alerts") == [(1,)]
