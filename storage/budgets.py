"""Per-user upstream calls per budget and platform day, kept in SQLite (a restart resets nothing).

The counts in memory are the truth for the running process (loaded from the file when
the store is made); each change is queued as a write that nobody waits for, so a
locked file never holds up the call the budget pays for.
"""

from __future__ import annotations

from storage.database import Database


class BudgetStore:
    def __init__(self, database: Database) -> None:
        self.database = database
        #: (user id, budget, day) -> calls counted
        self._used: dict[tuple[int, str, str], int] = {
            (int(user_id), budget, day): int(used)
            for user_id, budget, day, used in database.db.execute(
                "SELECT user_id, budget, day, used FROM user_budget_usage"
            )
        }

    def used(self, user_id: int, budget: str, day: str) -> int:
        return self._used.get((user_id, budget, day), 0)

    def take(self, user_id: int, budget: str, day: str, limit: int) -> bool:
        """Count one call when fewer than `limit` are counted; False (nothing counted) otherwise."""
        key = (user_id, budget, day)
        if self._used.get(key, 0) >= limit:
            return False
        self._used[key] = self._used.get(key, 0) + 1
        self.database.submit(
            lambda db: db.execute(
                "INSERT INTO user_budget_usage (user_id, budget, day, used) VALUES (?, ?, ?, 1) "
                "ON CONFLICT (user_id, budget, day) DO UPDATE SET used = used + 1",
                [user_id, budget, day],
            )
        )
        return True

    def give_back(self, user_id: int, budget: str, day: str) -> None:
        """Undo one `take` whose call never went out."""
        key = (user_id, budget, day)
        if key in self._used:
            self._used[key] = max(0, self._used[key] - 1)
        self.database.submit(
            lambda db: db.execute(
                "UPDATE user_budget_usage SET used = MAX(0, used - 1) "
                "WHERE user_id = ? AND budget = ? AND day = ?",
                [user_id, budget, day],
            )
        )
