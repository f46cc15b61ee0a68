"""The SQLite file: opened once, WAL mode, migrated on start by numbered steps.

Every SQL statement of the project lives under `storage/`; the rest of the code
gets plain dataclasses back. A person can open the file with `sqlite3` or
Datasette and read every table.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from clock import Clock, SystemClock
from storage import sqlite_utils_database

if TYPE_CHECKING:
    import sqlite_utils

log = logging.getLogger(__name__)

#: how long a write waits for another process's write lock before it fails
BUSY_TIMEOUT_MS = 5000

#: SQLite VM steps an inline write (`Database.run(..., inline=True)`) may take on the
#: event loop: past them the work is interrupted, rolled back and run again on the writer
#: thread. A /watch takes ~300, a check deciding 10 watches ~1,600 (0.6 ms with its
#: Python side on the 2-core test machine): the limit is a check deciding ~120 watches,
#: 5-10 ms. Steps, not time: the count is the same on a busy machine, and reading a
#: thread's CPU clock cost 60 µs a call there under load.
INLINE_STEP_LIMIT = 20_000
_STEPS_PER_CALL = 1_000  # SQLite calls the progress handler every so many steps

#: commits of the writer connection between two WAL checkpoints (run on the writer thread)
CHECKPOINT_EVERY = 200
#: ... or rows changed, whichever comes first (a bulk write checkpoints right after it)
CHECKPOINT_ROWS = 5_000


class StorageError(Exception):
    """The database could not do what was asked, for the database's sake; nothing of it
    was written. Raised by `Database` (and so by every store) instead of SQLite's own
    exceptions, so the layers above never match SQLite's message strings."""


class StorageBusy(StorageError):
    """Another process held the write lock for the whole busy timeout: nothing is wrong,
    and the same write can succeed later."""


class StorageFull(StorageError):
    """The disk is full: SQLite could not grow the file."""


def storage_error(exc: BaseException) -> StorageError | None:
    """Our word for one of SQLite's operational errors, or None for any other error."""
    if not isinstance(exc, sqlite3.OperationalError):
        return None
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return StorageBusy(str(exc))
    if "full" in text:
        return StorageFull(str(exc))
    return None


Migration = Callable[["sqlite_utils.Database"], None]
T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
Row = tuple[Any, ...]


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


def _m005_user_budgets(db: sqlite_utils.Database) -> None:
    # Per-user spend of upstream calls, per budget (a platform, or short links) and
    # platform day, so a restart resets nothing.
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS user_budget_usage (
            user_id INTEGER NOT NULL,      -- Telegram user id
            budget TEXT NOT NULL,          -- platform name, or 'short_links'
            day TEXT NOT NULL,             -- platform day, UTC+8, YYYY-MM-DD
            used INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (user_id, budget, day)
        )
        """
    )


def _m006_watches_per_chat(db: sqlite_utils.Database) -> None:
    """A subscription belongs to (user, chat): a group's watch never moves a private one.

    SQLite cannot drop a UNIQUE constraint, so the table is rebuilt (SQLite's documented
    steps; `migrate` runs every step with foreign keys off, so no alert cascades away).
    """
    (old_sql,) = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'subscriptions'"
    ).fetchone()
    new_sql = old_sql.replace("subscriptions", "subscriptions_new", 1).replace(
        "UNIQUE (user_id, ref_key)", "UNIQUE (user_id, chat_id, ref_key)"
    )
    db.execute(new_sql)
    db.execute("INSERT INTO subscriptions_new SELECT * FROM subscriptions")
    db.execute("DROP TABLE subscriptions")
    db.execute("ALTER TABLE subscriptions_new RENAME TO subscriptions")
    db.execute("CREATE INDEX IF NOT EXISTS subscriptions_listing ON subscriptions (ref_key)")
    db.execute("CREATE INDEX IF NOT EXISTS subscriptions_chat ON subscriptions (chat_id)")


#: longer than any target a watch can take now (12 digits, a point, 4 decimals, with room)
_MAX_TARGET_TEXT = 24


def _m007_drop_impossible_targets(db: sqlite_utils.Database) -> None:
    """Targets stored before rules were bounded (a 3,000-digit number made every alert and
    /watches too long for Telegram) fall back to the default rule, any drop."""
    db.execute(
        "UPDATE subscriptions SET rule = 'any_drop', rule_value = NULL "
        "WHERE rule = 'target' AND length(rule_value) > ?",
        [_MAX_TARGET_TEXT],
    )


def _m008_conversation_state(db: sqlite_utils.Database) -> None:
    # python-telegram-bot's persistence (bot/persistence.py, storage/conversations.py): the quote conversation's
    # state per chat and user, and the chat data it needs (open questions, quote cards).
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS conversations (
            name TEXT NOT NULL,               -- the ConversationHandler's name
            key TEXT NOT NULL,                -- its key as JSON, e.g. [chat_id, user_id]
            user_id INTEGER,                  -- the key's user, so /forget can find it
            state TEXT NOT NULL,              -- the state as JSON
            PRIMARY KEY (name, key)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS chat_state (
            chat_id INTEGER PRIMARY KEY,
            data BLOB NOT NULL,               -- pickled dict: only the keys the bot persists
            updated_at REAL NOT NULL
        )
        """
    )


