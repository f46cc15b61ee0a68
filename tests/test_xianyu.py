"""Xianyu item_get: signature, parsing, error mapping, limits, short links and link recognition."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from bot.config import load_settings
from clients.base import Limits, PlatformConfig
from clients.errors import (
    BadRequest,
    NotFound,
    NotPermitted,
    PlatformError,
    QuotaExhausted,
    RateLimited,
    Transient,
)
from clients.models import Listing, ListingKind, ListingRef, ListingStatus, PriceUnit
from clients.xianyu import XianyuClient, parse_item, sign
from clock import CHINA_TZ, FakeClock
from gateway import Gateway
from gateway.budget import SYSTEM
from sandbox.core import Fault
from sandbox.server import Sandbox
from storage.database import Database
from storage.quota import QuotaStore

IPHONE = ListingRef("xianyu", "712345678901")
MATE = ListingRef("xianyu", "6987654321098")
MACBOOK = ListingRef("xianyu", "698765432109876543")
BIKE_SOLD = ListingRef("xianyu", "734567890123")
SOFA_OFFLINE = ListingRef("xianyu", "745678901234")
BAND_HOSTILE = ListingRef("xianyu", "756789012345")
KINDLE_REMOVED = ListingRef("xianyu", "789012345678")
MONITOR = ListingRef("xianyu", "7012345678901234")


def hmac_hex(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


# -- signature ------------------------------------------------------------------------------


def test_signature_of_the_basic_request() -> None:
    params = {
        "method": "xianyu.item.get",
        "app_key": "k",
        "version": "v2",
        "timestamp": "1735689600000",
        "item_id": "1",
    }

    expected = hmac_hex(
        "s",
        "app_key=k&item_id=1&method=xianyu.item.get&timestamp=1735689600000&version=v2&app_secret=s",
    )
    assert sign(params, "s") == expected


def test_signature_leaves_out_empty_values_and_sign_and_percent_encodes() -> None:
    params = {
        "app_key": "xianyu_123456",
        "method": "xianyu.item.get",
        "timestamp": "1735689600000",
        "version": "v2",
        "item_id": "698765432109876543",
        "fields": "title,price,condition seller",
        "extra": "",
        "sign": "whatever",
    }

    expected = hmac_hex(
        "sec&ret",
        "app_key=xianyu_123456&fields=title%2Cprice%2Ccondition+seller&item_id=698765432109876543"
        "&method=xianyu.item.get&timestamp=1735689600000&version=v2&app_secret=sec&ret",
    )
    assert sign(params, "sec&ret") == expected


def test_signature_encodes_chinese_as_utf8() -> None:
    expected = hmac_hex("s", "a=%E9%97%B2%E9%B1%BC&app_secret=s")

    assert sign({"a": "闲鱼"}, "s") == expected


# -- parsing without the sandbox ------------------------------------------------------------


def test_item_in_the_seed_shape_is_parsed() -> None:
    item = {
        "item_id": "698765432109876543",
        "title": "iPhone 14 256GB",
        "pic_url": "//img.alicdn.com/a.jpg",
        "item_imgs": [{"url": "https://img.alicdn.com/a.jpg"}, "https://img.alicdn.com/b.jpg"],
        "price": 4999.5,
        "original_price": "",
        "condition": "九成新",
        "status": "onsale",
        "valid_time": "2025-01-01 10:00:00",
        "guarantee": ["验货担保"],
        "params": {"存储容量": "256GB"},
    }

    listing = parse_item(item, "698765432109876543")

    assert listing.price == Decimal("4999.5")
    assert listing.original_price is None
    assert listing.photos == ("https://img.alicdn.com/a.jpg", "https://img.alicdn.com/b.jpg")
    assert listing.fact("condition") == "九成新"
    assert listing.fact("listed") == "2025-01-01"
    assert listing.fact("guarantee") == "验货担保"
    assert [(label, value) for key, label, value in listing.facts if key == "param"] == [
        ("存储容量", "256GB")
    ]


@pytest.mark.parametrize(
    ("item_imgs", "photos"),
    [
        # the seed: "item_imgs 商品多图 URL 列表"; Taobao's TOP API wraps the list
        (["https://img.alicdn.com/b.jpg"], ("https://img.alicdn.com/b.jpg",)),
        (
            {"item_img": [{"url": "https://img.alicdn.com/b.jpg"}]},
            ("https://img.alicdn.com/b.jpg",),
        ),
        # hypothesis found `true` crashing the card; no list is no photos
        (True, ()),
        ("https://img.alicdn.com/b.jpg", ()),
        (7, ()),
        ({"item_img": "x"}, ()),
    ],
)
def test_photos_are_read_from_every_plausible_item_imgs_shape(
    item_imgs: object, photos: tuple[str, ...]
) -> None:
    listing = parse_item({"title": "iPhone 14", "item_imgs": item_imgs}, "698765432109876543")
    assert listing.photos == photos


@pytest.mark.parametrize(
    ("grade", "chinese"),
    [
        ("new", "全新"),
        ("like_new", "九成新"),
        ("very_good", "八成新"),
        ("good", "七成新"),
        ("acceptable", "六成新及以下"),
        ("八成新", "八成新"),
    ],
)
def test_condition_grades_are_shown_in_chinese(grade: str, chinese: str) -> None:
    listing = parse_item({"item_id": "1", "condition": grade, "status": "onsale"}, "1")

    assert listing.fact("condition") == chinese


def test_unknown_status_is_shown_as_the_platform_wrote_it_never_a_failure() -> None:
    listing = parse_item({"item_id": "1", "status": "frozen", "price": "5"}, "1")

    assert listing.status is ListingStatus.OTHER
    assert listing.status_word == "frozen"


# -- against the sandbox --------------------------------------------------------------------


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(clock=FakeClock()) as sb:
        yield sb


def xianyu_config(sandbox: Sandbox, **changes: object) -> PlatformConfig:
    overrides = {**sandbox.settings_overrides(), **changes}
    return load_settings(require_token=False, **overrides).xianyu()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def client(sandbox: Sandbox, http: httpx.AsyncClient) -> XianyuClient:
    return XianyuClient(http, xianyu_config(sandbox), sandbox.state.clock)


async def fetch(client: XianyuClient, ref: ListingRef) -> Listing:
    """One call a second after the last: the personal tier allows 1 per second."""
    client.clock.advance(1)  # type: ignore[attr-defined]
    return await client.fetch_listing(ref)


async def test_item_on_sale_is_fetched_with_every_fact(
    sandbox: Sandbox, client: XianyuClient
) -> None:
    listing = await fetch(client, IPHONE)

    assert listing.kind is ListingKind.ITEM
    assert listing.status is ListingStatus.ON_SALE
    assert listing.price == Decimal("5299")
    assert listing.price_unit is PriceUnit.YUAN
    assert listing.original_price == Decimal("8899")
    assert listing.agent == "数码小王"
    assert listing.url == "https://www.goofish.com/item?id=712345678901"
    assert len(listing.photos) == 3  # pic_url repeats the first of item_imgs
    assert listing.photos[0].endswith("/img/xianyu-712345678901-1.png")
    facts = {key: (label, value) for key, label, value in listing.facts if key != "param"}
    assert facts["condition"] == ("成色", "九成新")
    assert facts["category"] == ("类目", "手机-苹果手机-iPhone 14 Pro")
    assert facts["location"] == ("所在地", "浙江杭州")
    assert facts["seller_rating"] == ("好评率", "99.8%")
    assert facts["seller_level"] == ("卖家等级", "钻")
    assert facts["shipping"] == ("物流", "包邮")
    assert facts["guarantee"] == ("保障", "验货担保、七天无理由")
    assert facts["sales"] == ("已售", "0")
    listed = datetime.fromtimestamp(sandbox.state.epoch - 12 * 86400, CHINA_TZ).strftime("%Y-%m-%d")
    assert facts["listed"] == ("上架时间", listed)
    params = [(label, value) for key, label, value in listing.facts if key == "param"]
    assert params == [("存储容量", "256GB"), ("颜色", "暗紫色"), ("版本", "国行")]


async def test_price_keeps_its_decimals(client: XianyuClient) -> None:
    listing = await fetch(client, MACBOOK)

    assert listing.price == Decimal("5680.50")
    assert str(listing.price) == "5680.50"
    assert listing.fact("condition") == "八成新"


async def test_price_set_in_the_sandbox_is_served(sandbox: Sandbox, client: XianyuClient) -> None:
    sandbox.state.catalogues["xianyu"].set_price(MATE.listing_id, Decimal("3999.99"))

    assert (await fetch(client, MATE)).price == Decimal("3999.99")


async def test_hostile_strings_come_through_unchanged(client: XianyuClient) -> None:
    listing = await fetch(client, BAND_HOSTILE)

    assert listing.title == "<b>全新</b> 小米手环8 & 原装充电器"
    assert listing.agent == "米粉&<小店>"


@pytest.mark.parametrize(
    ("ref", "status", "ttl"),
    [
        (IPHONE, ListingStatus.ON_SALE, 300),
        (BIKE_SOLD, ListingStatus.SOLD, 3600),
        (SOFA_OFFLINE, ListingStatus.TAKEN_DOWN, 86400),
    ],
)
async def test_status_is_mapped_and_sets_the_cache_lifetime(
    client: XianyuClient, ref: ListingRef, status: ListingStatus, ttl: float
) -> None:
    listing = await fetch(client, ref)

    assert listing.status is status
    assert client.listing_ttl(listing) == ttl


async def test_status_set_in_the_sandbox_is_reported(
    sandbox: Sandbox, client: XianyuClient
) -> None:
    sandbox.state.catalogues["xianyu"].set_status(IPHONE.listing_id, ListingStatus.SOLD)

    assert (await fetch(client, IPHONE)).status is ListingStatus.SOLD


async def test_long_ids_are_served(client: XianyuClient) -> None:
    assert (await fetch(client, MONITOR)).listing_id == "7012345678901234"


@pytest.mark.parametrize("item_id", ["712345678901", "6987654321098", "6912345678901234567"])
async def test_every_plausible_id_length_is_answered(client: XianyuClient, item_id: str) -> None:
    # seed 002 says 16-19 digits; item pages still carry 12-13 (docs/assumptions.md, X1)
    listing = await fetch(client, ListingRef("xianyu", item_id))
    assert listing.listing_id == item_id


async def test_a_grade_in_the_seeds_chinese_words_is_read_as_written(client: XianyuClient) -> None:
    switch = await fetch(client, ListingRef("xianyu", "6912345678901234567"))
    assert switch.fact("condition") == "六成新及以下"


async def test_removed_item_is_not_found_and_remembered_ten_minutes(client: XianyuClient) -> None:
    with pytest.raises(NotFound) as caught:
        await fetch(client, KINDLE_REMOVED)

    assert client.error_ttl(caught.value) == 600


async def test_unknown_item_is_not_found(client: XianyuClient) -> None:
    with pytest.raises(NotFound) as caught:
        await fetch(client, ListingRef("xianyu", "799999999999"))

    assert caught.value.http_status == 400


@pytest.mark.parametrize("form", ["empty", "missing", "null", "error"])
async def test_item_removed_later_is_not_found_in_every_form_of_no_item(
    sandbox: Sandbox, client: XianyuClient, form: str
) -> None:
    sandbox.state.catalogues["xianyu"].remove(IPHONE.listing_id, form)

    with pytest.raises(NotFound):
        await fetch(client, IPHONE)


async def test_missing_items_are_not_retried_and_never_open_the_breaker(
    sandbox: Sandbox, client: XianyuClient, tmp_path: Path
) -> None:
    clock = sandbox.state.clock
    gateway = Gateway({"xianyu": client}, QuotaStore(Database(tmp_path / "b.db", clock)), clock)
    catalogue = sandbox.state.catalogues["xianyu"]
    others = [i for i in catalogue.ids() if i != IPHONE.listing_id]
    for item_id in others[:6]:
        catalogue.remove(item_id, "missing")
        clock.advance(2)  # type: ignore[attr-defined]
        with pytest.raises(NotFound):
            await gateway.listing(ListingRef("xianyu", item_id), payer=SYSTEM)

    assert sandbox.state.counters["xianyu"].calls == 6  # one call each, no retries
    clock.advance(2)  # type: ignore[attr-defined]
    assert (await gateway.listing(IPHONE, payer=SYSTEM)).listing_id == IPHONE.listing_id


async def test_malformed_item_id_is_a_bad_request(client: XianyuClient) -> None:
    with pytest.raises(BadRequest) as caught:
        await fetch(client, ListingRef("xianyu", "12345"))

    assert caught.value.code == 41


async def test_wrong_secret_is_refused_as_a_bad_signature(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    client = XianyuClient(
        http, xianyu_config(sandbox, xianyu_app_secret="wrong"), sandbox.state.clock
    )

    with pytest.raises(NotPermitted) as caught:
        await client.fetch_listing(IPHONE)

    assert caught.value.code == 25
    assert caught.value.http_status == 401


async def test_wrong_app_key_is_refused(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    client = XianyuClient(
        http, xianyu_config(sandbox, xianyu_app_key="someone-else"), sandbox.state.clock
    )

    with pytest.raises(NotPermitted) as caught:
        await client.fetch_listing(IPHONE)

    assert caught.value.code == 29


@pytest.mark.parametrize("skew", [-301, 301])
async def test_timestamp_more_than_five_minutes_off_is_refused(
    sandbox: Sandbox, http: httpx.AsyncClient, skew: float
) -> None:
    # The client signs with its own clock, `skew` seconds away from the platform's.
    client_clock = FakeClock(start=sandbox.state.clock.time() + skew)
    client = XianyuClient(http, xianyu_config(sandbox), client_clock)

    with pytest.raises(NotPermitted) as caught:
        await client.fetch_listing(IPHONE)

    assert caught.value.code == 32


async def test_timestamp_within_five_minutes_is_accepted(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    client_clock = FakeClock(start=sandbox.state.clock.time() - 290)
    client = XianyuClient(http, xianyu_config(sandbox), client_clock)

    assert (await client.fetch_listing(IPHONE)).listing_id == IPHONE.listing_id


async def test_request_signed_then_sent_late_is_refused(
    sandbox: Sandbox, client: XianyuClient
) -> None:
    params = {
        "app_key": client.config.key,
        "method": "xianyu.item.get",
        "timestamp": str(int(sandbox.state.clock.time() * 1000)),
        "version": "v2",
        "item_id": IPHONE.listing_id,
    }
    params["sign"] = sign(params, client.config.secret.get_secret_value())
    sandbox.state.clock.advance(6 * 60)  # type: ignore[attr-defined]

    response = await client.http.post(client.config.api_url, data=params)

    assert response.status_code == 401
    assert response.json()["error_response"]["code"] == 32


async def test_personal_tier_allows_one_call_a_second(client: XianyuClient) -> None:
    await fetch(client, IPHONE)

    with pytest.raises(RateLimited) as caught:
        await client.fetch_listing(IPHONE)

    assert caught.value.http_status == 403
    assert (await fetch(client, IPHONE)).listing_id == IPHONE.listing_id


async def test_daily_quota_of_the_tier_is_enforced(sandbox: Sandbox, client: XianyuClient) -> None:
    state = sandbox.state
    state.counters["xianyu"].by_day[state.day()] = 100  # the personal tier's day is used up

    with pytest.raises(QuotaExhausted) as caught:
        await fetch(client, IPHONE)

    assert caught.value.http_status == 403


def test_tier_limits_follow_the_contract(client: XianyuClient) -> None:
    assert client.limits == Limits(per_day=100, per_second=1)
    assert XianyuClient.TIERS["enterprise_basic"] == Limits(per_day=10_000, per_second=5)
    assert XianyuClient.TIERS["enterprise_advanced"] == Limits(per_day=100_000, per_second=20)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault("http", status=400), BadRequest),
        (Fault("http", status=401), NotPermitted),
        (Fault("http", status=403), NotPermitted),
        (Fault("http", status=500), Transient),
        (Fault("http", status=502), Transient),
        (Fault("http", status=504), Transient),
        (Fault("code", status=400, code=41, msg="Invalid Arguments"), BadRequest),
        (Fault("code", status=401, code=25, msg="Invalid Signature"), NotPermitted),
        (Fault("code", status=403, code=11, msg="Insufficient ISV Permissions"), NotPermitted),
        (Fault("code", status=403, code=7, msg="调用频率超限"), RateLimited),
        (Fault("code", status=403, code=7, msg="call frequency exceeded"), RateLimited),
        (Fault("code", status=403, code=7, msg="App Call Limited"), RateLimited),
        (Fault("code", status=504, code=50, msg="Remote service timeout"), Transient),
        (Fault("code", status=200, code=15, msg="Remote service error"), Transient),
        (Fault("code", status=400, code=41, msg="商品不存在或已删除"), NotFound),
        # seed 002: item_id 无效 is a cause of 无商品数据; 格式错误 is the malformed ID
        (Fault("code", status=400, code=41, msg="item_id 无效"), NotFound),
        (Fault("code", status=400, code=41, msg="item_id 格式错误 / 无效"), BadRequest),
        (Fault("code", status=403, code=7, msg="每秒调用次数超限"), RateLimited),
        (Fault("code", status=403, code=7, msg="今日调用次数已达上限"), QuotaExhausted),
        # a 200 error body has only its words: a missing app_key before a missing item
        (Fault("code", status=200, code=29, msg="app_key 不存在"), NotPermitted),
        (Fault("code", status=200, code=41, msg="商品不存在"), NotFound),
        (Fault("malformed"), Transient),
        (Fault("disconnect"), Transient),
        (Fault("timeout", delay=1.0), Transient),
    ],
    ids=lambda value: value.__name__ if isinstance(value, type) else None,
)
async def test_every_failure_maps_to_its_error(
    sandbox: Sandbox, client: XianyuClient, fault: Fault, error: type[PlatformError]
) -> None:
    client.request_timeout = 0.2
    sandbox.state.inject("xianyu", fault)

    with pytest.raises(error) as caught:
        await fetch(client, IPHONE)

    assert type(caught.value) is error
    assert client.config.secret.get_secret_value() not in str(caught.value)


# -- short links ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("short_url", "expected"),
    [
        ("https://m.tb.cn/h.5abcDEF?tk=xyz", IPHONE),
        ("m.tb.cn/h.5xyGHIJ", MACBOOK),
        ("https://m.tb.cn/h.chain1", MATE),  # m.tb.cn -> m.tb.cn -> an idleFish app page
        ("https://m.tb.cn/h.page", MONITOR),  # a page that names the item in script
        ("https://m.tb.cn/h.taobao1", None),  # a Taobao item, not Xianyu
        ("https://m.tb.cn/h.loop", None),  # more than 5 redirects
        ("https://m.tb.cn/h.unknown", None),  # 404
        ("https://www.goofish.com/item?id=712345678901", IPHONE),  # already a page
    ],
)
async def test_short_links_resolve_to_the_xianyu_item_or_nothing(
    client: XianyuClient, short_url: str, expected: ListingRef | None
) -> None:
    assert await client.resolve(short_url) == expected


async def test_short_link_found_in_a_share_text_resolves(client: XianyuClient) -> None:
    text = "【闲鱼】https://m.tb.cn/h.5abcDEF?tk=xyz CZ0001 「我在闲鱼发布了【iPhone 14 Pro 256G】」点击链接直接打开"
    (found,) = XianyuClient.find(text)

    assert found.short_url is not None
    assert await client.resolve(found.short_url) == IPHONE


async def test_short_link_is_only_fetched_from_the_short_link_host(client: XianyuClient) -> None:
    # Not m.tb.cn and not a Xianyu page: decided from the URL alone, nothing is fetched.
    assert await client.resolve("https://example.org/h.5abcDEF") is None


# -- link recognition -------------------------------------------------------------------------

POSITIVE_LINKS: list[tuple[str, str]] = [
    ("https://2.taobao.com/item.htm?id=712345678901", "712345678901"),
    ("http://2.taobao.com/item.htm?id=712345678901", "712345678901"),
    ("2.taobao.com/item.htm?id=712345678901", "712345678901"),
    ("https://2.taobao.com/item.htm?spm=2007.1000337.0.0.5a&id=712345678901", "712345678901"),
    ("https://www.goofish.com/item?id=712345678901", "712345678901"),
    ("https://goofish.com/item?id=712345678901&categoryId=126862528", "712345678901"),
    ("www.goofish.com/item?spm=a21ybx.home.feeds.1&id=6987654321098", "6987654321098"),
    ("https://h5.m.goofish.com/item?id=698765432109876543", "698765432109876543"),
    ("https://h5.m.goofish.com/item?id=698765432109876543#comments", "698765432109876543"),
    ("https://WWW.GOOFISH.COM/item?id=712345678901", "712345678901"),
    (
        "https://market.m.taobao.com/app/idleFish-F2e/widle-taobao-rax/page-detail"
        "?wh_weex=true&id=712345678901&itemId=712345678901",
        "712345678901",
    ),
    ("fleamarket://item?id=712345678901", "712345678901"),
    ("fleamarket://awesome_detail?itemId=7012345678901234&flutter=true", "7012345678901234"),
    ("看看这个：https://www.goofish.com/item?id=712345678901，很新", "712345678901"),
    (
        "ｈｔｔｐｓ：／／ｗｗｗ．ｇｏｏｆｉｓｈ．ｃｏｍ／ｉｔｅｍ？ｉｄ＝７１２３４５６７８９０１",
        "712345678901",
    ),
    ("（https://2.taobao.com/item.htm?id=712345678901）", "712345678901"),
    ("链接:goofish.com/item?id=712345678901", "712345678901"),
    ("https://www.goofish.com/item?id=1234567890123456789", "1234567890123456789"),
]


@pytest.mark.parametrize(("text", "item_id"), POSITIVE_LINKS)
def test_xianyu_item_links_are_found(text: str, item_id: str) -> None:
    found = XianyuClient.find(text)

    assert len(found) == 1
    assert found[0].ref == ListingRef("xianyu", item_id)
    assert found[0].platform == "xianyu"


SHARE_TEXTS: list[tuple[str, str]] = [
    (
        "【闲鱼】https://m.tb.cn/h.5abcDEF?tk=xyz CZ0001 「我在闲鱼发布了【iPhone 14 Pro 256G】」点击链接直接打开",
        "https://m.tb.cn/h.5abcDEF?tk=xyz",
    ),
    (
        "【闲鱼】「iPhone 14 Pro 256G」点击链接或复制口令 https://m.tb.cn/h.5xyGHIJ 打开闲鱼",
        "https://m.tb.cn/h.5xyGHIJ",
    ),
    ("咸鱼上看到的 m.tb.cn/h.chain1，你看看", "https://m.tb.cn/h.chain1"),
    ("https://m.tb.cn/h.taobao1", "https://m.tb.cn/h.taobao1"),  # resolve() decides
]


@pytest.mark.parametrize(("text", "short_url"), SHARE_TEXTS)
def test_share_texts_give_short_links_to_resolve(text: str, short_url: str) -> None:
    found = XianyuClient.find(text)

    assert [(f.short_url, f.ref, f.platform) for f in found] == [(short_url, None, "xianyu")]


NEGATIVE_LINKS = [
    "https://goofish.com.example.org/item?id=712345678901",
    "https://taobao.com@evil.example/item.htm?id=712345678901",
    "https://2.taobao.com@evil.example/item.htm?id=712345678901",
    "https://www.goofish.com@evil.example/item?id=712345678901",
    "https://fakegoofish.com/item?id=712345678901",
    "https://item.taobao.com/item.htm?id=712345678901",
    "https://detail.tmall.com/item.htm?id=712345678901",
    "https://g.alicdn.com/idleFish-F2e/item?id=712345678901",
    "https://market.m.taobao.com/app/tb-source-app/page?id=712345678901",
    "https://www.goofish.com/search?q=iphone&id=712345678901",
    "https://www.goofish.com/item?id=abc",
    "https://m.tb.cn.evil.example/h.5abcDEF",
    "https://bj.ke.com/ershoufang/101127449675.html",
    "712345678901",
    "闲鱼上有很多好东西",
]


@pytest.mark.parametrize("text", NEGATIVE_LINKS)
def test_lookalikes_and_other_links_are_not_xianyu(text: str) -> None:
    assert XianyuClient.find(text) == []


def test_several_links_keep_their_order() -> None:
    text = "A https://m.tb.cn/h.5abcDEF B 2.taobao.com/item.htm?id=6987654321098"

    found = XianyuClient.find(text)

    assert [f.short_url or f.ref.listing_id for f in found if f.short_url or f.ref] == [
        "https://m.tb.cn/h.5abcDEF",
        "6987654321098",
    ]
    assert found[0].start < found[1].start


@pytest.mark.parametrize(
    ("token", "taken"),
    [
        ("712345678901", True),
        ("6987654321098", True),
        ("7012345678901234", True),
        ("1234567890123456789", True),
        ("12345678901", False),
        ("12345678901234", False),
        ("12345678901234567890", False),
    ],
)
def test_bare_ids_of_twelve_thirteen_or_sixteen_to_nineteen_digits(token: str, taken: bool) -> None:
    assert (XianyuClient.bare_ref(token) is not None) is taken


def test_listing_url_is_the_goofish_page(client: XianyuClient) -> None:
    assert client.listing_url(IPHONE) == "https://www.goofish.com/item?id=712345678901"
