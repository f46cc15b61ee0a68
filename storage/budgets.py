"""Per-user upstream calls per budget and platform day, kept in SQLite (a restart resets nothing).

The counts in memory are the truth for the running process (loaded from the file when
the store is made); each change is written behind (see `storage.database.WriteBehind`),
so a locked file never holds up the call the budget pays for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clock import china_day
from storage.database import Database, transaction

if TYPE_CHECKING:
    import sqlite_utils

BudgetKey = tuple[int, str, str]  # user id, budget, platform day


class BudgetStore:
    def __init__(self, database: Database) -> None:
        self.database = database
        # only today's counts mean anything (a day's budget is whole again the next day):
        # older days are dropped at start, so neither the file nor memory grows for ever
        yesterday = china_day(database.clock, days_ago=1)
        with transaction(database.db):
            database.db.execute("DELETE FROM user_budget_usage WHERE day < ?", [yesterday])
        self._used: dict[BudgetKey, int] = {
            (int(user_id), budget, day): int(used)
            for user_id, budget, day, used in database.db.execute(
                "SELECT user_id, budget, day, used FROM user_budget_usage"
            )
        }
        self._behind = database.write_behind(self._write)

    def used(self, user_id: int, budget: str, day: str) -> int:
        return self._used.get((user_id, budget, day), 0)

    def take(self, user_id: int, budget: str, day: str, limit: int) -> bool:
        """Count one call when fewer than `limit` are counted; False (nothing counted) otherwise."""
        key = (user_id, budget, day)
        used = self._used.get(key, 0)
        if used >= limit:
            return False
        self._used[key] = used + 1
        self._behind.changed(key)
        return True

    def give_back(self, user_id: int, budget: str, day: str) -> None:
        """Undo one `take` whose call never went out."""
        key = (user_id, budget, day)
        if self._used.get(key, 0) > 0:
            self._used[key] -= 1
            self._behind.changed(key)

    def users_at(self, budget: str, day: str, limit: int) -> int:
        return sum(
            1
            for (_, b, d), used in self._used.items()
            if b == budget and d == day and used >= limit
        )

    async def forget_user(self, user_id: int) -> int:
        """Delete the user's counts (/forget): from memory, from the keys still to be
        written (no later flush brings them back), then the rows, after any write queued
        before; return how many counts there were."""
        keys = [key for key in self._used if key[0] == user_id]
        for key in keys:
            del self._used[key]
            self._behind.forget(key)
        await self.database.write("DELETE FROM user_budget_usage WHERE user_id = ?", [user_id])
        return len(keys)

    def _write(self, db: sqlite_utils.Database, keys: set[BudgetKey]) -> None:
        with transaction(db):
            db.conn.executemany(
                "INSERT INTO user_budget_usage (user_id, budget, day, used) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (user_id, budget, day) DO UPDATE SET used = excluded.used",
                # a key /forget dropped after it was marked is not written back
                [(*key, used) for key in keys if (used := self._used.get(key)) is not None],
            )
