"""bot/persistence.py: PTB's persistence in the SQLite file, one function at a time."""

from __future__ import annotations

import json
import logging
import pickle
from decimal import Decimal
from pathlib import Path

import pytest

from bot.persistence import SQLitePersistence
from clients.models import QuoteRequest
from clock import FakeClock
from devices.flow import Pending
from devices.records import ParsedDevice
from handlers import quotes
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


async def test_a_chat_with_nothing_kept_and_no_row_costs_no_database_write(database, monkeypatch):
    """PTB hands every chat it saw an update from to the persistence; a card's chat keeps
    nothing, and deleting its absent row was a write per chat (bench/chat.py)."""
    store = persistence(database)
    await store.update_chat_data(5, {"quote:5": 1})  # a row before start-up
    store = persistence(database)
    assert await store.get_chat_data() == {5: {"quote:5": 1}}  # start-up reads the rows
    writes: list[str] = []
    write = database.write

    async def counting(sql, params=()):  # type: ignore[no-untyped-def]
        writes.append(sql.split()[0])
        return await write(sql, params)

    monkeypatch.setattr(database, "write", counting)
    for chat_id in (6, 7, 8):
        await store.update_chat_data(chat_id, {"link_offer": "not kept"})
    assert writes == []
    await store.update_chat_data(5, {})  # the row read at start-up: deleted
    await store.update_chat_data(9, {"quote:9": 2})  # a row written since: deleted when emptied
    await store.update_chat_data(9, {})
    await store.drop_chat_data(9)  # already gone: nothing to do
    assert writes == ["DELETE", "INSERT", "DELETE"]
    assert await persistence(database).get_chat_data() == {}


async def test_chat_data_an_older_version_wrote_is_skipped(database):
    store = persistence(database)
    await store.update_chat_data(1, {"quote:1": 1})
    database.db.execute("UPDATE chat_state SET data = ? WHERE chat_id = 1", [b"not a pickle"])
    await store.update_chat_data(2, {"quote:2": 2})
    assert await persistence(database).get_chat_data() == {2: {"quote:2": 2}}


class _Planted:
    """A pickle that runs code when loaded (here: creates a file)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (open, (str(self.marker), "w"))


async def test_a_foreign_pickle_is_never_loaded_and_its_row_is_dropped_with_a_warning(
    database, tmp_path, caplog
):
    marker = tmp_path / "pickle-ran"
    database.db.execute(
        "INSERT INTO chat_state (chat_id, data, updated_at) VALUES (4242, ?, 0)",
        [pickle.dumps({"quote:4242": _Planted(marker)})],
    )
    with caplog.at_level(logging.WARNING):
        assert await persistence(database).get_chat_data() == {}
    assert not marker.exists()
    assert "chat_state row of chat 4242 dropped" in caplog.text
    assert database.db.execute("SELECT COUNT(*) FROM chat_state").fetchone() == (0,)


def quote_state() -> dict[str, object]:
    """The quote flow's chat data as it keeps it: an open question and a card."""
    device = ParsedDevice(
        device_type="手机",
        brand="苹果",
        model="iPhone 14 Pro",
        ambiguous={"storage": ("128GB", "256GB")},
    )
    pending = Pending(device, asking=Decimal("5299.00"))
    draft = quotes.QuoteDraft(
        "tok123",
        "zh",
        1_790_000_000.5,
        pending=[pending, Pending(device)],
        options=("128GB", "256GB"),
        question_id=77,
        question_text="<b>容量?</b>",
    )
    card = quotes.CardState(
        QuoteRequest("手机", "苹果", "iPhone 14 Pro", "256GB", "九成新"), 9, Decimal("4000")
    )
    return {"quote:9": draft, quotes.CARDS_KEY: {"c1": card}}


async def test_the_quote_flows_state_is_stored_as_json_and_comes_back_equal(database):
    store = persistence(database)
    await store.update_chat_data(9, quote_state())
    (text,) = database.db.execute("SELECT data FROM chat_state WHERE chat_id = 9").fetchone()
    assert isinstance(text, str) and json.loads(text)  # JSON text, not a pickle
    assert await persistence(database).get_chat_data() == {9: quote_state()}


@pytest.mark.parametrize(
    "stored",
    [
        "{not json",
        "[1, 2, 3]",  # not an object
        '{"quote:1": {"$dataclass": "os:system", "fields": {}}}',  # not ours
        '{"quote:1": {"$dataclass": "builtins:dict", "fields": {}}}',
        '{"quote:1": {"$dataclass": "handlers.quotes:QuoteDraft", "fields": {"token": 5}}}',
        '{"quote:1": {"$dataclass": "handlers.quotes:QuoteDraft", "fields": {"x": 1}}}',
        '{"quote:1": {"$dataclass": "handlers.quotes:QuoteDraft", "fields": {}}}',
        '{"quote:1": {"$decimal": "lots"}}',
        '{"quote:1": {"$enum": "clients.models:ListingStatus", "value": "nope"}}',
        '{"quote:1": {"$what": 1}}',
        pytest.param("[" * 100_000 + "]" * 100_000, id="nested-100000-deep"),
    ],
)
async def test_a_corrupt_chat_state_row_is_dropped_with_a_warning_naming_it(
    database, caplog, stored
):
    store = persistence(database)
    await store.update_chat_data(2, {"quote:2": 2})
    database.db.execute(
        "INSERT INTO chat_state (chat_id, data, updated_at) VALUES (1, ?, 0)", [stored]
    )
    with caplog.at_level(logging.WARNING):
        assert await persistence(database).get_chat_data() == {2: {"quote:2": 2}}
    assert "chat_state row of chat 1 dropped" in caplog.text
    assert database.db.execute("SELECT chat_id FROM chat_state").fetchall() == [(2,)]


