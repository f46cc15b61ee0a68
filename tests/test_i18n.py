"""An English reader gets English labels and words; counts read right in both languages.

Every card type is rendered through the real bot and the local Bot API emulator for an
English user: Anjuke (every kind), Beike, Xianyu, a quote, a trade-in quote, the watch
reply and /watches. A *label* is the text before ':' on a row; values may stay Chinese
(`2.9米` is the platform's value), labels may not.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from clients import aihuishou, anjuke, xianyu
from clients.anjuke import AnjukeClient
from clients.models import Fact, Listing, ListingKind, ListingStatus, PriceUnit, Quote, QuoteRequest
from handlers.cards import render_card
from handlers.quote_card import render_quote
from handlers.texts import en, plural, plural_category, vocab, zh
from tests.conftest import BotEnv
from tests.test_quotes_e2e import data_of, press

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
#: a row "label: value" (ASCII or full-width colon); the label is short, a title is not
LABEL_ROW = re.compile(r"^\s*([^:：\n]{1,40}?)\s*[:：]\s")

#: Xianyu devices: the vivo is quoted at once, the iPhone's function status is asked first
TRADE_IN = {"7023456789012": "quote", "712345678901": "question"}
ANJUKE_LINK_KIND = {"新房": anjuke.NEW_HOME, "商铺": anjuke.SHOP, "写字楼": anjuke.OFFICE}


def chinese_labels(text: str) -> list[str]:
    """The labels of `text`'s rows that contain Chinese; the first row is the title."""
    rows = text.splitlines()[1:]
    found = []
    for row in rows:
        match = LABEL_ROW.match(row)
        if match and CJK.search(match.group(1)):
            found.append(row)
    return found


async def test_an_english_reader_sees_no_chinese_label_on_any_card(bot_env: BotEnv) -> None:
    user = bot_env.user(4101, "en")
    seen: dict[str, str] = {}
    houses = bot_env.catalogue("anjuke")
    for house_id in houses.ids():
        house = houses.house(house_id)
        if house.removed:
            continue
        link = AnjukeClient.build_url(house_id, ANJUKE_LINK_KIND.get(house.house_type))
        [card] = await bot_env.say(user, link)
        seen[f"anjuke {house_id} {house.house_type}"] = card.visible
    beike = bot_env.catalogue("beike")
    for code in beike.ids():
        house = beike.house(code)
        [card] = await bot_env.say(user, f"https://m.ke.com/{house.slug}/ershoufang/{code}.html")
        seen[f"beike {code}"] = card.visible
    items = bot_env.catalogue("xianyu")
    for item_id in items.ids():
        [card] = await bot_env.say(user, f"https://www.goofish.com/item?id={item_id}")
        seen[f"xianyu {item_id}"] = card.visible
        if item_id in TRADE_IN:  # a device: its card offers the trade-in value
            [answer] = await press(bot_env, user, card, data_of(card, "💱 Trade-in value"))
            seen[f"trade-in {TRADE_IN[item_id]}"] = answer.visible
    [quote] = await bot_env.say(user, "/quote iPhone 14 Pro 256G 95新 国行 换过电池 电池老化")
    seen["quote"] = quote.visible
    [watching] = await bot_env.say(user, "/watch https://www.goofish.com/item?id=712345678901")
    seen["watch"] = watching.visible
    [watches] = await bot_env.say(user, "/watches")
    seen["watches"] = watches.visible

    assert len(seen) >= len(houses.ids()) + 4
    offending = {name: chinese_labels(text) for name, text in seen.items()}
    assert {name: rows for name, rows in offending.items() if rows} == {}
    # values stay as the platform wrote them
    assert any("Ceiling height: 2.9米" in text for text in seen.values())
    # the quote's seed words are the bot's own vocabulary: translated
    assert "Repairs: Battery replaced" in seen["quote"]
    assert "Bought: Mainland China model" in seen["quote"]
    assert "Condition: Excellent (95%)" in seen["quote"]
    assert "Condition: Fair (80%)" in seen["trade-in quote"]  # Xianyu's very_good
    assert "iPhone 14 Pro · 256GB · Good (90%)" in seen["trade-in question"]
    # Xianyu's fixed words: grades, shipping, guarantees, seller levels
    iphone = seen["xianyu 712345678901"]
    assert "Condition: Good (90%)" in iphone and "Shipping: Free shipping" in iphone
    assert "Guarantee: Inspection guarantee, 7-day returns" in iphone
    assert "Seller level: Diamonds" in iphone


async def test_a_chinese_reader_keeps_the_platforms_words(bot_env: BotEnv) -> None:
    user = bot_env.user(4102, "zh-hans")
    [card] = await bot_env.say(user, AnjukeClient.build_url("3166544960", anjuke.OFFICE))
    assert "层高: 2.9米" in card.visible.replace("：", ": ")
    [quote] = await bot_env.say(user, "/quote iPhone 14 Pro 256G 95新 国行 换过电池 电池老化")
    visible = quote.visible.replace("：", ": ")
    assert "维修: 更换过电池" in visible and "购买渠道: 国行" in visible


