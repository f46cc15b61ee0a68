"""Daily quota counters and rate-ban pauses per platform, kept in SQLite across restarts.

The values in memory are the truth for the running process (loaded from the file when
the store is made, so a restart resets nothing); each change is written behind (see
`storage.database.WriteBehind`), so a locked file never holds up the call that
spends quota.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from storage.database import Database, transaction

if TYPE_CHECKING:
    import sqlite_utils


@dataclass(frozen=True, slots=True)
class QuotaUsage:
    platform: str
    day: str
    used: int
    exhausted: bool


class QuotaStore:
    def __init__(self, database: Database) -> None:
        self.database = database
        #: (platform, day) -> (used, exhausted)
        self._usage: dict[tuple[str, str], tuple[int, bool]] = {
            (platform, day): (int(used), bool(exhausted))
            for platform, day, used, exhausted in database.db.execute(
                "SELECT platform, day, used, exhausted FROM quota_usage"
            )
        }
        self._paused_until: dict[str, float] = {
            platform: float(until)
            for platform, until in database.db.execute(
                "SELECT platform, paused_until FROM platform_pauses"
            )
        }
        self._usage_behind = database.write_behind(self._write_usage)
        self._pauses_behind = database.write_behind(self._write_pauses)

    def usage(self, platform: str, day: str) -> QuotaUsage:
        used, exhausted = self._usage.get((platform, day), (0, False))
        return QuotaUsage(platform, day, used, exhausted)

    def add(self, platform: str, day: str, calls: int = 1) -> int:
        """Count `calls` more for the day; return the new total."""
        used, exhausted = self._usage.get((platform, day), (0, False))
        self._usage[platform, day] = (used + calls, exhausted)
        self._usage_behind.changed((platform, day))
        return used + calls

    def mark_exhausted(self, platform: str, day: str) -> None:
        used, _ = self._usage.get((platform, day), (0, False))
        self._usage[platform, day] = (used, True)
        self._usage_behind.changed((platform, day))

    def pause(self, platform: str, until: float) -> None:
        """Remember that `platform` must not be called before `until` (wall-clock seconds)."""
        self._paused_until[platform] = until
        self._pauses_behind.changed(platform)

    def paused_until(self, platform: str) -> float | None:
        return self._paused_until.get(platform)

    def _write_usage(self, db: sqlite_utils.Database, keys: set[tuple[str, str]]) -> None:
        rows = [(platform, day, *self._usage[platform, day]) for platform, day in keys]
        with transaction(db):
            db.conn.executemany(
                "INSERT INTO quota_usage (platform, day, used, exhausted) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (platform, day) DO UPDATE SET used = excluded.used, "
                "exhausted = excluded.exhausted",
                rows,
            )

    def _write_pauses(self, db: sqlite_utils.Database, platforms: set[str]) -> None:
        with transaction(db):
            db.conn.executemany(
                "INSERT INTO platform_pauses (platform, paused_until) VALUES (?, ?) "
                "ON CONFLICT (platform) DO UPDATE SET paused_until = excluded.paused_until",
                [(platform, self._paused_until[platform]) for platform in platforms],
            )
