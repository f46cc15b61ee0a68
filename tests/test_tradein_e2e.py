"""The trade-in check on Xianyu cards end to end: emulator -> bot -> gateway -> sandboxes.

A Xianyu card whose item is a device gets "💱 Trade-in value"; pressing it quotes the
same device on Aihuishou (one call, cached like any quote) and compares the asking
price with what Aihuishou pays. What the item does not say is asked for.
"""

from __future__ import annotations

from typing import Any

import pytest

from clients.xianyu import parse_item
from devices.tradein import tradein_device
from sandbox.botapi import SentMessage
from sandbox.core import Fault
from tests.test_quotes_e2e import aihuishou, data_of, labels, press, price_of

VIVO = "7023456789012"  # vivo X100, very_good, params state storage and 功能状态 正常
IPHONE = "712345678901"  # iPhone 14 Pro, like_new, says nothing about function
SOFA = "745678901234"
TRADE_IN = "💱 Trade-in value"


def link(item_id: str) -> str:
    return f"https://www.goofish.com/item?id={item_id}"


def asking_line(card: SentMessage) -> str:
    return card.visible.splitlines()[2]


async def card_of(bot_env: Any, user: Any, item_id: str) -> SentMessage:
    [card] = await bot_env.say(user, link(item_id))
    return card


async def test_device_items_get_the_trade_in_button_and_other_items_do_not(bot_env):
    user = bot_env.user(5001, "en")
    vivo = await card_of(bot_env, user, VIVO)
    assert data_of(vivo, TRADE_IN) == f"ti|xianyu:{VIVO}"
    sofa = await card_of(bot_env, user, SOFA)
    assert TRADE_IN not in labels(sofa)
    [beike] = await bot_env.say(user, "https://bj.ke.com/ershoufang/101127449675.html")
    assert TRADE_IN not in labels(beike)
    chinese = bot_env.user(5002, "zh-hans")
    assert "💱 回收价" in labels(await card_of(bot_env, chinese, VIVO))
    assert aihuishou(bot_env)["calls"] == 0  # a card never asks Aihuishou by itself


async def test_trade_in_value_quotes_the_same_device_once_and_compares_prices(bot_env):
    user = bot_env.user(5003, "en")
    card = await card_of(bot_env, user, VIVO)
    [quote] = await press(bot_env, user, card, data_of(card, TRADE_IN))
    assert quote.visible.startswith("💱 vivo X100 · 256GB")
    final = price_of(quote)
    assert asking_line(quote) == (
        f"🏷 asking ¥2,399 · Aihuishou pays ¥{final:,} for it in this condition"
    )
    # Xianyu's own grade (very_good, 八成新) on Aihuishou's scale; 功能状态 from the params
    assert "Condition: Fair (80%)" in quote.visible
    assert "Function: Works perfectly" in quote.visible
    assert aihuishou(bot_env)["calls"] == 1
    [again] = await press(bot_env, user, card, data_of(card, TRADE_IN))
    assert price_of(again) == final
    assert aihuishou(bot_env)["calls"] == 1  # cached as quotes are


async def test_trade_in_asks_for_what_the_item_does_not_say(bot_env):
    user = bot_env.user(5004, "en")
    card = await card_of(bot_env, user, IPHONE)
    [question] = await press(bot_env, user, card, data_of(card, TRADE_IN))
    assert "Does everything work" in question.visible
    assert "iPhone 14 Pro · 256GB · Good (90%)" in question.visible  # like_new -> 九成新
    [quote] = await press(bot_env, user, question, data_of(question, "Works perfectly"))
    final = price_of(quote)
    assert asking_line(quote) == (
        f"🏷 asking ¥5,299 · Aihuishou pays ¥{final:,} for it in this condition"
    )
    # a changed condition re-quotes and keeps the comparison
    await bot_env.press(user, quote, data_of(quote, "🔄 Change condition"))
    await bot_env.emulator.wait_for(lambda: "Brand new" in labels(quote))
    await bot_env.press(user, quote, data_of(quote, "Brand new"))
    await bot_env.emulator.wait_for(lambda: price_of(quote) > final)
    assert asking_line(quote).startswith("🏷 asking ¥5,299 · Aihuishou pays ¥")
    assert f"¥{price_of(quote):,}" in asking_line(quote)


