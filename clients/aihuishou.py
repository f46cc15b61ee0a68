"""Aihuishou (爱回收) trade-in quotes, through the open platform's item_get_inquir (CONTRACT 3.4).

Protocol (seed 003):
- `POST AIHUISHOU_API_URL`, form-encoded: `app_id`, `timestamp` (`YYYY-MM-DD HH:MM:SS`
  in UTC+8), `version=v2`, `device_type`, `brand`, `model`, `storage`, `condition`,
  `function_status`, optional `ram` (required for computers), `repair_history`,
  `purchase_channel`, and `sign`. A timestamp more than 5 minutes off is refused (400).
- `sign = hex(hmac_sha256(key=secret, "k1=v1&k2=v2..." + "&secret=" + secret))`, lower
  case: parameters with an empty value and `sign` itself left out, names sorted by byte
  value, values raw (not percent-encoded) UTF-8. The secret is never sent.
- Success: `{"code": 0, "data": {"device_info": {"device_id", "spec", ...},
  "price_info": {"base_price", "condition_discount", "function_deduction",
  "market_coefficient", "final_price"}, "recycle_info": {"recycle_type",
  "store_distance", "door_time_window", "valid_time"}, "quality_check": [...]}}`.
  `recycle_type` is a list (`["上门", "到店", "邮寄"]`) or one string (`"上门/到店"`).
  The price model: final_price = base_price × condition_discount − function_deduction ×
  market_coefficient (the coefficient lies between 0.9 and 1.1).
- Errors: a non-zero `code` with `msg`, and/or an HTTP status:

  | HTTP / code | meaning (seed) | error |
  |---|---|---|
  | 400 | missing / malformed parameter, timestamp off by > 5 min | BadRequest |
  | 401 | wrong app_id / secret, bad signature, IP not whitelisted | NotPermitted |
  | 403 + a window of a second (每秒 / 频率 / 并发), even with 次数 | too many at once | RateLimited |
  | 403 + the day (今日 / 每天 / 配额 / quota) | daily quota used up | QuotaExhausted |
  | 403 + a bare count (调用次数超限): the seed's first 403 cause, 配额耗尽 | | QuotaExhausted |
  | 403 otherwise | no permission for this call | NotPermitted |
  | 404 + model words (型号 / 未收录) | model not recorded | NotFound |
  | 404 otherwise | 接口路径错误 (the seed's first 404 cause) | BadRequest |
  | 500 + value words (参数 / 超出范围 / 取值) | 参数值超出范围 | BadRequest |
  | 5xx otherwise | platform failure | Transient |

  Timeouts, dropped connections and answers that are not JSON are Transient.
- Tiers (CONTRACT 4.1): test 100/day, commercial 2000/day, both at most 5 concurrent
  requests. Quotes are cached 10 minutes per model + storage + condition.
- Value sets: the platform's spelling of device types, condition grades, function
  statuses, repair histories and purchase channels are the constants below; the
  description parser (`devices.parser`) maps free text onto them.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Final

import httpx

from clients.base import ErrorMap, ErrorRule, Limits, PlatformClient
from clients.errors import (
    COUNT_WORDS,
    DAY_WORDS,
    RATE_WORDS,
    BadRequest,
    NotFound,
    NotPermitted,
    PlatformError,
    QuotaExhausted,
    RateLimited,
    Transient,
)
from clients.models import Quote, QuoteRequest, RecycleOption
from clients.probe import Refusal
from clock import CHINA_TZ

log = logging.getLogger(__name__)

VERSION = "v2"
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"

# -- the platform's value sets ----------------------------------------------------------

#: 智能手表 for watches: the seed lists 手机、平板、笔记本、相机等多品类 and names no word for
#: watches; 智能手表 is the retail category name (JD, Tmall, Aihuishou's own site menus),
#: and the most specific of the plausible words (手表, 智能穿戴, 穿戴设备). A platform that
#: refuses it answers 400, which the bot tells the user as "not quoted here yet".
WATCH: Final = "智能手表"
#: 相机 is the seed's own word (核心功能: 手机、平板、笔记本、相机等多品类)
CAMERA: Final = "相机"
#: 耳机 for headphones and earbuds: the seed's "等多品类" names no word for them; 耳机 is the
#: retail category name (and Aihuishou's own site menu word), the most specific of the
#: plausible words (耳机, 音频设备, 数码配件). A refusal (400) is told as "not quoted here".
HEADPHONES: Final = "耳机"
DEVICE_TYPES: Final = ("手机", "平板", "笔记本", WATCH, CAMERA, HEADPHONES)
#: device types for which `ram` is required (the seed: 内存 手机可选,电脑必填)
RAM_REQUIRED_TYPES: Final = frozenset({"笔记本"})
#: device types sold in one storage size per model: storage is sent when the text states
#: it, never asked (a watch's variants are its case size and GPS / 蜂窝, not its storage)
#: Cameras and headphones have no storage to state (a camera's memory card is no part of
#: it): storage is neither read nor asked for them.
STORAGE_OPTIONAL_TYPES: Final = frozenset({WATCH, CAMERA, HEADPHONES})
#: device types whose texts state no sizes at all (a 64G memory card, a 42mm case)
SIZELESS_TYPES: Final = frozenset({CAMERA, HEADPHONES})
#: device types the seed does not name: a 400 for one of them says the platform does not
#: quote that kind of device (the user is told so), not that the description is wrong
UNNAMED_TYPES: Final = frozenset({WATCH, HEADPHONES})
#: the kinds of device a platform may quote nowhere yet, with the text key naming each: a
#: 400 for one of them is told as "Aihuishou doesn't quote <kind> here yet" (the seed names
#: 相机 among its categories, yet "等多品类" promises no particular body; the platform decides)
KIND_TYPES: Final[Mapping[str, str]] = {
    WATCH: "watches",
    CAMERA: "cameras",
    HEADPHONES: "headphones",
}

#: condition grades, best to worst, with the discount the platform applies to the base
#: price (seed: 九成新 0.9, 八成新 0.8; the sandbox prices with exactly these)
CONDITIONS: Final[Mapping[str, Decimal]] = {
    "全新": Decimal("1.00"),
    "99新": Decimal("0.97"),
    "95新": Decimal("0.93"),
    "九成新": Decimal("0.90"),
    "八成新": Decimal("0.80"),
    "七成新及以下": Decimal("0.65"),
}

#: function statuses, from working to worst; one value per request, so a device with
#: several faults is described by its most serious one (the last in this order)
FUNCTION_STATUSES: Final = (
    "正常",
    "电池老化",
    "扬声器/麦克风故障",
    "摄像头故障",
    "信号故障",
    "面容/指纹故障",
    "屏幕显示异常",
    "屏幕损坏",
    "进水",
    "无法开机",
)

REPAIR_HISTORIES: Final = ("无维修", "更换过屏幕", "更换过电池", "主板维修")
PURCHASE_CHANNELS: Final = ("国行", "港版", "美版", "官网", "运营商", "二手")
RECYCLE_TYPES: Final = ("上门", "到店", "邮寄")

# -- the seed's own words, and the way out when the platform refuses ours ----------------

#: per field, the values seed 003 itself writes (二、(1) 请求参数: 示例 and 说明; 核心功能's
#: 手机、平板、笔记本、相机; (2) 返回字段: 如九成新 0.9,八成新 0.8; the code sample's default
#: repair_history="无"). Every other value in the sets above is our choice
#: (docs/assumptions.md lists each with its reason).
SEED_WORDS: Final[Mapping[str, tuple[str, ...]]] = {
    "device_type": ("手机", "平板", "笔记本", "相机"),
    "condition": ("九成新", "八成新"),
    "function_status": ("正常", "屏幕损坏", "电池老化"),
    "repair_history": ("无维修", "无"),
    "purchase_channel": ("官网",),
}
#: the seed's example (示例 column) per field we may retry with
SEED_EXAMPLES: Final[Mapping[str, str]] = {
    "condition": "九成新",
    "function_status": "正常",
    "repair_history": "无维修",
    "purchase_channel": "官网",
}
#: where a seed word means nearly the same as ours, it is sent instead of the example
SEED_NEAREST: Final[Mapping[str, Mapping[str, str]]] = {
    "condition": {"七成新及以下": "八成新"},  # 八成新 is nearer than the example 九成新
    "function_status": {"屏幕显示异常": "屏幕损坏"},
}
#: the seed's own name of each retried field (说明 column), as a refusal may name it
FIELD_LABELS: Final[Mapping[str, str]] = {
    "condition": "成色",
    "function_status": "功能状态",
    "repair_history": "维修史",
    "purchase_channel": "购买渠道",
}


@dataclass(frozen=True, slots=True)
class SeedSubstitution:
    """A value of ours the platform refused, and the seed's value quoted in its place."""

    field: str
    refused: str
    used: str