# -- the vocabularies: every seed word the bot shows has its English --------------------


def _listing(facts: tuple[Fact, ...], **kw: object) -> Listing:
    fields: dict = dict(  # type: ignore[type-arg]
        platform="xianyu",
        listing_id="712345678901",
        url="https://www.goofish.com/item?id=712345678901",
        title="iPhone",
        kind=ListingKind.ITEM,
        price=Decimal(100),
        price_unit=PriceUnit.YUAN,
        status=ListingStatus.ON_SALE,
        facts=facts,
    )
    fields.update(kw)
    return Listing(**fields)


@pytest.mark.parametrize("grade", sorted(set(xianyu._CONDITIONS.values())))
def test_xianyu_conditions_are_english_for_english_readers(grade: str) -> None:
    card = render_card(_listing((("condition", "成色", grade),)), "en").text
    [row] = [r for r in card.splitlines() if r.startswith("Condition: ")]
    assert not CJK.search(row), row
    assert f"成色: {grade}" in render_card(_listing((("condition", "成色", grade),)), "zh").text


@pytest.mark.parametrize(
    ("key", "label", "words"),
    [
        ("shipping", "物流", ("包邮", "自提", "卖家包邮", "买家承担运费")),
        ("guarantee", "保障", ("验货担保", "七天无理由", "正品保障")),
        ("seller_level", "卖家等级", ("心",)),
        ("seller_level", "卖家等级", ("钻",)),
        ("seller_level", "卖家等级", ("冠",)),
    ],
)
def test_xianyu_shipping_guarantees_and_seller_levels_are_english(
    key: str, label: str, words: tuple
) -> None:  # type: ignore[type-arg]
    value = "、".join(words)
    card = render_card(_listing(((key, label, value),)), "en").text
    [row] = [r for r in card.splitlines()[4:] if ": " in r]
    assert not CJK.search(row), row
    assert f": {value}" in render_card(_listing(((key, label, value),)), "zh").text


@pytest.mark.parametrize("word", sorted(anjuke._STATUSES))
def test_anjuke_status_words_are_english(word: str) -> None:
    assert not CJK.search(vocab("en", word))
    assert vocab("zh", word) == word


def test_an_unknown_status_word_and_the_bots_tags_are_english_when_known() -> None:
    listing = _listing(
        (),
        platform="anjuke",
        kind=ListingKind.SALE,
        price_unit=PriceUnit.WAN_YUAN,
        status=ListingStatus.OTHER,
        status_word="已预订",
        tags=("已预订", "VR看房", "实拍视频"),
    )
    text = render_card(listing, "en").text
    assert "Reserved" in text and "VR tour" in text and "Video" in text
    assert "⚪ Reserved" in text.splitlines()  # the status row
    assert "🏷 Reserved · VR tour · Video" in text.splitlines()
    unknown = _listing((), status=ListingStatus.OTHER, status_word="冻结中")
    assert "冻结中" in render_card(unknown, "en").text  # a word we do not know: as written


@pytest.mark.parametrize(
    ("field", "words"),
    [
        ("condition", tuple(aihuishou.CONDITIONS)),
        ("function_status", aihuishou.FUNCTION_STATUSES),
        ("repair_history", aihuishou.REPAIR_HISTORIES),
        ("purchase_channel", aihuishou.PURCHASE_CHANNELS),
    ],
)
def test_every_quote_word_is_english_on_an_english_quote_card(field: str, words: tuple) -> None:  # type: ignore[type-arg]
    for word in words:
        request = QuoteRequest(
            device_type="手机",
            brand="苹果",
            model="iPhone 14 Pro",
            storage="256GB",
            condition="95新",
            function_status="正常",
        )
        request = request.__class__(**{**_fields(request), field: word})
        quote = Quote(
            request=request,
            base_price=Decimal(5000),
            condition_discount=Decimal("0.93"),
            function_deduction=Decimal(0),
            market_coefficient=Decimal(1),
            final_price=Decimal(4650),
        )
        text = render_quote(quote, "en").text
        assert chinese_labels(text) == []
        rows = [r for r in text.splitlines() if LABEL_ROW.match(r)]
        assert rows and not any(CJK.search(r) for r in rows), (word, rows)
        assert word in render_quote(quote, "zh").text


def _fields(request: QuoteRequest) -> dict:  # type: ignore[type-arg]
    return {name: getattr(request, name) for name in request.__dataclass_fields__}


