"""Beike / Lianjia resale detail: parsing, error codes, limits, cities and link recognition."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest

from bot.config import load_settings
from clients.beike import CITIES, BeikeClient, city_id_for_slug, parse_house
from clients.errors import (
    BadRequest,
    InsufficientBalance,
    NotFound,
    NotPermitted,
    PlatformError,
    QuotaExhausted,
    RateLimited,
    Transient,
)
from clients.models import Listing, ListingKind, ListingRef, ListingStatus, PriceUnit
from clock import FakeClock
from sandbox.core import Fault
from sandbox.server import Sandbox

SEED_HOUSE = ListingRef("beike", "101127449675", "110000")
TAKEN_DOWN_HOUSE = ListingRef("beike", "105600234567", "440300")
SOLD_HOUSE = ListingRef("beike", "104200456789", "420100")
REMOVED_HOUSE = ListingRef("beike", "106500567890", "510100")


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(clock=FakeClock()) as sb:
        yield sb


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[BeikeClient]:
    config = load_settings(require_token=False, **sandbox.settings_overrides()).beike()
    async with httpx.AsyncClient() as http:
        yield BeikeClient(http, config, sandbox.state.clock)


async def fetch(client: BeikeClient, ref: ListingRef) -> Listing:
    """One call a second later than the last, so the sandbox's per-second limit stays out of the way."""
    client.clock.advance(1)  # type: ignore[attr-defined]
    return await client.fetch_listing(ref)


# -- the seed's own sample, parsed without the sandbox ----------------------------------

SEED_DATA: dict = {
    "verificationInfo": {"title": "房源维护人", "agentName": "张忠良"},
    "headPictures": [
        {
            "groupId": 2,
            "groupName": "户型",
            "imgObjectList": [
                {"imgUrl": "http://ke-image.ljcdn.com/hdic-frame/standard_a.png.1440x1080.jpg"},
                {"imgUrl": "http://ke-image.ljcdn.com/hdic-frame/standard_b.png.1440x1080.jpg"},
            ],
        },
        {"groupId": 1, "groupName": "客厅", "imgObjectList": [{"imgUrl": "http://x/c.jpg"}]},
    ],
    "colorTags": [{"desc": "满五年"}, {"desc": "随时可看"}, {"desc": "房主自荐"}],
    "basicInfo": {
        "isOffSale": False,
        "title": "双裕花园西区 1室1厅 63.4平米",
        "cityId": "110000",
        "houseCode": "101127449675",
        "communityName": "双裕花园西区",
        "price": 2350000,
        "unitPrice": 37067,
        "blueprintHallNum": 1,
        "blueprintBedroomNum": 1,
        "area": 63.4,
        "mUrl": "https://m.ke.com/bj/ershoufang/101127449675.html",
    },
    "basicList": [
        {"name": "售价", "value": "235万"},
        {"name": "房型", "value": "1室1厅"},
        {"name": "建筑面积", "value": "63.4㎡"},
    ],
    "infoList": [
        {"name": "单价:", "value": "37067元/平"},
        {"name": "挂牌:", "value": "2024.11.05"},
        {"name": "朝向:", "value": "南"},
        {"name": "楼层:", "value": "顶层(共4层)"},
        {"name": "楼型:", "value": "板楼"},
        {"name": "电梯:", "value": "无"},
        {"name": "装修：", "value": "精装"},
        {"name": "年代:", "value": "2003年建成"},
        {"name": "用途:", "value": "普通住宅"},
        {"name": "权属:", "value": "商品房"},
    ],
    "infoJumpList": [
        {"id": "xiaoqurukou", "name": "小区:", "value": "双裕花园西区 (顺义区-后沙峪)"},
        {"id": "gengduofangyuanxinxi", "name": "其他:", "value": "梯户比 供暖方式"},
        {"id": "goufangyusuan", "sfTotal": 45, "monthlySupply": 9500, "name": "首付:"},
    ],
}