def is_seed_word(field: str, value: str) -> bool:
    return value in SEED_WORDS.get(field, ())


def refused_field(request: QuoteRequest, error: PlatformError) -> str | None:
    """The field whose value (one the seed does not write) a refusal names, else None.

    A refusal names a field by its parameter name (`condition`), the seed's label (成色) or
    the refused value itself. A seed word refused is no assumption of ours: nothing to retry.
    Device types are not retried (a watch sent as 手机 would be no watch; see
    `UNNAMED_TYPES`), nor the catalogue's model, storage or RAM.
    """
    if not isinstance(error, BadRequest) or error.platform != "aihuishou":
        return None
    text = (error.platform_message or "").lower()
    if not text:
        return None
    for name, label in FIELD_LABELS.items():
        value = getattr(request, name) or ""
        if not value or is_seed_word(name, value):
            continue
        if name in text or label in text or value.lower() in text:
            return name
    return None


def seed_retry(
    request: QuoteRequest, error: PlatformError
) -> tuple[QuoteRequest, SeedSubstitution] | None:
    """The one retry a refusal of our invented value earns: the same request with the seed's
    value for that field (the nearest seed word, else the seed's example), or None."""
    name = refused_field(request, error)
    if name is None:
        return None
    refused = getattr(request, name)
    used = SEED_NEAREST.get(name, {}).get(refused, SEED_EXAMPLES[name])
    return replace(request, **{name: used}), SeedSubstitution(name, refused, used)