async def test_a_kept_entry_of_the_wrong_shape_is_dropped_and_the_rest_kept(database, caplog):
    shapes = {"quote:": quotes.QuoteDraft, quotes.CARDS_KEY: dict[str, quotes.CardState]}
    state = quote_state()
    await persistence(database).update_chat_data(9, {**state, "quote:5": {"field": "storage"}})
    shaped = SQLitePersistence(ConversationStore(database), ["quote"], chat_data_shapes=shapes)
    with caplog.at_level(logging.WARNING):
        assert await shaped.get_chat_data() == {9: state}
    assert "chat_state of chat 9: entry 'quote:5' dropped" in caplog.text


@pytest.mark.parametrize(
    ("key", "state"),
    [
        ("{bad", "0"),
        ('{"a": 1}', "0"),  # a key is a list of ids
        ("[1, [2]]", "0"),
        ("[1, 1]", "{bad"),
        ("[1, 1]", '{"state": 0}'),  # a state is a number or a name
        ("[1, 1]", "true"),
    ],
)
async def test_a_corrupt_conversation_row_is_dropped_with_a_warning_naming_it(
    database, caplog, key, state
):
    store = persistence(database)
    await store.update_conversation("quote", (7, 7), 0)
    database.db.execute(
        "INSERT INTO conversations (name, key, user_id, state) VALUES ('quote', ?, 1, ?)",
        [key, state],
    )
    with caplog.at_level(logging.WARNING):
        assert await persistence(database).get_conversations("quote") == {(7, 7): 0}
    assert "conversations row quote" in caplog.text and "dropped" in caplog.text
    assert database.db.execute("SELECT key FROM conversations").fetchall() == [("[7, 7]",)]


async def test_a_conversation_state_the_flow_no_longer_has_is_dropped_with_a_warning(
    database, caplog
):
    store = persistence(database)
    await store.update_conversation("quote", (7, 7), 0)  # the previous version's ASKING
    await store.update_conversation("quote", (8, 8), "storage")
    await store.update_conversation("other", (9, 9), 0)
    shaped = SQLitePersistence(
        ConversationStore(database), ["quote"], conversation_states={"quote": quotes.QUESTIONS}
    )
    with caplog.at_level(logging.WARNING):
        assert await shaped.get_conversations("quote") == {(8, 8): "storage"}
        assert await shaped.get_conversations("other") == {(9, 9): 0}  # no states named
    assert "conversations row quote [7, 7] dropped: no state 0" in caplog.text
    keys = database.db.execute("SELECT name, key FROM conversations ORDER BY key").fetchall()
    assert keys == [("quote", "[8, 8]"), ("other", "[9, 9]")]


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


async def test_state_written_before_the_parser_moved_is_read_as_the_new_module(database):
    """Issue 20 moved the device parser from `clients.devices` to `devices.parser`: a
    question stored by the version before the move still comes back, not dropped."""
    store = persistence(database)
    await store.update_chat_data(9, quote_state())
    (text,) = database.db.execute("SELECT data FROM chat_state WHERE chat_id = 9").fetchone()
    assert '"devices.records:ParsedDevice"' in text
    old = text.replace('"devices.records:', '"clients.devices:').replace(
        '"devices.flow:', '"clients.quote_flow:'
    )
    assert old != text
    database.db.execute("UPDATE chat_state SET data = ? WHERE chat_id = 9", [old])
    assert await persistence(database).get_chat_data() == {9: quote_state()}


async def test_state_written_when_the_parsed_device_lived_in_the_parser_is_read(database):
    """Issue 19 point 5 moved `ParsedDevice` from `devices.parser` to `devices.records`
    (the parser is imported on the first quote): a question stored before still comes
    back, not dropped."""
    store = persistence(database)
    await store.update_chat_data(9, quote_state())
    (text,) = database.db.execute("SELECT data FROM chat_state WHERE chat_id = 9").fetchone()
    old = text.replace('"devices.records:ParsedDevice"', '"devices.parser:ParsedDevice"')
    assert old != text
    database.db.execute("UPDATE chat_state SET data = ? WHERE chat_id = 9", [old])
    assert await persistence(database).get_chat_data() == {9: quote_state()}
