"""The quote flow's ConversationHandler, state by state (issue 20 point 1), through the real
bot on the emulator: one state per question, each reached and left as `states` says;
only the messages of a user with a question open reach it; /cancel and the timeout end
it; a restart resumes at the same question; a link pasted mid-quote gets its card."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, MessageHandler

from devices.flow import QUESTIONS
from handlers.quotes import CONVERSATION_TIMEOUT
from sandbox.botapi import Chat, User
from tests.test_quotes_e2e import data_of, labels, press, quote_conversation

XIANYU_LINK = "https://www.goofish.com/item?id=712345678901"


def state_of(bot_env: Any, user: User, chat: Chat | None = None) -> object:
    """The quote conversation's state for `user` in `chat` (None: no conversation)."""
    key = (chat.id if chat is not None else user.id, user.id)
    return quote_conversation(bot_env)._conversations.get(key)


def watch_updates(bot_env: Any) -> None:
    """Let `reaches` wake when the bot has finished an update (call again after a restart)."""
    processor = bot_env.application.update_processor
    if getattr(processor, "finished", None) is not None:
        return
    finished = asyncio.Condition()
    original = processor.process_update

    async def process_update(update: object, coroutine: Any) -> None:
        try:
            await original(update, coroutine)
        finally:
            async with finished:
                finished.notify_all()

    processor.process_update = process_update
    processor.finished = finished


async def reaches(bot_env: Any, user: User, state: object, chat: Chat | None = None) -> None:
    """Wait until the conversation is in `state`: the handler returns after its reply, and
    the ConversationHandler records the state it returned when the update is finished."""
    finished = bot_env.application.update_processor.finished
    async with finished, asyncio.timeout(5):
        await finished.wait_for(lambda: state_of(bot_env, user, chat) == state)


def text_update(bot_env: Any, user: User, text: str, chat: Chat | None = None) -> Update:
    chat = chat or bot_env.emulator.private_chat(user)
    message = {
        "message_id": 10**6,
        "date": 0,
        "chat": chat.to_api(),
        "from": user.to_api(),
        "text": text,
    }
    return Update.de_json({"update_id": 10**6, "message": message}, bot_env.application.bot)


def reads(bot_env: Any, user: User, text: str, chat: Chat | None = None) -> bool:
    """Whether the quote conversation would take this message."""
    update = text_update(bot_env, user, text, chat)
    return quote_conversation(bot_env).check_update(update) is not None


def rows(bot_env: Any, sql: str, *args: object) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(str(bot_env.settings.database_path))
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


# -- the map ------------------------------------------------------------------------------


async def test_the_states_map_has_one_state_per_question_and_the_timeout(bot_env):
    watch_updates(bot_env)
    conversation = quote_conversation(bot_env)
    assert set(conversation.states) == {*QUESTIONS, ConversationHandler.TIMEOUT}
    assert {"brand", "model", "storage", "ram", "condition", "function_status"} <= set(QUESTIONS)
    for question in QUESTIONS:  # a question is answered by its buttons or by typing
        kinds = [type(h) for h in conversation.states[question]]
        assert kinds == [CallbackQueryHandler, MessageHandler], question
    commands = [h.commands for h in conversation.entry_points if isinstance(h, CommandHandler)]
    assert commands == [frozenset({"quote"})]
    fallbacks = [h.commands for h in conversation.fallbacks if isinstance(h, CommandHandler)]
    assert frozenset({"cancel"}) in fallbacks
    assert conversation.conversation_timeout == CONVERSATION_TIMEOUT
    assert conversation.persistent and conversation.name == "quote"


async def test_each_question_is_a_state_reached_and_left_as_the_map_says(bot_env):
    watch_updates(bot_env)
    user = bot_env.user(7001, "en")
    [question] = await bot_env.say(user, "/quote")
    assert "Which brand" in question.visible
    await reaches(bot_env, user, "brand")
    [question] = await press(bot_env, user, question, data_of(question, "苹果"))
    assert "Which model" in question.visible
    await reaches(bot_env, user, "model")
    [question] = await bot_env.say(user, "iPhone 14 Pro")  # typed
    assert "How much storage" in question.visible
    await reaches(bot_env, user, "storage")
    [question] = await press(bot_env, user, question, data_of(question, "256GB"))
    assert "What condition" in question.visible
    await reaches(bot_env, user, "condition")
    [question] = await bot_env.say(user, "95新")
    assert "Does everything work" in question.visible
    await reaches(bot_env, user, "function_status")
    [card] = await press(bot_env, user, question, data_of(question, "Works perfectly"))
    assert card.visible.startswith("💱 iPhone 14 Pro · 256GB")
    await reaches(bot_env, user, None)  # the last card ends the conversation