def _m009_platform_pauses(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS platform_pauses (
            platform TEXT PRIMARY KEY,
            paused_until REAL NOT NULL  -- wall-clock seconds; the platform's own rate ban
        )
        """
    )


#: the made-up Anjuke IDs stored before 92381f6 (`L` + loupan number, `SP`/`XZL` + shop or
#: office number), frozen here as they were: (old ID, the page's kind, its mobile section)
_OLD_ANJUKE_IDS = (
    (re.compile(r"L(\d{4,8})"), "new_home", "loupan"),
    (re.compile(r"SP(\d{6,12})"), "shop", "sp"),
    (re.compile(r"XZL(\d{6,12})"), "office", "xzl"),
)
_OLD_ANJUKE_PREFIXES = ("L", "SP", "XZL")  # no ID of Anjuke's own starts so


def _m010_old_anjuke_ids(db: sqlite_utils.Database) -> None:
    """Watches stored under the made-up Anjuke IDs (`L245678`, `SP…`, `XZL…`), which Anjuke
    refuses, move to the page's own ID and kind (`anjuke:245678@new_home`), with their
    history and alerts. One that cannot be worked out (digits no page has) is retired: it
    goes to `retired_watches`, whose owner is told once (handlers/alerts.py), and leaves
    the subscriptions. A watch the owner already holds under the new key is merged into it.
    """
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS retired_watches (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL,         -- Telegram user whose watch it was
            chat_id INTEGER NOT NULL,         -- the chat its alerts went to: told there
            platform TEXT NOT NULL,
            listing_id TEXT NOT NULL,         -- the ID it was stored under
            title TEXT NOT NULL,
            reason TEXT NOT NULL,             -- old_id: an ID of ours the platform never knew
            retired_at REAL NOT NULL,
            told_at REAL,                     -- Telegram took the notice: never sent again
            failed_at REAL                    -- Telegram refused it for good (blocked, gone)
        )
        """
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS retired_watches_untold ON retired_watches (id) "
        "WHERE told_at IS NULL AND failed_at IS NULL"
    )
    rows = db.execute(
        "SELECT ref_key, listing_id FROM watched_listings WHERE platform = 'anjuke'"
    ).fetchall()
    for ref_key, listing_id in rows:
        if "@" in ref_key or not listing_id.startswith(_OLD_ANJUKE_PREFIXES):
            continue
        for pattern, kind, section in _OLD_ANJUKE_IDS:
            match = pattern.fullmatch(listing_id)
            if match:
                _move_watched_listing(db, ref_key, match.group(1), kind, section)
                break
        else:
            _retire_watched_listing(db, ref_key, "old_id")


def _move_watched_listing(
    db: sqlite_utils.Database, old_key: str, number: str, kind: str, section: str
) -> None:
    new_key = f"anjuke:{number}@{kind}"
    url = f"https://m.anjuke.com/{section}/{number}/"
    if not db.execute("SELECT 1 FROM watched_listings WHERE ref_key = ?", [new_key]).fetchone():
        columns = [c.name for c in db["watched_listings"].columns]
        fresh = {"ref_key": "?", "listing_id": "?", "url": "?", "last_error": "NULL", "errors": "0"}
        db.execute(
            f"INSERT INTO watched_listings ({', '.join(columns)}) "
            f"SELECT {', '.join(fresh.get(c, c) for c in columns)} "
            "FROM watched_listings WHERE ref_key = ?",
            [new_key, number, url, old_key],
        )
    db.execute("UPDATE price_history SET ref_key = ? WHERE ref_key = ?", [new_key, old_key])
    # a watch its owner already holds under the page's ID stays; the old copy goes
    duplicates = [
        r[0]
        for r in db.execute(
            "SELECT old.id FROM subscriptions old JOIN subscriptions new "
            "ON new.user_id = old.user_id AND new.chat_id = old.chat_id AND new.ref_key = ? "
            "WHERE old.ref_key = ?",
            [new_key, old_key],
        )
    ]
    for sub_id in duplicates:
        db.execute("DELETE FROM alerts WHERE subscription_id = ?", [sub_id])
        db.execute("DELETE FROM subscriptions WHERE id = ?", [sub_id])
    db.execute("UPDATE subscriptions SET ref_key = ? WHERE ref_key = ?", [new_key, old_key])
    db.execute("UPDATE alerts SET ref_key = ? WHERE ref_key = ?", [new_key, old_key])
    db.execute("DELETE FROM watched_listings WHERE ref_key = ?", [old_key])


