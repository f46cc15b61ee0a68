"""Short writes run inline on the event loop when the writer thread is idle (issue 19
point 3), and go to the writer thread when it is busy or another process holds the
write lock; order, rollback and the WAL's size are as with the thread alone."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from clock import FakeClock
from sandbox.lock_holder import release, write_lock_held_elsewhere
from storage import database as database_module
from storage.database import Database, StorageBusy, transaction
from storage.users import UserStore


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(tmp_path / "bot.sqlite3", FakeClock())
    db.db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
    yield db
    db.close()


class Hops:
    """Counts the jobs handed to the writer thread."""

    def __init__(self, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        self.jobs = 0
        real = database._writer.submit

        def submit(*args: Any, **kwargs: Any) -> Any:
            self.jobs += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(database._writer, "submit", submit)


def note(text: str) -> Any:
    def work(db: sqlite_utils.Database) -> str:
        db.execute("INSERT INTO notes (text) VALUES (?)", [text])
        return threading.current_thread().name

    return work


def wal_size(database: Database) -> int:
    return Path(f"{database.path}-wal").stat().st_size


def notes(database: Database) -> list[str]:
    return [row[0] for row in database.db.execute("SELECT text FROM notes ORDER BY id")]


async def test_a_short_write_runs_inline_when_the_writer_is_idle(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    hops = Hops(database, monkeypatch)
    ran_on = await database.run(note("a"), inline=True)
    assert ran_on == threading.current_thread().name  # the loop's own thread
    assert hops.jobs == 0 and database.inline_runs == 1
    assert notes(database) == ["a"]  # committed: another connection sees it
    # without the opt-in, the writer thread as before
    assert (await database.run(note("b"))).startswith("sqlite-write")
    assert hops.jobs == 1


async def test_a_write_flushed_behind_runs_inline_when_the_writer_is_idle(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    hops = Hops(database, monkeypatch)
    written = UserStore(database).touch(1, "zh")
    assert written is not None and written.done() and hops.jobs == 0
    assert database.db.execute("SELECT language FROM users").fetchall() == [("zh",)]


async def test_a_write_queued_behind_a_busy_writer_waits_its_turn(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    hops = Hops(database, monkeypatch)
    go = threading.Event()

    def slow(db: sqlite_utils.Database) -> None:
        go.wait(10)
        db.execute("INSERT INTO notes (text) VALUES ('first')")

    database.submit(slow)  # nobody waits for it; it runs on the writer thread
    later = asyncio.ensure_future(database.run(note("second"), inline=True))
    await asyncio.sleep(0)  # the write starts: the writer is busy, so it queues
    assert not later.done() and hops.jobs == 2 and database.inline_runs == 0
    go.set()
    assert (await later).startswith("sqlite-write")
    assert notes(database) == ["first", "second"]  # after every write queued before it


async def test_a_write_locked_by_another_process_lands_after_the_lock_without_freezing_the_loop(
    database: Database,
) -> None:
    async with write_lock_held_elsewhere(database.path) as holder:
        started = time.monotonic()
        write = asyncio.ensure_future(database.run(note("a"), inline=True))
        await asyncio.sleep(0)  # the inline try is refused at once and queued
        held = time.monotonic() - started
        assert not write.done() and database.inline_runs == 0
        assert held < 1.0, f"the loop was held {held:.2f} s"  # the busy timeout is 5 s
        await release(holder)
        assert (await write).startswith("sqlite-write")
    assert notes(database) == ["a"]
    # the writer is idle again: the next one is inline
    await database.run(note("b"), inline=True)
    assert database.inline_runs == 1 and notes(database) == ["a", "b"]


async def test_a_write_the_lock_outlasts_is_storage_busy_and_writes_nothing(
    tmp_path: Path,
) -> None:
    database = Database(tmp_path / "bot.sqlite3", FakeClock(), busy_timeout=0.3)
    database.db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
    try:
        async with write_lock_held_elsewhere(database.path):
            with pytest.raises(StorageBusy):
                await database.run(note("a"), inline=True)
        assert database.last_busy_wait is not None and database.last_busy_wait >= 0.25
        assert notes(database) == []
    finally:
        database.close()


async def test_an_inline_work_that_raises_leaves_nothing_written(database: Database) -> None:
    def fails(db: sqlite_utils.Database) -> None:
        db.execute("INSERT INTO notes (text) VALUES ('outer')")
        with transaction(db):  # a SAVEPOINT inside the inline run's transaction
            db.execute("INSERT INTO notes (text) VALUES ('inner')")
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        await database.run(fails, inline=True)
    assert notes(database) == [] and not database._writer_db.conn.in_transaction

    def nested_fails(db: sqlite_utils.Database) -> None:
        with transaction(db):
            db.execute("INSERT INTO notes (text) VALUES ('inner')")
            raise KeyError("inner")

    with pytest.raises(KeyError):
        await database.run(nested_fails, inline=True)
    assert notes(database) == []

    # a nested transaction that raised is undone alone when the work goes on
    def recovers(db: sqlite_utils.Database) -> None:
        try:
            nested_fails(db)
        except KeyError:
            pass
        db.execute("INSERT INTO notes (text) VALUES ('after')")

    runs: list[str] = []

    def recovers_logged(db: sqlite_utils.Database) -> None:
        runs.append(threading.current_thread().name)
        recovers(db)

    # inline it would be one transaction: the run is undone and made on the writer
    # thread, where the nested transaction is one of its own, as it always was
    await database.run(recovers_logged, inline=True)
    assert database.inline_runs == 0 and len(runs) == 2 and runs[1].startswith("sqlite-write")
    assert notes(database) == ["after"]


async def test_an_inline_work_past_the_step_limit_is_undone_and_run_on_the_writer_thread(
    database: Database,
) -> None:
    runs: list[str] = []

    def long(db: sqlite_utils.Database) -> int:
        runs.append(threading.current_thread().name)
        db.execute("INSERT INTO notes (text) VALUES ('long')")
        # far past the step limit: a million rows counted
        (n,) = db.execute(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) "
            "SELECT COUNT(*) FROM c"
        ).fetchone()
        return int(n)

    started = time.thread_time()
    assert await database.run(long, inline=True) == 1_000_000
    assert time.thread_time() - started < 0.1  # the loop's thread gave up early
    assert runs[0] == threading.current_thread().name and runs[1].startswith("sqlite-write")
    assert len(runs) == 2 and notes(database) == ["long"]  # the first try left nothing


async def test_inline_writes_leave_checkpoints_to_their_own_thread_and_the_wal_bounded(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_module, "CHECKPOINT_EVERY", 20)
    checkpoints: list[str] = []

    def traced(sql: str) -> None:
        if "checkpoint" in sql:
            checkpoints.append(threading.current_thread().name)

    database._writer_db.conn.set_trace_callback(traced)
    database._checkpoint_db.conn.set_trace_callback(traced)
    blob = "x" * 8000  # two pages and more per write

    async def writes(n: int) -> int:
        for _ in range(n):
            await database.run(note(blob), inline=True)
        # a checkpoint queued meanwhile has run (a loop that only writes, one write after
        # another, holds the GIL between statements: the thread may lag a few ms)
        await asyncio.wrap_future(database._checkpointer.submit(lambda: None))
        return wal_size(database)

    sizes = [await writes(100) for _ in range(10)]
    # without checkpoints 16 KB a write, 1.6 MB a round: 16 MB at the end
    assert max(sizes) < 4_000_000 and sizes[-1] <= max(sizes[:3]), sizes
    assert database.inline_runs > 900 and database.checkpoints >= 10
    # on a thread of their own: not the loop, and no write waits behind one
    assert checkpoints and all(name.startswith("sqlite-checkpoint") for name in checkpoints)
    # no connection checkpoints on its own: the writer's automatic checkpoints are off
    (pages,) = database._writer_db.execute("PRAGMA wal_autocheckpoint").fetchone()
    assert pages == 0
    assert len(notes(database)) == 1000


async def test_a_bulk_write_is_checkpointed_right_after(
    database: Database,
) -> None:
    def bulk(db: sqlite_utils.Database) -> None:
        with transaction(db):
            db.conn.executemany(
                "INSERT INTO notes (text) VALUES (?)", [(f"n{i}",) for i in range(6000)]
            )

    await database.run(bulk)  # one commit, 6,000 rows: past CHECKPOINT_ROWS
    await asyncio.wrap_future(database._checkpointer.submit(lambda: None))
    assert database.checkpoints == 1  # by commits alone, after 199 more


async def test_an_in_memory_database_writes_inline_and_reads_behind_the_writer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    database = Database(":memory:", FakeClock())
    database.db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
    try:
        await database.run(note("a"), inline=True)
        assert database.inline_runs == 1
        rows = await database.fetchall("SELECT text FROM notes")
        assert rows == [("a",)]
    finally:
        database.close()


def test_storage_errors_of_an_inline_write_are_ours(database: Database) -> None:
    # a statement SQLite refuses (a constraint) is the caller's error, rolled back
    def bad(db: sqlite_utils.Database) -> None:
        db.execute("INSERT INTO notes (text) VALUES ('ok')")
        db.execute("INSERT INTO notes (text) VALUES (NULL)")

    with pytest.raises(sqlite3.IntegrityError):
        asyncio.run(database.run(bad, inline=True))
    assert notes(database) == []
