"""bot/persistence.py: PTB's persistence in the SQLite file, one function at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.persistence import SQLitePersistence
from clients.clock import FakeClock
from storage.conversations import ConversationStore
from storage.database import Database


@pytest.fixture
def database(tmp_path: Path) -> Database:
    db = Database(tmp_path / "bot.sqlite3", FakeClock())
    yield db  # type: ignore[misc]
    db.close()


def persistence(database: Database) -> SQLitePersistence:
    return SQLitePersistence(ConversationStore(database), ["quote"])


async def test_conversation_states_survive_a_new_persistence_on_the_same_file(database):
    first = persistence(database)
    await first.update_conversation("quote", (-100, 7), 0)
    await first.update_conversation("quote", (8, 8), 0)
    await first.update_conversation("other", (8, 8), 3)
    again = persistence(database)
    assert await again.get_conversations("quote") == {(-100, 7): 0, (8, 8): 0}
    await again.update_conversation("quote", (8, 8), None)  # ended
    assert await persistence(database).get_conversations("quote") == {(-100, 7): 0}


async def test_only_the_chosen_chat_data_keys_are_kept(database):
    store = persistence(database)
    await store.update_chat_data(5, {"quote:5": {"field": "storage"}, "link_offer": "secret"})
    assert await persistence(database).get_chat_data() == {5: {"quote:5": {"field": "storage"}}}
    await store.update_chat_data(5, {"link_offer": "secret"})  # nothing left to keep
    assert await persistence(database).get_chat_data() == {}


async def test_chat_data_an_older_version_wrote_is_skipped(database):
    store = persistence(database)
    await store.update_chat_data(1, {"quote:1": 1})
    database.db.execute("UPDATE chat_state SET data = ? WHERE chat_id = 1", [b"not a pickle"])
    await store.update_chat_data(2, {"quote:2": 2})
    assert await persistence(database).get_chat_data() == {2: {"quote:2": 2}}


async def test_forget_user_deletes_that_user_s_conversations_in_every_chat(database):
    store = persistence(database)
    for key in ((7, 7), (-100, 7), (-100, 9)):
        await store.update_conversation("quote", key, 0)
    assert await store.store.forget_user(7) == 2
    assert await store.get_conversations("quote") == {(-100, 9): 0}


async def test_bot_data_user_data_and_callback_data_are_never_stored(database):
    store = persistence(database)
    await store.update_bot_data({"services": "has secrets"})
    await store.update_user_data(7, {"link_offer": "a name"})
    assert await store.get_bot_data() == {}
    assert await store.get_user_data() == {}
    assert await store.get_callback_data() is None
    assert not store.store_data.bot_data and not store.store_data.user_data