def _retire_watched_listing(db: sqlite_utils.Database, ref_key: str, reason: str) -> None:
    db.execute(
        "INSERT INTO retired_watches "
        "(user_id, chat_id, platform, listing_id, title, reason, retired_at) "
        "SELECT s.user_id, s.chat_id, w.platform, w.listing_id, w.title, ?, "
        "CAST(strftime('%s', 'now') AS REAL) "
        "FROM subscriptions s JOIN watched_listings w ON w.ref_key = s.ref_key "
        "WHERE s.ref_key = ? ORDER BY s.id",
        [reason, ref_key],
    )
    db.execute(
        "DELETE FROM alerts WHERE subscription_id IN "
        "(SELECT id FROM subscriptions WHERE ref_key = ?)",
        [ref_key],
    )
    db.execute("DELETE FROM subscriptions WHERE ref_key = ?", [ref_key])
    db.execute("DELETE FROM price_history WHERE ref_key = ?", [ref_key])
    db.execute("DELETE FROM watched_listings WHERE ref_key = ?", [ref_key])


def _m011_proven_accounts(db: sqlite_utils.Database) -> None:
    """A link is kept only for the phone Telegram verified (`request_contact`).

    Links made before this step were never proven: they stay (so the owner can prove and
    keep them) but are marked unproven, and nothing about them is shown until the owner
    shares the phone. One Telegram user per proven account: a unique index over the
    proven rows only, since unproven rows may name one account twice.
    """
    db.execute("ALTER TABLE linked_accounts ADD COLUMN proven INTEGER NOT NULL DEFAULT 0")
    db.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS linked_accounts_one_owner "
        "ON linked_accounts (anjuke_user_id) WHERE proven = 1"
    )


def _m012_cost_follows_change(db: sqlite_utils.Database) -> None:
    """A poll round costs what changed, not what is held (issue 19).

    - `watched_listings.decided_price/decided_status/decided_at`: the observation every
      active subscription of the listing was last decided on, and when. A check that
      sees the same again decides only the subscriptions changed since (`updated_at`,
      from now on moved only by the owner's own acts: watch, rule, pause, resume).
    - `watched_listings.watched`: 1 while the listing has an active subscription, kept
      by triggers, so planning reads a partial index instead of probing `subscriptions`
      for every listing. A flag, not a count: a new watch of a listing already watched
      writes nothing (the trigger's UPDATE matches no row).
    - indexes for the planner (stalest first, NULL = never checked sorts first; with
      `watched` in it, the per-platform count reads the index alone), for the
      subscriptions changed since a round, and for alert retention.
    """
    for column in ("decided_price TEXT", "decided_status TEXT", "decided_at REAL"):
        db.execute(f"ALTER TABLE watched_listings ADD COLUMN {column}")
    db.execute("ALTER TABLE watched_listings ADD COLUMN watched INTEGER NOT NULL DEFAULT 0")
    db.execute(
        "CREATE INDEX IF NOT EXISTS subscriptions_changed "
        "ON subscriptions (ref_key, updated_at) WHERE paused_reason IS NULL"
    )
    still_watched = (
        "EXISTS (SELECT 1 FROM subscriptions s WHERE s.ref_key = {key} AND s.paused_reason IS NULL)"
    )
    db.execute(
        "UPDATE watched_listings SET watched = "
        + still_watched.format(key="watched_listings.ref_key")
    )
    db.execute(
        """
        CREATE TRIGGER IF NOT EXISTS subscriptions_watched_insert
        AFTER INSERT ON subscriptions WHEN NEW.paused_reason IS NULL
        BEGIN
            UPDATE watched_listings SET watched = 1 WHERE ref_key = NEW.ref_key AND watched = 0;
        END
        """
    )
    db.execute(
        f"""
        CREATE TRIGGER IF NOT EXISTS subscriptions_watched_delete
        AFTER DELETE ON subscriptions WHEN OLD.paused_reason IS NULL
        BEGIN
            UPDATE watched_listings SET watched = {still_watched.format(key="OLD.ref_key")}
            WHERE ref_key = OLD.ref_key;
        END
        """
    )
    db.execute(
        f"""
        CREATE TRIGGER IF NOT EXISTS subscriptions_watched_update
        AFTER UPDATE OF paused_reason, ref_key ON subscriptions
        BEGIN
            UPDATE watched_listings SET watched = {still_watched.format(key="OLD.ref_key")}
            WHERE ref_key = OLD.ref_key AND OLD.paused_reason IS NULL;
            UPDATE watched_listings SET watched = 1
            WHERE ref_key = NEW.ref_key AND NEW.paused_reason IS NULL AND watched = 0;
        END
        """
    )
    db.execute("DROP INDEX IF EXISTS watched_listings_due")  # its sort could not use it
    db.execute(
        "CREATE INDEX IF NOT EXISTS watched_listings_stalest "
        "ON watched_listings (platform, last_checked_at, first_seen_at, watched) "
        "WHERE watched = 1"
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS alerts_finished ON alerts (COALESCE(sent_at, failed_at))"
    )