# -- errors -------------------------------------------------------------------------------

#: read in the seed's order of meaning, the most specific first: a window of a second (or
#: 并发) is a rate refusal even when it counts; the day is the daily quota; a bare count
#: (调用次数超限) is the seed's first 403 cause, 配额耗尽 (its table lists no rate cause)
_FORBIDDEN = (
    ErrorRule(RateLimited, "too many requests at once", RATE_WORDS),
    ErrorRule(QuotaExhausted, "daily quota used up", DAY_WORDS),
    ErrorRule(QuotaExhausted, "call count used up", COUNT_WORDS),
    ErrorRule(NotPermitted, "permission denied"),
)
#: the seed's 404 causes: 1. 接口路径错误 2. 设备型号未收录; only the model's words say the latter
_MODEL_NOT_RECORDED = ErrorRule(
    NotFound, "model not recorded", ("型号", "未收录", "机型", "model", "device")
)
#: the seed's 500 causes: 1. 平台服务异常 2. 参数值超出范围 (成色不能为"报废"): the second is
#: a refused value (not retried), the first a platform failure
_VALUE_OUT_OF_RANGE = ErrorRule(
    BadRequest, "parameter value out of range", ("参数", "超出范围", "取值", "不能为")
)
#: the seed's HTTP statuses; a 200 with a non-zero `code` repeats them in the code
_STATUS_RULES: dict[int, tuple[ErrorRule, ...]] = {
    400: (ErrorRule(BadRequest, "request refused"),),
    401: (ErrorRule(NotPermitted, "credentials or signature refused"),),
    403: _FORBIDDEN,
    404: (_MODEL_NOT_RECORDED, ErrorRule(BadRequest, "interface path not found")),
    429: (ErrorRule(RateLimited, "too many requests"),),
    500: (_VALUE_OUT_OF_RANGE, ErrorRule(Transient, "platform error")),
}
ERRORS = ErrorMap(
    statuses=_STATUS_RULES,
    codes={status: rules for status, rules in _STATUS_RULES.items()},  # keyed int | str
)
#: `python -m bot check`: the seed's troubleshooting table (高频问题排查表), quoted
_SEED_401 = "401 Unauthorized: app_id/app_secret 错误; sign 生成错误; IP 未在白名单"
REFUSALS: tuple[Refusal, ...] = (
    Refusal(
        "clock skew: the timestamp is more than 5 minutes off",
        "this machine's clock (sync it with NTP)",
        "400 Bad Request: timestamp 偏差 > 5 分钟",
        statuses=(400,),
        words=("timestamp", "时间"),
        credentials_refused=True,
    ),
    Refusal(
        "wrong app_id",
        "AIHUISHOU_APP_ID",
        _SEED_401,
        statuses=(401,),
        words=("app_id", "app id", "appid"),
        credentials_refused=True,
    ),
    Refusal(
        "wrong app secret (signature refused)",
        "AIHUISHOU_APP_SECRET",
        _SEED_401,
        statuses=(401,),
        credentials_refused=True,
    ),
    Refusal(
        "daily quota used up",
        "AIHUISHOU_TIER",
        "403 Forbidden: 配额耗尽 (测试权限 100 次/IP, 商用权限 2000 次/IP)",
        kinds=(QuotaExhausted,),
    ),
    Refusal("too many requests at once", "AIHUISHOU_TIER", "控制并发数≤5", kinds=(RateLimited,)),
    Refusal(
        "no permission",
        "AIHUISHOU_TIER (and the partnership agreement, IP whitelist)",
        "403 Forbidden: 权限不足; 未签署合作协议",
        kinds=(NotPermitted,),
        statuses=(403,),
    ),
)
#: the seed's own sample device: a quote, 404 型号未收录 or a 400 about the device means
#: the app_id, signature and timestamp passed (those are 401, and 400 for the timestamp)
PROBE_REQUEST = QuoteRequest("手机", "苹果", "iPhone 14 Pro", "256GB", "九成新", "正常")
_RECYCLE_TYPE_SEPARATORS = re.compile(r"\s*[/、,，|]\s*")


