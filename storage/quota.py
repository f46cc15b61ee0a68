"""Daily quota counters and rate-ban pauses per platform, kept in SQLite across restarts."""

from __future__ import annotations

from dataclasses import dataclass

from storage.database import Database


@dataclass(frozen=True, slots=True)
class QuotaUsage:
    platform: str
    day: str
    used: int
    exhausted: bool


class QuotaStore:
    def __init__(self, database: Database) -> None:
        self.db = database.db

    def usage(self, platform: str, day: str) -> QuotaUsage:
        row = self.db.execute(
            "SELECT used, exhausted FROM quota_usage WHERE platform = ? AND day = ?",
            [platform, day],
        ).fetchone()
        if row is None:
            return QuotaUsage(platform, day, 0, False)
        return QuotaUsage(platform, day, int(row[0]), bool(row[1]))

    def add(self, platform: str, day: str, calls: int = 1) -> int:
        """Count `calls` more for the day; return the new total."""
        row = self.db.execute(
            "INSERT INTO quota_usage (platform, day, used) VALUES (?, ?, ?) "
            "ON CONFLICT (platform, day) DO UPDATE SET used = used + excluded.used "
            "RETURNING used",
            [platform, day, calls],
        ).fetchone()
        return int(row[0])

    def mark_exhausted(self, platform: str, day: str) -> None:
        self.db.execute(
            "INSERT INTO quota_usage (platform, day, used, exhausted) VALUES (?, ?, 0, 1) "
            "ON CONFLICT (platform, day) DO UPDATE SET exhausted = 1",
            [platform, day],
        )

    def pause(self, platform: str, until: float) -> None:
        """Remember that `platform` must not be called before `until` (wall-clock seconds)."""
        self.db.execute(
            "INSERT INTO platform_pauses (platform, paused_until) VALUES (?, ?) "
            "ON CONFLICT (platform) DO UPDATE SET paused_until = excluded.paused_until",
            [platform, until],
        )

    def paused_until(self, platform: str) -> float | None:
        row = self.db.execute(
            "SELECT paused_until FROM platform_pauses WHERE platform = ?", [platform]
        ).fetchone()
        return None if row is None else float(row[0])
