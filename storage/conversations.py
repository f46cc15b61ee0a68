"""Conversation state in the bot's SQLite file (tables `conversations` and `chat_state`).

The rows behind python-telegram-bot's persistence (`bot/persistence.py`): the state of
every persistent ConversationHandler per key, and the part of a chat's data the bot
keeps (the quote flow's open question and its cards). Both are JSON: chat data through
`storage.state_json` (plain values and the project's own dataclasses, never a pickle,
which would run code when loaded). Only this process writes them.

A row the bot would not have written (bad JSON, the wrong shape, a pickle an older
version stored) is dropped on loading with a warning naming it, and deleted: start-up
never fails on it, and that chat or conversation simply starts afresh.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from typing import Any

from storage.database import Database
from storage.state_json import StateError, decode, encode

log = logging.getLogger(__name__)

ChatData = dict[Any, Any]
ConversationKey = tuple[int | str, ...]
ConversationDict = dict[ConversationKey, object]


class ConversationStore:
    """Reads on the database's reader thread, writes on its writer thread (in the order
    PTB makes them, so a state never overtakes an older one)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        #: the chats that have a `chat_state` row, once `chat_data` has read them all (only
        #: this store writes the table): python-telegram-bot hands every chat it saw an
        #: update from to the persistence, most with nothing kept, and deleting a row that
        #: is not there was a database write per chat
        self._rows: set[int] | None = None

    # -- chat data ----------------------------------------------------------------------

    async def chat_data(self) -> dict[int, ChatData]:
        rows = await self.database.fetchall("SELECT chat_id, data FROM chat_state")
        self._rows = {int(chat_id) for chat_id, _text in rows}
        chats: dict[int, ChatData] = {}
        dropped: list[int] = []
        for chat_id, text in rows:
            try:
                data = _chat_data(text)
            except StateError as exc:
                log.warning("chat_state row of chat %s dropped: %s", chat_id, exc)
                dropped.append(int(chat_id))
                continue
            chats[int(chat_id)] = data
        for chat_id in dropped:
            await self._delete("DELETE FROM chat_state WHERE chat_id = ?", [chat_id])
            self._rows.discard(chat_id)
        return chats

    async def save_chat_data(self, chat_id: int, data: ChatData) -> None:
        text, now = json.dumps(encode(data), ensure_ascii=False), self.database.clock.time()
        await self.database.write(
            "INSERT INTO chat_state (chat_id, data, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (chat_id) DO UPDATE SET data = excluded.data, "
            "updated_at = excluded.updated_at",
            [chat_id, text, now],
        )
        if self._rows is not None:
            self._rows.add(chat_id)

    async def drop_chat_data(self, chat_id: int) -> None:
        if self._rows is not None:
            if chat_id not in self._rows:
                return  # no row to delete
            self._rows.discard(chat_id)
        await self.database.write("DELETE FROM chat_state WHERE chat_id = ?", [chat_id])

    # -- conversations --------------------------------------------------------------------

    async def conversations(self, name: str) -> ConversationDict:
        rows = await self.database.fetchall(
            "SELECT key, state FROM conversations WHERE name = ?", [name]
        )
        states: ConversationDict = {}
        for key, state in rows:
            try:
                states[_conversation_key(key)] = _conversation_state(state)
            except StateError as exc:
                log.warning("conversations row %s %s dropped: %s", name, _shown(key), exc)
                await self._delete(
                    "DELETE FROM conversations WHERE name = ? AND key = ?", [name, key]
                )
        return states

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

    async def drop_conversation(self, name: str, key: ConversationKey) -> None:
        """Delete a state the bot no longer has (an older version's); a busy file only
        postpones it to the next start."""
        await self._delete(
            "DELETE FROM conversations WHERE name = ? AND key = ?", [name, json.dumps(list(key))]
        )

    async def forget_user(self, user_id: int) -> int:
        """Delete a user's conversation states (/forget); return how many there were."""
        return await self.database.write("DELETE FROM conversations WHERE user_id = ?", [user_id])

    async def _delete(self, sql: str, params: list[object]) -> None:
        """Delete a dropped row; a busy file only postpones it to the next start."""
        try:
            await self.database.write(sql, params)
        except sqlite3.Error as exc:
            log.warning("dropped row not deleted yet: %s", exc)


def _json(text: object) -> Any:
    if not isinstance(text, str):  # a BLOB: the pickle an older version wrote
        raise StateError("not JSON text (an older pickled state?)")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise StateError("not valid JSON") from None


def _chat_data(text: object) -> ChatData:
    data = decode(_json(text))
    if not isinstance(data, dict):
        raise StateError("chat data is not an object")
    return data


def _conversation_key(text: object) -> ConversationKey:
    key = _json(text)
    if not isinstance(key, list) or not all(
        isinstance(part, int | str) and not isinstance(part, bool) for part in key
    ):
        raise StateError("key is not a list of ids")
    return tuple(key)


def _conversation_state(text: object) -> object:
    state = _json(text)
    if not isinstance(state, int | str) or isinstance(state, bool):
        raise StateError("state is not a number or a name")
    return state


def _shown(key: object) -> str:
    text = str(key)
    return text if len(text) <= 60 else text[:60] + "..."