def sign(params: Mapping[str, str], secret: str) -> str:
    """The request signature (see the module docstring)."""
    pairs = sorted(
        ((k, v) for k, v in params.items() if k != "sign" and v not in ("", None)),
        key=lambda pair: pair[0].encode(),
    )
    to_sign = "&".join(f"{k}={v}" for k, v in pairs) + "&secret=" + secret
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


def china_timestamp(seconds: float) -> str:
    """Unix seconds as the platform's timestamp text (UTC+8)."""
    return datetime.fromtimestamp(seconds, CHINA_TZ).strftime(TIMESTAMP_FORMAT)


# -- parsing ------------------------------------------------------------------------------


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _decimal(value: object, field: str) -> Decimal:
    """A price field as Decimal; a missing or non-numeric one makes the answer unusable."""
    if value is None or isinstance(value, bool) or value == "":
        raise Transient("aihuishou", f"answer without {field}")
    try:
        number = Decimal(str(value).strip().lstrip("¥￥"))
    except InvalidOperation:
        raise Transient("aihuishou", f"answer with a malformed {field}") from None
    if not number.is_finite():
        raise Transient("aihuishou", f"answer with a malformed {field}")
    return number


def _distance(value: object) -> Decimal | None:
    text = _text(value).lower().removesuffix("km").strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _recycle_kinds(value: object) -> list[str]:
    if isinstance(value, list | tuple):
        kinds = [_text(v) for v in value]
    else:
        kinds = _RECYCLE_TYPE_SEPARATORS.split(_text(value))
    return list(dict.fromkeys(k for k in kinds if k))


def parse_recycle_options(info: Mapping[str, Any]) -> tuple[RecycleOption, ...]:
    """One option per recycle type; the door window belongs to 上门, the distance to 到店."""
    window = _text(info.get("door_time_window")) or None
    distance = _distance(info.get("store_distance"))
    options = []
    for kind in _recycle_kinds(info.get("recycle_type")):
        options.append(
            RecycleOption(
                kind=kind,
                time_window=window if kind == "上门" else None,
                store_distance_km=distance if kind == "到店" else None,
            )
        )
    return tuple(options)


