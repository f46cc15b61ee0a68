"""Cost follows change (issue 19): a poll round where nothing changed decides and writes
nothing per watch, planning reads indexes, and old alerts and history go.

Real HTTP to the sandbox platforms on 127.0.0.1, the fake clock, the real database file.
"""

from __future__ import annotations

import random
import threading
from decimal import Decimal as D
from pathlib import Path

import pytest

import storage.watches as watches_module
import watching.poller as poller_module
from handlers.alerts import run_poll_cycle
from storage.alerts import ALERT_RETENTION_SECONDS
from storage.database import Database, StorageBusy
from tests.alert_helpers import AlertEnv, alert_env
from tests.test_alert_storage import make_listing, watch

ITEM = "712345678901"  # Xianyu iPhone
OTHER = "6987654321098"  # Xianyu Huawei


class Counted:
    """Counts the rule decisions the poller makes (`watching.poller.decide`)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = poller_module.decide

        def decide(sub, seen):  # type: ignore[no-untyped-def]
            self.calls += 1
            return real(sub, seen)

        monkeypatch.setattr(poller_module, "decide", decide)


def writer_statements(database: Database) -> list[str]:
    """Every statement the writer connection runs from now on (expanded SQL)."""
    seen: list[str] = []
    database._writer_db.conn.set_trace_callback(seen.append)
    return seen


async def next_cycle(env: AlertEnv):  # type: ignore[no-untyped-def]
    # a watch made at the very instant of a check is decided again at the next one
    # (`updated_at >= decided_at`: an extra decision, never a missed one)
    env.clock.advance(300)
    return await run_poll_cycle(env.services, env.bot)


async def test_a_poll_where_nothing_changed_decides_and_writes_nothing_per_watch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    decisions = Counted(monkeypatch)
    async with alert_env(tmp_path) as env:
        env.set_price("xianyu", ITEM, "5000")  # set prices stop the sandbox's drift
        env.set_price("xianyu", OTHER, "3000")
        for user in range(1, 41):
            await env.watch(user, "xianyu", ITEM)
        await env.watch(1, "xianyu", OTHER)
        first = await next_cycle(env)
        assert first.checks == 2 and decisions.calls == 41 == first.decisions
        database = env.services.database
        statements = writer_statements(database)
        changes = database._writer_db.conn.total_changes
        report = await next_cycle(env)  # the same prices and statuses as last time
        assert report.checks == 2 and report.alerts_created == 0
        assert decisions.calls == 41 and report.decisions == 0  # none more
        assert not [s for s in statements if "UPDATE watches" in s]
        assert not [s for s in statements if "INSERT INTO watches" in s]
        # rows written: per listing its snapshot, its history row and what it was decided
        # on, and the day's quota count; nowhere near one per watch (41)
        assert database._writer_db.conn.total_changes - changes < 12
        env.set_price("xianyu", ITEM, "4000")  # a change decides that listing's watchers
        report = await next_cycle(env)
        assert report.alerts_created == 40 and report.decisions == 40  # OTHER's one: not


async def test_a_watch_made_between_two_equal_checks_is_still_decided(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        env.set_price("xianyu", ITEM, "5000")
        await env.watch(1, "xianyu", ITEM)
        await next_cycle(env)
        # a target already met when watched alerts at the first check, unchanged listing or not
        await env.watch(2, "xianyu", ITEM, rule="5200")
        report = await next_cycle(env)
        assert report.decisions == 1 and report.alerts_created == 1
        assert [s.chat_id for s in env.bot.sent] == [2]
        # a rule changed by watching again is a new watch for this purpose too
        await env.watch(1, "xianyu", ITEM, rule="5100")
        report = await next_cycle(env)
        assert report.alerts_created == 1 and [s.chat_id for s in env.bot.sent] == [2, 1]
        report = await next_cycle(env)
        assert report.decisions == 0 and report.alerts_created == 0


async def test_a_drop_seen_first_by_someone_elses_watch_still_alerts_the_old_watchers(
    tmp_path: Path,
) -> None:
    """/watch fetches the listing and moves its snapshot: "unchanged" is measured against
    what the watches were last decided on, never against the snapshot."""
    async with alert_env(tmp_path) as env:
        env.set_price("xianyu", ITEM, "5000")
        await env.watch(1, "xianyu", ITEM)
        await next_cycle(env)
        env.set_price("xianyu", ITEM, "4500")
        env.clock.advance(301)  # past the cached answer: /watch fetches the new price
        await env.watch(2, "xianyu", ITEM)  # the snapshot is 4500 before the poller sees it
        listing = await env.services.watches.listing(f"xianyu:{ITEM}")
        assert listing is not None and listing.price == D("4500")
        report = await next_cycle(env)
        assert report.alerts_created == 1 and [s.chat_id for s in env.bot.sent] == [1]


async def test_a_blocked_chat_that_comes_back_is_decided_on_what_it_missed(
    tmp_path: Path,
) -> None:
    async with alert_env(tmp_path) as env:
        env.set_price("xianyu", ITEM, "5000")
        await env.watch(1, "xianyu", ITEM)
        await env.watch(2, "xianyu", ITEM)
        await next_cycle(env)
        await env.services.watches.pause_chat(2, "blocked")
        env.set_price("xianyu", ITEM, "4500")
        report = await next_cycle(env)
        assert report.alerts_created == 1  # user 1 only
        await env.services.watches.resume_chat(2)
        report = await next_cycle(env)  # 4500 again, but user 2 never heard of it
        assert report.decisions == 1 and report.alerts_created == 1
        assert [s.chat_id for s in env.bot.sent] == [1, 2]


async def next_cycle_without_delivery(env: AlertEnv):  # type: ignore[no-untyped-def]
    env.clock.advance(300)
    return await run_poll_cycle(env.services, env.bot, deliver=False)


# -- planning reads indexes ---------------------------------------------------------------


def query_plan(database: Database, sql: str) -> list[str]:
    return [r[3] for r in database.db.execute("EXPLAIN QUERY PLAN " + sql).fetchall()]


async def test_planning_and_deciding_read_indexes_never_the_big_tables(tmp_path: Path) -> None:
    async with alert_env(tmp_path) as env:
        env.set_price("xianyu", ITEM, "5000")
        for user in (1, 2):
            await env.watch(user, "xianyu", ITEM)
        await run_poll_cycle(env.services, env.bot)
        database = env.services.database
        reads: list[str] = []
        database._reader_db.conn.set_trace_callback(reads.append)
        writes = writer_statements(database)
        await next_cycle(env)
        await env.services.watching.alerts.prune(env.clock.time())
        database._reader_db.conn.set_trace_callback(None)
        database._writer_db.conn.set_trace_callback(None)
        planning = [s for s in reads if "FROM watched_listings" in s]
        deciding = [s for s in writes if s.startswith("SELECT") and "FROM watches" in s]
        pruning = [s for s in writes if s.startswith("DELETE FROM alerts")]
        assert len(planning) == 2 and deciding and pruning
        plans = {sql: query_plan(database, sql) for sql in planning + deciding + pruning}
        for sql, plan in plans.items():
            text = " | ".join(plan)
            assert "USING" in text and "INDEX" in text, (sql, plan)
            for table in ("watches", "watched_listings", "alerts", "price_history"):
                # a SCAN is allowed only over an index that holds every column it needs
                assert f"SCAN {table} " not in text + " " or "COVERING INDEX" in text, (sql, plan)
            assert "TEMP B-TREE" not in text, (sql, plan)  # no sort of every row
        assert any("watched_listings_stalest" in " ".join(p) for p in plans.values())
        assert any("watches_changed" in " ".join(p) for p in plans.values())
        assert any("alerts_finished" in " ".join(p) for p in plans.values())


async def test_planning_builds_the_listings_to_check_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 3,000 rows made into objects on the event loop held it 8-12 ms a cycle (issue 19.3)
    built_on: list[str] = []
    real = watches_module._listing

    def listing(row):  # type: ignore[no-untyped-def]
        built_on.append(threading.current_thread().name)
        return real(row)

    monkeypatch.setattr(watches_module, "_listing", listing)
    async with alert_env(tmp_path) as env:
        await env.watch(1, "xianyu", ITEM)
        built_on.clear()
        planned = await env.services.watching.watches.stalest("xianyu", 10)
    assert [p.ref_key for p in planned] == [f"xianyu:{ITEM}"]
    assert built_on and threading.current_thread().name not in built_on, built_on


async def test_the_watcher_counts_follow_every_way_a_watch_comes_and_goes(
    tmp_path: Path,
) -> None:
    """`watched` (kept by triggers) is 1 exactly while the listing has an active watch."""
    from storage.watches import WatchStore

    database = Database(tmp_path / "bot.sqlite3")
    subs = WatchStore(database)
    rng = random.Random(19)
    listings = [make_listing(f"71234567890{n}") for n in range(4)]
    try:
        for _ in range(300):
            user = rng.randrange(1, 8)
            action = rng.random()
            if action < 0.5:
                await watch(subs, user, rng.choice(listings), limit=100)
            elif action < 0.65:
                entries = await subs.for_user(user)
                if entries:
                    await subs.unwatch(rng.choice(entries).watch.id, user)
            elif action < 0.75:
                await subs.pause_chat(user, "blocked")
            elif action < 0.85:
                await subs.resume_chat(user)
            elif action < 0.9:
                await subs.delete_user(user)
            else:
                await subs.move_chat(user, user)  # a no-op move touches no count
            kept = database.db.execute(
                "SELECT ref_key, watched FROM watched_listings ORDER BY ref_key"
            ).fetchall()
            truth = database.db.execute(
                "SELECT l.ref_key, EXISTS (SELECT 1 FROM watches s WHERE "
                "s.ref_key = l.ref_key AND s.paused_reason IS NULL) FROM watched_listings l "
                "ORDER BY l.ref_key"
            ).fetchall()
            assert kept == truth
        counts = await subs.watched_counts()
        active = sum(1 for _, n in truth if n > 0)
        assert counts == ({"xianyu": active} if active else {})
    finally:
        database.close()


# -- retention ------------------------------------------------------------------------------


async def test_alerts_sent_or_given_up_long_ago_are_deleted_pending_ones_never(
    tmp_path: Path,
) -> None:
    async with alert_env(tmp_path) as env:
        await env.watched_drop(ITEM, "5000", "4500")
        await run_poll_cycle(env.services, env.bot, deliver=False)
        alerts = env.services.watching.alerts
        pending = await alerts.pending()
        await alerts.mark_sent(pending[0].id)
        await alerts.mark_failed(pending[1].id, "refused")  # the third stays pending
        env.clock.advance(ALERT_RETENTION_SECONDS - 600)
        report = await run_poll_cycle(env.services, env.bot, deliver=False)
        assert report.alerts_pruned == 0  # 30 days are not up yet
        env.clock.advance(1200)
        report = await run_poll_cycle(env.services, env.bot, deliver=False)
        assert report.alerts_pruned == 2
        left = await alerts.pending()
        assert [a.id for a in left] == [pending[2].id]
        counts = await alerts.counts()
        assert (counts.sent, counts.failed, counts.pending) == (0, 0, 1)
        # the deleted alerts' changes are never recorded again: the bases moved past them
        report = await next_cycle(env)
        assert report.alerts_created == 0 and report.duplicates == 0


async def test_history_keeps_what_the_chart_draws_and_deletes_older_stretches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watches_module, "HISTORY_KEPT", 5)
    async with alert_env(tmp_path) as env:
        await env.watch(1, "xianyu", ITEM)
        subs = env.services.watches
        ref_key = f"xianyu:{ITEM}"
        prices = [str(5000 - 10 * n) for n in range(9)]
        for price in prices:
            env.set_price("xianyu", ITEM, price)
            await next_cycle(env)
        for _ in range(3):  # unchanged checks extend the last stretch, they add no row
            await next_cycle(env)
        points = await subs.history(ref_key)  # what the 📈 chart is drawn from
        assert [p.price for p in points] == [D(p) for p in prices[-5:]]
        assert points[-1].observations == 4
        (rows,) = env.services.database.db.execute(
            "SELECT COUNT(*) FROM price_history WHERE ref_key = ?", [ref_key]
        ).fetchone()
        assert rows == 5
        listing = await subs.listing(ref_key)
        assert listing is not None and listing.lowest_price == D(prices[-1])


# -- delivery's marks go together -------------------------------------------------------------


async def test_marks_asked_for_together_are_written_in_one_trip(tmp_path: Path) -> None:
    import asyncio

    async with alert_env(tmp_path) as env:
        env.set_price("xianyu", ITEM, "5000")
        for user in range(1, 31):
            await env.watch(user, "xianyu", ITEM)
        env.set_price("xianyu", ITEM, "4500")
        await next_cycle_without_delivery(env)
        alerts = env.services.watching.alerts
        ids = [a.id for a in await alerts.pending()]
        assert len(ids) == 30
        assert await alerts.mark_sent(ids[0])  # alone: one write of its own
        statements = writer_statements(env.services.database)
        results = await asyncio.gather(*(alerts.mark_sent(i) for i in ids))
        env.services.database._writer_db.conn.set_trace_callback(None)
        assert results == [False] + [True] * 29  # the first was sent already
        updates = [s for s in statements if s.startswith("UPDATE alerts SET sent_at")]
        assert len(updates) == 1
        counts = await alerts.counts()
        assert (counts.sent, counts.pending) == (30, 0)


async def test_a_mark_the_locked_file_refuses_fails_every_waiter_and_marks_nothing(
    tmp_path: Path,
) -> None:
    import asyncio
    import sqlite3

    async with alert_env(tmp_path) as env:
        await env.watched_drop(ITEM, "5000", "4500")
        await next_cycle_without_delivery(env)
        alerts = env.services.watching.alerts
        ids = [a.id for a in await alerts.pending()]
        env.services.database.busy_timeout = 0.05
        holder = sqlite3.connect(env.database_path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            results = await asyncio.gather(
                *(alerts.mark_sent(i) for i in ids), return_exceptions=True
            )
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert all(isinstance(r, StorageBusy) for r in results)
        assert len(await alerts.pending()) == 3  # none marked: they stay to be sent
        assert await alerts.mark_sent(ids[0])  # and the next mark works


def test_migration_12_flags_the_listings_watched_in_an_existing_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.database as database_module

    path = tmp_path / "bot.sqlite3"
    with monkeypatch.context() as patch:
        patch.setattr(database_module, "MIGRATIONS", database_module.MIGRATIONS[:11])
        old = Database(path)
    for key in ("xianyu:1", "xianyu:2", "xianyu:3"):
        old.db.execute(
            "INSERT INTO watched_listings (ref_key, platform, listing_id, title, url, "
            "price_unit, status, first_seen_at) VALUES (?, 'xianyu', ?, 't', 'u', 'yuan', "
            "'on_sale', 0)",
            [key, key[-1]],
        )
    for user, key, paused in (
        (1, "xianyu:1", None),
        (2, "xianyu:1", "blocked"),
        (1, "xianyu:2", "blocked"),
    ):
        old.db.execute(  # the table's name before migration 13
            "INSERT INTO subscriptions (user_id, chat_id, ref_key, rule, base_status, "
            "paused_reason, created_at, updated_at) VALUES (?, ?, ?, 'any_drop', 'on_sale', ?, 0, 0)",
            [user, user, key, paused],
        )
    old.close()
    new = Database(path)
    try:
        assert new.schema_version >= 12
        flags = new.db.execute(
            "SELECT ref_key, watched FROM watched_listings ORDER BY ref_key"
        ).fetchall()
        # an active watch; only a paused one; none
        assert flags == [("xianyu:1", 1), ("xianyu:2", 0), ("xianyu:3", 0)]
    finally:
        new.close()


def test_migration_13_names_the_watches_table_its_indexes_and_triggers_in_one_word(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file from before migration 13 keeps every watch and alert, and no table, column,
    index or trigger is named "subscription" any more (a comment SQLite keeps in a table's
    text is left); the triggers still keep the watched flag."""
    import storage.database as database_module

    path = tmp_path / "bot.sqlite3"
    with monkeypatch.context() as patch:
        patch.setattr(database_module, "MIGRATIONS", database_module.MIGRATIONS[:12])
        old = Database(path)
    old.db.execute(
        "INSERT INTO watched_listings (ref_key, platform, listing_id, title, url, "
        "price_unit, status, first_seen_at) VALUES ('xianyu:1', 'xianyu', '1', 't', 'u', "
        "'yuan', 'on_sale', 0)"
    )
    old.db.execute(
        "INSERT INTO subscriptions (id, user_id, chat_id, ref_key, rule, base_status, "
        "created_at, updated_at) VALUES (7, 1, 1, 'xianyu:1', 'any_drop', 'on_sale', 0, 0)"
    )
    old.db.execute(
        "INSERT INTO alerts (alert_key, subscription_id, user_id, chat_id, ref_key, changes, "
        "status, created_at) VALUES ('k', 7, 1, 1, 'xianyu:1', 'sold', 'sold', 0)"
    )
    old.close()
    new = Database(path)
    try:
        names = [name for (name,) in new.db.execute("SELECT name FROM sqlite_master")]
        assert names and not [n for n in names if "subscription" in n]
        columns = [c.name for c in new.db["alerts"].columns] + [
            c.name for c in new.db["watches"].columns
        ]
        assert "watch_id" in columns and not [c for c in columns if "subscription" in c]
        assert new.db.execute("SELECT COUNT(*) FROM watches").fetchone() == (1,)
        assert new.db.execute("SELECT watch_id FROM alerts").fetchone() == (7,)
        new.db.execute("DELETE FROM watches WHERE id = 7")  # the trigger clears the flag
        assert new.db.execute("SELECT watched FROM watched_listings").fetchone() == (0,)
        assert new.db.execute("SELECT COUNT(*) FROM alerts").fetchone() == (0,)  # cascades
    finally:
        new.close()
