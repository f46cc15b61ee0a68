"""The SQLite file: opened once, WAL mode, migrated on start by numbered steps.

Every SQL statement of the project lives under `storage/`; the rest of the code
gets plain dataclasses back. A person can open the file with `sqlite3` or
Datasette and read every table.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

import sqlite_utils

from clients.clock import Clock, SystemClock

log = logging.getLogger(__name__)

Migration = Callable[[sqlite_utils.Database], None]


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


#: (version, name, step). Append only; never edit a step that has shipped.
MIGRATIONS: list[tuple[int, str, Migration]] = [
    (1, "quota usage per platform and day", _m001_quota),
    (2, "users: language and default city", _m002_users),
]


class Database:
    def __init__(self, path: Path | str, clock: Clock | None = None) -> None:
        self.path = Path(path)
        self.clock = clock or SystemClock()
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db = sqlite_utils.Database(conn)
        if str(path) != ":memory:":
            self.db.enable_wal()
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA busy_timeout = 5000")
        self.migrate()

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
        self.db.conn.close()
