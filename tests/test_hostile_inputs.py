"""Hostile messages through the real bot (hypothesis): random text up to Telegram's 4,096
characters, with links, IDs, commands and HTML mixed in. Never a traceback, never a
message Telegram refuses ("can't parse entities", "message is too long")."""

from __future__ import annotations

import itertools
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update

from tests.conftest import BotEnv

FRAGMENTS = [
    "https://bj.ke.com/ershoufang/101127449675.html",
    "https://www.goofish.com/item?id=712345678901",
    "https://bj.anjuke.com/prop/view/A1234567890",
    "https://m.tb.cn/h.5abcDEF",
    "101127449675",
    "AK2026011800001",
    "/watch ",
    "/watches",
    "/unwatch ²",
    "/link ",
    "/quote iPhone 14 Pro 256G 95新",
    "5%",
    "-5%",
    "<b>",
    "</i>",
    "&amp;",
    "&",
    "<a href='x'>",
    "¥",
    "250万",
    "9" * 40,
    "\u202e",
    "🏠",
    "１２３４５",
    " ",
    "\n",
]
messages = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=4096),
    st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=12).map("".join),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=40)), min_size=1, max_size=30)
    .map(" ".join)
    .map(lambda text: text[:4096]),
)
_ids = itertools.count(1)


async def process_text(env: BotEnv, text: str) -> None:
    """The user writes `text`; returns once every handler has finished with it."""
    user = env.user(5001)
    message = {
        "message_id": 100_000 + next(_ids),
        "from": user.to_api(),
        "chat": env.emulator.private_chat(user).to_api(),
        "date": int(env.clock.time()),
        "text": text,
    }
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0] if text.split() else "/"
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    update = Update.de_json({"update_id": next(_ids), "message": message}, env.application.bot)
    await env.application.process_update(update)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=messages)
async def test_random_messages_never_crash_the_bot_nor_send_what_telegram_refuses(
    bot_env: BotEnv, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    bot_env.clock.advance(5)  # quotas and per-second limits of the sandbox tiers
    with caplog.at_level(logging.ERROR):
        await process_text(bot_env, text)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert bot_env.emulator.refusals == []