def test_seed_sample_is_parsed_into_a_listing() -> None:
    listing = parse_house(copy.deepcopy(SEED_DATA), SEED_HOUSE)

    assert listing.kind is ListingKind.SALE
    assert listing.price == Decimal("235")
    assert listing.price_unit is PriceUnit.WAN_YUAN
    assert listing.unit_price == Decimal("37067")
    assert listing.status is ListingStatus.ON_SALE
    assert listing.title == "双裕花园西区 1室1厅 63.4平米"
    assert listing.photos == (
        "http://ke-image.ljcdn.com/hdic-frame/standard_a.png.1440x1080.jpg",
        "http://ke-image.ljcdn.com/hdic-frame/standard_b.png.1440x1080.jpg",
        "http://x/c.jpg",
    )
    assert listing.tags == ("满五年", "随时可看", "房主自荐")
    assert listing.agent == "张忠良"
    assert listing.url == "https://m.ke.com/bj/ershoufang/101127449675.html"
    assert listing.city_id == "110000"
    facts = {key: (label, value) for key, label, value in listing.facts}
    assert facts["layout"] == ("房型", "1室1厅")
    assert facts["area"] == ("建筑面积", "63.4㎡")
    assert facts["listed"] == ("挂牌", "2024.11.05")
    assert facts["orientation"] == ("朝向", "南")
    assert facts["floor"] == ("楼层", "顶层(共4层)")
    assert facts["building"] == ("楼型", "板楼")
    assert facts["elevator"] == ("电梯", "无")
    assert facts["decoration"] == ("装修", "精装")  # full-width colon stripped too
    assert facts["built_year"] == ("年代", "2003年建成")
    assert facts["usage"] == ("用途", "普通住宅")
    assert facts["ownership"] == ("权属", "商品房")
    assert facts["community"] == ("小区", "双裕花园西区")
    assert facts["district"] == ("区域", "顺义区-后沙峪")
    assert facts["down_payment"] == ("首付", "45万")
    assert facts["monthly_payment"] == ("月供", "9500元")
    assert all(label != "单价" for _key, label, _value in listing.facts)


def test_layout_falls_back_to_blueprint_numbers() -> None:
    data = copy.deepcopy(SEED_DATA)
    data["basicList"] = []
    data["basicInfo"]["blueprintBedroomNum"] = 3
    data["basicInfo"]["blueprintHallNum"] = 2

    assert parse_house(data, SEED_HOUSE).fact("layout") == "3室2厅"


def test_price_in_yuan_becomes_exact_wan() -> None:
    data = copy.deepcopy(SEED_DATA)
    data["basicInfo"]["price"] = 2355500

    assert parse_house(data, SEED_HOUSE).price == Decimal("235.55")


def test_off_sale_home_with_a_deal_is_sold_otherwise_taken_down() -> None:
    data = copy.deepcopy(SEED_DATA)
    data["basicInfo"]["isOffSale"] = True
    assert parse_house(data, SEED_HOUSE).status is ListingStatus.TAKEN_DOWN

    data["basicInfo"]["offSaleText"] = "该房源已成交"
    assert parse_house(data, SEED_HOUSE).status is ListingStatus.SOLD


def test_missing_url_is_built_from_city_and_code() -> None:
    data = copy.deepcopy(SEED_DATA)
    del data["basicInfo"]["mUrl"]

    assert parse_house(data, SEED_HOUSE).url == "https://m.ke.com/bj/ershoufang/101127449675.html"


# -- against the sandbox ------------------------------------------------------------------


async def test_home_on_sale_is_fetched_with_every_fact(client: BeikeClient) -> None:
    listing = await fetch(client, SEED_HOUSE)

    assert listing.ref == SEED_HOUSE
    assert listing.status is ListingStatus.ON_SALE
    assert listing.price == Decimal("235")
    assert listing.unit_price == Decimal("37066")  # 2350000 / 63.4, rounded
    assert listing.agent == "张忠良"
    assert listing.tags == ("满五年", "随时可看", "房主自荐")
    assert len(listing.photos) == 4 and listing.photos[0].endswith(
        "/img/beike-101127449675-huxing.png"
    )
    assert listing.fact("district") == "顺义区-后沙峪"
    assert listing.fact("down_payment") == "71万"
    assert listing.fact("floor") == "顶层(共4层)"
    assert listing.url == "https://m.ke.com/bj/ershoufang/101127449675.html"


