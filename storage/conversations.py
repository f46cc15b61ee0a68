"""Conversation state in the bot's SQLite file (tables `conversations` and `chat_state`).

The rows behind python-telegram-bot's persistence (`bot/persistence.py`): the state of
every persistent ConversationHandler per key, and the part of a chat's data the bot
keeps (the quote flow's open question and its cards), pickled as PTB's own
PicklePersistence does. Only this process writes them.
"""

from __future__ import annotations

import json
import logging
import pickle
from typing import Any

from storage.database import Database

log = logging.getLogger(__name__)

ChatData = dict[Any, Any]
ConversationKey = tuple[int | str, ...]
ConversationDict = dict[ConversationKey, object]


class ConversationStore:
    """Reads on the database's reader thread, writes on its writer thread (in the order
    PTB makes them, so a state never overtakes an older one)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    # -- chat data ----------------------------------------------------------------------

    async def chat_data(self) -> dict[int, ChatData]:
        rows = await self.database.fetchall("SELECT chat_id, data FROM chat_state")
        chats: dict[int, ChatData] = {}
        for chat_id, blob in rows:
            try:
                chats[int(chat_id)] = pickle.loads(blob)
            except Exception as exc:  # a state an older version wrote: start that chat afresh
                log.warning("chat state of one chat not loaded: %s", type(exc).__name__)
        return chats

    async def save_chat_data(self, chat_id: int, data: ChatData) -> None:
        blob, now = pickle.dumps(data), self.database.clock.time()
        await self.database.write(
            "INSERT INTO chat_state (chat_id, data, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (chat_id) DO UPDATE SET data = excluded.data, "
            "updated_at = excluded.updated_at",
            [chat_id, blob, now],
        )

    async def drop_chat_data(self, chat_id: int) -> None:
        await self.database.write("DELETE FROM chat_state WHERE chat_id = ?", [chat_id])

    # -- conversations --------------------------------------------------------------------

    async def conversations(self, name: str) -> ConversationDict:
        rows = await self.database.fetchall(
            "SELECT key, state FROM conversations WHERE name = ?", [name]
        )
        return {tuple(json.loads(key)): json.loads(state) for key, state in rows}

    async def save_conversation(
        self, name: str, key: ConversationKey, state: object | None
    ) -> None:
        """Keep a conversation's state; None deletes it (the conversation ended)."""
        if state is None:
            await self.database.write(
                "DELETE FROM conversations WHERE name = ? AND key = ?", [name, json.dumps(key)]
            )
            return
        user_id = key[-1] if key and isinstance(key[-1], int) else None
        await self.database.write(
            "INSERT INTO conversations (name, key, user_id, state) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name, key) DO UPDATE SET state = excluded.state",
            [name, json.dumps(key), user_id, json.dumps(state)],
        )

    async def forget_user(self, user_id: int) -> int:
        """Delete a user's conversation states (/forget); return how many there were."""
        return await self.database.write("DELETE FROM conversations WHERE user_id = ?", [user_id])
