"""python-telegram-bot persistence in the bot's SQLite file: conversations survive a restart.

`SQLitePersistence` keeps two things (through `storage.conversations`, tables
`conversations` and `chat_state`) and nothing else:

- the state of every persistent `ConversationHandler`, per key;
- the entries of `chat_data` whose keys start with one of `chat_data_prefixes` (the
  quote flow's open question and its cards). Everything else in `chat_data`, all of
  `user_data` and `bot_data` (which holds the services and their secrets) and callback
  data are never written.

Both are stored as JSON (`storage.state_json`), never pickled. On loading, a row that
is not what the bot writes is dropped with a warning naming it (`storage.conversations`),
and so is a kept entry whose value is not of the type `chat_data_shapes` gives for its
key (the first prefix that matches), and a conversation state that is not one of those
`conversation_states` names for its conversation: start-up never fails on one, and the user it
belonged to simply starts that conversation afresh instead of meeting an error in it.

Writes go to SQLite on the database's writer thread and are awaited there (never on
the event loop: PTB's persistence job waits, no chat does), so `flush` has nothing left
to do. A write the database refuses (locked past the busy timeout, full) goes to the
error handler; that chat's or conversation's state is written at its next change.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from telegram.ext import BasePersistence, ConversationHandler, PersistenceInput

from storage.conversations import ChatData, ConversationDict, ConversationKey, ConversationStore
from storage.state_json import fits

log = logging.getLogger(__name__)

#: seconds between PTB's writes of changed chat data and conversation states
UPDATE_INTERVAL = 5.0


class SQLitePersistence(BasePersistence[dict[Any, Any], ChatData, dict[Any, Any]]):
    def __init__(
        self,
        store: ConversationStore,
        chat_data_prefixes: Iterable[str],
        *,
        chat_data_shapes: Mapping[str, Any] | None = None,
        conversation_states: Mapping[str, Collection[object]] | None = None,
        update_interval: float = UPDATE_INTERVAL,
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=True, user_data=False, callback_data=False
            ),
            update_interval=update_interval,
        )
        self.store = store
        self.prefixes = tuple(chat_data_prefixes)
        #: key prefix -> the type hint a loaded value must fit (keys not named: any value)
        self.shapes = dict(chat_data_shapes or {})
        #: conversation name -> the states it has (conversations not named: any state)
        self.states = dict(conversation_states or {})

    # -- chat data ----------------------------------------------------------------------

    def kept(self, data: ChatData) -> ChatData:
        return {k: v for k, v in data.items() if isinstance(k, str) and k.startswith(self.prefixes)}

    async def get_chat_data(self) -> dict[int, ChatData]:
        return {
            chat_id: self.well_formed(chat_id, self.kept(data))
            for chat_id, data in (await self.store.chat_data()).items()
        }

    def well_formed(self, chat_id: int, data: ChatData) -> ChatData:
        """`data` without the entries whose value does not fit their key's shape."""
        kept = {}
        for key, value in data.items():
            shape = next((s for p, s in self.shapes.items() if key.startswith(p)), Any)
            if fits(value, shape):
                kept[key] = value
            else:
                log.warning("chat_state of chat %s: entry %r dropped (wrong shape)", chat_id, key)
        return kept

    async def update_chat_data(self, chat_id: int, data: ChatData) -> None:
        kept = self.kept(data)
        if kept:
            await self.store.save_chat_data(chat_id, kept)
        else:
            await self.store.drop_chat_data(chat_id)

    async def drop_chat_data(self, chat_id: int) -> None:
        await self.store.drop_chat_data(chat_id)

    async def refresh_chat_data(self, chat_id: int, chat_data: ChatData) -> None:
        """The database is only written by this process: nothing to refresh."""

    # -- conversations --------------------------------------------------------------------

    async def get_conversations(self, name: str) -> ConversationDict:
        """The stored states; one its conversation does not have (an older version's) is
        dropped with a warning and deleted, so that user starts afresh."""
        stored = await self.store.conversations(name)
        known = self.states.get(name)
        if known is None:
            return stored
        kept: ConversationDict = {}
        for key, state in stored.items():
            if state in known or state == ConversationHandler.END:
                kept[key] = state
                continue
            log.warning("conversations row %s %s dropped: no state %r", name, list(key), state)
            await self.store.drop_conversation(name, key)
        return kept

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        await self.store.save_conversation(name, key, new_state)

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