#: seed 000's house_detail fields (every one the client may read), seed 002's item fields
ANJUKE_DETAIL = {
    "house_id": "AK2026011800001",
    "house_name": "x",
    "building_name": "x",
    "house_type": "二手房",
    "house_code": "x",
    "house_style": "x",
    "area_build": 1,
    "area_use": 1,
    "orientation": "x",
    "floor": "x",
    "room_height": 2.9,
    "price": 1,
    "unit_price": 1,
    "price_trend": "x",
    "down_payment": 30,
    "loan_month": 1,
    "transaction_status": "在售",
    "region": "x",
    "address": "x",
    "metro_info": "x",
    "school_info": "x",
    "commerce_info": "x",
    "broker_name": "x",
    "broker_shop": "x",
}
XIANYU_ITEM = {
    "item_id": "712345678901",
    "title": "x",
    "price": 1,
    "original_price": 2,
    "condition": "like_new",
    "category": "x",
    "params": {"存储容量": "x", "颜色": "x", "功能状态": "x"},
    "status": "onsale",
    "sales": 1,
    "logistics": "包邮",
    "location": "x",
    "valid_time": "2026-01-01 00:00:00",
    "guarantee": ["验货担保"],
    "seller_nick": "x",
    "seller_level": "x",
    "seller_score": "99%",
    "seller_location": "x",
}
#: seed 001's basicList / infoList / infoJumpList names
BEIKE_NAMES = ("售价", "房型", "建筑面积", "单价", "挂牌", "朝向", "楼层", "楼型", "电梯", "装修")
BEIKE_NAMES += ("年代", "用途", "权属", "小区", "其他", "首付", "梯户比", "供暖方式")


def test_every_field_a_client_reads_from_a_seed_gets_an_english_label() -> None:
    from clients import beike
    from clients.models import ListingRef
    from handlers.cards import fact_label

    beike_data = {
        "basicInfo": {"houseCode": "101127449675", "cityId": "110000", "title": "x", "area": 1},
        "basicList": [{"name": n, "value": "x"} for n in BEIKE_NAMES[:3]],
        "infoList": [{"name": n + ":", "value": "x"} for n in BEIKE_NAMES],
        "infoJumpList": [
            {"id": "xiaoqurukou", "name": "小区:", "value": "x (顺义区-后沙峪)"},
            {"id": "goufangyusuan", "name": "首付:", "sfTotal": 45, "monthlySupply": 9500},
        ],
    }
    listings = [
        anjuke.parse_house_detail(ANJUKE_DETAIL, "AK2026011800001"),
        xianyu.parse_item(XIANYU_ITEM, "712345678901"),
        beike.parse_house(beike_data, ListingRef("beike", "101127449675", "110000")),
    ]
    facts = [fact for listing in listings for fact in listing.facts]
    assert len(facts) > 30
    untranslated = {f[1]: fact_label(f, "en") for f in facts if CJK.search(fact_label(f, "en"))}
    assert untranslated == {}
    chinese = {fact_label(f, "zh") for f in facts}
    assert "层高" in chinese and "Ceiling height" not in chinese
    for name in BEIKE_NAMES + tuple(XIANYU_ITEM["params"]):  # type: ignore[arg-type]
        assert not CJK.search(label_of(name)), name


def label_of(name: str) -> str:
    from handlers.texts import label

    return label("en", name)


# -- plurals (Babel's CLDR rules) -------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "category", "text"),
    [
        (0, "other", "0 watches"),
        (1, "one", "1 watch"),
        (2, "other", "2 watches"),
        (21, "other", "21 watches"),
    ],
)
def test_english_counts_follow_cldr(n: int, category: str, text: str) -> None:
    assert plural_category("en", n) == category
    assert plural("en", "n_watches", n) == text


@pytest.mark.parametrize("n", [0, 1, 2, 21])
def test_chinese_counts_have_one_form(n: int) -> None:
    assert plural_category("zh", n) == "other"
    assert plural("zh", "n_watches", n) == f"{n} 个关注"


def test_every_plural_text_has_the_categories_its_language_needs() -> None:
    assert set(en.PLURALS) == set(zh.PLURALS)
    for key in en.PLURALS:
        assert set(en.PLURALS[key]) == {"one", "other"}, key
        assert set(zh.PLURALS[key]) == {"other"}, key
        for n in (0, 1, 2, 21):
            assert str(n) in plural("en", key, n, platform="Xianyu") or key.endswith("_used")


@pytest.mark.parametrize(
    ("n", "expected"), [(1, "about you: 1 watch with"), (2, "about you: 2 watches with")]
)
async def test_forget_counts_the_watches_in_the_right_form(
    bot_env: BotEnv, n: int, expected: str
) -> None:
    user = bot_env.user(4200 + n, "en")
    links = ["https://www.goofish.com/item?id=712345678901", AnjukeClient.build_url("A1234567890")]
    for link in links[:n]:
        await bot_env.say(user, f"/watch {link}")
    [question] = await bot_env.say(user, "/forget")
    assert expected in question.visible


def test_forget_done_reads_one_alert_and_two_alerts() -> None:
    from handlers.texts import t

    one = t(
        "en",
        "forget_done",
        watches=plural("en", "n_watches", 1),
        alerts=plural("en", "n_alerts", 1),
        account="x",
        settings="y",
    )
    assert one.startswith("🗑 Deleted: 1 watch, 1 alert, x, y.")
    many = t(
        "zh",
        "forget_done",
        watches=plural("zh", "n_watches", 21),
        alerts=plural("zh", "n_alerts", 0),
        account="x",
        settings="y",
    )
    assert many.startswith("🗑 已删除：21 个关注、0 条提醒、x、y。")