async def test_sandbox_photo_is_a_png(client: BeikeClient) -> None:
    listing = await fetch(client, SEED_HOUSE)

    response = await client.http.get(listing.photos[0])

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")


async def test_price_set_in_the_sandbox_is_served_in_wan(
    sandbox: Sandbox, client: BeikeClient
) -> None:
    sandbox.state.catalogues["beike"].set_price(SEED_HOUSE.listing_id, Decimal("199.5"))

    listing = await fetch(client, SEED_HOUSE)

    assert listing.price == Decimal("199.5")


async def test_prices_drift_over_days(client: BeikeClient) -> None:
    before = await fetch(client, SEED_HOUSE)
    client.clock.advance(30 * 86400)  # type: ignore[attr-defined]

    after = await fetch(client, SEED_HOUSE)

    assert after.price != before.price


async def test_withdrawn_home_is_taken_down(client: BeikeClient) -> None:
    listing = await fetch(client, TAKEN_DOWN_HOUSE)

    assert listing.status is ListingStatus.TAKEN_DOWN
    assert client.listing_ttl(listing) == 3600


async def test_home_with_a_deal_is_sold(client: BeikeClient) -> None:
    assert (await fetch(client, SOLD_HOUSE)).status is ListingStatus.SOLD


async def test_status_set_in_the_sandbox_is_reported(sandbox: Sandbox, client: BeikeClient) -> None:
    sandbox.state.catalogues["beike"].set_status(SEED_HOUSE.listing_id, ListingStatus.SOLD)

    assert (await fetch(client, SEED_HOUSE)).status is ListingStatus.SOLD


async def test_on_sale_home_is_cached_five_minutes(client: BeikeClient) -> None:
    assert client.listing_ttl(await fetch(client, SEED_HOUSE)) == 300


@pytest.mark.parametrize(
    "ref",
    [
        REMOVED_HOUSE,
        ListingRef("beike", "101199999999", "110000"),  # never existed
        ListingRef("beike", SEED_HOUSE.listing_id, "310000"),  # asked in the wrong city
    ],
)
async def test_missing_home_is_not_found(client: BeikeClient, ref: ListingRef) -> None:
    with pytest.raises(NotFound):
        await fetch(client, ref)


@pytest.mark.parametrize("form", ["null", "empty", "no_basic"])
async def test_home_removed_later_is_not_found_in_every_form_of_no_data(
    sandbox: Sandbox, client: BeikeClient, form: str
) -> None:
    sandbox.state.catalogues["beike"].remove(SEED_HOUSE.listing_id, form)

    with pytest.raises(NotFound):
        await fetch(client, SEED_HOUSE)


async def test_home_without_city_is_refused_before_any_call(
    sandbox: Sandbox, client: BeikeClient
) -> None:
    with pytest.raises(BadRequest):
        await fetch(client, ListingRef("beike", SEED_HOUSE.listing_id))

    assert sandbox.state.counters["beike"].calls == 0


@pytest.mark.parametrize("code", ["12/34", "10112744967", "1011274496751", "BJ123"])
async def test_malformed_or_wrong_length_house_code_is_refused_without_a_call(
    sandbox: Sandbox, client: BeikeClient, code: str
) -> None:
    with pytest.raises(BadRequest):
        await fetch(client, ListingRef("beike", code, "110000"))

    assert sandbox.state.counters["beike"].calls == 0