def parse_quote(data: Mapping[str, Any], request: QuoteRequest) -> Quote:
    """A `Quote` from the answer's `data` object."""
    price = data.get("price_info")
    if not isinstance(price, dict):
        raise Transient("aihuishou", "answer without price_info")
    recycle = data.get("recycle_info")
    recycle = recycle if isinstance(recycle, dict) else {}
    device = data.get("device_info")
    device = device if isinstance(device, dict) else {}
    checks = data.get("quality_check")
    if not isinstance(checks, list):
        listed = device.get("quality_check")
        checks = listed if isinstance(listed, list) else []
    return Quote(
        request=request,
        base_price=_decimal(price.get("base_price"), "base_price"),
        condition_discount=_decimal(price.get("condition_discount"), "condition_discount"),
        function_deduction=_decimal(price.get("function_deduction"), "function_deduction"),
        market_coefficient=_decimal(price.get("market_coefficient"), "market_coefficient"),
        final_price=_decimal(price.get("final_price"), "final_price"),
        recycle_options=parse_recycle_options(recycle),
        valid_until=_text(recycle.get("valid_time")) or None,
        device_id=_text(device.get("device_id")) or None,
        spec=_text(device.get("spec")) or None,
        quality_check=tuple(t for t in (_text(c) for c in checks) if t),
    )


# -- the client ---------------------------------------------------------------------------


class AihuishouClient(PlatformClient):
    """Aihuishou item_get_inquir: one signed POST per quote."""

    #: seed 003: "500 参数值超出范围" is a refusal of a value, read from the body
    READS_SERVER_ERRORS = True

    platform = "aihuishou"
    ERRORS: ClassVar[ErrorMap] = ERRORS
    REFUSALS: ClassVar[tuple[Refusal, ...]] = REFUSALS
    TIERS: ClassVar[dict[str, Limits]] = {
        "test": Limits(per_day=100, concurrent=5),
        "commercial": Limits(per_day=2000, concurrent=5),
    }
    #: the seed: quotes are cached 10 minutes per model + storage + condition
    QUOTE_TTL: ClassVar[float] = 600.0
    NOT_FOUND_TTL: ClassVar[float] = 600.0
    request_timeout: float = 10.0

    def request_params(self, req: QuoteRequest) -> dict[str, str]:
        """The signed form of one quote request (empty optional fields left out)."""
        params = {
            "app_id": self.config.key,
            "timestamp": china_timestamp(self.clock.time()),
            "version": VERSION,
            "device_type": req.device_type,
            "brand": req.brand,
            "model": req.model,
            "storage": req.storage,
            "condition": req.condition,
            "function_status": req.function_status,
            "ram": req.ram or "",
            "repair_history": req.repair_history or "",
            "purchase_channel": req.purchase_channel or "",
        }
        params = {k: v for k, v in params.items() if v}
        params["sign"] = sign(params, self.config.secret.get_secret_value())
        return params

    async def fetch_quote(self, req: QuoteRequest) -> Quote:
        request = self.http.build_request(
            "POST", self.config.api_url, data=self.request_params(req)
        )
        response = await self.send(request, timeout=self.request_timeout)
        body = self._answer(response)
        data = body.get("data")
        if not isinstance(data, dict):
            raise Transient(self.platform, "answer without data", http_status=response.status_code)
        return parse_quote(data, req)

    async def probe_call(self) -> str:
        quote = await self.fetch_quote(PROBE_REQUEST)
        return f"sample quote {PROBE_REQUEST.model} {PROBE_REQUEST.storage}: ¥{quote.final_price}"

    def _answer(self, response: httpx.Response) -> dict[str, Any]:
        """The JSON body of a successful answer; every failure raised as its error class."""
        status, body = self.read_answer(response)
        code = body.get("code", 0 if status == 200 else None)
        if status == 200 and code in (0, "0"):
            return body
        raise self.error_for(status, code, _text(body.get("msg")))
