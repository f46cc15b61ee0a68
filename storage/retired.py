"""Watches the bot could not keep (table `retired_watches`, migration 10), until their owner
has been told, once.

A migration that cannot carry a watch over (an old made-up Anjuke ID whose page ID cannot
be worked out) moves it here instead of leaving it silently useless. Delivery walks
`untold()` and marks each notice `told` when Telegram takes it, or `failed` when Telegram
refuses it for good; a told notice is never sent again, across restarts too.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.database import Database


@dataclass(frozen=True, slots=True)
class RetiredWatch:
    id: int
    user_id: int
    chat_id: int
    platform: str
    listing_id: str
    title: str
    reason: str


class RetiredWatchStore:
    def __init__(self, database: Database) -> None:
        self.database = database
        self.clock = database.clock

    async def untold(self, limit: int = 500) -> list[RetiredWatch]:
        """Notices not yet taken by Telegram nor refused for good, oldest first."""
        rows = await self.database.fetchall(
            "SELECT id, user_id, chat_id, platform, listing_id, title, reason "
            "FROM retired_watches WHERE told_at IS NULL AND failed_at IS NULL "
            "ORDER BY id LIMIT ?",
            [limit],
        )
        return [RetiredWatch(int(r[0]), int(r[1]), int(r[2]), r[3], r[4], r[5], r[6]) for r in rows]

    async def mark_told(self, notice_id: int) -> None:
        await self.database.write(
            "UPDATE retired_watches SET told_at = ? WHERE id = ? AND told_at IS NULL",
            [self.clock.time(), notice_id],
        )

    async def mark_failed(self, notice_id: int) -> None:
        await self.database.write(
            "UPDATE retired_watches SET failed_at = ? WHERE id = ? AND told_at IS NULL",
            [self.clock.time(), notice_id],
        )

    async def all_for_user(self, user_id: int) -> list[RetiredWatch]:
        rows = await self.database.fetchall(
            "SELECT id, user_id, chat_id, platform, listing_id, title, reason "
            "FROM retired_watches WHERE user_id = ? ORDER BY id",
            [user_id],
        )
        return [RetiredWatch(int(r[0]), int(r[1]), int(r[2]), r[3], r[4], r[5], r[6]) for r in rows]