async def test_wrong_token_is_not_permitted(sandbox: Sandbox) -> None:
    overrides = {**sandbox.settings_overrides(), "beike_token": "not-the-token"}
    config = load_settings(require_token=False, **overrides).beike()
    async with httpx.AsyncClient() as http:
        client = BeikeClient(http, config, sandbox.state.clock)
        with pytest.raises(NotPermitted) as caught:
            await client.fetch_listing(SEED_HOUSE)

    assert caught.value.code == 100
    assert "not-the-token" not in str(caught.value)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (100, NotPermitted),
        (301, Transient),
        (302, RateLimited),
        (303, QuotaExhausted),
        (400, BadRequest),
        (500, Transient),
        (600, NotPermitted),
        (601, InsufficientBalance),
    ],
)
async def test_every_business_code_maps_to_its_error(
    sandbox: Sandbox, client: BeikeClient, code: int, error: type[PlatformError]
) -> None:
    sandbox.state.inject("beike", Fault("code", code=code, msg="injected"))

    with pytest.raises(error) as caught:
        await fetch(client, SEED_HOUSE)

    assert type(caught.value) is error
    assert caught.value.code == code


async def test_collection_failure_is_retried_successfully_afterwards(
    sandbox: Sandbox, client: BeikeClient
) -> None:
    sandbox.state.inject("beike", Fault("code", code=301))

    with pytest.raises(Transient):
        await fetch(client, SEED_HOUSE)
    assert (await fetch(client, SEED_HOUSE)).listing_id == SEED_HOUSE.listing_id


async def test_per_second_limit_answers_rate_limited(sandbox: Sandbox, client: BeikeClient) -> None:
    sandbox.state.beike_per_second = 2
    await client.fetch_listing(SEED_HOUSE)
    await client.fetch_listing(SEED_HOUSE)

    with pytest.raises(RateLimited) as caught:
        await client.fetch_listing(SEED_HOUSE)
    assert caught.value.code == 302
    assert (await fetch(client, SEED_HOUSE)).listing_id == SEED_HOUSE.listing_id


async def test_daily_quota_answers_quota_exhausted(sandbox: Sandbox, client: BeikeClient) -> None:
    sandbox.state.beike_per_day = 1
    await fetch(client, SEED_HOUSE)

    with pytest.raises(QuotaExhausted) as caught:
        await fetch(client, SEED_HOUSE)
    assert caught.value.code == 303


@pytest.mark.parametrize(
    "fault",
    [
        Fault("http", status=500),
        Fault("http", status=502),
        Fault("http", status=503),
        Fault("malformed"),
        Fault("disconnect"),
        Fault("timeout", delay=1.0),
    ],
    ids=["500", "502", "503", "malformed", "disconnect", "timeout"],
)
async def test_broken_answers_are_transient_and_hide_the_token(
    sandbox: Sandbox, client: BeikeClient, fault: Fault
) -> None:
    client.request_timeout = 0.2
    sandbox.state.inject("beike", fault)

    with pytest.raises(Transient) as caught:
        await fetch(client, SEED_HOUSE)

    token = client.config.secret.get_secret_value()
    assert token not in str(caught.value)
    assert token not in repr(caught.value.args)
    assert not isinstance(caught.value.__cause__, httpx.HTTPError)  # it would carry the URL


@pytest.mark.parametrize(
    ("status", "error"), [(401, NotPermitted), (403, NotPermitted), (404, BadRequest)]
)
async def test_http_client_errors_without_a_code(
    sandbox: Sandbox, client: BeikeClient, status: int, error: type[PlatformError]
) -> None:
    sandbox.state.inject("beike", Fault("http", status=status))

    with pytest.raises(error):
        await fetch(client, SEED_HOUSE)


def test_limits_are_unpublished_so_none_are_counted() -> None:
    assert BeikeClient.TIERS == {}


def test_listing_url_is_the_mobile_page() -> None:
    client = BeikeClient.__new__(BeikeClient)

    assert client.listing_url(SEED_HOUSE) == "https://m.ke.com/bj/ershoufang/101127449675.html"
    assert client.listing_url(ListingRef("beike", "107108339402", "310000")) == (
        "https://m.ke.com/sh/ershoufang/107108339402.html"
    )


