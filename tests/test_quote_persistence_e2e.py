"""The quote conversation survives a restart: PTB's ConversationHandler with the bot's
SQLite persistence (bot/persistence.py), through the real bot on the emulator."""

from __future__ import annotations

import asyncio
import json
import pickle
import sqlite3
from typing import Any

from bot.persistence import SQLitePersistence
from tests.conftest import TOKEN
from tests.test_quotes_e2e import (
    COMPLETE,
    aihuishou,
    data_of,
    labels,
    press,
    price_of,
    quote_conversation,
)


def rows(bot_env: Any, sql: str, *args: object) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(str(bot_env.settings.database_path))
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


async def settled(bot_env: Any, chat_id: int, user_id: int, *, asking: bool) -> None:
    """Wait until the handler has returned and the ConversationHandler has recorded its
    state (the reply is sent before that), then let PTB write its persistence."""
    states = quote_conversation(bot_env)._conversations
    await bot_env.emulator.wait_for(lambda: ((chat_id, user_id) in states) == asking)
    await bot_env.application.update_persistence()


async def test_a_question_is_answered_after_a_restart(bot_env):
    user = bot_env.user(6001, "en")
    [question] = await bot_env.say(user, "/quote iPhone 14 Pro")
    await bot_env.restart()
    [condition] = await press(bot_env, user, question, data_of(question, "256GB"))
    assert "What condition" in condition.visible and "iPhone 14 Pro · 256GB" in condition.visible
    await bot_env.restart()
    [function] = await bot_env.say(user, "95新")  # a typed answer after a restart too
    assert "Does everything work" in function.visible
    [card] = await press(bot_env, user, function, data_of(function, "Works perfectly"))
    assert card.visible.startswith("💱 iPhone 14 Pro · 256GB")
    [nothing] = await bot_env.say(user, "/cancel")
    assert nothing.visible == "Nothing to cancel."


async def test_a_card_button_works_after_a_restart(bot_env):
    user = bot_env.user(6002, "en")
    [card] = await bot_env.say(user, f"/quote {COMPLETE}")
    first = price_of(card)
    await bot_env.restart()
    await bot_env.press(user, card, data_of(card, "🔄 Change condition"))
    await bot_env.emulator.wait_for(lambda: "Brand new" in labels(card))
    query = await bot_env.press(user, card, data_of(card, "Brand new"))
    answer = await bot_env.emulator.wait_for_callback_answer(query)
    assert answer.text == "Quote updated."
    assert price_of(card) > first


async def test_cancel_after_a_restart_ends_the_stored_conversation(bot_env):
    user = bot_env.user(6006, "en")
    [question] = await bot_env.say(user, "/quote iPhone 14 Pro")
    await bot_env.restart()
    [answer] = await bot_env.say(user, "/cancel")
    assert answer.visible == "Quote cancelled."
    assert question.buttons == []
    await settled(bot_env, user.id, user.id, asking=False)
    assert rows(bot_env, "SELECT * FROM conversations WHERE user_id = ?", user.id) == []


async def test_only_the_quote_state_is_stored_and_no_secret(bot_env):
    user = bot_env.user(6007, "en")
    await bot_env.say(user, "/quote iPhone 14 Pro")
    await bot_env.say(user, f"/quote {COMPLETE}")
    await bot_env.say(user, "/watch https://www.goofish.com/item?id=712345678901")
    await bot_env.application.update_persistence()
    [(chat_id, text)] = rows(bot_env, "SELECT chat_id, data FROM chat_state")
    assert chat_id == user.id
    assert all(key.startswith("quote") for key in json.loads(text))  # JSON, never a pickle
    secrets = [TOKEN, bot_env.settings.aihuishou_app_secret.get_secret_value()]
    database = bot_env.settings.database_path
    files = [database, database.with_name(database.name + "-wal")]
    content = b"".join([await asyncio.to_thread(f.read_bytes) for f in files if f.exists()])
    assert not any(secret.encode() in content for secret in secrets if secret)
    persistence = bot_env.application.persistence
    assert isinstance(persistence, SQLitePersistence)
    assert await persistence.get_bot_data() == {} and await persistence.get_user_data() == {}


async def test_forget_deletes_the_user_s_conversation_state(bot_env):
    user, other = bot_env.user(6008, "en"), bot_env.user(6009, "en")
    [card] = await bot_env.say(user, f"/quote {COMPLETE}")
    [question] = await bot_env.say(user, "/quote iPhone 14 Pro")
    await bot_env.say(other, "/quote iPhone 14 Pro")
    await settled(bot_env, user.id, user.id, asking=True)
    await settled(bot_env, other.id, other.id, asking=True)
    assert rows(bot_env, "SELECT * FROM conversations WHERE user_id = ?", user.id)
    [confirm] = await bot_env.say(user, "/forget")
    [done] = await press(bot_env, user, confirm, data_of(confirm, labels(confirm)[0]))
    assert "Deleted" in done.visible
    await bot_env.application.update_persistence()
    assert rows(bot_env, "SELECT * FROM conversations WHERE user_id = ?", user.id) == []
    assert rows(bot_env, "SELECT * FROM chat_state WHERE chat_id = ?", user.id) == []
    assert rows(bot_env, "SELECT * FROM conversations WHERE user_id = ?", other.id)
    query = await bot_env.press(user, card, data_of(card, "💱 Quote again"))
    answer = await bot_env.emulator.wait_for_callback_answer(query)
    assert answer.text == "This quote is too old to change. Send /quote again."
    calls = aihuishou(bot_env)["calls"]
    [nothing] = await bot_env.say(user, "/cancel")
    assert nothing.visible == "Nothing to cancel."
    assert aihuishou(bot_env)["calls"] == calls
    query = await bot_env.press(user, question, data_of(question, "256GB"))
    answer = await bot_env.emulator.wait_for_callback_answer(query)
    assert "has ended" in (answer.text or "")


async def test_corrupt_stored_state_never_stops_the_bot_nor_traps_a_user(bot_env):
    ann, bob = bot_env.user(6010, "en"), bot_env.user(6011, "en")
    for user in (ann, bob):
        await bot_env.say(user, "/quote iPhone 14 Pro")  # a question open for each
        await settled(bot_env, user.id, user.id, asking=True)
    database = bot_env.settings.database_path

    def corrupt() -> None:
        conn = sqlite3.connect(str(database))
        with conn:
            # ann: a pickle of the wrong shape (an older version's, or planted)
            conn.execute(
                "UPDATE chat_state SET data = ? WHERE chat_id = ?",
                [pickle.dumps({f"quote:{ann.id}": {"token": "x"}}), ann.id],
            )
            # bob: JSON whose entry is not the conversation the flow keeps
            conn.execute(
                "UPDATE chat_state SET data = ? WHERE chat_id = ?",
                [json.dumps({f"quote:{bob.id}": {"token": "x"}}), bob.id],
            )
            conn.execute(
                "INSERT INTO conversations (name, key, user_id, state) "
                "VALUES ('quote', '{not json', NULL, '0')"
            )
        conn.close()

    await asyncio.to_thread(corrupt)
    await bot_env.restart()  # starts: the rows are dropped with a warning each
    for user in (ann, bob):
        [card] = await bot_env.say(user, f"/quote {COMPLETE}")
        assert card.visible.startswith("💱 iPhone 14 Pro · 256GB"), card.visible
    keys = rows(bot_env, "SELECT key FROM conversations WHERE key = '{not json'")
    assert keys == []
