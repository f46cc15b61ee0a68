"""Per-user settings: language and the Beike city chosen last."""

from __future__ import annotations

from dataclasses import dataclass

from storage.database import Database


@dataclass(frozen=True, slots=True)
class User:
    user_id: int
    language: str | None
    default_city: str | None


class UserStore:
    def __init__(self, database: Database) -> None:
        self.db = database.db
        self.clock = database.clock
        # user id -> language last written: every message touches the user, and a write
        # per message would cost more than the rest of answering from cache
        self._languages: dict[int, str] = {}

    def get(self, user_id: int) -> User | None:
        row = self.db.execute(
            "SELECT user_id, language, default_city FROM users WHERE user_id = ?", [user_id]
        ).fetchone()
        return User(int(row[0]), row[1], row[2]) if row else None

    def touch(self, user_id: int, language: str) -> None:
        """Remember the user's language (created on first contact)."""
        if self._languages.get(user_id) == language:
            return
        now = self.clock.time()
        self.db.execute(
            "INSERT INTO users (user_id, language, created_at, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET language = excluded.language, "
            "updated_at = excluded.updated_at WHERE language IS NOT excluded.language",
            [user_id, language, now, now],
        )
        if len(self._languages) > 100_000:
            self._languages.clear()
        self._languages[user_id] = language

    def set_default_city(self, user_id: int, city_id: str) -> None:
        now = self.clock.time()
        self.db.execute(
            "INSERT INTO users (user_id, default_city, created_at, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET default_city = excluded.default_city, "
            "updated_at = excluded.updated_at",
            [user_id, city_id, now, now],
        )

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM users").fetchone()[0])

    def delete(self, user_id: int) -> int:
        self._languages.pop(user_id, None)
        return self.db.execute("DELETE FROM users WHERE user_id = ?", [user_id]).rowcount