def _m013_one_word_watch(db: sqlite_utils.Database) -> None:
    """One word per concept (issue 20): what a user calls a watch is a watch in the file
    too. The table and its alert column are renamed (SQLite rewrites the triggers and
    indexes that name them), then each index and trigger named after the old word is made
    again under the new name. The steps before this one keep the names they shipped with.
    """
    db.execute("ALTER TABLE subscriptions RENAME TO watches")
    db.execute("ALTER TABLE alerts RENAME COLUMN subscription_id TO watch_id")
    named = db.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
        "AND name LIKE '%subscription%' AND sql IS NOT NULL"
    ).fetchall()
    for kind, name, sql in named:
        new_name = name.replace("subscriptions", "watches").replace("subscription", "watch")
        db.execute(f"DROP {kind.upper()} {name}")
        db.execute(sql.replace(name, new_name, 1))


#: (version, name, step). Append only; never edit a step that has shipped.
MIGRATIONS: list[tuple[int, str, Migration]] = [
    (1, "quota usage per platform and day", _m001_quota),
    (2, "users: language and default city", _m002_users),
    (3, "price alerts: listings, price history, subscriptions, alerts", _m003_price_alerts),
    (4, "linked Anjuke accounts", _m004_linked_accounts),
    (5, "per-user budgets of upstream calls", _m005_user_budgets),
    (6, "subscriptions per user and chat", _m006_watches_per_chat),
    (7, "impossible targets become any drop", _m007_drop_impossible_targets),
    (8, "conversation state (python-telegram-bot persistence)", _m008_conversation_state),
    (9, "platform pauses after a rate ban", _m009_platform_pauses),
    (10, "old made-up Anjuke IDs move to the page's own, or retire", _m010_old_anjuke_ids),
    (11, "linked accounts proven by the phone Telegram verified", _m011_proven_accounts),
    (
        12,
        "cost follows change: decided observation, watched flag, planning indexes",
        _m012_cost_follows_change,
    ),
    (13, "one word: subscriptions are watches", _m013_one_word_watch),
]


