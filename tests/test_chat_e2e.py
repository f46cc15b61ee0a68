"""Listing cards end to end: emulator -> real bot -> gateway -> sandbox platforms -> card.

Every test drives the bot as a Telegram user would (sandbox/botapi/) and reads what the
bot sent; the emulator refuses HTML Telegram would refuse, so a badly escaped card fails
at the send, not only in an assertion.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path

import pytest

from sandbox.botapi import parse_telegram_html
from sandbox.core import Fault
from tests.conftest import BotEnv, start_bot_env

ZH = "zh-hans"


def callbacks(message) -> list[str]:  # type: ignore[no-untyped-def]
    return [b.get("callback_data", "") for b in message.buttons]


def shows_card_for(message, title: str) -> bool:  # type: ignore[no-untyped-def]
    return title[:12] in message.visible


# -- one card per platform and form ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "house_id"),
    [
        ("https://bj.anjuke.com/prop/view/A1234567890", "A1234567890"),  # sale
        ("https://m.anjuke.com/bj/sale/S1234567890123456/", "S1234567890123456"),
        ("https://bj.zu.anjuke.com/fangyuan/2398427383", "2398427383"),  # rent
        (
            "https://hz.fang.anjuke.com/loupan/245678.html",
            "245678",
        ),  # new home: the loupan number, unchanged
        ("https://sh.sp.anjuke.com/shou/3187906783", "3187906783"),  # shop
        ("https://sh.xzl.anjuke.com/zu/3166544960", "3166544960"),  # office
        (
            "【安居客】这套不错 https://m.anjuke.com/bj/sale/A987654321/?from=share 点击查看",
            "A987654321",
        ),
        ("看看 A1234567890 这套", "A1234567890"),  # bare ID
        ("S1234567890123456", "S1234567890123456"),
        ("AK2026011800001", "AK2026011800001"),
    ],
)
async def test_anjuke_links_share_texts_and_ids_give_a_card(
    bot_env: BotEnv, text: str, house_id: str
) -> None:
    house = bot_env.catalogue("anjuke").house(house_id)
    user = bot_env.user(2001)
    [card] = await bot_env.say(user, text)
    assert (
        html.unescape(house.house_name)[:10] in card.visible
        or house.house_name[:10] in card.visible
    )
    assert any(cb.startswith(("r|", "p|", "w|")) for cb in callbacks(card))


@pytest.mark.parametrize(
    "text",
    [
        "https://bj.ke.com/ershoufang/101127449675.html",
        "https://m.lianjia.com/bj/ershoufang/101127449675.html",
        "【贝壳找房】双裕花园西区 1室1厅 https://m.ke.com/bj/ershoufang/101127449675.html?share=1 快来看看",
        "pages/ershou/esfDetail?cityId=110000&houseCode=101127449675",
    ],
)
async def test_beike_links_and_share_texts_give_a_card(bot_env: BotEnv, text: str) -> None:
    user = bot_env.user(2002, ZH)
    [card] = await bot_env.say(user, text)
    assert "双裕花园西区" in card.visible


@pytest.mark.parametrize(
    ("text", "item_id"),
    [
        ("https://www.goofish.com/item?id=712345678901", "712345678901"),
        ("https://2.taobao.com/item.htm?id=6987654321098", "6987654321098"),
        ("6987654321098", "6987654321098"),  # 13 digits: only Xianyu's shape
        (
            "【闲鱼】https://m.tb.cn/h.5abcDEF?tk=abc CZ0001 「我在闲鱼发布了【iPhone 14 Pro】」点击链接直接打开",
            "712345678901",
        ),
        ("https://m.tb.cn/h.chain1 闲鱼", "6987654321098"),  # two redirects
    ],
)
async def test_xianyu_links_share_texts_and_ids_give_a_card(
    bot_env: BotEnv, text: str, item_id: str
) -> None:
    item = bot_env.catalogue("xianyu").item(item_id)
    user = bot_env.user(2003, ZH)
    [card] = await bot_env.say(user, text)
    assert item.title[:10] in card.visible


async def test_a_taobao_short_link_is_not_taken_for_a_xianyu_item(bot_env: BotEnv) -> None:
    user = bot_env.user(2004)
    [reply] = await bot_env.say(user, "闲鱼 https://m.tb.cn/h.taobao1")
    assert "doesn't lead to a Xianyu item" in reply.visible


async def test_several_links_in_one_message_give_one_card_each_in_order(bot_env: BotEnv) -> None:
    user = bot_env.user(2005, ZH)
    text = (
        "先看闲鱼 https://www.goofish.com/item?id=6987654321098 ，"
        "再看贝壳 https://bj.ke.com/ershoufang/101127449675.html ；"
        "最后安居客 https://bj.anjuke.com/prop/view/A1234567890"
    )
    cards = await bot_env.say(user, text, expect=3)
    assert "华为 Mate 60" in cards[0].visible
    assert "双裕花园西区" in cards[1].visible
    assert bot_env.catalogue("anjuke").house("A1234567890").house_name[:6] in cards[2].visible
    # nothing more follows
    assert len(bot_env.messages(user.id)) == 3


# -- questions answered with buttons -----------------------------------------------------


async def test_an_ambiguous_12_digit_id_is_answered_through_the_platform_buttons(
    bot_env: BotEnv,
) -> None:
    user = bot_env.user(2006)
    [question] = await bot_env.say(user, "712345678901")
    assert "Which platform" in question.visible
    assert callbacks(question) == ["k|beike|712345678901", "k|xianyu|712345678901"]
    before = len(bot_env.messages(user.id))
    await bot_env.press(user, question, "k|xianyu|712345678901")
    [card] = (await bot_env.emulator.wait_for_messages(user.id, before + 1))[before:]
    assert "iPhone 14 Pro" in card.visible
    assert question.buttons == []  # the question lost its buttons and shows the choice
    assert "Xianyu" in question.visible


async def test_a_beike_code_without_city_asks_the_city_and_remembers_it(bot_env: BotEnv) -> None:
    user = bot_env.user(2007, ZH)
    [question] = await bot_env.say(user, "https://m.ke.com/ershoufang/107108339402.html")
    assert "哪个城市" in question.visible or "城市" in question.visible
    assert "c|310000|107108339402" in callbacks(question)
    count = len(bot_env.messages(user.id))
    await bot_env.press(user, question, "c|310000|107108339402")
    await bot_env.emulator.wait_for_messages(user.id, count + 1)
    card = bot_env.messages(user.id)[-1]
    assert "联洋年华" in card.visible
    assert question.buttons == []

    # next time Shanghai comes first, marked as last used
    [again] = await bot_env.say(user, "https://m.ke.com/ershoufang/101127449675.html")
    first = again.buttons[0]
    assert first["callback_data"] == "c|310000|101127449675"
    assert "上海" in first["text"]
    assert sum(cb.startswith("c|310000|") for cb in callbacks(again)) == 1


async def test_a_beike_code_asked_in_the_wrong_city_is_not_found(bot_env: BotEnv) -> None:
    user = bot_env.user(2008)
    [question] = await bot_env.say(user, "101127449675")
    await bot_env.press(user, question, "k|beike|101127449675")
    count = len(bot_env.messages(user.id))
    [city_question] = (await bot_env.emulator.wait_for_messages(user.id, count + 1))[count:]
    await bot_env.press(user, city_question, "c|310000|101127449675")
    await bot_env.emulator.wait_for_messages(user.id, count + 2)
    assert "doesn't exist" in bot_env.messages(user.id)[-1].visible


# -- no listing --------------------------------------------------------------------------


NOT_LISTINGS = [
    "https://ke.com.example.org/ershoufang/101127449675.html",
    "https://anjuke.com@evil.example/prop/view/A1234567890",
    "https://www.example.com/item?id=712345678901",
    "今天天气不错",
]


@pytest.mark.parametrize("text", NOT_LISTINGS)
async def test_lookalike_and_unrelated_links_get_the_hint_in_private(
    bot_env: BotEnv, text: str
) -> None:
    user = bot_env.user(2009)
    [reply] = await bot_env.say(user, text)
    assert "found no listing" in reply.visible


async def test_lookalike_and_unrelated_links_get_nothing_in_groups(bot_env: BotEnv) -> None:
    user = bot_env.user(2010)
    group = bot_env.emulator.group_chat(-100500, "看房群")
    for text in NOT_LISTINGS:
        await bot_env.emulator.send_text(user, group, text)
    # a real link afterwards is answered, and is the only message in the group
    [card] = await bot_env.say(user, "https://bj.ke.com/ershoufang/101127449675.html", chat=group)
    assert "双裕花园西区" in card.visible
    assert len(bot_env.messages(group.id)) == 1


# -- errors ------------------------------------------------------------------------------


async def test_a_removed_listing_is_reported_not_found(bot_env: BotEnv) -> None:
    bot_env.catalogue("xianyu").remove("712345678901")
    user = bot_env.user(2011)
    [reply] = await bot_env.say(user, "https://www.goofish.com/item?id=712345678901")
    assert "Xianyu" in reply.visible and "doesn't exist" in reply.visible
    assert not reply.buttons


async def test_a_platform_without_credentials_is_reported_disabled(tmp_path: Path) -> None:
    async for env in start_bot_env(tmp_path, beike_token=""):
        user = env.user(2012)
        [reply] = await env.say(user, "https://bj.ke.com/ershoufang/101127449675.html")
        assert "isn't enabled" in reply.visible
        # the other platforms still work
        [card] = await env.say(user, "https://www.goofish.com/item?id=6987654321098")
        assert "华为" in card.visible


async def test_a_platform_failing_every_retry_is_reported_busy(bot_env: BotEnv) -> None:
    bot_env.sandbox.state.inject("anjuke", Fault("http", status=500), times=4)
    user = bot_env.user(2013)
    [reply] = await bot_env.say(user, "https://bj.anjuke.com/prop/view/A1234567890")
    assert "didn't answer in time" in reply.visible
    # one try and seed 000's three retries
    assert bot_env.sandbox.state.take_fault("anjuke") is None


async def test_a_platform_that_keeps_failing_is_paused_by_the_breaker(bot_env: BotEnv) -> None:
    bot_env.sandbox.state.inject("anjuke", Fault("http", status=502), times=20)
    user = bot_env.user(2014)
    await bot_env.say(user, "https://bj.anjuke.com/prop/view/A1234567890")
    [reply] = await bot_env.say(user, "https://bj.anjuke.com/prop/view/A987654321")
    assert "temporarily unavailable" in reply.visible
    calls_while_open = bot_env.sandbox.state.counters["anjuke"].calls
    [again] = await bot_env.say(user, "https://bj.anjuke.com/prop/view/A1122334455")
    assert "temporarily unavailable" in again.visible
    assert bot_env.sandbox.state.counters["anjuke"].calls == calls_while_open


async def test_a_used_up_daily_quota_is_reported(bot_env: BotEnv) -> None:
    bot_env.sandbox.state.inject("anjuke", Fault("code", status=403, code=6, msg="日调用次数超限"))
    user = bot_env.user(2015, ZH)
    [reply] = await bot_env.say(user, "https://bj.anjuke.com/prop/view/A1234567890")
    assert "安居客" in reply.visible and "明天" in reply.visible


async def test_a_refused_id_is_reported_as_a_bad_request(bot_env: BotEnv) -> None:
    bot_env.sandbox.state.inject("anjuke", Fault("code", status=400, code=41, msg="参数格式错误"))
    user = bot_env.user(2016)
    [reply] = await bot_env.say(user, "https://bj.anjuke.com/prop/view/A1234567890")
    assert "didn't accept that ID" in reply.visible


# -- buttons on the card -----------------------------------------------------------------


async def test_refresh_edits_the_card_in_place(bot_env: BotEnv) -> None:
    from decimal import Decimal

    xianyu = bot_env.catalogue("xianyu")
    xianyu.set_price("712345678901", Decimal("5999"))
    user = bot_env.user(2017)
    [card] = await bot_env.say(user, "https://www.goofish.com/item?id=712345678901")
    assert "5,999" in card.visible or "5999" in card.visible
    xianyu.set_price("712345678901", Decimal("4888"))
    bot_env.clock.advance(400)  # past the card cache
    refresh = next(cb for cb in callbacks(card) if cb.startswith("r|"))
    query = await bot_env.press(user, card, refresh)
    await bot_env.emulator.wait_for_callback_answer(query)
    assert card.edits, "the card was not edited"
    assert "4,888" in card.visible or "4888" in card.visible
    assert len(bot_env.messages(user.id)) == 1  # edited in place, nothing new sent


async def test_the_photos_button_sends_an_album(bot_env: BotEnv) -> None:
    user = bot_env.user(2018)
    [card] = await bot_env.say(user, "https://bj.ke.com/ershoufang/101127449675.html")
    photos = next(cb for cb in callbacks(card) if cb.startswith("p|"))
    count = len(bot_env.messages(user.id))
    await bot_env.press(user, card, photos)
    await bot_env.emulator.wait_for(lambda: bot_env.emulator.albums(user.id))
    [album] = bot_env.emulator.albums(user.id).values()
    assert 2 <= len(album) <= 10
    assert all(m.photo is not None for m in album)
    assert len(bot_env.messages(user.id)) == count + len(album)


async def test_in_groups_the_card_replies_to_the_message_with_the_link(bot_env: BotEnv) -> None:
    user = bot_env.user(2019)
    group = bot_env.emulator.group_chat(-100600, "二手群", supergroup=True)
    before = len(bot_env.messages(group.id))
    await bot_env.emulator.send_text(user, group, "hello")
    asked = await bot_env.emulator.send_text(
        user, group, "这个 https://www.goofish.com/item?id=6987654321098 怎么样"
    )
    [card] = (await bot_env.emulator.wait_for_messages(group.id, before + 1))[before:]
    assert card.reply_to_message is not None
    assert card.reply_to_message["message_id"] == asked["message_id"]


# -- escaping ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("https://www.goofish.com/item?id=756789012345", "<b>全新</b> 小米手环8 & 原装充电器"),
        ("https://www.goofish.com/item?id=767890123456", "🎮 Switch OLED"),
        (
            "https://bj.ke.com/ershoufang/101130512345.html",
            "望京西园三区 <b>南北通透</b> & 满五唯一",
        ),
    ],
)
async def test_hostile_titles_are_shown_escaped(bot_env: BotEnv, text: str, title: str) -> None:
    user = bot_env.user(2020)
    [card] = await bot_env.say(user, text)
    assert title in card.visible  # shown literally, tags and all
    raw = card.raw_caption if card.photo is not None else card.raw_text
    assert raw is not None
    assert html.escape(title, quote=False) in raw
    parse_telegram_html(raw)  # Telegram would take it


async def test_a_300_character_title_still_fits_the_card(bot_env: BotEnv) -> None:
    item = bot_env.catalogue("xianyu").item("778901234567")
    assert len(item.title) == 300
    user = bot_env.user(2021)
    replies = await bot_env.say(user, "https://www.goofish.com/item?id=778901234567")
    card = replies[-1]
    assert item.title[:40] in card.visible
    raw = card.raw_caption if card.photo is not None else card.raw_text
    parse_telegram_html(raw or "")
    assert len(card.visible) <= (1024 if card.photo is not None else 4096)


async def test_a_card_too_long_for_a_caption_follows_its_photo_as_text(bot_env: BotEnv) -> None:
    catalogue = bot_env.catalogue("xianyu")
    item = catalogue.item("712345678901")
    # long facts and title (each kept at 200 characters, docs/memory.md): the card passes 1,024
    item.title = "iPhone 14 Pro 256G 暗紫色 " + "国行 电池92% 无拆无修 " * 20
    item.location = "浙江省杭州市西湖区" * 30
    item.logistics = "包邮，顺丰到付，当面交易也可以，" * 20
    item.guarantee = tuple(f"验货担保第{n}条，七天无理由退货，假一赔三" for n in range(20))
    item.seller_level = "信用极好，芝麻信用分750以上，实名认证，" * 10
    user = bot_env.user(2022)
    photo, text = await bot_env.say(user, "https://www.goofish.com/item?id=712345678901", expect=2)
    assert photo.photo is not None and not photo.visible and not photo.buttons
    assert photo.raw_text is None
    assert len(text.visible) > 1024 and "iPhone 14 Pro" in text.visible
    assert {"w|", "r|", "p|"} <= {d[:2] for d in callbacks(text)}
    parse_telegram_html(text.raw_text or "")


async def test_a_crash_in_a_handler_is_logged_with_the_update_id_kind_and_user_and_the_user_told(
    bot_env: BotEnv, caplog: pytest.LogCaptureFixture
) -> None:
    user = bot_env.user(2023)
    # Telegram refuses the card's message: the handler raises, the one error handler runs
    bot_env.emulator.fail_next("sendMessage", 400, "Bad Request: can't parse entities")
    with caplog.at_level(logging.ERROR, logger="handlers.common"):
        [sorry] = await bot_env.say(user, "/help")
    assert "something went wrong" in sorry.visible
    [record] = [r for r in caplog.records if "unhandled error while handling" in r.getMessage()]
    # the update's id, kind and user only: never its text (it may hold a phone number)
    assert "(message) from user 2023" in record.getMessage() and record.exc_info is not None
    assert "/help" not in record.getMessage() and "Update(" not in record.getMessage()
    [card] = await bot_env.say(user, "https://www.goofish.com/item?id=712345678901")
    assert card.buttons  # and the bot carries on


# -- commands, menu, typing --------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "command", "expected"),
    [
        ("en", "/start", "marketplace links"),
        ("en", "/help", "marketplace links"),
        (ZH, "/start", "/help"),
        (ZH, "/help", "闲鱼"),
    ],
)
async def test_start_and_help_answer_in_the_users_language(
    bot_env: BotEnv, language: str, command: str, expected: str
) -> None:
    user = bot_env.user(2022, language)
    [reply] = await bot_env.say(user, command)
    assert expected in reply.visible
    has_chinese = any("\u4e00" <= ch <= "\u9fff" for ch in reply.visible.split("Examples")[0][:40])
    assert has_chinese == (language == ZH)


async def test_the_command_menu_is_set_in_english_and_chinese(bot_env: BotEnv) -> None:
    english = bot_env.emulator.my_commands("")
    chinese = bot_env.emulator.my_commands("zh")
    assert {c["command"] for c in english} >= {"start", "help", "quote", "watch"}
    assert [c["command"] for c in english] == [c["command"] for c in chinese]
    assert english[0]["description"] != chinese[0]["description"]


async def test_typing_is_shown_while_a_listing_is_fetched_and_not_on_a_cache_hit(
    bot_env: BotEnv,
) -> None:
    user = bot_env.user(2023)
    link = "https://www.goofish.com/item?id=6987654321098"
    [card] = await bot_env.say(user, link)
    actions = [a for a in bot_env.emulator.chat_actions if a.chat_id == user.id]
    assert [a.action for a in actions] == ["typing"]
    assert actions[0].at <= card.sent_at
    # the same listing again comes from the cache at once: no 'typing' round trip first
    await bot_env.say(user, link)
    assert len([a for a in bot_env.emulator.chat_actions if a.chat_id == user.id]) == 1


async def test_buttons_of_a_new_home_card_keep_its_kind(bot_env: BotEnv) -> None:
    """The kind a link shows rides in the key (issue 11), so the card's buttons read back."""
    user = bot_env.user(2031)
    [card] = await bot_env.say(user, "https://hz.fang.anjuke.com/loupan/245678.html")
    refresh = next(cb for cb in callbacks(card) if cb.startswith("r|"))
    assert refresh == "r|anjuke:245678@new_home"
    from decimal import Decimal

    bot_env.catalogue("anjuke").set_price("245678", Decimal("31000"))
    bot_env.clock.advance(400)  # past the card cache: the refresh asks the platform again
    query = await bot_env.press(user, card, refresh)
    answer = await bot_env.emulator.wait_for_callback_answer(query)
    assert "expired" not in (answer.text or "")
    assert card.edits, "the card was not refreshed"
    watch = next(cb for cb in callbacks(card) if cb.startswith("w|"))
    query = await bot_env.press(user, card, watch)
    await bot_env.emulator.wait_for_callback_answer(query)
    [sub] = await bot_env.services.watches.for_user(user.id)
    assert sub.watch.ref_key == "anjuke:245678@new_home"
