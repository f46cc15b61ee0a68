"""Telegram's limits through the real bot: the Bot API emulator enforces them and the bot's
own limiter keeps them, both on one `SettledClock` (tests/conftest.py), so a pacing wait
costs no real time.

- issue 18.7: the typing action shown before a card is no message, so it spends none of
  a group's 20 a minute: 40 members posting links get their cards at the group's rate;
- issue 18.5: a reply that meets one Bot API 5xx or 429 is sent again instead of the
  user getting "Sorry".
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers.texts import t
from sandbox.botapi import FloodRules
from tests.conftest import BotEnv, start_bot_env

ITEM_LINK = "https://www.goofish.com/item?id=712345678901"
SORRY = t("en", "error_internal")


@pytest.fixture(params=["sliding", "even"])
async def paced_env(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[BotEnv]:
    async for env in start_bot_env(tmp_path, telegram_limits=FloodRules(counting=request.param)):
        yield env


async def test_forty_members_posting_links_in_a_group_get_cards_at_the_groups_full_rate(
    paced_env: BotEnv,
) -> None:
    env = paced_env
    items = env.catalogue("xianyu").add_copies(40)  # none cached: each card is fetched
    group = env.emulator.group_chat(-100800, "flat hunters", supergroup=True)
    for n, item in enumerate(items):
        member = env.user(7000 + n)
        await env.emulator.send_text(member, group, f"https://www.goofish.com/item?id={item}")
    await env.emulator.wait_for_messages(group.id, len(items), timeout=60)

    cards = env.messages(group.id)
    assert len(cards) == 40 and all("iPhone" in card.visible for card in cards)
    assert env.emulator.flood_answers == []  # Telegram never had to say "too many"
    typing = [a for a in env.emulator.chat_actions if a.chat_id == group.id]
    assert len(typing) >= 20  # the typing action was shown while cards were fetched
    sent = env.emulator.delivered[group.id]
    per_minute = (len(sent) - 1) / (max(sent) - min(sent)) * 60
    assert per_minute >= 18  # ~19.4: a typing action costs none of the group's 20


async def test_a_card_that_meets_one_server_error_still_arrives(paced_env: BotEnv) -> None:
    env = paced_env
    user = env.user(7101)
    for method in ("sendMessage", "sendPhoto"):
        env.emulator.fail_next(method, 500, "Internal Server Error", chat_id=user.id)
        env.emulator.fail_next(
            method, 502, "", chat_id=user.id, body="<html><h1>502 Bad Gateway</h1></html>"
        )
    [card] = await env.say(user, ITEM_LINK, timeout=30)
    assert "iPhone" in card.visible
    assert all(SORRY not in message.visible for message in env.messages(user.id))


async def test_a_reply_that_meets_a_flood_answer_waits_and_arrives(paced_env: BotEnv) -> None:
    env = paced_env
    user = env.user(7102)
    env.emulator.fail_next(
        "sendMessage", 429, "Too Many Requests: retry after 7", 7, chat_id=user.id
    )
    asked = env.clock.monotonic()
    [answer] = await env.say(user, "/help", timeout=30)
    assert answer.visible and SORRY not in answer.visible
    assert env.emulator.delivered[user.id][-1] >= asked + 7  # retry_after obeyed
    assert env.emulator.flood_answers == [(user.id, 7)]