async def test_a_laptop_goes_through_the_memory_state(bot_env):
    watch_updates(bot_env)
    user = bot_env.user(7002, "en")
    [question] = await bot_env.say(user, "/quote MacBook Air M2 512G")
    assert "How much memory (RAM)" in question.visible
    assert labels(question)[:3] == ["8GB", "16GB", "24GB"]
    await reaches(bot_env, user, "ram")
    [question] = await bot_env.say(user, "16G")
    assert "What condition" in question.visible
    await reaches(bot_env, user, "condition")
    [card] = await bot_env.say(user, "99新 功能正常")  # answers the next question too
    assert card.visible.startswith("💱 MacBook Air M2 · 512GB · 16GB")
    await reaches(bot_env, user, None)


async def test_a_page_button_and_text_that_answers_nothing_stay_in_the_question(bot_env):
    watch_updates(bot_env)
    user = bot_env.user(7003, "en")
    [question] = await bot_env.say(user, "/quote 苹果")
    await bot_env.press(user, question, data_of(question, "▶"))
    await bot_env.emulator.wait_for(lambda: "◀" in labels(question))
    [hint] = await bot_env.say(user, "hmm not sure")
    assert "didn't understand" in hint.visible
    assert state_of(bot_env, user) == "model"
    chosen = labels(question)[0]  # the first model of the second page
    assert chosen == "iPhone 15 Pro"
    [question] = await press(bot_env, user, question, data_of(question, chosen))
    assert "How much storage" in question.visible and "iPhone 15 Pro" in question.visible
    await reaches(bot_env, user, "storage")


# -- what reaches the conversation ---------------------------------------------------------


async def test_without_an_open_question_plain_text_is_not_read_by_the_conversation(bot_env):
    watch_updates(bot_env)
    user = bot_env.user(7010, "en")
    assert not reads(bot_env, user, "hello")
    assert not reads(bot_env, user, "256")
    assert reads(bot_env, user, "华为Mate60 Pro 12+512 九成新")  # a description starts one
    [hint] = await bot_env.say(user, "256")
    assert "I found no listing" in hint.visible
    assert state_of(bot_env, user) is None


async def test_only_the_asker_s_messages_reach_their_open_question(bot_env):
    watch_updates(bot_env)
    group = bot_env.emulator.group_chat(-100801, "Traders")
    alice, bob = bot_env.user(7011, "en"), bot_env.user(7012, "en")
    [question] = await bot_env.say(alice, "/quote iPhone 14 Pro", chat=group)
    await reaches(bot_env, alice, "storage", group)
    assert reads(bot_env, alice, "256", group)
    assert not reads(bot_env, bob, "256", group)  # Bob has no question open
    assert not reads(bot_env, alice, "256")  # nor has Alice in private
    before = len(bot_env.messages(group.id))
    await bot_env.emulator.send_text(bob, group, "256")
    [card] = await bot_env.say(bob, XIANYU_LINK, chat=group)  # Bob's next message is answered
    assert len(bot_env.messages(group.id)) == before + 1 and "iPhone 14 Pro" in card.visible
    assert question.buttons and state_of(bot_env, alice, group) == "storage"
    assert state_of(bot_env, bob, group) is None


async def test_a_link_pasted_mid_quote_gets_its_card_and_the_question_stays_open(bot_env):
    watch_updates(bot_env)
    user = bot_env.user(7013, "en")
    [question] = await bot_env.say(user, "/quote iPhone 14 Pro")
    await reaches(bot_env, user, "storage")
    [card] = await bot_env.say(user, XIANYU_LINK)
    assert "¥5,299" in card.visible and "💱 Trade-in value" in labels(card)
    assert question.buttons and not question.edits
    assert state_of(bot_env, user) == "storage"
    [condition] = await bot_env.say(user, "256")  # the question still takes its answer
    assert "What condition" in condition.visible and "iPhone 14 Pro · 256GB" in condition.visible
    await reaches(bot_env, user, "condition")


async def test_the_trade_in_button_mid_quote_starts_over_with_the_listings_device(bot_env):
    watch_updates(bot_env)
    user = bot_env.user(7014, "en")
    [question] = await bot_env.say(user, "/quote Mate 60 Pro")
    [card] = await bot_env.say(user, XIANYU_LINK)
    [tradein] = await press(bot_env, user, card, data_of(card, "💱 Trade-in value"))
    assert "Does everything work" in tradein.visible and "iPhone 14 Pro" in tradein.visible
    assert question.buttons == [] and question.visible.endswith("✖ Closed: a new quote started.")
    await reaches(bot_env, user, "function_status")


