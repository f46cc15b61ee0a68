"""Per-user upstream calls per budget and platform day, kept in SQLite (a restart resets nothing)."""

from __future__ import annotations

from storage.database import Database


class BudgetStore:
    def __init__(self, database: Database) -> None:
        self.db = database.db

    def used(self, user_id: int, budget: str, day: str) -> int:
        row = self.db.execute(
            "SELECT used FROM user_budget_usage WHERE user_id = ? AND budget = ? AND day = ?",
            [user_id, budget, day],
        ).fetchone()
        return int(row[0]) if row else 0

    def take(self, user_id: int, budget: str, day: str, limit: int) -> bool:
        """Count one call when fewer than `limit` are counted; False (nothing counted) otherwise."""
        if limit <= 0:
            return False
        row = self.db.execute(
            "INSERT INTO user_budget_usage (user_id, budget, day, used) VALUES (?, ?, ?, 1) "
            "ON CONFLICT (user_id, budget, day) DO UPDATE SET used = used + 1 "
            "WHERE used < ? RETURNING used",
            [user_id, budget, day, limit],
        ).fetchone()
        return row is not None

    def give_back(self, user_id: int, budget: str, day: str) -> None:
        """Undo one `take` whose call never went out."""
        self.db.execute(
            "UPDATE user_budget_usage SET used = MAX(0, used - 1) "
            "WHERE user_id = ? AND budget = ? AND day = ?",
            [user_id, budget, day],
        )
