"""python-telegram-bot persistence in the bot's SQLite file: conversations survive a restart.

`SQLitePersistence` keeps two things (tables `conversations` and `chat_state`,
migration 5) and nothing else:

- the state of every persistent `ConversationHandler`, per key;
- the entries of `chat_data` whose keys start with one of `chat_data_prefixes` (the
  quote flow's open question and its cards), pickled as PTB's own PicklePersistence
  does. Everything else in `chat_data`, all of `user_data` and `bot_data` (which holds
  the services and their secrets) and callback data are never written.

Writes go straight to SQLite, so `flush` has nothing left to do.
"""

from __future__ import annotations

import json
import logging
import pickle
from collections.abc import Iterable
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

from storage.database import Database

log = logging.getLogger(__name__)

ChatData = dict[Any, Any]
ConversationKey = tuple[int | str, ...]
ConversationDict = dict[ConversationKey, object]

#: seconds between PTB's writes of changed chat data and conversation states
UPDATE_INTERVAL = 5.0


class SQLitePersistence(BasePersistence[dict[Any, Any], ChatData, dict[Any, Any]]):
    def __init__(
        self,
        database: Database,
        chat_data_prefixes: Iterable[str],
        *,
        update_interval: float = UPDATE_INTERVAL,
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=True, user_data=False, callback_data=False
            ),
            update_interval=update_interval,
        )
        self.database = database
        self.prefixes = tuple(chat_data_prefixes)

    @property
    def db(self) -> Any:
        return self.database.db

    # -- chat data ----------------------------------------------------------------------

    def kept(self, data: ChatData) -> ChatData:
        return {k: v for k, v in data.items() if isinstance(k, str) and k.startswith(self.prefixes)}

    async def get_chat_data(self) -> dict[int, ChatData]:
        chats: dict[int, ChatData] = {}
        for chat_id, blob in self.db.execute("SELECT chat_id, data FROM chat_state").fetchall():
            try:
                chats[int(chat_id)] = self.kept(pickle.loads(blob))
            except Exception as exc:  # a state an older version wrote: start that chat afresh
                log.warning("chat state of one chat not loaded: %s", type(exc).__name__)
        return chats

    async def update_chat_data(self, chat_id: int, data: ChatData) -> None:
        kept = self.kept(data)
        if not kept:
            await self.drop_chat_data(chat_id)
            return
        self.db.execute(
            "INSERT INTO chat_state (chat_id, data, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (chat_id) DO UPDATE SET data = excluded.data, "
            "updated_at = excluded.updated_at",
            [chat_id, pickle.dumps(kept), self.database.clock.time()],
        )

    async def drop_chat_data(self, chat_id: int) -> None:
        self.db.execute("DELETE FROM chat_state WHERE chat_id = ?", [chat_id])

    async def refresh_chat_data(self, chat_id: int, chat_data: ChatData) -> None:
        """The database is only written by this process: nothing to refresh."""

    # -- conversations --------------------------------------------------------------------

    async def get_conversations(self, name: str) -> ConversationDict:
        rows = self.db.execute(
            "SELECT key, state FROM conversations WHERE name = ?", [name]
        ).fetchall()
        return {tuple(json.loads(key)): json.loads(state) for key, state in rows}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        if new_state is None:
            self.db.execute(
                "DELETE FROM conversations WHERE name = ? AND key = ?", [name, json.dumps(key)]
            )
            return
        user_id = key[-1] if key and isinstance(key[-1], int) else None
        self.db.execute(
            "INSERT INTO conversations (name, key, user_id, state) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name, key) DO UPDATE SET state = excluded.state",
            [name, json.dumps(key), user_id, json.dumps(new_state)],
        )

    def forget_user(self, user_id: int) -> int:
        """Delete a user's conversation states (/forget); return how many there were."""
        cursor = self.db.execute("DELETE FROM conversations WHERE user_id = ?", [user_id])
        return int(cursor.rowcount)

    # -- what is never stored -------------------------------------------------------------

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        """user_data is not persisted."""

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        """bot_data holds the services and their secrets: never persisted."""

    async def update_callback_data(self, data: Any) -> None:
        """Callback data is not persisted (the bot does not use arbitrary callback data)."""

    async def drop_user_data(self, user_id: int) -> None:
        """user_data is not persisted."""

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        """user_data is not persisted."""

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        """bot_data is not persisted."""

    async def flush(self) -> None:
        """Every write went to SQLite when it was made."""
