"""Per-user settings: language and the Beike city chosen last."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

from storage.database import Database, transaction

if TYPE_CHECKING:
    import sqlite_utils


@dataclass(frozen=True, slots=True)
class User:
    user_id: int
    language: str | None
    default_city: str | None


class UserStore:
    """Reads on the database's reader thread, writes on its writer thread; the language
    is kept in memory and written behind, so a locked file never holds up a chat."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.clock = database.clock
        # user id -> language (the truth; the file follows behind): every message touches
        # the user, and a write per message would cost more than answering from cache
        self._languages: dict[int, str] = {}
        self._behind = database.write_behind(self._write_languages)

    async def get(self, user_id: int) -> User | None:
        row = await self.database.fetchone(
            "SELECT user_id, language, default_city FROM users WHERE user_id = ?", [user_id]
        )
        language = self._languages.get(user_id)  # newer than the file while its write is queued
        if row is None:
            return None if language is None else User(user_id, language, None)
        return User(int(row[0]), language or row[1], row[2])

    def remembered_language(self, user_id: int) -> str | None:
        """The language memory holds for the user (newer than the file), if any."""
        return self._languages.get(user_id)

    def touch(self, user_id: int, language: str) -> Future[object] | None:
        """Remember the user's language (created on first contact); nobody waits for it.

        Returns the queued write (None when nothing changed), for those who must know.
        """
        if self._languages.get(user_id) == language:
            return None
        if len(self._languages) > 100_000:
            self._languages.clear()  # a user's next message puts theirs back (and writes it)
        self._languages[user_id] = language
        return self._behind.changed(user_id)

    def _write_languages(self, db: sqlite_utils.Database, user_ids: set[int]) -> None:
        now = self.clock.time()
        rows = [(u, self._languages[u], now, now) for u in user_ids if u in self._languages]
        with transaction(db):
            db.conn.executemany(
                "INSERT INTO users (user_id, language, created_at, updated_at) "
                "VALUES (?, ?, ?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET language = excluded.language, "
                "updated_at = excluded.updated_at WHERE language IS NOT excluded.language",
                rows,
            )

    async def count(self) -> int:
        row = await self.database.fetch_aggregate("SELECT COUNT(*) FROM users")
        return int(row[0])

    async def set_default_city(self, user_id: int, city_id: str) -> None:
        now = self.clock.time()
        await self.database.write(
            "INSERT INTO users (user_id, default_city, created_at, updated_at) "
            "VALUES (?, ?, ?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET default_city = excluded.default_city, "
            "updated_at = excluded.updated_at",
            [user_id, city_id, now, now],
        )

    async def delete(self, user_id: int) -> int:
        """Delete the row, after any write still queued for it (a touch must not revive it)."""
        self._languages.pop(user_id, None)
        self._behind.forget(user_id)
        return await self.database.write("DELETE FROM users WHERE user_id = ?", [user_id])