# -- ending it ------------------------------------------------------------------------------


async def test_cancel_the_cancel_button_and_the_timeout_each_end_the_conversation(bot_env):
    watch_updates(bot_env)
    user = bot_env.user(7020, "en")
    await bot_env.say(user, "/quote iPhone 14 Pro")
    await reaches(bot_env, user, "storage")
    [answer] = await bot_env.say(user, "/cancel")
    assert answer.visible == "Quote cancelled."
    await reaches(bot_env, user, None)

    [question] = await bot_env.say(user, "/quote iPhone 14 Pro")
    await reaches(bot_env, user, "storage")
    await bot_env.press(user, question, data_of(question, "✖ Cancel"))
    await reaches(bot_env, user, None)

    [question] = await bot_env.say(user, "/quote iPhone 14 Pro")
    await reaches(bot_env, user, "storage")
    conversation = quote_conversation(bot_env)
    await bot_env.emulator.wait_for(lambda: (user.id, user.id) in conversation.timeout_jobs)
    await conversation.timeout_jobs[(user.id, user.id)].run(bot_env.application)
    assert "No answer for 10 minutes" in question.visible
    assert state_of(bot_env, user) is None
    await bot_env.application.update_persistence()
    assert rows(bot_env, "SELECT * FROM conversations WHERE user_id = ?", user.id) == []
    [data] = rows(bot_env, "SELECT data FROM chat_state WHERE chat_id = ?", user.id) or [("{}",)]
    assert f"quote:{user.id}" not in json.loads(data[0])  # the draft went with it


# -- restarts -------------------------------------------------------------------------------


async def test_a_restart_mid_question_resumes_at_the_same_question(bot_env):
    watch_updates(bot_env)
    user = bot_env.user(7030, "en")
    [question] = await bot_env.say(user, "/quote iPhone 14 Pro 256G")
    await reaches(bot_env, user, "condition")
    await bot_env.application.update_persistence()
    assert rows(bot_env, "SELECT state FROM conversations WHERE user_id = ?", user.id) == [
        ('"condition"',)
    ]
    await bot_env.restart()
    watch_updates(bot_env)
    assert state_of(bot_env, user) == "condition"
    [question] = await press(bot_env, user, question, data_of(question, "Good (90%)"))
    assert "Does everything work" in question.visible
    await reaches(bot_env, user, "function_status")
    await bot_env.application.update_persistence()
    await bot_env.restart()
    watch_updates(bot_env)
    assert state_of(bot_env, user) == "function_status"
    [card] = await bot_env.say(user, "正常")
    assert card.visible.startswith("💱 iPhone 14 Pro · 256GB")
    await reaches(bot_env, user, None)


async def test_a_question_stored_by_the_previous_version_is_dropped_and_traps_no_one(
    bot_env, caplog
):
    watch_updates(bot_env)
    user = bot_env.user(7031, "en")
    [question] = await bot_env.say(user, "/quote iPhone 14 Pro")
    await reaches(bot_env, user, "storage")
    await bot_env.application.update_persistence()
    old = {  # the previous version's draft (one ASKING state, the question in the data)
        f"quote:{user.id}": {
            "$dataclass": "handlers.quotes:Conversation",
            "fields": {"token": "old1", "lang": "en", "touched": 0.0, "field": "storage"},
        }
    }

    def downgrade() -> None:
        conn = sqlite3.connect(str(bot_env.settings.database_path))
        with conn:
            conn.execute(
                "UPDATE chat_state SET data = ? WHERE chat_id = ?", [json.dumps(old), user.id]
            )
            conn.execute("UPDATE conversations SET state = '0' WHERE user_id = ?", [user.id])
        conn.close()

    await asyncio.to_thread(downgrade)
    with caplog.at_level(logging.WARNING):
        await bot_env.restart()
    watch_updates(bot_env)
    assert f"chat_state row of chat {user.id} dropped" in caplog.text
    assert f"conversations row quote [{user.id}, {user.id}] dropped: no state 0" in caplog.text
    assert state_of(bot_env, user) is None
    assert rows(bot_env, "SELECT * FROM conversations WHERE user_id = ?", user.id) == []
    query = await bot_env.press(user, question, data_of(question, "256GB"))
    answer = await bot_env.emulator.wait_for_callback_answer(query)
    assert "has ended" in (answer.text or "")
    [hint] = await bot_env.say(user, "256")  # an ordinary message again
    assert "I found no listing" in hint.visible
    [question] = await bot_env.say(user, "/quote iPhone 14 Pro")
    assert "How much storage" in question.visible
