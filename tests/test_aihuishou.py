"""Aihuishou quotes: the signature rule, the client against the sandbox over real HTTP,
and the mapping of every error the platform answers."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import httpx
import pytest

from bot.config import load_settings
from clients.aihuishou import (
    CAMERA,
    CONDITIONS,
    DEVICE_TYPES,
    FUNCTION_STATUSES,
    HEADPHONES,
    PURCHASE_CHANNELS,
    REPAIR_HISTORIES,
    SEED_WORDS,
    WATCH,
    AihuishouClient,
    parse_recycle_options,
    seed_retry,
    sign,
)
from clients.base import PlatformConfig, SecretStr
from clients.errors import (
    BadRequest,
    NotFound,
    NotPermitted,
    PlatformError,
    QuotaExhausted,
    RateLimited,
    Transient,
)
from clients.models import QuoteRequest
from clock import CHINA_TZ, FakeClock
from devices.parser import load_catalogue
from sandbox import aihuishou as platform
from sandbox.core import SANDBOX_CREDENTIALS, Fault
from sandbox.server import Sandbox

SECRET = SANDBOX_CREDENTIALS["aihuishou"]["secret"]

IPHONE = QuoteRequest(
    device_type="手机",
    brand="苹果",
    model="iPhone 14 Pro",
    storage="256GB",
    condition="九成新",
    function_status="屏幕损坏",
    repair_history="无维修",
    purchase_channel="国行",
)
MACBOOK = QuoteRequest(
    device_type="笔记本",
    brand="苹果",
    model="MacBook Air M2",
    storage="512GB",
    condition="95新",
    function_status="正常",
    ram="16GB",
)


# -- the signature ------------------------------------------------------------------------


def test_signature_is_hmac_sha256_of_sorted_raw_pairs_and_secret() -> None:
    params = {
        "version": "v2",
        "timestamp": "2025-12-30 14:00:00",
        "app_id": "AHS2025TEST",
        "model": "iPhone 14 Pro",
        "brand": "苹果",
        "condition": "九成新",
        "ram": "",  # empty: left out
        "sign": "stale",  # never signed
    }
    to_sign = (
        "app_id=AHS2025TEST&brand=苹果&condition=九成新&model=iPhone 14 Pro"
        "&timestamp=2025-12-30 14:00:00&version=v2&secret=s3cret"
    )
    expected = hmac.new(b"s3cret", to_sign.encode("utf-8"), hashlib.sha256).hexdigest()

    assert sign(params, "s3cret") == expected


def test_signature_sorts_names_by_byte_value_and_keeps_values_unencoded() -> None:
    params = {"b": "x y", "B": "a&b=c", "a_1": "100%", "a": "中文"}
    to_sign = "B=a&b=c&a=中文&a_1=100%&b=x y&secret=k"
    expected = hmac.new(b"k", to_sign.encode("utf-8"), hashlib.sha256).hexdigest()

    assert sign(params, "k") == expected
    assert sign(params, "k") == expected.lower()


async def test_request_form_carries_every_field_with_china_time_and_no_secret() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=_ok_body())

    client = _mock_client(answer, clock=FakeClock(start=1_767_074_400.0))  # 2025-12-30 06:00 UTC

    await client.fetch_quote(IPHONE)

    form = dict(httpx.QueryParams(seen[0].content.decode()))
    assert seen[0].method == "POST"
    assert form["timestamp"] == "2025-12-30 14:00:00"
    assert form["version"] == "v2"
    assert form["app_id"] == "AHS-KEY"
    assert {k: form[k] for k in ("device_type", "brand", "model", "storage")} == {
        "device_type": "手机",
        "brand": "苹果",
        "model": "iPhone 14 Pro",
        "storage": "256GB",
    }
    assert form["repair_history"] == "无维修" and form["purchase_channel"] == "国行"
    assert "ram" not in form  # optional and empty: not sent
    assert form["sign"] == sign(form, "mock-secret")
    assert "mock-secret" not in seen[0].content.decode()


# -- the client against the sandbox --------------------------------------------------------


@dataclass
class Setup:
    sandbox: Sandbox
    clock: FakeClock
    http: httpx.AsyncClient
    client: AihuishouClient


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    clock = FakeClock()
    async with Sandbox(clock=clock) as sb:
        config = load_settings(require_token=False, **sb.settings_overrides()).aihuishou()
        async with httpx.AsyncClient() as http:
            yield Setup(sb, clock, http, AihuishouClient(http, config, clock))


def _formula(quote) -> Decimal:  # type: ignore[no-untyped-def]
    value = quote.base_price * quote.condition_discount
    value -= quote.function_deduction * quote.market_coefficient
    return max(Decimal(0), value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


async def test_quote_numbers_follow_the_seed_formula(setup: Setup) -> None:
    quote = await setup.client.fetch_quote(IPHONE)

    assert quote.request == IPHONE
    assert quote.final_price == _formula(quote)
    assert quote.final_price > 0
    assert quote.condition_discount == CONDITIONS["九成新"]
    assert quote.function_deduction > 0  # a broken screen costs money
    assert Decimal("0.9") <= quote.market_coefficient <= Decimal("1.1")


async def test_quote_carries_recycle_options_validity_and_checks(setup: Setup) -> None:
    quote = await setup.client.fetch_quote(IPHONE)

    kinds = [option.kind for option in quote.recycle_options]
    assert kinds == ["上门", "到店", "邮寄"]
    door, store, _mail = quote.recycle_options
    assert door.time_window and "-" in door.time_window
    assert store.store_distance_km is not None and store.store_distance_km > 0
    in_a_day = datetime.fromtimestamp(setup.clock.time(), CHINA_TZ) + timedelta(hours=24)
    assert quote.valid_until == in_a_day.strftime("%Y-%m-%d %H:%M:%S")
    assert quote.device_id and quote.spec and "256GB" in quote.spec
    assert len(quote.quality_check) >= 20


async def test_working_device_loses_nothing_to_deductions(setup: Setup) -> None:
    working = QuoteRequest("手机", "苹果", "iPhone 14 Pro", "256GB", "全新", "正常")
    broken = QuoteRequest("手机", "苹果", "iPhone 14 Pro", "256GB", "全新", "无法开机")

    good = await setup.client.fetch_quote(working)
    bad = await setup.client.fetch_quote(broken)

    assert good.function_deduction == 0
    assert good.final_price == good.base_price  # 全新 × 1.00, nothing deducted
    assert bad.final_price < good.final_price
    assert bad.final_price == _formula(bad)


async def test_better_condition_and_more_storage_are_worth_more(setup: Setup) -> None:
    grades = []
    for condition in CONDITIONS:
        request = QuoteRequest("手机", "华为", "Mate 60 Pro", "512GB", condition, "正常")
        grades.append((await setup.client.fetch_quote(request)).final_price)
    small = await setup.client.fetch_quote(
        QuoteRequest("手机", "华为", "Mate 60 Pro", "256GB", "全新", "正常")
    )

    assert grades == sorted(grades, reverse=True) and len(set(grades)) == len(grades)
    assert small.base_price < grades[0]


async def test_laptop_quote_is_priced_with_its_ram(setup: Setup) -> None:
    quote = await setup.client.fetch_quote(MACBOOK)
    smaller = await setup.client.fetch_quote(
        QuoteRequest("笔记本", "苹果", "MacBook Air M2", "512GB", "95新", "正常", ram="8GB")
    )

    assert quote.final_price == _formula(quote)
    assert quote.base_price > smaller.base_price
    # the sandbox writes a computer's recycle_type as one string ("上门/到店/邮寄"), a phone's
    # as a list: both shapes of the seed's 上门 / 到店 / 邮寄 are read alike
    phone = await setup.client.fetch_quote(IPHONE)
    assert [o.kind for o in quote.recycle_options] == ["上门", "到店", "邮寄"]
    assert [o.kind for o in phone.recycle_options] == ["上门", "到店", "邮寄"]


async def test_market_coefficient_drifts_slowly_and_stays_in_range(setup: Setup) -> None:
    first = await setup.client.fetch_quote(IPHONE)
    setup.clock.advance(600)
    soon = await setup.client.fetch_quote(IPHONE)
    seen = {first.market_coefficient}
    for _ in range(14):
        setup.clock.advance(12 * 3600)
        quote = await setup.client.fetch_quote(IPHONE)
        assert quote.final_price == _formula(quote)
        seen.add(quote.market_coefficient)

    assert abs(soon.market_coefficient - first.market_coefficient) <= Decimal("0.002")
    assert len(seen) > 5
    assert all(Decimal("0.9") <= c <= Decimal("1.1") for c in seen)


async def test_hostile_spec_text_comes_back_verbatim(setup: Setup) -> None:
    quote = await setup.client.fetch_quote(
        QuoteRequest("手机", "苹果", "iPhone 15 Pro", "256GB", "99新", "正常")
    )

    assert quote.spec is not None
    assert "<b>" in quote.spec and "&" in quote.spec and "🎉" in quote.spec
    long = await setup.client.fetch_quote(
        QuoteRequest("手机", "三星", "Galaxy S24 Ultra", "256GB", "99新", "正常")
    )
    assert max(len(check) for check in long.quality_check) == 300


async def test_wrong_secret_is_not_permitted_and_the_secret_stays_out(setup: Setup) -> None:
    config = PlatformConfig(
        setup.client.config.api_url, setup.client.config.key, SecretStr("wrong-secret"), "test"
    )
    client = AihuishouClient(setup.http, config, setup.clock)

    with pytest.raises(NotPermitted) as caught:
        await client.fetch_quote(IPHONE)

    assert caught.value.code == 401 and caught.value.http_status == 401
    assert caught.value.platform_message
    assert "wrong-secret" not in str(caught.value)


async def test_stale_timestamp_is_a_bad_request(setup: Setup) -> None:
    late_clock = FakeClock(start=setup.clock.time() - 301)
    client = AihuishouClient(setup.http, setup.client.config, late_clock)

    with pytest.raises(BadRequest) as caught:
        await client.fetch_quote(IPHONE)

    assert caught.value.code == 400
    assert "5分钟" in (caught.value.platform_message or "")


async def test_daily_quota_runs_out_at_the_tier_limit(setup: Setup) -> None:
    state = setup.sandbox.state
    state.counters["aihuishou"].by_day[state.day()] = 99  # 99 of the test tier's 100 used

    await setup.client.fetch_quote(IPHONE)
    with pytest.raises(QuotaExhausted) as caught:
        await setup.client.fetch_quote(IPHONE)

    assert caught.value.code == 403 and caught.value.http_status == 403
    state.tiers["aihuishou"] = "commercial"  # a bigger tier lets the day go on
    assert (await setup.client.fetch_quote(IPHONE)).final_price > 0


async def test_model_the_platform_has_not_recorded_is_not_found(setup: Setup) -> None:
    request = QuoteRequest("笔记本", "微软", "Surface Pro 9", "256GB", "95新", "正常", ram="8GB")

    with pytest.raises(NotFound) as caught:
        await setup.client.fetch_quote(request)

    assert caught.value.code == 404
    assert caught.value.platform_message == "型号未收录"


@pytest.mark.parametrize(
    "request_",
    [
        QuoteRequest("手机", "苹果", "iPhone 14 Pro", "64GB", "九成新", "正常"),  # not sold
        QuoteRequest("笔记本", "苹果", "MacBook Air M2", "512GB", "95新", "正常"),  # no ram
        QuoteRequest("手机", "苹果", "iPhone 14 Pro", "256GB", "报废", "正常"),  # no such grade
        QuoteRequest("手机", "华为", "iPhone 14 Pro", "256GB", "九成新", "正常"),  # wrong brand
    ],
    ids=["storage-not-offered", "laptop-without-ram", "unknown-condition", "wrong-brand"],
)
async def test_parameters_the_platform_refuses_are_bad_requests(
    setup: Setup, request_: QuoteRequest
) -> None:
    with pytest.raises(BadRequest) as caught:
        await setup.client.fetch_quote(request_)

    assert caught.value.code == 400


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault("http", status=500), Transient),
        (Fault("http", status=502), Transient),
        (Fault("http", status=401), NotPermitted),
        (Fault("http", status=404), BadRequest),  # seed: 接口路径错误, no model words
        (Fault("code", status=500, code=500, msg="服务异常"), Transient),
        (Fault("code", status=200, code=401, msg="IP 不在白名单"), NotPermitted),
        (Fault("code", status=403, code=403, msg="今日配额已用完"), QuotaExhausted),
        (Fault("code", status=403, code=403, msg="未签署合作协议"), NotPermitted),
        (Fault("code", status=200, code=404, msg="型号未收录"), NotFound),
        (Fault("code", status=400, code=400, msg="参数缺失"), BadRequest),
        (Fault("malformed"), Transient),
        (Fault("disconnect"), Transient),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else f"{v.kind}-{v.status}-{v.code}",
)
async def test_injected_faults_map_to_their_errors(
    setup: Setup, fault: Fault, error: type[PlatformError]
) -> None:
    setup.sandbox.state.inject("aihuishou", fault)

    with pytest.raises(error) as caught:
        await setup.client.fetch_quote(IPHONE)

    assert type(caught.value) is error
    if fault.kind == "code":
        assert caught.value.code == fault.code
        assert caught.value.platform_message == fault.msg
    assert (await setup.client.fetch_quote(IPHONE)).final_price > 0  # the fault was one answer


async def test_slow_answer_times_out_as_transient(setup: Setup) -> None:
    setup.client.request_timeout = 0.2
    setup.sandbox.state.inject("aihuishou", Fault("timeout", delay=1.0))

    with pytest.raises(Transient):
        await setup.client.fetch_quote(IPHONE)


async def test_more_than_five_requests_at_once_are_refused(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = setup.sandbox.state
    state.inject("aihuishou", Fault("timeout", delay=0.5), times=5)
    all_held = asyncio.Event()
    take_fault = state.take_fault
    taken: list[Fault] = []

    def take_and_count(platform_name: str) -> Fault | None:
        fault = take_fault(platform_name)
        if fault is not None:
            taken.append(fault)
            if len(taken) == 5:
                all_held.set()  # the fifth held request is inside the sandbox
        return fault

    monkeypatch.setattr(state, "take_fault", take_and_count)
    held = [asyncio.create_task(setup.client.fetch_quote(IPHONE)) for _ in range(5)]
    await asyncio.wait_for(all_held.wait(), timeout=5)

    with pytest.raises(RateLimited) as caught:
        await setup.client.fetch_quote(IPHONE)

    assert caught.value.http_status == 403
    quotes = await asyncio.gather(*held)
    assert all(q.final_price == _formula(q) for q in quotes)  # the held ones still answer


# -- answers parsed without the sandbox ----------------------------------------------------


def _ok_body(**price: object) -> dict[str, object]:
    return {
        "code": 0,
        "data": {
            "device_info": {"device_id": "X1", "spec": "256GB"},
            "price_info": {
                "base_price": 4000,
                "condition_discount": 0.9,
                "function_deduction": 500,
                "market_coefficient": 1.02,
                "final_price": 3090,
                **price,
            },
            "recycle_info": {"recycle_type": "上门/到店", "valid_time": "2025-12-31 14:00:00"},
            "quality_check": ["屏幕坏点"],
        },
    }


def _mock_client(handler, clock: FakeClock | None = None) -> AihuishouClient:  # type: ignore[no-untyped-def]
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    config = PlatformConfig(
        "https://open.test/api/v2/item_get_inquir", "AHS-KEY", SecretStr("mock-secret"), "test"
    )
    return AihuishouClient(http, config, clock or FakeClock())


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (200, {"code": 400, "msg": "参数缺失"}, BadRequest),
        (200, {"code": 403, "msg": "quota exceeded"}, QuotaExhausted),
        (200, {"code": 403, "msg": "调用次数超限"}, QuotaExhausted),
        (403, {"code": 403, "msg": "并发请求过多,请求频率超限"}, RateLimited),
        (403, b"", NotPermitted),
        (400, b"<html>bad</html>", BadRequest),
        (503, b"", Transient),
        (200, {"code": 0}, Transient),  # success without data
        (200, {"code": 0, "data": {"price_info": {"base_price": "abc"}}}, Transient),
        (200, b"[1, 2]", Transient),
    ],
)
async def test_answers_map_to_errors(status: int, body: object, error: type[PlatformError]) -> None:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    client = _mock_client(lambda request: httpx.Response(status, content=content))

    with pytest.raises(error):
        await client.fetch_quote(IPHONE)


async def test_numbers_are_exact_decimals_and_string_recycle_types_split() -> None:
    client = _mock_client(lambda request: httpx.Response(200, json=_ok_body()))

    quote = await client.fetch_quote(IPHONE)

    assert quote.condition_discount == Decimal("0.9")
    assert quote.market_coefficient == Decimal("1.02")
    assert quote.final_price == Decimal(3090)
    assert [o.kind for o in quote.recycle_options] == ["上门", "到店"]
    assert quote.valid_until == "2025-12-31 14:00:00"
    assert quote.quality_check == ("屏幕坏点",)


def test_recycle_options_keep_window_for_door_and_distance_for_store() -> None:
    options = parse_recycle_options(
        {
            "recycle_type": ["上门", "到店"],
            "store_distance": "2.5km",
            "door_time_window": "10:00-12:00",
        }
    )

    assert options[0].time_window == "10:00-12:00" and options[0].store_distance_km is None
    assert options[1].store_distance_km == Decimal("2.5") and options[1].time_window is None


# -- the value sets and the catalogue agree with the platform ------------------------------


def test_tiers_and_cache_lifetime_follow_the_contract() -> None:
    assert AihuishouClient.TIERS["test"].per_day == 100
    assert AihuishouClient.TIERS["commercial"].per_day == 2000
    assert {t.concurrent for t in AihuishouClient.TIERS.values()} == {5}
    assert AihuishouClient.QUOTE_TTL == 600


def test_grades_run_best_to_worst() -> None:
    # which words are the seed's and which are ours is checked against the seed's own text
    # in tests/test_seed_conformance.py; here only the order the buttons rely on
    assert list(CONDITIONS.values()) == sorted(CONDITIONS.values(), reverse=True)


def test_the_lenient_sandbox_takes_every_plausible_word_the_seeds_and_ours() -> None:
    accepted = {
        "device_type": set(platform.DEVICE_TYPES),
        "condition": set(platform.CONDITION_DISCOUNTS),
        "function_status": set(platform.FUNCTION_DEDUCTION_RATES),
        "repair_history": set(platform.REPAIR_DEDUCTION_RATES),
        "purchase_channel": set(platform.CHANNEL_FACTORS),
    }
    ours = {
        "device_type": set(DEVICE_TYPES),
        "condition": set(CONDITIONS),
        "function_status": set(FUNCTION_STATUSES),
        "repair_history": set(REPAIR_HISTORIES),
        "purchase_channel": set(PURCHASE_CHANNELS),
    }
    for name, words in accepted.items():
        assert ours[name] | set(SEED_WORDS[name]) <= words, name


@pytest.mark.parametrize(
    ("name", "value"),
    [("condition", v) for v in CONDITIONS]
    + [("function_status", v) for v in FUNCTION_STATUSES]
    + [("repair_history", v) for v in REPAIR_HISTORIES]
    + [("purchase_channel", v) for v in PURCHASE_CHANNELS],
)
async def test_a_platform_that_knows_only_the_seeds_words_refuses_ours_and_quotes_the_seeds(
    setup: Setup, name: str, value: str
) -> None:
    setup.sandbox.state.aihuishou_strict = True
    base = QuoteRequest("手机", "苹果", "iPhone 14 Pro", "256GB", "九成新", "正常")
    request = replace(base, **{name: value})
    if value in SEED_WORDS[name]:
        assert (await setup.client.fetch_quote(request)).request == request
        return

    with pytest.raises(BadRequest) as caught:
        await setup.client.fetch_quote(request)
    retry = seed_retry(request, caught.value)

    assert retry is not None
    retried, used = retry
    assert (used.field, used.refused) == (name, value)
    quote = await setup.client.fetch_quote(retried)
    assert getattr(quote.request, name) == used.used and quote.final_price > 0


def test_a_refusal_names_our_field_by_parameter_label_or_value_and_only_ours_are_retried() -> None:
    request = QuoteRequest("手机", "苹果", "iPhone 14 Pro", "256GB", "95新", "进水", None, "无维修")

    def refused(message: str, status: int = 400) -> str | None:
        error = BadRequest("aihuishou", platform_message=message, http_status=status)
        retry = seed_retry(request, error)
        return None if retry is None else f"{retry[1].field}={retry[1].used}"

    assert refused("condition 取值无效") == "condition=九成新"
    assert refused("成色参数错误") == "condition=九成新"
    assert refused("不支持的取值：95新") == "condition=九成新"
    assert refused("功能状态描述不全") == "function_status=正常"
    assert refused("参数值超出范围: function_status", 500) == "function_status=正常"
    assert refused("repair_history 取值无效") is None  # 无维修 is the seed's own example
    assert refused("timestamp 与服务器时间偏差超过5分钟") is None  # names no value of ours
    assert refused("") is None
    assert seed_retry(request, NotFound("aihuishou", platform_message="condition")) is None
    worst = replace(request, condition="七成新及以下", function_status="屏幕显示异常")
    error = BadRequest("aihuishou", platform_message="成色 功能状态 取值无效")
    assert seed_retry(worst, error)[1].used == "八成新"  # type: ignore[index]  # nearest seed word
    nearer = seed_retry(replace(worst, condition="九成新"), error)
    assert nearer is not None and nearer[1].used == "屏幕损坏"


def test_catalogue_names_are_the_platform_names_with_the_same_options() -> None:
    catalogue = load_catalogue()
    for name, priced in platform.PRICED_MODELS.items():
        model = catalogue.get(name)
        assert model is not None and model.model == name
        assert (model.brand, model.device_type) == (priced.brand, priced.device_type)
        assert model.storage == priced.storage
        assert model.ram == priced.ram
    unpriced = {m.model for m in catalogue} - set(platform.PRICED_MODELS)
    assert {"Surface Pro 9", "Redmi K70"} <= unpriced
    assert len(platform.PRICED_MODELS) >= 30


# -- watches: the seed names no device_type word for them -----------------------------------


@pytest.mark.parametrize("word", platform.WATCH_TYPES)
async def test_every_plausible_watch_word_is_priced(setup: Setup, word: str) -> None:
    request = QuoteRequest(word, "苹果", "Apple Watch Series 10", "", "95新", "正常")

    quote = await setup.client.fetch_quote(request)

    assert quote.final_price == _formula(quote) and quote.final_price > 0
    assert quote.base_price == platform.PRICED_MODELS["Apple Watch Series 10"].base_price


async def test_a_watch_with_its_stated_storage_is_priced_and_without_storage_sent_none(
    setup: Setup,
) -> None:
    bare = QuoteRequest(WATCH, "小米", "Xiaomi Watch S4", "", "全新", "正常")
    stated = QuoteRequest(WATCH, "苹果", "Apple Watch Series 9", "64GB", "九成新", "正常")

    assert "storage" not in setup.client.request_params(bare)
    assert (await setup.client.fetch_quote(bare)).final_price > 0
    assert (await setup.client.fetch_quote(stated)).final_price > 0


async def test_a_platform_that_quotes_no_watches_refuses_them_as_a_bad_request(
    setup: Setup,
) -> None:
    setup.sandbox.state.aihuishou_refuses_watches = True
    watch = QuoteRequest(WATCH, "苹果", "Apple Watch Series 10", "", "95新", "正常")

    with pytest.raises(BadRequest) as caught:
        await setup.client.fetch_quote(watch)

    assert caught.value.code == 400
    assert (await setup.client.fetch_quote(IPHONE)).final_price > 0  # phones still quoted


# -- cameras and headphones (issue 22): 相机 is the seed's word, headphones have none ----------


@pytest.mark.parametrize(
    ("word", "brand", "model"),
    [
        *((word, "索尼", "ZV-E10") for word in platform.CAMERA_TYPES),
        *((word, "森海塞尔", "MOMENTUM 4 Wireless") for word in platform.HEADPHONE_TYPES),
    ],
)
async def test_every_plausible_camera_and_headphone_word_is_priced_without_storage(
    setup: Setup, word: str, brand: str, model: str
) -> None:
    request = QuoteRequest(word, brand, model, "", "95新", "正常")

    assert "storage" not in setup.client.request_params(request)
    quote = await setup.client.fetch_quote(request)

    assert quote.final_price == _formula(quote) and quote.final_price > 0
    assert quote.base_price == platform.PRICED_MODELS[model].base_price


@pytest.mark.parametrize(
    ("kind", "request_"),
    [
        (CAMERA, QuoteRequest(CAMERA, "索尼", "ZV-E10", "", "95新", "正常")),
        (HEADPHONES, QuoteRequest(HEADPHONES, "苹果", "AirPods Pro 2", "", "99新", "正常")),
    ],
)
async def test_a_platform_that_quotes_no_cameras_or_headphones_refuses_them(
    setup: Setup, kind: str, request_: QuoteRequest
) -> None:
    assert (await setup.client.fetch_quote(request_)).final_price > 0
    setup.sandbox.state.aihuishou_refuses.add(kind)

    with pytest.raises(BadRequest) as caught:
        await setup.client.fetch_quote(request_)

    assert caught.value.code == 400 and "device_type" in (caught.value.platform_message or "")
    assert (await setup.client.fetch_quote(IPHONE)).final_price > 0  # phones still quoted
