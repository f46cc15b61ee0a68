"""Anjuke item_get: signature, parsing, error mapping, limits and link recognition."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from bot.config import load_settings
from clients.anjuke import AnjukeClient, parse_house_detail, sign
from clients.base import Limits, PlatformConfig, SecretStr
from clients.errors import (
    BadRequest,
    NotFound,
    NotPermitted,
    PlatformError,
    QuotaExhausted,
    RateLimited,
    TemporarilyUnavailable,
    Transient,
)
from clients.models import Listing, ListingKind, ListingRef, ListingStatus, PriceUnit
from clients.recognise import recognise
from clock import FakeClock
from gateway import Gateway
from gateway.budget import SYSTEM
from sandbox.core import Fault, drifted_price
from sandbox.server import Sandbox
from storage.database import Database
from storage.quota import QuotaStore

WANGJING = ListingRef("anjuke", "AK2026011800001")
LUJIAZUI = ListingRef("anjuke", "A1234567890")
WUHU_HOSTILE = ListingRef("anjuke", "A987654321")
TIANLUAN_SOLD = ListingRef("anjuke", "S1234567890123456")
GUOMAO_RENT = ListingRef("anjuke", "2398427383")
NANSHAN_RENTED = ListingRef("anjuke", "1234567890123456")
SHIJICHENG_RESERVED = ListingRef("anjuke", "3001234567")
YUNYUE_NEW = ListingRef("anjuke", "245678", kind="new_home")
CHUNXI_SHOP = ListingRef("anjuke", "3187906783", kind="shop")
GUOMAO_OFFICE = ListingRef("anjuke", "3166544960", kind="office")
GUANGGU_TAKEN_DOWN = ListingRef("anjuke", "A1122334455")


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


# -- signature ------------------------------------------------------------------------------


def test_signature_of_the_seed_request() -> None:
    params = {
        "key": "anjuke_api_2026_abc123",
        "api_name": "item_get",
        "result_type": "json",
        "cache": "yes",
        "house_id": "AK2026011800001",
        "need_media": "true",
        "need_transaction": "true",
        "need_evaluate": "false",
        "need_contact": "false",
    }

    expected = md5_hex(
        "api_nameitem_getcacheyeshouse_idAK2026011800001keyanjuke_api_2026_abc123"
        "need_contactfalseneed_evaluatefalseneed_mediatrueneed_transactiontrue"
        "result_typejson" + "anjuke_secret_2026_def456"
    )
    assert sign(params, "anjuke_secret_2026_def456") == expected


def test_signature_leaves_out_empty_values_and_sign_and_sorts_by_byte_value() -> None:
    params = {
        "need_media": "true",
        "field_filter": "house_name,price,area_build,metro_info",
        "Zone": "北京",
        "_x": "1",
        "cache": "",
        "sign": "0123456789abcdef",
    }

    # 'Z' (0x5A) < '_' (0x5F) < 'f' < 'n'; the Chinese value is hashed as UTF-8.
    expected = md5_hex(
        "Zone北京_x1field_filterhouse_name,price,area_build,metro_infoneed_mediatrue" + "s3cr3t"
    )
    assert sign(params, "s3cr3t") == expected


async def test_request_carries_every_parameter_signed_and_never_the_secret() -> None:
    config = PlatformConfig("https://api.example.test/anjuke/item_get", "k-1", SecretStr("sec-9"))
    async with httpx.AsyncClient() as http:
        params = AnjukeClient(http, config, FakeClock()).request_params("AK2026011800001")

    assert params == {
        "key": "k-1",
        "api_name": "item_get",
        "result_type": "json",
        "cache": "yes",
        "house_id": "AK2026011800001",
        "need_media": "true",
        "need_transaction": "true",
        "need_evaluate": "false",
        "need_contact": "false",
        "sign": md5_hex(
            "api_nameitem_getcacheyeshouse_idAK2026011800001keyk-1need_contactfalse"
            "need_evaluatefalseneed_mediatrueneed_transactiontrueresult_typejson" + "sec-9"
        ),
    }
    assert "sec-9" not in "".join(params.values())


# -- parsing without the sandbox ------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "status", "tags"),
    [
        ("在售", ListingStatus.ON_SALE, ()),
        ("已售", ListingStatus.SOLD, ()),
        ("出租中", ListingStatus.ON_SALE, ()),
        ("已出租", ListingStatus.RENTED, ()),
        ("已租", ListingStatus.RENTED, ()),
        ("已预订", ListingStatus.ON_SALE, ("已预订",)),
        ("已下架", ListingStatus.TAKEN_DOWN, ()),
    ],
)
def test_transaction_status_words_are_mapped(
    word: str, status: ListingStatus, tags: tuple[str, ...]
) -> None:
    listing = parse_house_detail({"house_type": "二手房", "transaction_status": word}, "A123456789")

    assert listing.status is status
    assert listing.tags == tags


def test_unknown_transaction_status_is_shown_as_written_never_a_failure() -> None:
    listing = parse_house_detail(
        {"house_type": "二手房", "transaction_status": "冻结"}, "A123456789"
    )

    assert (listing.status, listing.status_word) == (ListingStatus.OTHER, "冻结")


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("已租出", ListingStatus.RENTED),
        ("待租", ListingStatus.ON_SALE),
        ("已售出", ListingStatus.SOLD),
    ],
)
def test_the_issues_status_words_keep_their_meaning(word: str, status: ListingStatus) -> None:
    detail = {"house_type": "租房", "transaction_status": word}

    assert parse_house_detail(detail, "2398427383").status is status


@pytest.mark.parametrize(
    ("house_type", "status", "kind", "unit"),
    [
        ("二手房", "在售", ListingKind.SALE, PriceUnit.WAN_YUAN),
        ("新房", "在售", ListingKind.NEW_HOME, PriceUnit.WAN_YUAN),
        ("租房", "出租中", ListingKind.RENT, PriceUnit.YUAN_PER_MONTH),
        ("商铺", "在售", ListingKind.COMMERCIAL, PriceUnit.WAN_YUAN),
        ("写字楼", "出租中", ListingKind.COMMERCIAL, PriceUnit.YUAN_PER_MONTH),
        ("商业", "在售", ListingKind.COMMERCIAL, PriceUnit.WAN_YUAN),
    ],
)
def test_house_type_sets_kind_and_price_unit(
    house_type: str, status: str, kind: ListingKind, unit: PriceUnit
) -> None:
    listing = parse_house_detail(
        {"house_type": house_type, "transaction_status": status, "price": "123.4"}, "A123456789"
    )

    assert listing.kind is kind
    assert listing.price_unit is unit
    assert listing.price == Decimal("123.4")


def test_broker_phone_is_never_exposed() -> None:
    detail = {
        "house_id": "AK2026011800001",
        "house_type": "二手房",
        "broker_name": "李建国",
        "broker_phone": "13912345678",
        "broker_shop": "我爱我家望京西园店",
    }

    listing = parse_house_detail(detail, "AK2026011800001")

    assert listing.agent == "李建国"
    assert listing.fact("agency") == "我爱我家望京西园店"
    assert "13912345678" not in repr(listing)


def test_empty_house_detail_is_not_found() -> None:
    with pytest.raises(NotFound):
        parse_house_detail({}, "AK2026011800001")


def test_protocol_relative_photos_get_https() -> None:
    detail = {"house_type": "二手房", "img_list": ["//pic1.ajkimg.com/a.jpg", {"url": "//b.jpg"}]}

    listing = parse_house_detail(detail, "A123456789")

    assert listing.photos == ("https://pic1.ajkimg.com/a.jpg", "https://b.jpg")


def test_tiers_follow_the_contract() -> None:
    assert AnjukeClient.TIERS == {
        "personal": Limits(per_day=50, per_second=1),
        "enterprise_basic": Limits(per_day=500, per_second=3),
        "enterprise_advanced": Limits(per_day=5000, per_second=10),
    }


# -- against the sandbox --------------------------------------------------------------------


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(clock=FakeClock()) as sb:
        yield sb


def anjuke_config(sandbox: Sandbox, **changes: object) -> PlatformConfig:
    overrides = {**sandbox.settings_overrides(), **changes}
    return load_settings(require_token=False, **overrides).anjuke()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def client(sandbox: Sandbox, http: httpx.AsyncClient) -> AnjukeClient:
    return AnjukeClient(http, anjuke_config(sandbox), sandbox.state.clock)


async def fetch(client: AnjukeClient, ref: ListingRef) -> Listing:
    """One call a second after the last: the personal tier allows 1 per second."""
    client.clock.advance(1)  # type: ignore[attr-defined]
    return await client.fetch_listing(ref)


async def test_second_hand_home_is_fetched_with_every_fact(
    sandbox: Sandbox, client: AnjukeClient
) -> None:
    listing = await fetch(client, WANGJING)

    assert listing.platform == "anjuke"
    assert listing.listing_id == "AK2026011800001"
    assert listing.title == "望京西园三区 3室2厅 南北通透 满五唯一"
    assert listing.kind is ListingKind.SALE
    assert listing.status is ListingStatus.ON_SALE
    assert listing.price == Decimal("868")
    assert listing.price_unit is PriceUnit.WAN_YUAN
    assert listing.unit_price == Decimal("67496")  # 8,680,000 元 / 128.6 ㎡
    assert listing.agent == "李建国"
    assert listing.url == "https://www.anjuke.com/prop/view/AK2026011800001"
    assert listing.photos == tuple(
        f"{sandbox.base_url}/img/anjuke-AK2026011800001-{n}.png" for n in (1, 2, 3)
    )
    assert listing.tags == ("VR看房",)
    facts = {key: (label, value) for key, label, value in listing.facts}
    assert facts["layout"] == ("户型", "3室2厅1厨2卫")
    assert facts["area"] == ("建筑面积", "128.6㎡")
    assert facts["area_inner"] == ("套内使用面积", "102.3㎡")
    assert facts["floor"] == ("楼层", "18/33层 中高层")
    assert facts["orientation"] == ("房屋朝向", "南北通透")
    assert facts["room_height"] == ("层高", "2.8米")
    assert facts["community"] == ("所属楼盘", "望京西园三区")
    assert facts["district"] == ("所属区域", "北京市 朝阳区 望京街道 望京")
    assert facts["address"] == ("详细地址", "北京市朝阳区望京西园三区312号楼")
    assert facts["metro"] == ("周边地铁", "14号线 望京站 步行600米")
    assert facts["school"] == ("学区配套", "北京市朝阳区望京实验小学 公立")
    assert facts["commerce"] == ("商业配套", "望京凯德MALL 800米")
    assert facts["price_trend"] == ("价格走势", "-1.2%")
    assert facts["down_payment"] == ("参考首付比例", "30%")
    assert facts["monthly_payment"][1].endswith("元")
    assert facts["house_code"] == ("房源备案编号", "京(2025)朝阳区不动产权第0123456号")
    assert facts["agency"] == ("所属门店", "我爱我家望京西园店")
    assert "13800000001" not in repr(listing)  # the broker's phone is never asked for


async def test_secret_is_never_sent(sandbox: Sandbox) -> None:
    sent: list[httpx.Request] = []

    async def remember(request: httpx.Request) -> None:
        sent.append(request)

    async with httpx.AsyncClient(event_hooks={"request": [remember]}) as http:
        client = AnjukeClient(http, anjuke_config(sandbox), sandbox.state.clock)
        await client.fetch_listing(WANGJING)

    query = dict(sent[0].url.params)
    assert "sandbox-anjuke-secret" not in str(sent[0].url)
    assert query["need_contact"] == "false"
    assert query["api_name"] == "item_get"
    assert query["key"] == "sandbox-anjuke-key"


@pytest.mark.parametrize(
    ("ref", "kind", "unit", "price", "status"),
    [
        (LUJIAZUI, ListingKind.SALE, PriceUnit.WAN_YUAN, "1150", ListingStatus.ON_SALE),
        (TIANLUAN_SOLD, ListingKind.SALE, PriceUnit.WAN_YUAN, "3380", ListingStatus.SOLD),
        (GUOMAO_RENT, ListingKind.RENT, PriceUnit.YUAN_PER_MONTH, "8500", ListingStatus.ON_SALE),
        (
            NANSHAN_RENTED,
            ListingKind.RENT,
            PriceUnit.YUAN_PER_MONTH,
            "7200",
            ListingStatus.RENTED,
        ),
        (YUNYUE_NEW, ListingKind.NEW_HOME, PriceUnit.WAN_YUAN, "512.8", ListingStatus.ON_SALE),
        (CHUNXI_SHOP, ListingKind.COMMERCIAL, PriceUnit.WAN_YUAN, "420", ListingStatus.ON_SALE),
        (
            GUOMAO_OFFICE,
            ListingKind.COMMERCIAL,
            PriceUnit.YUAN_PER_MONTH,
            "156000",
            ListingStatus.ON_SALE,
        ),
    ],
)
async def test_every_kind_of_house_is_parsed(
    client: AnjukeClient,
    ref: ListingRef,
    kind: ListingKind,
    unit: PriceUnit,
    price: str,
    status: ListingStatus,
) -> None:
    listing = await fetch(client, ref)

    assert listing.listing_id == ref.listing_id
    assert listing.kind is kind
    assert listing.price_unit is unit
    assert listing.price == Decimal(price)
    assert listing.status is status
    assert client.listing_ttl(listing) == 300


async def test_rent_has_no_unit_price(client: AnjukeClient) -> None:
    listing = await fetch(client, GUOMAO_RENT)

    assert listing.unit_price is None
    assert listing.fact("down_payment") is None
    assert "实拍视频" in listing.tags


async def test_reserved_rental_is_still_offered_and_tagged(client: AnjukeClient) -> None:
    listing = await fetch(client, SHIJICHENG_RESERVED)

    assert listing.status is ListingStatus.ON_SALE
    assert "已预订" in listing.tags
    # the 300-character title is kept as cards show it: 200 characters and "…"
    assert len(listing.title) == 201 and listing.title.endswith("…")


async def test_hostile_strings_come_through_unchanged(client: AnjukeClient) -> None:
    hostile = await fetch(client, WUHU_HOSTILE)
    emoji = await fetch(client, GUOMAO_RENT)

    assert hostile.title == "<b>急售</b> 镜湖新城 & 赭山公园旁 三房"
    assert hostile.agent == "张<伟>&"
    assert emoji.title == "🏠 整租 国贸 建外SOHO 一居室 🚇近地铁 拎包入住 ✨"


async def test_taken_down_house_is_not_found_and_remembered_ten_minutes(
    client: AnjukeClient,
) -> None:
    with pytest.raises(NotFound) as caught:
        await fetch(client, GUANGGU_TAKEN_DOWN)

    assert caught.value.code == 42
    assert caught.value.http_status == 400
    assert caught.value.platform_message == "房源已下架"
    assert client.error_ttl(caught.value) == 600


async def test_unknown_house_is_not_found(client: AnjukeClient) -> None:
    with pytest.raises(NotFound) as caught:
        await fetch(client, ListingRef("anjuke", "A9999999999"))

    assert caught.value.code == 43


async def test_house_removed_later_answers_an_empty_detail_and_is_not_found(
    sandbox: Sandbox, client: AnjukeClient
) -> None:
    sandbox.state.catalogues["anjuke"].remove(LUJIAZUI.listing_id)

    with pytest.raises(NotFound) as caught:
        await fetch(client, LUJIAZUI)

    assert caught.value.http_status == 200


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (ListingStatus.SOLD, ListingStatus.SOLD),
        (ListingStatus.RENTED, ListingStatus.RENTED),
        (ListingStatus.ON_SALE, ListingStatus.ON_SALE),
    ],
)
async def test_status_set_in_the_sandbox_is_reported(
    sandbox: Sandbox, client: AnjukeClient, status: ListingStatus, expected: ListingStatus
) -> None:
    sandbox.state.catalogues["anjuke"].set_status(SHIJICHENG_RESERVED.listing_id, status)

    listing = await fetch(client, SHIJICHENG_RESERVED)

    assert listing.status is expected
    assert "已预订" not in listing.tags


async def test_house_taken_down_later_is_not_found(sandbox: Sandbox, client: AnjukeClient) -> None:
    sandbox.state.catalogues["anjuke"].set_status(LUJIAZUI.listing_id, ListingStatus.TAKEN_DOWN)

    with pytest.raises(NotFound):
        await fetch(client, LUJIAZUI)


async def test_price_set_in_the_sandbox_is_served(sandbox: Sandbox, client: AnjukeClient) -> None:
    catalogue = sandbox.state.catalogues["anjuke"]
    catalogue.set_price(YUNYUE_NEW.listing_id, Decimal("499.9"))
    catalogue.set_price("3187906783", Decimal("399.5"))  # the number as the sp link shows it

    assert (await fetch(client, YUNYUE_NEW)).price == Decimal("499.9")
    assert (await fetch(client, CHUNXI_SHOP)).price == Decimal("399.5")


async def test_prices_drift_with_time(sandbox: Sandbox, client: AnjukeClient) -> None:
    client.clock.advance(7 * 86400)  # type: ignore[attr-defined]

    listing = await fetch(client, WANGJING)

    expected = drifted_price(Decimal("868"), "AK2026011800001", sandbox.state.elapsed(), places=1)
    assert listing.price == expected
    assert expected != Decimal("868")


async def test_field_filter_returns_only_the_named_fields(client: AnjukeClient) -> None:
    client.field_filter = "house_name,price,transaction_status"

    listing = await fetch(client, WANGJING)

    assert listing.title == "望京西园三区 3室2厅 南北通透 满五唯一"
    assert listing.price == Decimal("868")
    assert listing.status is ListingStatus.ON_SALE
    assert listing.facts == ()
    assert listing.photos == ()
    assert listing.agent is None


async def test_without_media_there_are_no_photos(client: AnjukeClient) -> None:
    client.need_media = False

    listing = await fetch(client, WANGJING)

    assert listing.photos == ()
    assert listing.tags == ()
    assert listing.fact("layout") == "3室2厅1厨2卫"


async def test_malformed_house_id_is_refused_without_a_call(
    sandbox: Sandbox, client: AnjukeClient
) -> None:
    calls = sandbox.state.counters["anjuke"].calls

    with pytest.raises(BadRequest):
        await fetch(client, ListingRef("anjuke", "L245678"))  # a prefix no page shows

    assert sandbox.state.counters["anjuke"].calls == calls


async def test_wrong_secret_is_refused_as_a_bad_signature(
    sandbox: Sandbox, http: httpx.AsyncClient
) -> None:
    client = AnjukeClient(http, anjuke_config(sandbox, anjuke_secret="wrong"), sandbox.state.clock)

    with pytest.raises(NotPermitted) as caught:
        await client.fetch_listing(WANGJING)

    assert caught.value.code == 25
    assert caught.value.http_status == 401
    assert "wrong" not in str(caught.value)


async def test_unknown_key_is_refused(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    client = AnjukeClient(http, anjuke_config(sandbox, anjuke_key="someone"), sandbox.state.clock)

    with pytest.raises(NotPermitted) as caught:
        await client.fetch_listing(WANGJING)

    assert caught.value.code == 29


async def test_second_call_within_a_second_is_rate_limited(client: AnjukeClient) -> None:
    await client.fetch_listing(WANGJING)

    with pytest.raises(RateLimited) as caught:
        await client.fetch_listing(LUJIAZUI)

    assert caught.value.code == 7
    assert caught.value.http_status == 403


async def test_higher_tier_allows_three_a_second(http: httpx.AsyncClient) -> None:
    async with Sandbox(clock=FakeClock(), tiers={"anjuke": "enterprise_basic"}) as sb:
        client = AnjukeClient(http, anjuke_config(sb), sb.state.clock)
        for ref in (WANGJING, LUJIAZUI, GUOMAO_RENT):
            await client.fetch_listing(ref)

        with pytest.raises(RateLimited):
            await client.fetch_listing(YUNYUE_NEW)
        assert client.limits == Limits(per_day=500, per_second=3)


async def test_daily_quota_is_refused_until_the_next_china_day(
    sandbox: Sandbox, client: AnjukeClient
) -> None:
    for _ in range(50):
        await fetch(client, WANGJING)

    with pytest.raises(QuotaExhausted) as caught:
        await fetch(client, WANGJING)
    assert caught.value.code == 6

    client.clock.advance(86400)  # type: ignore[attr-defined]
    assert (await fetch(client, WANGJING)).listing_id == WANGJING.listing_id


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault("http", status=400), BadRequest),
        (Fault("http", status=401), NotPermitted),
        (Fault("http", status=403), NotPermitted),
        (Fault("http", status=500), Transient),
        (Fault("http", status=502), Transient),
        (Fault("http", status=504), Transient),
        (Fault("code", status=400, code=40, msg="缺少必填参数 house_id"), BadRequest),
        (Fault("code", status=400, code=41, msg="house_id 格式非法"), BadRequest),
        (Fault("code", status=400, code=42, msg="房源已下架"), NotFound),
        (Fault("code", status=400, code=43, msg="房源不存在"), NotFound),
        (Fault("code", status=400, code=99, msg="房源已下架或违规"), NotFound),
        (Fault("code", status=401, code=25, msg="签名验证失败"), NotPermitted),
        (Fault("code", status=401, code=28, msg="缺少必填参数 key"), NotPermitted),
        (Fault("code", status=401, code=29, msg="key 无效或已过期"), NotPermitted),
        (Fault("code", status=403, code=11, msg="IP 不在白名单"), NotPermitted),
        (Fault("code", status=403, code=7, msg="调用频率超限"), RateLimited),
        (Fault("code", status=403, code=99, msg="call frequency exceeded"), RateLimited),
        (Fault("code", status=403, code=6, msg="日调用次数超限"), QuotaExhausted),
        # the most specific meaning first: a second is named, so a rate refusal despite 次数
        (Fault("code", status=403, code=7, msg="每秒调用次数超限"), RateLimited),
        (Fault("code", status=403, code=7, msg="调用次数超限(1次/秒)"), RateLimited),
        (Fault("code", status=403, code=6, msg="今日调用次数已达上限"), QuotaExhausted),
        (Fault("code", status=403, code=7, msg="调用次数超限"), RateLimited),  # seed: 频率超限
        (Fault("code", status=500, code=15, msg="服务内部错误"), Transient),
        (Fault("code", status=504, code=50, msg="服务响应超时"), Transient),
        (Fault("code", status=200, code=41, msg="参数错误"), BadRequest),
        # a 200 error body has only its words: a missing key before a missing house
        (Fault("code", status=200, code=29, msg="key不存在"), NotPermitted),
        (Fault("code", status=200, code=43, msg="房源不存在"), NotFound),
        (Fault("code", status=200, code=7, msg="每秒调用次数超限"), RateLimited),
        # issue 11: undocumented codes decide nothing, the status comes first
        (Fault("code", status=400, code=6, msg="参数错误"), BadRequest),
        (Fault("code", status=400, code=42, msg="house_id 格式非法"), BadRequest),
        (Fault("code", status=401, code=43, msg="key不存在"), NotPermitted),
        (Fault("code", status=401, code=29, msg="房源不存在"), NotPermitted),
        (Fault("code", status=403, code=42, msg="无接口权限"), NotPermitted),
        (Fault("malformed"), Transient),
        (Fault("disconnect"), Transient),
    ],
)
async def test_platform_errors_are_mapped(
    sandbox: Sandbox, client: AnjukeClient, fault: Fault, error: type[PlatformError]
) -> None:
    sandbox.state.inject("anjuke", fault)

    with pytest.raises(error) as caught:
        await fetch(client, WANGJING)

    assert type(caught.value) is error
    if fault.kind == "code":
        assert caught.value.code == fault.code
        assert caught.value.platform_message == fault.msg
    if fault.kind in ("http", "code"):
        assert caught.value.http_status == fault.status


async def test_the_sandbox_bans_the_key_ten_minutes_after_a_rate_overshoot(
    sandbox: Sandbox, client: AnjukeClient
) -> None:
    await fetch(client, WANGJING)
    with pytest.raises(RateLimited):
        await client.fetch_listing(WANGJING)  # the same second: over 1 per second

    client.clock.advance(599)  # type: ignore[attr-defined]
    with pytest.raises(RateLimited):
        await client.fetch_listing(WANGJING)
    client.clock.advance(2)  # type: ignore[attr-defined]
    assert (await client.fetch_listing(WANGJING)).listing_id == WANGJING.listing_id


async def test_a_frequency_refusal_pauses_anjuke_for_everyone_across_a_restart(
    sandbox: Sandbox, client: AnjukeClient, tmp_path: Path
) -> None:
    clock = sandbox.state.clock
    path = tmp_path / "bot.sqlite3"
    first_run = Database(path, clock)
    gateway = Gateway({"anjuke": client}, QuotaStore(first_run), clock)
    sandbox.state.inject("anjuke", Fault("code", status=403, code=7, msg="调用频率超限"))

    with pytest.raises(RateLimited):
        await gateway.listing(WANGJING, payer=SYSTEM)
    assert sandbox.state.counters["anjuke"].calls == 1  # never retried into the ban
    clock.advance(60)  # type: ignore[attr-defined]
    with pytest.raises(TemporarilyUnavailable):
        await gateway.listing(LUJIAZUI, payer=SYSTEM)  # another listing, any user

    await first_run.run(lambda db: None)  # its queued writes have landed, as on a shutdown
    restarted = Gateway({"anjuke": client}, QuotaStore(Database(path, clock)), clock)
    clock.advance(500)  # type: ignore[attr-defined]
    with pytest.raises(TemporarilyUnavailable):
        await restarted.listing(WANGJING, payer=SYSTEM)
    assert sandbox.state.counters["anjuke"].calls == 1
    clock.advance(41)  # type: ignore[attr-defined]
    assert (await restarted.listing(WANGJING, payer=SYSTEM)).listing_id == WANGJING.listing_id
    assert sandbox.state.counters["anjuke"].calls == 2


async def test_a_per_second_refusal_that_counts_pauses_anjuke_ten_minutes_never_the_day(
    sandbox: Sandbox, client: AnjukeClient, tmp_path: Path
) -> None:
    # 每秒调用次数超限 names a window of a second: a rate refusal (seed 000: 超出频率上限会触发
    # 临时封禁 10 分钟), though it says 次数; reading it as the daily quota stopped Anjuke all day
    clock = sandbox.state.clock
    gateway = Gateway({"anjuke": client}, QuotaStore(Database(tmp_path / "b.db", clock)), clock)
    sandbox.state.inject("anjuke", Fault("code", status=403, code=7, msg="每秒调用次数超限"))
    left = gateway.quota_left("anjuke")

    with pytest.raises(RateLimited):
        await gateway.listing(WANGJING, payer=SYSTEM)
    assert gateway.quota_left("anjuke") == left - 1  # one call spent; the day not written off
    clock.advance(601)  # type: ignore[attr-defined]
    assert (await gateway.listing(WANGJING, payer=SYSTEM)).listing_id == WANGJING.listing_id
    assert sandbox.state.counters["anjuke"].calls == 2


async def test_a_timeout_is_retried_three_times_after_one_two_and_four_seconds(
    sandbox: Sandbox, client: AnjukeClient, tmp_path: Path
) -> None:
    clock = sandbox.state.clock
    gateway = Gateway({"anjuke": client}, QuotaStore(Database(tmp_path / "b.db", clock)), clock)
    sandbox.state.inject("anjuke", Fault("code", status=504, code=50, msg="服务响应超时"), 4)

    with pytest.raises(Transient):
        await gateway.listing(WANGJING, payer=SYSTEM)

    assert sandbox.state.counters["anjuke"].calls == 4  # one try and the seed's 3 retries
    backoff = [s for s in clock.slept if s >= 1.0]  # type: ignore[attr-defined]
    assert backoff == [1.0, 2.0, 4.0]  # seed 000: first 1 s, then doubling (rate waits < 1 s)


async def test_timeout_is_transient(sandbox: Sandbox) -> None:
    sandbox.state.inject("anjuke", Fault("timeout", delay=1.0))

    async with httpx.AsyncClient(timeout=0.2) as http:
        client = AnjukeClient(http, anjuke_config(sandbox), sandbox.state.clock)
        with pytest.raises(Transient) as caught:
            await client.fetch_listing(WANGJING)

    assert "timed out" in str(caught.value)


async def test_platform_answers_again_after_a_fault(sandbox: Sandbox, client: AnjukeClient) -> None:
    sandbox.state.inject("anjuke", Fault("http", status=504))

    with pytest.raises(Transient):
        await fetch(client, WANGJING)
    assert (await fetch(client, WANGJING)).listing_id == WANGJING.listing_id


async def test_every_catalogue_house_opens_on_a_link_the_bot_recognises(
    sandbox: Sandbox, client: AnjukeClient
) -> None:
    kinds = {"245678": "new_home", "3187906783": "shop", "3166544960": "office"}
    for listing_id in sandbox.state.catalogues["anjuke"].ids():
        ref = ListingRef("anjuke", listing_id, kind=kinds.get(listing_id))
        url = client.listing_url(ref)

        assert [f.ref for f in AnjukeClient.find(url)] == [ref], url


# -- links and IDs --------------------------------------------------------------------------


def _ref(listing_id: str, kind: str | None = None) -> ListingRef:
    """The ref a link gives; the kind only where the ID does not say it (new home, shop, office)."""
    return ListingRef("anjuke", listing_id, kind=kind)


LINKS: list[tuple[str, ListingRef | None]] = [
    # second-hand homes
    ("https://beijing.anjuke.com/prop/view/A1234567890", _ref("A1234567890")),
    ("https://bj.anjuke.com/prop/view/A1234567890?from=share&spread=x", _ref("A1234567890")),
    ("http://wuhu.anjuke.com/prop/view/A987654321", _ref("A987654321")),
    ("sh.anjuke.com/prop/view/S1234567890123456", _ref("S1234567890123456")),
    ("https://www.anjuke.com/prop/view/A1234567890", _ref("A1234567890")),
    ("https://m.anjuke.com/bj/sale/A1085530336/", _ref("A1085530336")),
    ("m.anjuke.com/wuhu/sale/A987654321?isauction=1", _ref("A987654321")),
    # rent
    ("https://bj.zu.anjuke.com/fangyuan/2398427383", _ref("2398427383")),
    ("https://sz.zu.anjuke.com/fangyuan/1234567890123456?shangquan=1", _ref("1234567890123456")),
    ("https://m.anjuke.com/bj/rent/2398427383/", _ref("2398427383")),
    # new homes
    ("https://hz.fang.anjuke.com/loupan/245678.html", _ref("245678", "new_home")),
    (
        "https://hangzhou.fang.anjuke.com/loupan/canshu-245678.html?from=x",
        _ref("245678", "new_home"),
    ),
    ("https://m.anjuke.com/hz/loupan/245678/", _ref("245678", "new_home")),
    ("https://m.fang.anjuke.com/hz/loupan/245678/", _ref("245678", "new_home")),
    # commercial
    ("https://cd.sp.anjuke.com/shou/3187906783/", _ref("3187906783", "shop")),
    ("https://cd.sp.anjuke.com/zu/3187906784", _ref("3187906784", "shop")),
    ("https://bj.xzl.anjuke.com/zu/3166544960/", _ref("3166544960", "office")),
    ("https://bj.xzl.anjuke.com/shou/3166544961", _ref("3166544961", "office")),
    # the seed's IDs
    ("https://www.anjuke.com/prop/view/AK2026011800001", _ref("AK2026011800001")),
    ("https://api.anjuke.com/detail?house_id=AK2026011800001", _ref("AK2026011800001")),
    ("https://bj.anjuke.com/share/AK2026011800001.html", _ref("AK2026011800001")),
    ("https://anjuke.com:443/x?house_id=A1234567890", _ref("A1234567890")),
    # lookalike hosts and other pages
    ("https://anjuke.com.example.org/prop/view/A1234567890", None),
    ("https://anjuke.com@evil.example/prop/view/A1234567890", None),
    ("https://notanjuke.com/prop/view/A1234567890", None),
    ("https://evil.example/anjuke.com/prop/view/A1234567890", None),
    ("https://bj.anjuke.com.cn/prop/view/A1234567890", None),
    ("https://bj.ke.com/ershoufang/101127449675.html", None),
    ("https://www.goofish.com/item?id=712345678901", None),
    ("https://bj.anjuke.com/sale/chaoyang/", None),
    ("https://bj.anjuke.com/prop/view/A12345", None),
    ("https://bj.zu.anjuke.com/fangyuan/12345", None),
    ("https://bj.anjuke.com/prop/view/AK2026131800001", None),  # month 13
    ("ftp://bj.anjuke.com/prop/view/A1234567890", None),
]


@pytest.mark.parametrize(("text", "expected"), LINKS)
def test_links_are_recognised(text: str, expected: ListingRef | None) -> None:
    refs = [f.ref for f in AnjukeClient.find(text)]

    assert refs == ([expected] if expected else [])


def test_links_in_chinese_text_with_full_width_characters_keep_their_positions() -> None:
    text = (
        "看看这套：ｈｔｔｐｓ：／／ｂｊ．ａｎｊｕｋｅ．ｃｏｍ／ｐｒｏｐ／ｖｉｅｗ／Ａ１２３４５６７８９０，"
        "还有租房https://bj.zu.anjuke.com/fangyuan/2398427383。"
    )

    found = AnjukeClient.find(text)

    assert [f.ref for f in found] == [_ref("A1234567890"), _ref("2398427383")]
    assert text[found[0].start] == "ｈ"
    assert text[found[1].start :].startswith("https://bj.zu")


def test_two_links_glued_together_are_both_found() -> None:
    text = "https://m.anjuke.com/bj/sale/A1085530336/https://bj.zu.anjuke.com/fangyuan/2398427383"

    refs = [f.ref for f in AnjukeClient.find(text)]

    assert refs == [_ref("A1085530336"), _ref("2398427383")]


@pytest.mark.parametrize(
    ("token", "matches"),
    [
        ("AK2026011800001", True),
        ("A1234567890", True),
        ("A123456789", True),
        ("S1234567890123456", True),
        ("2398427383", True),
        ("1234567890123456", True),
        ("A12345678", False),
        ("A123456789012", False),
        ("AK2026131800001", False),
        ("S123456789012345", False),
        ("12345678901", False),
        ("L245678", False),
    ],
)
def test_bare_id_shapes(token: str, matches: bool) -> None:
    assert (AnjukeClient.bare_ref(token) == _ref(token)) is matches


def test_recogniser_orders_links_and_bare_ids_as_written() -> None:
    text = "AK2026011800001 和 https://m.anjuke.com/bj/sale/A1085530336/ 还有 A123456789"

    found = recognise(text, [AnjukeClient])

    assert [f.ref for f in found] == [
        _ref("AK2026011800001"),
        _ref("A1085530336"),
        _ref("A123456789"),
    ]


async def test_alert_checks_ask_the_platform_to_bypass_its_cache():
    import httpx

    from clients.anjuke import AnjukeClient
    from clients.base import PlatformConfig, SecretStr
    from clock import FakeClock

    config = PlatformConfig("http://127.0.0.1:1/anjuke/item_get", "k", SecretStr("s"), "personal")
    async with httpx.AsyncClient() as http:
        client = AnjukeClient(http, config, FakeClock())
        assert client.request_params("A1234567890")["cache"] == "yes"
        assert client.request_params("A1234567890", fresh=True)["cache"] == "no"


def test_the_kind_a_link_shows_goes_into_the_key_never_into_the_id() -> None:
    (shop,) = [f.ref for f in AnjukeClient.find("https://cd.sp.anjuke.com/shou/2398427383/")]
    (rent,) = [f.ref for f in AnjukeClient.find("https://bj.zu.anjuke.com/fangyuan/2398427383")]

    assert shop.listing_id == rent.listing_id == "2398427383"
    assert (shop.key, rent.key) == ("anjuke:2398427383@shop", "anjuke:2398427383")
    assert ListingRef.from_key(shop.key) == shop


async def test_a_new_home_is_asked_by_its_loupan_number_and_keeps_its_kind(
    client: AnjukeClient,
) -> None:
    listing = await fetch(client, YUNYUE_NEW)  # the sandbox knows it only as 245678

    assert listing.ref == YUNYUE_NEW
    assert listing.kind is ListingKind.NEW_HOME
    assert listing.url == "https://m.anjuke.com/loupan/245678/"