# -- cities -----------------------------------------------------------------------------

BRIEF_CITIES = {
    "bj": "110000", "beijing": "110000", "sh": "310000", "shanghai": "310000",
    "gz": "440100", "guangzhou": "440100", "sz": "440300", "shenzhen": "440300",
    "hz": "330100", "hangzhou": "330100", "nj": "320100", "nanjing": "320100",
    "cd": "510100", "chengdu": "510100", "wh": "420100", "wuhan": "420100",
    "tj": "120000", "tianjin": "120000", "cq": "500000", "chongqing": "500000",
    "xa": "610100", "xian": "610100", "su": "320500", "suzhou": "320500",
    "cs": "430100", "changsha": "430100", "zz": "410100", "zhengzhou": "410100",
    "jn": "370101", "jinan": "370101", "qd": "370200", "qingdao": "370200",
    "dl": "210200", "dalian": "210200", "sy": "210100", "shenyang": "210100",
    "hf": "340100", "hefei": "340100", "fz": "350100", "fuzhou": "350100",
    "xm": "350200", "xiamen": "350200", "km": "530100", "kunming": "530100",
    "nn": "450100", "nanning": "450100",
}  # fmt: skip


@pytest.mark.parametrize(("slug", "city_id"), sorted(BRIEF_CITIES.items()))
def test_city_slugs_and_pinyin_give_the_city_id(slug: str, city_id: str) -> None:
    assert city_id_for_slug(slug) == city_id
    assert city_id_for_slug(slug.upper()) == city_id


def test_city_table_is_large_and_unambiguous() -> None:
    assert len(CITIES) >= 40
    assert len({c[0] for c in CITIES}) == len(CITIES)
    assert len({c[1] for c in CITIES}) == len(CITIES)
    assert len({c[3] for c in CITIES}) == len(CITIES)
    for city_id, _slug, _pinyin, _name in CITIES:
        # municipalities are X0000; prefecture cities XXXX00 (Jinan is Beike's own 370101)
        assert len(city_id) == 6 and city_id.isdigit()
        assert city_id.endswith("00") or city_id == "370101"


def test_chinese_city_names_give_the_city_id() -> None:
    assert city_id_for_slug("北京") == "110000"
    assert city_id_for_slug("深圳市") == "440300"
    assert city_id_for_slug("atlantis") is None


# -- link recognition ---------------------------------------------------------------------

BJ = ("101127449675", "110000")
SH = ("107108339402", "310000")
POSITIVE_LINKS: list[tuple[str, tuple[str, str | None]]] = [
    ("https://bj.ke.com/ershoufang/101127449675.html", BJ),
    ("http://bj.ke.com/ershoufang/101127449675.html", BJ),
    ("bj.ke.com/ershoufang/101127449675.html", BJ),
    ("https://www.bj.ke.com/ershoufang/101127449675.html", BJ),
    ("https://m.ke.com/bj/ershoufang/101127449675.html", BJ),
    ("m.ke.com/bj/ershoufang/101127449675.html", BJ),
    ("https://sh.lianjia.com/ershoufang/107108339402.html", SH),
    ("sh.lianjia.com/ershoufang/107108339402.html", SH),
    ("https://m.lianjia.com/sh/ershoufang/107108339402.html", SH),
    ("https://bj.ke.com/ershoufang/101127449675.html?fb_expo_id=123&from=share#hd", BJ),
    ("https://m.ke.com/bj/ershoufang/101127449675.html?share_user_id=0&share=true", BJ),
    ("https://BJ.KE.COM/ershoufang/101127449675.html", BJ),
    ("https://bj.ke.com:443/ershoufang/101127449675.html", BJ),
    ("看看这套：https://bj.ke.com/ershoufang/101127449675.html，价格不错！", BJ),
    (
        "【贝壳找房】双裕花园西区 1室1厅 235万（https://m.ke.com/bj/ershoufang/101127449675.html）",
        BJ,
    ),
    (
        "ｈｔｔｐｓ：／／ｂｊ．ｋｅ．ｃｏｍ／ｅｒｓｈｏｕｆａｎｇ／１０１１２７４４９６７５．ｈｔｍｌ",
        BJ,
    ),
    ("房子在这bj.ke.com/ershoufang/101127449675.html", BJ),
    (
        "subpackages/ershoufang/pages/esfDetail/esfDetail?cityId=110000&houseCode=101127449675"
        "&share_user_id=0&share_time=1773065058267&source=share_beikeapp",
        BJ,
    ),
    ("esfDetail?houseCode=107108339402&cityId=310000", SH),
    ("https://m.ke.com/ershoufang/detail?cityId=310000&houseCode=107108339402", SH),
    ("https://gz.ke.com/ershoufang/108400123456.html", ("108400123456", "440100")),
    ("https://hui.ke.com/ershoufang/108400123457.html", ("108400123457", "441300")),
    ("https://jn.lianjia.com/ershoufang/103456789012.html", ("103456789012", "370101")),
    ("https://bj.lianjia.com/ershoufang/BJCY91736842.html", ("BJCY91736842", "110000")),
    ("https://xx.ke.com/ershoufang/101127449675.html", ("101127449675", None)),
    ("https://m.ke.com/ershoufang/101127449675.html", ("101127449675", None)),
    ("https://ke.com/ershoufang/101127449675.html", ("101127449675", None)),
]