class Database:
    """The file, migrated; `db` for start-up work on the caller's thread, `run`/`submit`
    for writes and `read` for reads, each on a thread of its own.

    A write waits for SQLite's write lock (up to 5 s when another process holds it). On
    the event loop that wait would freeze every chat, so no statement that could wait
    runs there once the bot is up:

    - writes (`run` and `write`, awaited; `submit`, queued with nobody waiting) go to
      one writer thread with a connection of its own, in order: a write queued after
      another lands after it (so a delete queued after a pending write is never undone
      by it). Only the writes a user must be able to trust wait (a watch is on disk
      before "watching"); a write the lock outlasts raises `sqlite3.OperationalError`
      ("database is locked") to the one caller who awaited it;
    - one busy timeout per awaited write, counted from when it was queued: the writes
      ahead of it in the queue spend it too. A write nobody awaits (a write-behind
      flush) waits for the lock only as long as the earliest awaited write behind it
      can still afford, so "storage busy" comes after one busy timeout, not one per
      queued write (it took 20-25 s with four or five of them in a row);
    - reads (`read`, `fetchone`, `fetchall`) go to one reader thread with a second
      connection, so a read never queues behind a write that waits for the lock. In
      WAL mode a reader is not blocked by a writer, in this process or another (the
      lock only serialises writers); a read sees every committed write (a `run` that
      returned), not the ones still queued;
    - values whose truth can live in memory (quota and budget counts, rate-ban pauses,
      languages) are kept there by their store and written behind (`write_behind`):
      the chat path never waits for the file, and never reads back what it queued.

    - short writes run inline when the writer thread is idle (`run(work, inline=True)`,
      and write-behind flushes): nothing queued or running there (`_writer_lock`, which
      every job on the writer connection holds, taken without blocking), the work runs
      on the event loop on the writer connection, with `busy_timeout = 0`, inside
      `BEGIN IMMEDIATE` ... `COMMIT`. A lock held by another process refuses the BEGIN
      at once, before anything of the work ran: the same work then goes to the writer
      thread, which waits for the lock as above. A work that raises is rolled back whole
      (a `transaction` inside it adds no statement; one that raised spoils the run even if
      the work went on: rolled back, run again on the thread). A work that runs past
      `INLINE_STEP_LIMIT` SQLite steps on the loop is interrupted (SQLite's progress
      handler), rolled back and run again on the writer thread, so only works that are
      safe to run twice opt in (each is one transaction whose Python side only
      computes). An inline run saves the thread round trip (40-60 µs on a quiet
      machine, far more on a busy one) that every awaited write paid;
    - WAL checkpoints never run on the loop: the writer connection has
      `wal_autocheckpoint = 0` (it is per connection), and every `CHECKPOINT_EVERY`
      commits of it (inline runs and writer-thread jobs alike; a job counts as one), or
      every `CHECKPOINT_ROWS` rows it changed, whichever comes first, a PASSIVE
      checkpoint runs on a thread and connection of its own. A PASSIVE checkpoint
      takes no lock a writer needs, so writes go on inline meanwhile (on the writer
      thread, each of the 200-commit checkpoints, with its fsync, made the next
      `/watch` wait 2-5 ms for it: a quarter of the setup path's time); only the
      frames written during it are copied with the writes held, since SQLite starts
      the WAL again from its beginning only after a complete checkpoint. Inline works
      are short (a watch, one check: 2-12 pages), so the WAL stays near SQLite's
      default of 1,000 pages between checkpoints, and a bulk write is checkpointed
      right after it. Why not by the WAL's size: the file is not truncated after a
      checkpoint (SQLite writes it again from its start), so its size says little.

    `db` (the caller's thread) is for migrations, start-up loading and tools only.
    An in-memory database is private to its connection: all three share it then, and
    reads queue on the writer thread.
    """

    def __init__(
        self, path: Path | str, clock: Clock | None = None, *, busy_timeout: float | None = None
    ) -> None:
        self.path = Path(path)
        self.clock = clock or SystemClock()
        #: seconds an awaited write may wait for another process's write lock, all told
        self.busy_timeout = BUSY_TIMEOUT_MS / 1000 if busy_timeout is None else busy_timeout
        #: deadlines (time.monotonic) of the awaited writes queued and not started yet
        self._waiting: dict[int, float] = {}
        self._waiting_lock = threading.Lock()
        self._tickets = itertools.count()
        #: seconds the last awaited write the lock outlasted spent from queueing to refusal
        self.last_busy_wait: float | None = None
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = self._connect(path)
        self.migrate()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-write")
        memory = str(path) == ":memory:"
        self._memory = memory
        self._writer_db = self.db if memory else self._connect(path)
        if memory:
            self._reader, self._reader_db = self._writer, self.db
        else:
            self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-read")
            self._reader_db = self._connect(path)
            # checkpoints go to a thread of their own (`_count_commit`), never on the loop
            self._writer_db.execute("PRAGMA wal_autocheckpoint = 0")
            self._checkpointer = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="sqlite-checkpoint"
            )
            self._checkpoint_db = self._connect(path)
        #: held by every job on the writer connection, and by an inline run
        self._writer_lock = threading.Lock()
        #: jobs submitted to the writer thread and not finished (under `_waiting_lock`)
        self._jobs = 0
        self._busy_ms = BUSY_TIMEOUT_MS  # the writer connection's busy timeout now
        self._commits = 0  # commits of the writer connection since the last checkpoint
        self._changes_checkpointed = self._writer_db.conn.total_changes
        self._checkpoint_queued = False
        self._closed = False
        self._steps_left = 0
        self._interrupted = False
        #: runs inline / handed to the writer thread (an inline try refused counts there)
        self.inline_runs = 0
        self.thread_runs = 0
        self.checkpoints = 0
        self._write_behinds: list[WriteBehind[Any]] = []

    @staticmethod
    def _connect(path: Path | str) -> sqlite_utils.Database:
        # check_same_thread=False: a thread's connection is made here and used only there
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        db = sqlite_utils_database()(conn)
        if str(path) != ":memory:":
            db.enable_wal()
            # WAL + NORMAL: a commit survives a crash of the bot; only a power loss can
            # take the last commits back, and it never corrupts the file
            db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")  # the writer sets its own per write
        return db

    async def run(self, work: Callable[[sqlite_utils.Database], T], *, inline: bool = False) -> T:
        """`work(db)` on the writer thread, after every write queued before it; the
        event loop goes on meanwhile. A write that found the file locked until one busy
        timeout after it was queued raises `StorageBusy`; a full disk `StorageFull`.

        `inline=True`, for short works safe to run twice (see the class): on the event
        loop, at once, when the writer thread is idle and no other process holds the
        write lock; on the writer thread as above otherwise."""
        if inline:
            done, result = self.try_inline(work)
            if done:
                return result  # type: ignore[return-value]  # done: the work's own value
        queued = time.monotonic()
        ticket = next(self._tickets)
        with self._waiting_lock:
            self._waiting[ticket] = queued + self.busy_timeout
        try:
            future = self._to_writer(self._awaited, work, ticket, queued)
        except BaseException:  # closed: nothing will wait behind this one
            with self._waiting_lock:
                self._waiting.pop(ticket, None)
            raise
        return await asyncio.wrap_future(future)

    def submit(self, work: Callable[[sqlite_utils.Database], object]) -> Future[object]:
        """`work(db)` on the writer thread, nobody waiting; a failure is logged."""
        future = self._to_writer(self._unawaited, work)
        future.add_done_callback(_log_failure)
        return future

    def _to_writer(self, job: Callable[..., T], *args: Any, writes: bool = True) -> Future[T]:
        """`job(*args)` on the writer thread, counted and holding `_writer_lock`, so no
        inline run starts while it is queued or running."""
        with self._waiting_lock:
            self._jobs += 1
        try:
            return self._writer.submit(self._job, writes, job, *args)
        except BaseException:
            with self._waiting_lock:
                self._jobs -= 1
            raise

    def _job(self, writes: bool, job: Callable[..., T], *args: Any) -> T:
        try:
            with self._writer_lock:
                try:
                    return job(*args)
                finally:
                    if writes and not self._memory:
                        self._count_commit()
        finally:
            with self._waiting_lock:
                self._jobs -= 1

    def try_inline(self, work: Callable[[sqlite_utils.Database], T]) -> tuple[bool, T | None]:
        """Run `work(db)` on this thread now, in one transaction, if the writer thread
        is idle and the write lock free; (False, None) when it did not run (nothing of it
        is written then: hand it to the writer thread). Errors as `run`'s."""
        if self._jobs or self._closed or not self._writer_lock.acquire(blocking=False):
            return False, None
        try:
            if self._jobs or self._closed:
                return False, None
            return self._inline(work)
        finally:
            self._writer_lock.release()

    def _inline(self, work: Callable[[sqlite_utils.Database], T]) -> tuple[bool, T | None]:
        db = self._writer_db
        conn = db.conn
        if self._busy_ms != 0:  # never wait for another process's lock on the loop
            conn.execute("PRAGMA busy_timeout = 0")
            self._busy_ms = 0
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            ours = storage_error(exc)
            if isinstance(ours, StorageBusy):  # locked elsewhere: the thread waits for it
                return False, None
            if ours is not None:
                raise ours from exc
            raise
        self._interrupted = False
        self._steps_left = INLINE_STEP_LIMIT // _STEPS_PER_CALL
        conn.set_progress_handler(self._past_limit, _STEPS_PER_CALL)
        _INLINE[conn] = False
        try:
            result = work(db)
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            ours = storage_error(exc)
            if self._interrupted or isinstance(ours, StorageBusy):
                return False, None  # rolled back: the writer thread runs it again
            if ours is not None:
                raise ours from exc
            raise
        finally:
            spoiled = _INLINE.pop(conn)
            conn.set_progress_handler(None, 0)
        if self._interrupted or spoiled:  # the work went on past an error it caught
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return False, None
        try:
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            ours = storage_error(exc)
            if isinstance(ours, StorageBusy):
                return False, None
            if ours is not None:
                raise ours from exc
            raise
        self.inline_runs += 1
        if not self._memory:
            self._count_commit()
        return True, result

    def _past_limit(self) -> int:
        # SQLite's progress handler, every _STEPS_PER_CALL VM steps of an inline run:
        # non-zero interrupts the statement (and every later one of the run)
        self._steps_left -= 1
        if self._steps_left < 0:
            self._interrupted = True
            return 1
        return 0

    def _count_commit(self) -> None:
        """One more commit of the writer connection; a PASSIVE checkpoint on the
        checkpoint thread every `CHECKPOINT_EVERY` of them or `CHECKPOINT_ROWS` rows
        changed (the caller holds `_writer_lock`)."""
        self._commits += 1
        rows = self._writer_db.conn.total_changes - self._changes_checkpointed
        if self._commits < CHECKPOINT_EVERY and rows < CHECKPOINT_ROWS:
            return
        if self._checkpoint_queued:
            return
        self._checkpoint_queued = True
        self._commits = 0
        self._changes_checkpointed = self._writer_db.conn.total_changes
        try:
            self._checkpointer.submit(self._checkpoint).add_done_callback(_log_failure)
        except RuntimeError:  # closing: the last connection to close checkpoints
            self._checkpoint_queued = False

    def _checkpoint(self) -> None:
        # a PASSIVE checkpoint takes no lock a writer needs: inline runs and the writer
        # thread go on meanwhile. SQLite starts the WAL again from its beginning only
        # after a checkpoint that copied every frame, so the few frames written during
        # this one are copied with the writes held (`_writer_lock`): without that, a
        # steady stream of writes would grow the WAL for ever
        try:
            conn = self._checkpoint_db.conn
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            with self._waiting_lock:  # counted like a job: no inline run starts meanwhile
                self._jobs += 1
            try:
                with self._writer_lock:  # nothing left to copy, nothing synced: ~free then
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            finally:
                with self._waiting_lock:
                    self._jobs -= 1
            self.checkpoints += 1
        except sqlite3.OperationalError as exc:  # a full disk: the next one tries again
            log.warning("WAL checkpoint failed: %s", exc)
        finally:
            self._checkpoint_queued = False

    def _awaited(self, work: Callable[[sqlite_utils.Database], T], ticket: int, queued: float) -> T:
        with self._waiting_lock:
            deadline = self._waiting.pop(ticket)
        self._wait_for_lock_until(deadline)
        self.thread_runs += 1
        try:
            return work(self._writer_db)
        except sqlite3.OperationalError as exc:
            ours = storage_error(exc)
            if isinstance(ours, StorageBusy):
                self.last_busy_wait = time.monotonic() - queued
            if ours is not None:
                raise ours from exc
            raise

    def _unawaited(self, work: Callable[[sqlite_utils.Database], T]) -> T:
        # nobody waits for this one, but the awaited writes queued behind it do
        with self._waiting_lock:
            deadline = min(self._waiting.values(), default=time.monotonic() + self.busy_timeout)
        self._wait_for_lock_until(deadline)
        self.thread_runs += 1
        return work(self._writer_db)

    def _wait_for_lock_until(self, deadline: float) -> None:
        """SQLite's busy timeout for the next statements: what is left until `deadline`
        (none left: one try, no wait)."""
        ms = max(0, min(int((deadline - time.monotonic()) * 1000), int(self.busy_timeout * 1000)))
        self._writer_db.execute(f"PRAGMA busy_timeout = {ms}")
        self._busy_ms = ms

    async def read(self, work: Callable[[sqlite_utils.Database], T]) -> T:
        """`work(db)` (reads only) on the reader thread; never behind a locked write."""
        if self._memory:  # one connection: the writer's, whose jobs an inline run waits for
            return await asyncio.wrap_future(self._to_writer(self._reading, work, writes=False))
        return await asyncio.wrap_future(self._reader.submit(self._reading, work))

    def _reading(self, work: Callable[[sqlite_utils.Database], T]) -> T:
        try:
            return work(self._reader_db)
        except sqlite3.OperationalError as exc:
            ours = storage_error(exc)
            if ours is not None:
                raise ours from exc
            raise

    async def write(self, sql: str, params: Sequence[object] = (), *, inline: bool = False) -> int:
        """One statement on the writer thread (see `run`); the number of rows it changed."""
        return await self.run(lambda db: int(db.execute(sql, params).rowcount), inline=inline)

    async def fetchone(self, sql: str, params: Sequence[object] = ()) -> Row | None:
        """One query's first row, on the reader thread (see `read`)."""
        return await self.read(lambda db: db.execute(sql, params).fetchone())

    async def fetch_aggregate(self, sql: str, params: Sequence[object] = ()) -> Row:
        """The one row an aggregate query (COUNT, SUM without GROUP BY) always answers."""
        row = await self.fetchone(sql, params)
        if row is None:  # SQLite answers every aggregate without GROUP BY with one row
            raise RuntimeError(f"an aggregate query answered no row: {sql}")
        return row

    async def fetchall(self, sql: str, params: Sequence[object] = ()) -> list[Row]:
        """One query's rows, on the reader thread (see `read`)."""
        return await self.read(lambda db: db.execute(sql, params).fetchall())

    def write_behind(
        self, write: Callable[[sqlite_utils.Database, set[K]], None]
    ) -> WriteBehind[K]:
        """Keys whose value in memory is newer than the file, written by `write` on the
        writer thread (see `WriteBehind`); the last of them are written on `close`."""
        behind: WriteBehind[K] = WriteBehind(self, write)
        self._write_behinds.append(behind)
        return behind

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
            # a step may rebuild a table; with foreign keys on, dropping the old one would
            # cascade to the rows that reference it (SQLite: "making other schema changes")
            self.db.execute("PRAGMA foreign_keys = OFF")
            try:
                with self.db.conn:
                    self.db.execute("BEGIN")
                    step(self.db)
                    if self.db.execute("PRAGMA foreign_key_check").fetchone() is not None:
                        raise sqlite3.IntegrityError(f"migration {version} broke a reference")
                    self.db.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at) "
                        "VALUES (?, ?, ?)",
                        [version, name, self.clock.time()],
                    )
            finally:
                self.db.execute("PRAGMA foreign_keys = ON")
            log.info("database migrated to version %d (%s)", version, name)
            applied.append(version)
        return applied

    def check_writable(self) -> None:
        """Raise `sqlite3.Error` unless a write would succeed (read-only file, full disk)."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (-1, 'check', 0)"
            )
        finally:
            self.db.execute("ROLLBACK")

    def integrity_problem(self) -> str | None:
        """SQLite's first complaint about the file, or None when it is sound.

        `PRAGMA quick_check` reads every page of every table and index (a header check
        alone, which opening the file does, misses a damaged page deep inside). It is
        O(size): 0.3-0.4 s warm and 1.4-2.2 s from a cold cache for 1M price_history
        rows (89 MB) on the 2-core test machine (`bench/integrity.py`), so it runs at every
        start; the full `integrity_check` took 2.2-8.3 s warm (docs/stored-state.md).
        """
        try:
            rows = self.db.execute("PRAGMA quick_check(1)").fetchall()
        except sqlite3.DatabaseError as exc:  # damaged past what quick_check can walk
            return str(exc)
        first = str(rows[0][0]) if rows else "no answer"
        # one line: SQLite heads its list with "*** in database main ***" and a newline
        return (
            None
            if first == "ok"
            else " ".join(first.replace("*** in database main ***", "").split())
        )

    @property
    def schema_version(self) -> int:
        row = self.db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def close(self) -> None:
        for behind in self._write_behinds:
            behind.flush_soon()
        self._closed = True  # nothing inline from now on: the last writes queue
        self._writer.shutdown(wait=True)  # queued writes land before the file closes
        self._reader.shutdown(wait=True)
        connections = [self._writer_db, self._reader_db]
        if not self._memory:
            self._checkpointer.shutdown(wait=True)
            connections.append(self._checkpoint_db)
        for db in {id(d): d for d in connections}.values():
            if db is not self.db:
                db.conn.close()
        self.db.conn.close()


#: connections inside an inline run (`Database._inline`), each with whether a
#: `transaction` in it raised: the run is one transaction already
_INLINE: dict[sqlite3.Connection, bool] = {}


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One write transaction (the connection is in autocommit mode otherwise), on the
    database's writer thread, where nothing else runs in between.

    In an inline run (see `Database`), which is one transaction already, it adds no
    statement; if it raises, the whole run is rolled back and run again on the writer
    thread even when the work catches the error, where this is a transaction of its own
    again: so a work means the same on the loop and on the thread."""
    conn = db.conn
    if conn in _INLINE:
        try:
            yield
        except BaseException:
            _INLINE[conn] = True
            raise
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class WriteBehind(Generic[K]):
    """Values whose truth lives in memory (counters, pauses), written behind.

    `changed(key)` marks a key and queues one flush, nobody waiting; the flush hands
    every marked key to `write`, which stores the value memory holds *then* (absolute
    values, never increments: a flush that fails, say the file stayed locked past the
    busy timeout, is logged and its keys stay marked, so the next flush, at the next
    change or on close, writes them with nothing counted twice or lost).
    """

    def __init__(
        self, database: Database, write: Callable[[sqlite_utils.Database, set[K]], None]
    ) -> None:
        self.database = database
        self._write = write
        self._lock = threading.Lock()  # marked on the event loop, taken on the writer thread
        self._marked: set[K] = set()
        self._queued: Future[object] | None = None

    def changed(self, key: K) -> Future[object] | None:
        """Mark `key`; return the flush that will write it."""
        with self._lock:
            self._marked.add(key)
        return self.flush_soon()

    def forget(self, key: K) -> None:
        """Its row is being deleted: no flush writes it again."""
        with self._lock:
            self._marked.discard(key)

    def flush_soon(self) -> Future[object] | None:
        """Flush the marked keys now if the writer thread is idle (see `Database`:
        inline), or queue a flush (one at a time); the flush, if any."""
        with self._lock:
            if self._queued is not None or not self._marked:
                return self._queued
        try:
            done, _ = self.database.try_inline(self._flush)
        except Exception:  # logged; the flush kept its keys marked: the thread tries again
            log.exception("a database write failed")
            done = False
        if done:
            flushed: Future[object] = Future()
            flushed.set_result(None)
            return flushed
        with self._lock:
            if self._queued is None and self._marked:
                self._queued = self.database.submit(self._flush)
            return self._queued

    def _flush(self, db: sqlite_utils.Database) -> None:
        with self._lock:
            keys, self._marked, self._queued = self._marked, set(), None
        try:
            self._write(db, keys)
        except BaseException as exc:
            with self._lock:
                self._marked |= keys
            if is_busy(exc):  # expected while another process holds the lock: no traceback
                log.warning("database busy: %d values kept for the next write", len(keys))
                return
            raise


def dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def dec_text(value: Decimal | None) -> str | None:
    """A decimal as plain text (`350.5`, never `3.505E+2`)."""
    return None if value is None else format(value, "f")


def is_busy(exc: BaseException) -> bool:
    """The busy timeout ran out (ours, or SQLite's "database is locked/busy"): nothing is
    wrong, the same write can succeed later."""
    return isinstance(exc, StorageBusy) or isinstance(storage_error(exc), StorageBusy)


def _log_failure(future: Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("a database write failed", exc_info=future.exception())
