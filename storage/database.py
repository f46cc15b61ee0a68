"""The SQLite file: opened once, WAL mode, migrated on start by numbered steps.

Every SQL statement of the project lives under `storage/`; the rest of the code
gets plain dataclasses back. A person can open the file with `sqlite3` or
Datasette and read every table.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import sqlite_utils

from clients.clock import Clock, SystemClock

log = logging.getLogger(__name__)

Migration = Callable[[sqlite_utils.Database], None]
T = TypeVar("T")


def _m001_quota(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS quota_usage (
            platform TEXT NOT NULL,
            day TEXT NOT NULL,            -- platform day, UTC+8, YYYY-MM-DD
            used INTEGER NOT NULL DEFAULT 0,
            exhausted INTEGER NOT NULL DEFAULT 0,  -- the platform itself said 'quota used up'
            PRIMARY KEY (platform, day)
        )
        """
    )


def _m002_users(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS users (
            user_id INTEGER PRIMARY KEY,   -- Telegram user id
            language TEXT,                 -- 'zh' or 'en', from Telegram's language_code
            default_city TEXT,             -- Beike cityId last chosen, offered first next time
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )
        """
    )


def _m003_price_alerts(db: sqlite_utils.Database) -> None:
    # Prices are decimal strings ("5299.00", "350.5"): exact, and readable in any viewer.
    # Times are Unix seconds (REAL), like the tables above.
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS watched_listings (
            ref_key TEXT PRIMARY KEY,      -- platform:listing_id, Beike platform:city:code
            platform TEXT NOT NULL,
            listing_id TEXT NOT NULL,
            city_id TEXT,
            title TEXT NOT NULL,
            url TEXT NOT NULL,
            price_unit TEXT NOT NULL,      -- wan_yuan / yuan_per_month / yuan
            price TEXT,                    -- latest price seen
            status TEXT NOT NULL,          -- on_sale / sold / rented / taken_down
            lowest_price TEXT,             -- lowest on-sale price ever seen
            first_seen_at REAL NOT NULL,
            last_checked_at REAL,          -- last alert check, whatever its outcome
            last_seen_at REAL,             -- last check that got an answer
            last_error TEXT,               -- error kind of the last check, NULL when it worked
            errors INTEGER NOT NULL DEFAULT 0  -- failed checks in a row
        )
        """
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS watched_listings_due "
        "ON watched_listings (platform, last_checked_at)"
    )
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS price_history (
            id INTEGER PRIMARY KEY,
            ref_key TEXT NOT NULL REFERENCES watched_listings (ref_key) ON DELETE CASCADE,
            price TEXT,
            status TEXT NOT NULL,
            first_observed_at REAL NOT NULL,  -- one row per stretch of equal observations:
            last_observed_at REAL NOT NULL,   -- a check that sees the same price and status
            observations INTEGER NOT NULL DEFAULT 1  -- extends the row instead of adding one
        )
        """
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS price_history_listing "
        "ON price_history (ref_key, first_observed_at)"
    )
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS subscriptions (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL,         -- Telegram user who watches
            chat_id INTEGER NOT NULL,         -- where alerts go (the chat the watch was made in)
            ref_key TEXT NOT NULL REFERENCES watched_listings (ref_key),
            rule TEXT NOT NULL,               -- any_drop / percent / target
            rule_value TEXT,                  -- N for percent, target price in the listing's unit
            watched_price TEXT,               -- price when the user started watching
            base_price TEXT,                  -- comparison base: last alerted price, or watched
            base_status TEXT NOT NULL,        -- status the user last heard about
            base_version INTEGER NOT NULL DEFAULT 0,  -- alerts so far; part of each alert key
            paused_reason TEXT,               -- 'blocked': Telegram said the user blocked the bot
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            last_alert_at REAL,
            UNIQUE (user_id, ref_key)
        )
        """
    )
    db.execute("CREATE INDEX IF NOT EXISTS subscriptions_listing ON subscriptions (ref_key)")
    db.execute("CREATE INDEX IF NOT EXISTS subscriptions_chat ON subscriptions (chat_id)")
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS alerts (
            id INTEGER PRIMARY KEY,
            alert_key TEXT NOT NULL UNIQUE,   -- subscription, base version and observed change
            subscription_id INTEGER NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL,
            chat_id INTEGER NOT NULL,
            ref_key TEXT NOT NULL,
            changes TEXT NOT NULL,            -- e.g. price_drop, sold, back_on_sale+price_drop
            old_price TEXT,                   -- the base the change was measured against
            new_price TEXT,
            lowest_price TEXT,
            status TEXT NOT NULL,
            created_at REAL NOT NULL,         -- recorded before sending ...
            sent_at REAL,                     -- ... marked sent after
            failed_at REAL,                   -- given up (blocked, refused by Telegram)
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        )
        """
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS alerts_pending ON alerts (id) "
        "WHERE sent_at IS NULL AND failed_at IS NULL"
    )
    db.execute("CREATE INDEX IF NOT EXISTS alerts_subscription ON alerts (subscription_id)")
    db.execute("CREATE INDEX IF NOT EXISTS alerts_user ON alerts (user_id)")


def _m004_linked_accounts(db: sqlite_utils.Database) -> None:
    # The only table with personal data (name, phone, email); /forget deletes the row.
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS linked_accounts (
            user_id INTEGER PRIMARY KEY,      -- Telegram user id
            anjuke_user_id TEXT NOT NULL,
            name TEXT,
            phone TEXT,
            email TEXT,
            registered_by_bot INTEGER NOT NULL DEFAULT 0,  -- created through /link's offer
            linked_at REAL NOT NULL
        )
        """
    )


