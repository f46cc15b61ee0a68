"""Inline mode through the emulator: `@bot <link>` offers the chat's card to share."""

from __future__ import annotations

from clients.models import ListingRef
from gateway.budget import SYSTEM
from handlers.cards import card_for
from tests.conftest import BotEnv

XIANYU_ITEM = "712345678901"
XIANYU_LINK = f"https://www.goofish.com/item?id={XIANYU_ITEM}"


async def test_a_link_typed_inline_offers_the_card_with_its_link_button(bot_env: BotEnv) -> None:
    ann = bot_env.user(1)
    query_id = await bot_env.emulator.send_inline_query(ann, f"看看 {XIANYU_LINK}", "group")
    answer = await bot_env.emulator.wait_for_inline_answer(query_id)
    (result,) = answer.results
    assert result["id"] == f"xianyu:{XIANYU_ITEM}"
    assert "iPhone 14 Pro" in result["title"] and "¥" in result["description"]
    (shared,) = answer.texts  # what choosing the result posts: the card, HTML parsed
    assert "sandbox" in shared.text and "iPhone 14 Pro" in shared.text
    buttons = [b for row in result["reply_markup"]["inline_keyboard"] for b in row]
    # the link, and the one "is it a good deal?" button an item has: nothing that acts on a chat
    assert [b["text"] for b in buttons] == ["🔗 Open on Xianyu", "💡 Fair price?"]
    assert buttons[0]["url"].startswith("https://www.goofish.com/item?id=")
    assert answer.cache_time == 300 and answer.button is None


async def test_the_inline_card_is_the_chat_card_from_the_gateways_cache(bot_env: BotEnv) -> None:
    ann = bot_env.user(1, "zh-hans")
    (card,) = await bot_env.say(ann, XIANYU_LINK)
    calls = bot_env.services.gateway.stats()["xianyu"]["calls"]
    query_id = await bot_env.emulator.send_inline_query(ann, XIANYU_LINK)
    answer = await bot_env.emulator.wait_for_inline_answer(query_id)
    assert bot_env.services.gateway.stats()["xianyu"]["calls"] == calls  # served from cache
    (result,) = answer.results
    listing = await bot_env.services.gateway.listing(
        ListingRef("xianyu", XIANYU_ITEM), payer=SYSTEM
    )
    expected = card_for(listing, "zh", sandbox=True).text
    assert result["input_message_content"]["message_text"] == expected
    assert answer.texts[0].text == card.visible


async def test_no_listing_or_a_platform_error_offers_a_short_hint_and_nothing_to_share(
    bot_env: BotEnv,
) -> None:
    ann = bot_env.user(1)
    query_id = await bot_env.emulator.send_inline_query(ann, "hello there")
    answer = await bot_env.emulator.wait_for_inline_answer(query_id)
    assert answer.results == [] and answer.button is not None
    assert answer.button["text"] == "Paste a listing link to share its card"

    missing = "https://www.goofish.com/item?id=799999999999"  # not in the sandbox
    query_id = await bot_env.emulator.send_inline_query(ann, missing)
    answer = await bot_env.emulator.wait_for_inline_answer(query_id)
    assert answer.results == [] and answer.cache_time == 0
    assert answer.button is not None
    assert answer.button["text"].startswith("Xianyu: this listing doesn't exist")


async def test_the_deal_buttons_of_a_shared_card_answer_the_presser_alone(bot_env: BotEnv) -> None:
    """Bot API, CallbackQuery: a button on a message sent via inline mode comes with
    `inline_message_id` and no message; the answer is an alert to whoever pressed it,
    paid from their budget (no message to a chat the bot may not be in)."""
    ann, bob = bot_env.user(1), bot_env.user(2)
    emulator = bot_env.emulator
    gateway = bot_env.services.gateway
    for link, wanted in (
        (XIANYU_LINK, "💡 Fair price?"),
        ("https://bj.ke.com/ershoufang/101127449675.html", "🧮 Mortgage"),
        ("AK2026011800001", "💬 Reviews"),
    ):
        query_id = await emulator.send_inline_query(ann, link, "group")
        (result,) = (await emulator.wait_for_inline_answer(query_id)).results
        buttons = {b["text"]: b for row in result["reply_markup"]["inline_keyboard"] for b in row}
        platform = result["id"].split(":")[0]
        left = gateway.budget_left(bob.id, platform)
        pressed = await emulator.press_inline(bob, "AgAAAInline", buttons[wanted]["callback_data"])
        answer = await emulator.wait_for_callback_answer(pressed)
        assert answer.show_alert and answer.text and len(answer.text) <= 200
        if wanted == "💡 Fair price?":
            assert answer.text.startswith("✅ ¥1 under the median of 12 on sale")
            assert gateway.budget_left(bob.id, platform) == left - 1  # the market call
        elif wanted == "🧮 Mortgage":
            assert answer.text.startswith("Monthly: ¥")
            assert "down 30%" in answer.text
        else:
            assert "of 7, newest first" in answer.text and "139****5678" in answer.text
        assert bob.id not in emulator.sent  # nothing sent to a chat
