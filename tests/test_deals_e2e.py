"""Is it a good deal? The three buttons end to end: emulator -> bot -> gateway -> sandbox.

💡 Fair price? on Xianyu cards (every tier: allowed, not allowed, refused by the platform),
🧮 Mortgage on Anjuke and Beike sale cards (no call of its own), 💬 Reviews on Anjuke cards
(`need_evaluate=true` only when pressed), and Anjuke's `price_trend` on the card.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from clients.errors import BudgetExhausted
from clients.models import ListingRef
from deals.mortgage import Method, work_out
from gateway.budget import Payer
from sandbox.botapi import SentMessage
from tests.conftest import start_bot_env
from tests.test_quotes_e2e import aihuishou, data_of, labels, press

IPHONE = "712345678901"  # 12 same items on sale, 6 past sales (sandbox/xianyu.py)
VIVO = "7023456789012"  # a device whose params state everything a quote needs
SOFA = "745678901234"  # taken down: no twins
BEIKE = "https://bj.ke.com/ershoufang/101127449675.html"
ANJUKE = "AK2026011800001"
FAIR = "💡 Fair price?"
MORTGAGE = "🧮 Mortgage"
REVIEWS = "💬 Reviews"


def xianyu_link(item_id: str) -> str:
    return f"https://www.goofish.com/item?id={item_id}"


def calls(env: Any, platform: str) -> int:
    return int(env.services.gateway.stats()[platform]["calls"])


async def card(env: Any, user: Any, text: str) -> SentMessage:
    [message] = await env.say(user, text)
    return message


# -- 💡 Fair price? -----------------------------------------------------------------------------


async def test_fair_price_on_an_enterprise_tier_compares_with_same_items_and_past_sales(bot_env):
    user = bot_env.user(7001, "en")
    iphone = await card(bot_env, user, xianyu_link(IPHONE))
    assert data_of(iphone, FAIR) == f"fp|xianyu:{IPHONE}"
    before = calls(bot_env, "xianyu")
    [answer] = await press(bot_env, user, iphone, data_of(iphone, FAIR))
    assert calls(bot_env, "xianyu") == before + 1  # one extra call, no more
    sent = bot_env.sandbox.state.requests["xianyu"][-1]
    # `fields` as the seed spells it: comma-separated field names
    assert (
        sent["fields"]
        == "item_id,title,price,status,condition,category,params,same_items,trade_record"
    )
    assert answer.photo is not None  # six past sales: charted, the answer as its caption
    lines = answer.visible.splitlines()
    assert lines[0] == "💡 Fair price? iPhone 14 Pro 256G 暗紫色 国行 电池92%"
    assert lines[1] == "🏷 Asking ¥5,299"
    assert (
        lines[2] == "🛒 On sale now: 12 · lowest ¥4,899 · median ¥5,300 · 6 cheaper than this one"
    )
    assert lines[3].startswith("1. ¥4,899 · 数码小王同款1 · 81000000000")
    assert lines[6] == "🧾 Sold before: 6 · ¥4,100–4,800 · latest ¥4,600 on " + lines[6][-10:]
    assert answer.visible.splitlines()[-1] == (
        "✅ ¥1 under the median of 12 on sale; sold for ¥4,100–4,600 this month"
    )
    # the cheapest few, each with its own card
    assert labels(answer)[:3] == ["📄 ¥4,899", "📄 ¥4,999", "📄 ¥5,050"]
    [twin] = await press(bot_env, user, answer, data_of(answer, "📄 ¥4,899"))
    assert "¥4,899" in twin.visible.splitlines()[1]


async def test_a_hundred_presses_on_one_item_cost_one_upstream_call(bot_env):
    users = [bot_env.user(7100 + n, "en") for n in range(5)]
    first = await card(bot_env, users[0], xianyu_link(IPHONE))
    before = calls(bot_env, "xianyu")
    answers = []
    for user in users:
        answers += await press(bot_env, user, first, data_of(first, FAIR))
    assert calls(bot_env, "xianyu") == before + 1  # cached with the item's lifetime (5 min)
    # the chart is drawn and uploaded once, then sent by Telegram's file_id
    assert answers[0].photo is not None and answers[0].photo.size is not None
    assert {a.photo.file_id for a in answers if a.photo} == {answers[0].photo.file_id}
    bot_env.clock.advance(301)  # the on-sale lifetime passes: asked again
    await press(bot_env, users[0], first, data_of(first, FAIR))
    assert calls(bot_env, "xianyu") == before + 2


async def test_fair_price_in_chinese(bot_env):
    user = bot_env.user(7002, "zh-hans")
    iphone = await card(bot_env, user, xianyu_link(IPHONE))
    [answer] = await press(bot_env, user, iphone, data_of(iphone, "💡 价格合理吗?"))
    assert "🛒 同款在售: 12 件 · 最低 ¥4,899 · 中位数 ¥5,300 · 6 件比它便宜" in answer.visible
    assert answer.visible.splitlines()[-1] == (
        "✅ 比 12 件同款在售的中位数低 ¥1; 本月成交价 ¥4,100–4,600"
    )


async def test_the_trade_in_floor_comes_from_a_cached_quote_only(bot_env):
    user = bot_env.user(7003, "en")
    vivo = await card(bot_env, user, xianyu_link(VIVO))
    [answer] = await press(bot_env, user, vivo, data_of(vivo, FAIR))
    assert "♻️ Trade-in floor: not checked yet" in answer.visible
    assert aihuishou(bot_env)["calls"] == 0  # never a second call of its own
    [quote] = await press(bot_env, user, answer, data_of(answer, "💱 Trade-in value"))
    final = quote.visible.splitlines()[1]
    assert aihuishou(bot_env)["calls"] == 1
    [again] = await press(bot_env, user, vivo, data_of(vivo, FAIR))
    floor = next(line for line in again.visible.splitlines() if line.startswith("♻️"))
    assert floor.startswith("♻️ Trade-in floor: Aihuishou pays ¥")
    assert floor.split("¥")[1].split(" ")[0] in final
    assert "Aihuishou pays ¥" in again.visible.splitlines()[-1]  # part of the verdict
    assert aihuishou(bot_env)["calls"] == 1


async def test_personal_tier_says_what_it_lacks_and_which_tier_would_without_a_call(
    tmp_path: Path,
):
    async for env in start_bot_env(tmp_path, xianyu_tier="personal"):
        env.sandbox.state.tiers["xianyu"] = "personal"
        user = env.user(7004, "en")
        iphone = await card(env, user, xianyu_link(IPHONE))
        before = calls(env, "xianyu")
        [answer] = await press(env, user, iphone, data_of(iphone, FAIR))
        assert calls(env, "xianyu") == before  # nothing this tier may ask: no call at all
        assert (
            "🛒 Same items on sale: not in this bot's Xianyu access (personal); the seed's "
            "进阶权限 (enterprise_basic or above) would show them." in answer.visible
        )
        assert "🧾 Past sales: not in this bot's Xianyu access (personal); the seed's 企业权限" in (
            answer.visible
        )
        assert answer.visible.splitlines()[-1] == (
            "❔ No verdict: no same items on sale to compare; no past sales to go by."
        )


async def test_a_refusal_by_the_platform_is_read_from_the_seeds_words(tmp_path: Path):
    # the bot believes it may ask (enterprise_basic); the platform's app is personal only
    async for env in start_bot_env(tmp_path, xianyu_tier="enterprise_basic"):
        user = env.user(7005, "en")
        iphone = await card(env, user, xianyu_link(IPHONE))
        env.sandbox.state.tiers["xianyu"] = "personal"
        [answer] = await press(env, user, iphone, data_of(iphone, FAIR))
        assert "Same items on sale: Xianyu refused them for this bot (" in answer.visible
        assert "权限不足" in answer.visible
        assert "check XIANYU_TIER" in answer.visible
        assert "Asking ¥5,299" in answer.visible  # the card's own answer still stands
        bot_env_stats = env.services.gateway.stats()["xianyu"]
        assert bot_env_stats["errors"].get("not_permitted", 0) >= 1


async def test_items_that_are_no_house_get_no_mortgage_and_houses_no_fair_price(bot_env):
    user = bot_env.user(7006, "en")
    sofa = await card(bot_env, user, xianyu_link(SOFA))
    assert FAIR in labels(sofa) and MORTGAGE not in labels(sofa)
    beike = await card(bot_env, user, BEIKE)
    assert MORTGAGE in labels(beike) and FAIR not in labels(beike) and REVIEWS not in labels(beike)
    anjuke = await card(bot_env, user, ANJUKE)
    assert MORTGAGE in labels(anjuke) and REVIEWS in labels(anjuke)


# -- 🧮 Mortgage -------------------------------------------------------------------------------


async def test_mortgage_on_a_beike_card_shows_our_figures_beside_beikes_and_calls_nobody(
    bot_env,
):
    user = bot_env.user(7007, "en")
    beike = await card(bot_env, user, BEIKE)
    before = calls(bot_env, "beike")
    [answer] = await press(bot_env, user, beike, data_of(beike, MORTGAGE))
    assert calls(bot_env, "beike") == before
    expected = work_out(
        Decimal(2_350_000),
        down_percent=30,
        years=30,
        annual_rate_percent=Decimal("3.5"),
        method=Method.EQUAL_INSTALMENT,
    )
    lines = answer.visible.splitlines()
    assert lines[1] == "Price ¥2,350,000 · down 30% ¥705,000 · loan ¥1,645,000"
    assert lines[2] == "30 years · equal instalments · 3.5% a year"
    assert lines[3] == f"Monthly: ¥{expected.first_payment:,}"
    assert lines[4].startswith(f"Total interest: ¥{expected.total_interest:,}")
    # Beike's 首付 line (goufangyusuan: sfTotal, monthlySupply) beside ours
    assert re.search(r"Beike's own figures: Down payment \d+万 · Monthly \d+元", answer.visible)
    # a choice edits the answer in place
    await bot_env.press(user, answer, data_of(answer, "20%"))
    await bot_env.emulator.wait_for(lambda: "down 20% ¥470,000" in answer.visible)
    await bot_env.press(user, answer, data_of(answer, "equal principal"))
    await bot_env.emulator.wait_for(lambda: "in the first month" in answer.visible)
    principal = work_out(
        Decimal(2_350_000),
        down_percent=20,
        years=30,
        annual_rate_percent=Decimal("3.5"),
        method=Method.EQUAL_PRINCIPAL,
    )
    assert f"Monthly: ¥{principal.first_payment:,} in the first month" in answer.visible
    await bot_env.press(user, answer, data_of(answer, "10 y"))
    await bot_env.emulator.wait_for(lambda: "10 years · equal principal" in answer.visible)
    assert calls(bot_env, "beike") == before


async def test_mortgage_starts_from_anjukes_own_down_payment(bot_env):
    user = bot_env.user(7008, "zh-hans")
    anjuke = await card(bot_env, user, ANJUKE)
    [answer] = await press(bot_env, user, anjuke, data_of(anjuke, "🧮 房贷"))
    assert "首付 30%" in answer.visible.splitlines()[1]
    assert "安居客给出的数字: 首付 30% · 月供 " in answer.visible


# -- 💬 Reviews --------------------------------------------------------------------------------


async def test_reviews_are_fetched_on_demand_newest_first_masked_and_paged(bot_env):
    user = bot_env.user(7009, "en")
    anjuke = await card(bot_env, user, ANJUKE)
    assert bot_env.sandbox.state.requests["anjuke"][-1]["need_evaluate"] == "false"
    before = calls(bot_env, "anjuke")
    [answer] = await press(bot_env, user, anjuke, data_of(anjuke, REVIEWS))
    assert calls(bot_env, "anjuke") == before + 1
    sent = bot_env.sandbox.state.requests["anjuke"][-1]
    assert sent["need_evaluate"] == "true"  # as the seed spells booleans
    assert sent["field_filter"] == "house_id,evaluate_list"
    text = answer.visible
    assert "1–3 of 7, newest first" in text
    assert text.index("2026-02-03") < text.index("2026-01-28") < text.index("2026-01-10")
    assert "139****5678" in text and "13912345678" not in text
    await bot_env.press(user, answer, data_of(answer, "Older ▶"))
    await bot_env.emulator.wait_for(lambda: "4–6 of 7" in answer.visible)
    assert "***@example.com" in answer.visible and "wang.li" not in answer.visible
    assert "<b>注意</b>" in answer.visible  # a platform's markup is shown as text
    assert calls(bot_env, "anjuke") == before + 1  # pages come from the cached answer


async def test_reviews_past_the_users_budget_are_refused_with_the_usual_words(tmp_path: Path):
    async for env in start_bot_env(tmp_path, anjuke_tier="personal"):
        env.sandbox.state.tiers["anjuke"] = "personal"
        user = env.user(7010, "en")
        anjuke = await card(env, user, ANJUKE)
        gateway = env.services.gateway
        others = [h for h in env.catalogue("anjuke").ids() if h != ANJUKE]
        for house in others:
            try:
                await gateway.listing(ListingRef("anjuke", house), payer=Payer.user(user.id))
            except BudgetExhausted:
                break
            env.clock.advance(1.2)
        assert gateway.budget_left(user.id, "anjuke") == 0
        before = calls(env, "anjuke")
        query = await env.press(user, anjuke, data_of(anjuke, REVIEWS))
        answer = await env.emulator.wait_for_callback_answer(query)
        assert "0 left" in answer.text or "used" in answer.text
        assert calls(env, "anjuke") == before


# -- price_trend on the card ------------------------------------------------------------------


async def test_anjukes_30_day_price_trend_is_on_the_price_line(bot_env):
    user = bot_env.user(7011, "en")
    anjuke = await card(bot_env, user, ANJUKE)
    price_line = anjuke.visible.splitlines()[1]
    assert " in 30 days" in price_line and ("📈" in price_line or "📉" in price_line)


async def test_enterprise_basic_is_the_first_tier_the_seed_gives_both_lists(tmp_path: Path):
    async for env in start_bot_env(tmp_path, xianyu_tier="enterprise_basic"):
        env.sandbox.state.tiers["xianyu"] = "enterprise_basic"
        user = env.user(7012, "en")
        iphone = await card(env, user, xianyu_link(IPHONE))
        [answer] = await press(env, user, iphone, data_of(iphone, FAIR))
        assert "🛒 On sale now: 12" in answer.visible and "🧾 Sold before: 6" in answer.visible
        assert answer.visible.splitlines()[-1].startswith("✅ ¥1 under the median of 12 on sale")


async def test_in_a_group_the_member_who_presses_gets_the_answer_and_pays(bot_env):
    ann, bob = bot_env.user(7013, "en"), bot_env.user(7014, "zh-hans")
    group = bot_env.emulator.group_chat(-7013, "buyers")
    [shared] = await bot_env.say(ann, xianyu_link(IPHONE), chat=group)
    gateway = bot_env.services.gateway
    ann_left, bob_left = (
        gateway.budget_left(ann.id, "xianyu"),
        gateway.budget_left(bob.id, "xianyu"),
    )
    [answer] = await press(bot_env, bob, shared, data_of(shared, FAIR))
    assert answer.chat_id == group.id
    assert answer.reply_to_message is not None
    assert answer.reply_to_message["message_id"] == shared.message_id
    assert "同款在售: 12 件" in answer.visible  # in the presser's language
    assert gateway.budget_left(bob.id, "xianyu") == bob_left - 1
    assert gateway.budget_left(ann.id, "xianyu") == ann_left


async def test_buttons_on_the_wrong_kind_of_listing_are_told_so_and_call_nobody(bot_env):
    user = bot_env.user(7015, "en")
    beike = await card(bot_env, user, BEIKE)
    sofa = await card(bot_env, user, xianyu_link(SOFA))
    before = {p: calls(bot_env, p) for p in ("xianyu", "beike", "anjuke")}
    beike_ref = "beike:110000:101127449675"
    answers = []
    for message, data in (
        (beike, f"fp|{beike_ref}"),  # a house is no item
        (beike, f"rv|{beike_ref}|0"),  # Beike has no reviews
        (sofa, f"mg|xianyu:{SOFA}|30|30|i"),  # an item is no home
    ):
        query = await bot_env.emulator.press_data(user, message, data)
        answers.append((await bot_env.emulator.wait_for_callback_answer(query)).text)
    assert answers == [
        "This is not a Xianyu item.",
        "Only Anjuke listings have reviews here.",
        "A mortgage is worked out for homes for sale with a total price only.",
    ]
    assert {p: calls(bot_env, p) for p in before} == before  # all three from the cache


async def test_past_the_budget_the_last_answer_is_kept_and_marked_with_its_age(tmp_path: Path):
    async for env in start_bot_env(
        tmp_path, xianyu_tier="enterprise_basic", user_daily_share=0.0001, user_daily_floor=2
    ):
        env.sandbox.state.tiers["xianyu"] = "enterprise_basic"
        user = env.user(7016, "en")
        iphone = await card(env, user, xianyu_link(IPHONE))  # 1 of 2
        [first] = await press(env, user, iphone, data_of(iphone, FAIR))  # 2 of 2
        assert env.services.gateway.budget_left(user.id, "xianyu") == 0
        env.clock.advance(400)  # past the item's 5-minute lifetime
        before = calls(env, "xianyu")
        [kept] = await press(env, user, iphone, data_of(iphone, FAIR))
        assert calls(env, "xianyu") == before
        assert kept.visible.splitlines()[:-1] == first.visible.splitlines()
        assert kept.visible.splitlines()[-1] == (
            "🕒 As of 7 min ago: today's Xianyu lookups are nearly used up, "
            "so this is the last answer I have."
        )