#: (version, name, step). Append only; never edit a step that has shipped.
MIGRATIONS: list[tuple[int, str, Migration]] = [
    (1, "quota usage per platform and day", _m001_quota),
    (2, "users: language and default city", _m002_users),
    (3, "price alerts: listings, price history, subscriptions, alerts", _m003_price_alerts),
    (4, "linked Anjuke accounts", _m004_linked_accounts),
]


class Database:
    """The file, migrated; `db` for work on the caller's thread, `run`/`submit` for work
    on the database's own thread.

    A write waits for SQLite's write lock (up to 5 s when another process holds it). On
    the event loop that wait would freeze every chat, so writes on the chat path go to
    one dedicated thread with a connection of its own (WAL lets both connections read
    at once; the writes queue on that thread, in order, and nothing else waits).
    """

    def __init__(self, path: Path | str, clock: Clock | None = None) -> None:
        self.path = Path(path)
        self.clock = clock or SystemClock()
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = self._connect(path)
        self.migrate()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        # an in-memory database is private to its connection: the worker shares `db` then
        memory = str(path) == ":memory:"
        self._worker_db = self.db if memory else self._connect(path)

    @staticmethod
    def _connect(path: Path | str) -> sqlite_utils.Database:
        # check_same_thread=False: the worker's connection is made here and used only there
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        db = sqlite_utils.Database(conn)
        if str(path) != ":memory:":
            db.enable_wal()
            # WAL + NORMAL: a commit survives a crash of the bot; only a power loss can
            # take the last commits back, and it never corrupts the file
            db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA busy_timeout = 5000")
        return db

    async def run(self, work: Callable[[sqlite_utils.Database], T]) -> T:
        """`work(db)` on the database's thread; the event loop goes on meanwhile."""
        return await asyncio.wrap_future(self._worker.submit(work, self._worker_db))

    def submit(self, work: Callable[[sqlite_utils.Database], object]) -> Future[object]:
        """`work(db)` on the database's thread, nobody waiting; a failure is logged."""
        future = self._worker.submit(work, self._worker_db)
        future.add_done_callback(_log_failure)
        return future

    def migrate(self) -> list[int]:
        """Apply the steps not applied yet, each in its own transaction; return their versions."""
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
        )
        done = {row[0] for row in self.db.execute("SELECT version FROM schema_migrations")}
        applied = []
        for version, name, step in MIGRATIONS:
            if version in done:
                continue
            with self.db.conn:
                self.db.execute("BEGIN")
                step(self.db)
                self.db.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    [version, name, self.clock.time()],
                )
            log.info("database migrated to version %d (%s)", version, name)
            applied.append(version)
        return applied

    @property
    def schema_version(self) -> int:
        row = self.db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def close(self) -> None:
        self._worker.shutdown(wait=True)  # queued writes land before the file closes
        if self._worker_db is not self.db:
            self._worker_db.conn.close()
        self.db.conn.close()


def _log_failure(future: Future[object]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("a database write failed", exc_info=future.exception())
