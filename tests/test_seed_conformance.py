"""One conformance test per seed: the seed's own example values, sent by our real client.

Each test runs the client against a recorder on 127.0.0.1 that keeps the request and
answers in the seed's answer shape, then checks every parameter, the string the seed
signs and how the seed's answers map to our errors. The literals are copied from the
seed documents in shared/seeds (the section is named beside each), not from our code.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest
from aiohttp import web

from clients.aihuishou import AihuishouClient
from clients.anjuke import AnjukeClient
from clients.anjuke_open import AnjukeOpenClient
from clients.base import PlatformClient, PlatformConfig, SecretStr
from clients.beike import BeikeClient
from clients.clock import FakeClock
from clients.errors import (
    AccountExists,
    BadRequest,
    InsufficientBalance,
    NotFound,
    NotPermitted,
    PlatformError,
    QuotaExhausted,
    RateLimited,
    Transient,
)
from clients.models import ListingRef, PriceUnit, QuoteRequest
from clients.xianyu import XianyuClient


@dataclass
class Recorder:
    """A platform stand-in: records each request's parameters, answers what it is told."""

    url: str = ""
    requests: list[dict[str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)

    async def handle(self, request: web.Request) -> web.Response:
        params = dict(request.query.items())
        if request.method == "POST":
            params.update((await request.post()).items())  # type: ignore[arg-type]
        self.requests.append({k: str(v) for k, v in params.items()})
        self.paths.append(request.path)
        return web.json_response(self.body, status=self.status)

    def answer(self, status: int, body: dict[str, Any]) -> None:
        self.status, self.body = status, body


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    rec = Recorder()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    rec.url = f"http://127.0.0.1:{port}"
    yield rec
    await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def hmac_sha256(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


Answer = tuple[int, dict[str, Any], type[PlatformError]]


async def assert_errors(
    recorder: Recorder, call: Callable[[], Awaitable[object]], answers: list[Answer]
) -> None:
    """Each (HTTP status, seed-shaped body) answer raises the error class beside it."""
    for status, body, error in answers:
        recorder.answer(status, body)
        with pytest.raises(PlatformError) as caught:
            await call()
        assert type(caught.value) is error, body


# -- seed 000: Anjuke item_get ---------------------------------------------------------------


async def test_seed_000_anjuke_item_get(recorder: Recorder, http: httpx.AsyncClient) -> None:
    # 二、核心参数: key anjuke_api_2026_abc123, secret anjuke_secret_2026_def456,
    # house_id AK2026011800001, field_filter house_name,price,area_build,metro_info,school_info;
    # 三、调用示例: need_media=True, need_transaction=True, the rest default (false)
    config = PlatformConfig(
        recorder.url + "/anjuke/item_get",
        "anjuke_api_2026_abc123",
        SecretStr("anjuke_secret_2026_def456"),
        "personal",
    )
    client = AnjukeClient(http, config, FakeClock())
    client.field_filter = "house_name,price,area_build,metro_info,school_info"
    detail = {"house_id": "AK2026011800001", "house_type": "二手房", "price": 350.0}
    recorder.answer(200, {"item_get_response": {"house_detail": detail}})

    listing = await client.fetch_listing(ListingRef("anjuke", "AK2026011800001"))

    sent = recorder.requests[-1]
    # 步骤 1: sorted by name, k1v1k2v2..., secret appended, md5, lower case
    signed = (
        "api_nameitem_getcacheyesfield_filterhouse_name,price,area_build,metro_info,school_info"
        "house_idAK2026011800001keyanjuke_api_2026_abc123need_contactfalseneed_evaluatefalse"
        "need_mediatrueneed_transactiontrueresult_typejson" + "anjuke_secret_2026_def456"
    )
    assert sent == {
        "key": "anjuke_api_2026_abc123",
        "api_name": "item_get",
        "result_type": "json",
        "cache": "yes",
        "house_id": "AK2026011800001",
        "field_filter": "house_name,price,area_build,metro_info,school_info",
        "need_media": "true",
        "need_transaction": "true",
        "need_evaluate": "false",
        "need_contact": "false",
        "sign": md5(signed),
    }
    assert "anjuke_secret_2026_def456" not in str(sent.values())
    # 返回核心字段: price is 总价万元 for 二手房
    assert (listing.price, listing.price_unit) == (Decimal("350.0"), PriceUnit.WAN_YUAN)
    # 高频问题排查表: 401 签名验证失败, 403 权限不足 / 调用频率超限, 400 参数错误 / 已下架,
    # 200 但 data 为空 -> 房源已下架或违规, 504 超时
    house = ListingRef("anjuke", "AK2026011800001")
    answers = [
        (status, {"error_response": {"code": 99, "msg": msg}}, error)
        for status, msg, error in [
            (401, "签名验证失败", NotPermitted),
            (401, "key不存在", NotPermitted),
            (403, "无接口权限", NotPermitted),
            (403, "调用频率超限", RateLimited),
            (400, "house_id格式非法", BadRequest),
            (400, "房源已下架", NotFound),
            (504, "响应超时", Transient),
        ]
    ]
    answers.append((200, {"item_get_response": {"house_detail": {}}}, NotFound))
    await assert_errors(recorder, lambda: client.fetch_listing(house), answers)


# -- seed 001: Beike (JustOneAPI) resale detail ------------------------------------------------


async def test_seed_001_beike_detail(recorder: Recorder, http: httpx.AsyncClient) -> None:
    # Code Samples: GET /api/beike/ershoufang/detail/v1?token=&cityId=&houseCode=;
    # cityId '110000' for Beijing; the sample answer's houseCode 101127449675, price 2350000
    config = PlatformConfig(recorder.url, "", SecretStr("YOUR_API_KEY"), key_optional=True)
    client = BeikeClient(http, config, FakeClock())
    ref = ListingRef("beike", "101127449675", "110000")
    basic = {"houseCode": "101127449675", "cityId": "110000", "price": 2350000, "isOffSale": False}
    recorder.answer(200, {"code": 0, "data": {"basicInfo": basic}})

    listing = await client.fetch_listing(ref)

    assert recorder.paths[-1] == "/api/beike/ershoufang/detail/v1"
    assert recorder.requests[-1] == {
        "token": "YOUR_API_KEY",
        "cityId": "110000",
        "houseCode": "101127449675",
    }
    assert listing.price == Decimal("235")  # 2350000 yuan = 235 万
    # Business Code Reference: decided by the code field
    codes: dict[int, type[PlatformError]] = {
        100: NotPermitted,
        301: Transient,
        302: RateLimited,
        303: QuotaExhausted,
        400: BadRequest,
        500: Transient,
        600: NotPermitted,
        601: InsufficientBalance,
    }
    answers = [(200, {"code": code, "message": "seed"}, error) for code, error in codes.items()]
    await assert_errors(recorder, lambda: client.fetch_listing(ref), answers)


# -- seed 002: Xianyu item_get -----------------------------------------------------------------


async def test_seed_002_xianyu_item_get(recorder: Recorder, http: httpx.AsyncClient) -> None:
    # 核心参数: item_id 698765432109876543, version v2; 调用示例: item_id = "698765432109876543"
    clock = FakeClock(start=1_768_700_000.0)
    config = PlatformConfig(recorder.url, "app_key_example", SecretStr("app_secret_example"))
    client = XianyuClient(http, config, clock)
    item = {"item_id": "698765432109876543", "title": "iPhone", "price": "3999", "status": "onsale"}
    recorder.answer(200, {"item_get_response": {"item": item}})

    listing = await client.fetch_listing(ListingRef("xianyu", "698765432109876543"))

    sent = recorder.requests[-1]
    # generate_sign: urlencode(sorted non-empty pairs) + "&app_secret=" + secret, HMAC-SHA256
    signed = (
        "app_key=app_key_example&item_id=698765432109876543&method=xianyu.item.get"
        "&timestamp=1768700000000&version=v2&app_secret=app_secret_example"
    )
    assert sent == {
        "app_key": "app_key_example",
        "method": "xianyu.item.get",
        "timestamp": "1768700000000",
        "version": "v2",
        "item_id": "698765432109876543",
        "sign": hmac_sha256("app_secret_example", signed),
    }
    assert listing.price == Decimal("3999")
    # 高频问题: 401 签名, 403 权限 / 频率, 400 item_id 格式, 无商品数据 (deleted), 504 超时
    ref = ListingRef("xianyu", "698765432109876543")
    answers = [
        (status, {"error_response": {"code": 99, "msg": msg}}, error)
        for status, msg, error in [
            (401, "Invalid Signature", NotPermitted),
            (403, "Insufficient ISV Permissions", NotPermitted),
            (403, "调用频率超限", RateLimited),
            (400, "Invalid Arguments", BadRequest),
            (504, "Remote service timeout", Transient),
        ]
    ]
    answers += [
        (200, {"item_get_response": empty}, NotFound)
        for empty in ({"item": {}}, {"item": None}, {})
    ]
    await assert_errors(recorder, lambda: client.fetch_listing(ref), answers)


# -- seed 003: Aihuishou item_get_inquir ---------------------------------------------------


async def test_seed_003_aihuishou_inquiry(recorder: Recorder, http: httpx.AsyncClient) -> None:
    # 调用示例: device_type 手机, brand 苹果, model iPhone 14 Pro, storage 256GB,
    # condition 九成新, function_status 正常; timestamp YYYY-MM-DD HH:MM:SS (UTC+8)
    clock = FakeClock(start=1_768_700_000.0)  # 2026-01-18 01:33:20 UTC = 09:33:20 UTC+8
    config = PlatformConfig(recorder.url, "10001", SecretStr("app_secret"), "test")
    client = AihuishouClient(http, config, clock)
    request = QuoteRequest("手机", "苹果", "iPhone 14 Pro", "256GB", "九成新", "正常")
    price = {
        "base_price": 5000,
        "condition_discount": 0.9,
        "function_deduction": 0,
        "market_coefficient": 1.0,
        "final_price": 4500,
    }
    recorder.answer(200, {"code": 0, "data": {"device_info": {}, "price_info": price}})

    quote = await client.fetch_quote(request)

    sent = recorder.requests[-1]
    # 签名生成流程: sorted "key=value&key=value" (raw values) + "&secret=" + secret, HMAC-SHA256
    signed = (
        "app_id=10001&brand=苹果&condition=九成新&device_type=手机&function_status=正常"
        "&model=iPhone 14 Pro&storage=256GB&timestamp=2026-01-18 09:33:20&version=v2"
        "&secret=app_secret"
    )
    assert sent == {
        "app_id": "10001",
        "timestamp": "2026-01-18 09:33:20",
        "version": "v2",
        "device_type": "手机",
        "brand": "苹果",
        "model": "iPhone 14 Pro",
        "storage": "256GB",
        "condition": "九成新",
        "function_status": "正常",
        "sign": hmac_sha256("app_secret", signed),
    }
    assert quote.final_price == Decimal("4500")
    # 常见错误: 400 / 401 / 403 配额耗尽 / 404 型号未收录 / 500
    answers = [
        (status, {"code": status, "msg": msg}, error)
        for status, msg, error in [
            (400, "参数缺失", BadRequest),
            (401, "sign 错误", NotPermitted),
            (403, "配额耗尽", QuotaExhausted),
            (403, "权限不足", NotPermitted),
            (404, "设备型号未收录", NotFound),
            (500, "平台服务异常", Transient),
        ]
    ]
    await assert_errors(recorder, lambda: client.fetch_quote(request), answers)


# -- seed 004: Anjuke open API ---------------------------------------------------------------


async def test_seed_004_anjuke_open_get_info(recorder: Recorder, http: httpx.AsyncClient) -> None:
    # 获得用户信息 请求示例: app_id=10001&timestamp=1442888568&format=json
    # &account=13988888888&type=phone; 签名算法: "k1=v1k2=v2..." + secret, md5 (32 位)
    config = PlatformConfig(recorder.url + "/", "10001", SecretStr("secret_key"))
    client: PlatformClient = AnjukeOpenClient(http, config, FakeClock(start=1442888568.0))
    recorder.answer(200, {"code": 200, "id": 17895896, "phone": "13988888888"})

    user = await client.get_info("13988888888", "phone")  # type: ignore[attr-defined]

    assert recorder.paths[-1] == "/v1/user/get-info/"
    signed = "account=13988888888app_id=10001format=jsontimestamp=1442888568type=phone"
    assert recorder.requests[-1] == {
        "app_id": "10001",
        "timestamp": "1442888568",
        "format": "json",
        "account": "13988888888",
        "type": "phone",
        "sign": md5(signed + "secret_key"),
    }
    assert str(user.user_id) == "17895896"
    # 返回码说明
    codes: dict[int, type[PlatformError]] = {
        400: BadRequest,
        401: NotPermitted,
        403: NotPermitted,
        1000: Transient,
        1001: AccountExists,
        1002: AccountExists,
        1010: Transient,
        1011: NotFound,
    }
    answers = [(200, {"code": code, "msg": "seed"}, error) for code, error in codes.items()]
    call = lambda: client.get_info("13988888888", "phone")  # type: ignore[attr-defined]  # noqa: E731
    await assert_errors(recorder, call, answers)