async def test_trade_in_card_in_chinese(bot_env):
    user = bot_env.user(5005, "zh-hans")
    card = await card_of(bot_env, user, VIVO)
    [quote] = await press(bot_env, user, card, data_of(card, "💱 回收价"))
    assert asking_line(quote) == f"🏷 标价 ¥2,399 · 爱回收按此成色回收价 ¥{price_of(quote):,}"


async def test_trade_in_platform_failure_is_reported_and_changes_nothing(bot_env):
    user = bot_env.user(5006, "en")
    card = await card_of(bot_env, user, VIVO)
    bot_env.sandbox.state.inject("aihuishou", Fault("http", status=500), times=3)
    before = len(bot_env.messages(user.id))
    [error] = await press(bot_env, user, card, data_of(card, TRADE_IN))
    assert "Aihuishou" in error.visible and "¥" not in error.visible
    assert len(bot_env.messages(user.id)) == before + 1
    [nothing] = await bot_env.say(user, "/cancel")
    assert nothing.visible == "Nothing to cancel."


async def test_a_forged_trade_in_button_gets_a_short_answer(bot_env):
    user = bot_env.user(5007, "en")
    card = await card_of(bot_env, user, SOFA)
    forged = ("ti|", "ti|xianyu", f"ti|xianyu:{SOFA}")
    # a modified client can send any callback data: add the buttons it would press
    assert card.reply_markup is not None
    card.reply_markup["inline_keyboard"].append(
        [{"text": data, "callback_data": data} for data in forged]
    )
    answers = []
    for data in forged:
        query = await bot_env.press(user, card, data)
        answers.append((await bot_env.emulator.wait_for_callback_answer(query)).text)
    # malformed data is refused by the one codec; a real item that is no device is told so
    assert answers == [
        "This button has expired. Send the link again.",
        "This button has expired. Send the link again.",
        "I can't tell which device this listing is, so I can't quote it.",
    ]
    assert aihuishou(bot_env)["calls"] == 0


# -- every reading of Xianyu's condition (seed 002: English grades or Chinese words) ------


def item(condition: str, title: str = "iPhone 14 Pro 256G", **extra: Any) -> dict[str, Any]:
    return {"item_id": IPHONE, "title": title, "price": "5299", "condition": condition, **extra}


@pytest.mark.parametrize(
    ("condition", "grade"),
    [
        ("new", "全新"),
        ("like_new", "九成新"),
        ("very_good", "八成新"),
        ("good", "七成新及以下"),
        ("acceptable", "七成新及以下"),
        ("全新", "全新"),
        ("九成新", "九成新"),
        ("八成新", "八成新"),
        ("七成新", "七成新及以下"),
        ("六成新及以下", "七成新及以下"),
        ("95新", "95新"),
        ("未知成色", None),  # the seed's own word for 'unknown': asked, never guessed
        ("", None),
        ("mint", None),
    ],
)
def test_xianyu_condition_maps_onto_aihuishou_grades_or_stays_unknown(condition, grade):
    device = tradein_device(parse_item(item(condition), IPHONE))
    assert device is not None and device.condition == grade


def test_the_seller_s_own_grade_in_the_title_wins_over_the_platform_grade():
    device = tradein_device(parse_item(item("like_new", "iPhone 14 Pro 256G 99新"), IPHONE))
    assert device is not None and device.condition == "99新"


@pytest.mark.parametrize(
    "params",
    [
        [{"key": "功能状态", "value": "正常"}],
        [{"name": "功能状态", "value": "功能正常"}],
        {"功能状态": "正常"},
    ],
)
def test_function_status_from_the_params_in_every_shape(params):
    device = tradein_device(parse_item(item("new", params=params), IPHONE))
    assert device is not None and device.function_status == "正常" and device.complete


def test_an_unknown_function_status_is_left_to_ask():
    params = [{"key": "功能状态", "value": "有点小毛病"}]
    device = tradein_device(parse_item(item("new", params=params), IPHONE))
    assert device is not None and device.function_status is None


def test_items_that_are_no_device_we_price_get_no_device():
    for title in ("宜家 三人布艺沙发 浅灰色", "🎮 Switch OLED 港版 + 塞尔达", "小米手环8"):
        assert tradein_device(parse_item(item("new", title), IPHONE)) is None