@pytest.mark.parametrize(("text", "expected"), POSITIVE_LINKS)
def test_beike_links_are_found_with_their_city(text: str, expected: tuple[str, str | None]) -> None:
    code, city_id = expected

    found = BeikeClient.find(text)

    assert len(found) == 1
    assert found[0].ref == ListingRef("beike", code, city_id)
    assert found[0].needs_city is (city_id is None)
    assert found[0].platform == "beike"


NEGATIVE_LINKS = [
    "https://ke.com.example.org/ershoufang/101127449675.html",
    "https://bj.ke.com@evil.example/ershoufang/101127449675.html",
    "https://fake-ke.com/ershoufang/101127449675.html",
    "https://bj.fake-ke.com/ershoufang/101127449675.html",
    "https://lianjia.com.evil.cn/ershoufang/107108339402.html",
    "https://notlianjia.com/ershoufang/107108339402.html",
    "ftp://bj.ke.com/ershoufang/101127449675.html",
    "https://bj.ke.com/zufang/BJ2345678901234567.html",
    "https://bj.ke.com/ershoufang/",
    "https://www.goofish.com/item?id=712345678901",
    "https://bj.ke.com/ershoufang/101127449675",
    "101127449675",
    "就是一段普通的文字，没有链接",
]


@pytest.mark.parametrize("text", NEGATIVE_LINKS)
def test_lookalikes_and_other_links_are_not_beike(text: str) -> None:
    assert BeikeClient.find(text) == []


def test_links_in_one_message_keep_their_order_and_positions() -> None:
    text = "A：https://m.lianjia.com/sh/ershoufang/107108339402.html B：bj.ke.com/ershoufang/101127449675.html"

    found = BeikeClient.find(text)

    assert [f.ref.listing_id for f in found if f.ref] == ["107108339402", "101127449675"]
    assert text[found[0].start :].startswith("https://m.lianjia.com")
    assert text[found[1].start :].startswith("bj.ke.com")


def test_same_home_twice_is_found_once() -> None:
    text = (
        "https://bj.ke.com/ershoufang/101127449675.html 和 m.ke.com/bj/ershoufang/101127449675.html"
    )

    assert len(BeikeClient.find(text)) == 1


def test_bare_codes() -> None:
    assert BeikeClient.bare_ref("101127449675") == ListingRef("beike", "101127449675")
    assert BeikeClient.bare_ref("BJCY91736842") == ListingRef("beike", "BJCY91736842", "110000")
    assert BeikeClient.bare_ref("10112744967") is None
    assert BeikeClient.bare_ref("1011274496751") is None
