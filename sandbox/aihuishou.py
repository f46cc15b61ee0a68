"""Simulated Aihuishou item_get_inquir (CONTRACT 3.4, seed 003) for `--demo` and the tests.

`POST /api/v2/item_get_inquir`, form-encoded, checked the way the platform does:
app_id, version, HMAC-SHA256 signature (401), timestamp within 5 minutes in UTC+8
(400), required fields (400), at most 5 requests in flight (403, frequency), the
sandbox account's daily quota by tier (403, quota), then the price model of the seed:

    final_price = base_price × condition_discount − function_deduction × market_coefficient

rounded to whole yuan and never below 0. The base price depends on model and storage
(and RAM for computers, and a little on the purchase channel); the deduction on the
function status and repair history; the market coefficient drifts slowly and
deterministically between 0.92 and 1.08 with `state.elapsed()`.

Watches: the seed lists 手机、平板、笔记本、相机等多品类 and names no word for watches, so
every plausible one (`WATCH_TYPES`: 智能手表, 手表, 穿戴设备, 智能穿戴) prices a watch, and
a watch's storage is optional (one size per model). `state.aihuishou_refuses_watches`
makes the sandbox answer as a platform that quotes no watches: 400 `device_type 不支持`.

Cameras and headphones (issue 22): 相机 is the seed's own word, and a camera may as
plausibly be sent as 数码相机 / 微单相机 / 单反相机 / 摄像机 (`CAMERA_TYPES`); headphones
have no word in the seed, so 耳机 / 音频设备 / 数码配件 / 影音娱乐 (`HEADPHONE_TYPES`) all
price them. Neither has a storage to send. `state.aihuishou_refuses` holds the kinds
(`CAMERA`, `HEADPHONES`, `WATCH`) the sandbox answers as a platform that does not quote
them: 400 `device_type 不支持`, so the bot's "not quoted here" is tested from the
platform's own refusal.

Strict mode (`state.aihuishou_strict`): the platform read as strictly as seed 003 allows,
accepting for device_type, condition, function_status, repair_history and
purchase_channel only the words the seed itself writes (`SEED_VOCABULARY`); any other
value is refused with 400 `<field> 取值无效`, as a platform would that knows none of our
words (95新, 进水, 港版...). The client's way out (`clients.aihuishou.seed_retry`) is
tested against it.

Models not in `PRICED_MODELS` answer 404 `型号未收录`; a storage the model is not sold
with answers 400. Injected faults (`state.inject("aihuishou", Fault(...))`) take the
place of the next answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from aiohttp import web

from clock import CHINA_TZ
from sandbox.core import SANDBOX_CREDENTIALS, STREAM_FAULTS, Fault, SandboxState, stream_fault

PATH = "/api/v2/item_get_inquir"
PLATFORM = "aihuishou"
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_CLOCK_SKEW = 300.0  # seconds
MAX_CONCURRENT = 5
QUOTE_VALID_HOURS = 24
#: the sandbox account's daily calls by tier (seed: 测试 100, 商用 2000)
DAILY_QUOTA = {"test": 100, "commercial": 2000}

REQUIRED = ("device_type", "brand", "model", "storage", "condition", "function_status")
#: every word a client may plausibly send for a watch (the seed names none)
WATCH_TYPES = ("智能手表", "手表", "穿戴设备", "智能穿戴")
WATCH = WATCH_TYPES[0]  # how the price table files watches
#: 相机 is named by the seed (核心功能: 手机、平板、笔记本、相机等多品类); the other words are
#: what a client may plausibly send for a camera
CAMERA_TYPES = ("相机", "数码相机", "微单相机", "单反相机", "摄像机")
CAMERA = CAMERA_TYPES[0]
#: headphones: the seed names no word ("等多品类"); every plausible one prices them
HEADPHONE_TYPES = ("耳机", "音频设备", "数码配件", "影音娱乐")
HEADPHONES = HEADPHONE_TYPES[0]
DEVICE_TYPES = ("手机", "平板", "笔记本", *CAMERA_TYPES, *WATCH_TYPES, *HEADPHONE_TYPES)
#: each plausible word -> the kind the price table files it under
KIND_OF = {
    **{word: WATCH for word in WATCH_TYPES},
    **{word: CAMERA for word in CAMERA_TYPES},
    **{word: HEADPHONES for word in HEADPHONE_TYPES},
}
#: seed 003's literal words per field (请求参数 示例 / 说明, 核心功能, 返回字段 成色折扣, the code
#: sample's repair_history="无"): all strict mode accepts
SEED_VOCABULARY = {
    "device_type": ("手机", "平板", "笔记本", "相机"),
    "condition": ("九成新", "八成新"),
    "function_status": ("正常", "屏幕损坏", "电池老化"),
    "repair_history": ("无维修", "无"),
    "purchase_channel": ("官网",),
}
CONDITION_DISCOUNTS = {
    "全新": Decimal("1.00"),
    "99新": Decimal("0.97"),
    "95新": Decimal("0.93"),
    "九成新": Decimal("0.90"),
    "八成新": Decimal("0.80"),
    "七成新及以下": Decimal("0.65"),
}
#: share of the base price deducted per function status
FUNCTION_DEDUCTION_RATES = {
    "正常": Decimal("0"),
    "电池老化": Decimal("0.05"),
    "扬声器/麦克风故障": Decimal("0.06"),
    "摄像头故障": Decimal("0.10"),
    "信号故障": Decimal("0.12"),
    "面容/指纹故障": Decimal("0.15"),
    "屏幕显示异常": Decimal("0.18"),
    "屏幕损坏": Decimal("0.25"),
    "进水": Decimal("0.35"),
    "无法开机": Decimal("0.55"),
}
#: share of the base price added to the deduction per repair history
REPAIR_DEDUCTION_RATES = {
    "无维修": Decimal("0"),
    "无": Decimal("0"),  # the seed's code sample sends repair_history="无"
    "更换过电池": Decimal("0.03"),
    "更换过屏幕": Decimal("0.08"),
    "主板维修": Decimal("0.20"),
}
#: factor on the base price per purchase channel (imports sell for less)
CHANNEL_FACTORS = {
    "国行": Decimal("1.00"),
    "官网": Decimal("1.00"),
    "运营商": Decimal("0.98"),
    "二手": Decimal("1.00"),
    "港版": Decimal("0.95"),
    "美版": Decimal("0.88"),
}
RECYCLE_TYPES = ["上门", "到店", "邮寄"]
COEFFICIENT_AMPLITUDE = 0.08
COEFFICIENT_PERIOD = 7 * 86400.0  # one slow swing a week
QUALITY_CHECK = [
    "屏幕坏点/亮点",
    "屏幕触控",
    "屏幕划痕",
    "边框磕碰",
    "后壳划痕",
    "电池健康度",
    "充电功能",
    "指纹/面容识别",
    "前置摄像头",
    "后置摄像头",
    "闪光灯",
    "扬声器",
    "听筒",
    "麦克风",
    "振动马达",
    "按键",
    "WiFi/蓝牙",
    "通话信号",
    "NFC",
    "维修/拆机痕迹",
    "ID锁/账号锁",
]

# model, brand, device type, base price (元, smallest storage), storage options, RAM options
_PRICE_TABLE = (
    ("iPhone 6 Plus", "苹果", "手机", 180, "16 64 128", ""),
    ("iPhone 7 Plus", "苹果", "手机", 350, "32 128 256", ""),
    ("iPhone XS Max", "苹果", "手机", 900, "64 256 512", ""),
    ("iPhone 12", "苹果", "手机", 1500, "64 128 256", ""),
    ("iPhone 12 Pro", "苹果", "手机", 2100, "128 256 512", ""),
    ("iPhone 12 Pro Max", "苹果", "手机", 2500, "128 256 512", ""),
    ("iPhone 13", "苹果", "手机", 2300, "128 256 512", ""),
    ("iPhone 13 Pro", "苹果", "手机", 3200, "128 256 512 1TB", ""),
    ("iPhone 13 Pro Max", "苹果", "手机", 3700, "128 256 512 1TB", ""),
    ("iPhone 14", "苹果", "手机", 3000, "128 256 512", ""),
    ("iPhone 14 Plus", "苹果", "手机", 3200, "128 256 512", ""),
    ("iPhone 14 Pro", "苹果", "手机", 4200, "128 256 512 1TB", ""),
    ("iPhone 14 Pro Max", "苹果", "手机", 4800, "128 256 512 1TB", ""),
    ("iPhone 15", "苹果", "手机", 3900, "128 256 512", ""),
    ("iPhone 15 Plus", "苹果", "手机", 4200, "128 256 512", ""),
    ("iPhone 15 Pro", "苹果", "手机", 5200, "128 256 512 1TB", ""),
    ("iPhone 15 Pro Max", "苹果", "手机", 6000, "256 512 1TB", ""),
    ("iPhone 16", "苹果", "手机", 4800, "128 256 512", ""),
    ("iPhone 16 Plus", "苹果", "手机", 5200, "128 256 512", ""),
    ("iPhone 16 Pro", "苹果", "手机", 6200, "128 256 512 1TB", ""),
    ("iPhone 16 Pro Max", "苹果", "手机", 7200, "256 512 1TB", ""),
    ("iPhone 17 Pro Max", "苹果", "手机", 8600, "256 512 1TB 2TB", ""),
    ("Mate 60", "华为", "手机", 3000, "256 512", "12"),
    ("Mate 60 Pro", "华为", "手机", 3800, "256 512 1TB", "12"),
    ("Mate 60 Pro+", "华为", "手机", 4800, "512 1TB", "16"),
    ("Mate 50 Pro", "华为", "手机", 2200, "256 512", "8"),
    ("P60", "华为", "手机", 2000, "128 256 512", "8"),
    ("P60 Pro", "华为", "手机", 2800, "256 512", "8 12"),
    ("Pura 70 Pro", "华为", "手机", 4000, "512 1TB", "12"),
    ("nova 12", "华为", "手机", 1500, "256 512", "8 12"),
    ("nova 11", "华为", "手机", 1000, "128 256 512", "8"),
    ("MatePad Pro 11", "华为", "平板", 1800, "128 256 512", "8 12"),
    ("MateBook X Pro", "华为", "笔记本", 5000, "512 1TB", "16 32"),
    ("MateBook 14", "华为", "笔记本", 3000, "512 1TB", "16"),
    ("小米 14", "小米", "手机", 2300, "256 512 1TB", "8 12 16"),
    ("小米 14 Pro", "小米", "手机", 2900, "256 512 1TB", "12 16"),
    ("小米 13", "小米", "手机", 1400, "128 256 512", "8 12"),
    ("Redmi Note 13 Pro", "小米", "手机", 800, "128 256 512", "8 12"),
    ("小米平板 6", "小米", "平板", 1000, "128 256", "6 8"),
    ("Find X7", "OPPO", "手机", 2200, "256 512 1TB", "12 16"),
    ("Find X7 Ultra", "OPPO", "手机", 3500, "256 512", "12 16"),
    ("Reno 11", "OPPO", "手机", 1300, "256 512", "8 12"),
    ("vivo X100", "vivo", "手机", 2300, "256 512 1TB", "12 16"),
    ("vivo X100 Pro", "vivo", "手机", 3000, "256 512 1TB", "12 16"),
    ("iQOO 12", "vivo", "手机", 2000, "256 512 1TB", "12 16"),
    ("vivo S18", "vivo", "手机", 1300, "256 512", "8 12 16"),
    ("Magic6 Pro", "荣耀", "手机", 2900, "256 512 1TB", "12 16"),
    ("荣耀 90", "荣耀", "手机", 1100, "256 512", "8 12 16"),
    ("Magic V2", "荣耀", "手机", 3500, "256 512 1TB", "16"),
    ("Galaxy S24", "三星", "手机", 2600, "256 512", "8"),
    ("Galaxy S24 Ultra", "三星", "手机", 4500, "256 512 1TB", "12"),
    ("Galaxy S23", "三星", "手机", 1700, "128 256 512", "8"),
    ("Galaxy Z Fold5", "三星", "手机", 4200, "256 512 1TB", "12"),
    ("Galaxy Tab S9", "三星", "平板", 2200, "128 256 512", "8 12"),
    ("iPad Pro 11 (M4)", "苹果", "平板", 5500, "256 512 1TB 2TB", ""),
    ("iPad Pro 12.9 (M2)", "苹果", "平板", 4200, "128 256 512 1TB 2TB", ""),
    ("iPad Air 5", "苹果", "平板", 2000, "64 256", ""),
    ("iPad Air (M2)", "苹果", "平板", 3200, "128 256 512 1TB", ""),
    ("iPad 10", "苹果", "平板", 1600, "64 256", ""),
    ("iPad mini 6", "苹果", "平板", 1900, "64 256", ""),
    ("MacBook Air M1", "苹果", "笔记本", 3000, "256 512 1TB 2TB", "8 16"),
    ("MacBook Air M2", "苹果", "笔记本", 4200, "256 512 1TB 2TB", "8 16 24"),
    ("MacBook Air M3", "苹果", "笔记本", 5500, "256 512 1TB 2TB", "8 16 24"),
    ("MacBook Pro 13 M1", "苹果", "笔记本", 3600, "256 512 1TB 2TB", "8 16"),
    ("MacBook Pro 13 M2", "苹果", "笔记本", 4600, "256 512 1TB 2TB", "8 16 24"),
    ("MacBook Pro 14 M3", "苹果", "笔记本", 7000, "512 1TB 2TB", "8 16 24"),
    ("ThinkPad X1 Carbon Gen 11", "联想", "笔记本", 4500, "512 1TB", "16 32"),
    ("ThinkPad T14 Gen 4", "联想", "笔记本", 3200, "512 1TB", "16 32"),
    ("拯救者 Y9000P 2023", "联想", "笔记本", 5200, "1TB 2TB", "16 32"),
    ("小新 Pro 14", "联想", "笔记本", 2600, "512 1TB", "16 32"),
    ("Apple Watch Series 7", "苹果", WATCH, 600, "32", ""),
    ("Apple Watch Series 9", "苹果", WATCH, 1100, "64", ""),
    ("Apple Watch Series 10", "苹果", WATCH, 1500, "64", ""),
    ("Apple Watch Ultra 2", "苹果", WATCH, 2600, "64", ""),
    ("Apple Watch SE 2", "苹果", WATCH, 500, "32", ""),
    ("Xiaomi Watch S4", "小米", WATCH, 450, "", ""),
    ("WATCH GT 5", "华为", WATCH, 600, "", ""),
    ("Galaxy Watch7", "三星", WATCH, 500, "", ""),
    # issue 22: laptops by year, size and chip, gaming laptops, cameras, headphones
    ("MacBook Pro 15 2016", "苹果", "笔记本", 2200, "256 512 1TB 2TB 4TB", "16 32"),
    ("MacBook Pro 14 M1 Max", "苹果", "笔记本", 8500, "512 1TB 2TB 4TB", "32 64"),
    ("ROG 枪神 8", "华硕", "笔记本", 7000, "1TB 2TB", "16 32"),
    ("ZV-E10", "索尼", CAMERA, 2600, "", ""),
    ("A7M4", "索尼", CAMERA, 9800, "", ""),
    ("FX3", "索尼", CAMERA, 17000, "", ""),
    ("EOS R6 Mark II", "佳能", CAMERA, 9500, "", ""),
    ("X-T5", "富士", CAMERA, 7800, "", ""),
    ("WH-1000XM5", "索尼", HEADPHONES, 1100, "", ""),
    ("AirPods Pro 2", "苹果", HEADPHONES, 700, "", ""),
    ("MOMENTUM 4 Wireless", "森海塞尔", HEADPHONES, 1000, "", ""),
    ("HD 600", "森海塞尔", HEADPHONES, 1200, "", ""),
)


@dataclass(frozen=True, slots=True)
class PricedModel:
    model: str
    brand: str
    device_type: str
    base_price: int
    storage: tuple[str, ...]
    ram: tuple[str, ...]


def _sizes(text: str) -> tuple[str, ...]:
    return tuple(s if s.endswith("TB") else f"{s}GB" for s in text.split())


PRICED_MODELS: dict[str, PricedModel] = {
    model: PricedModel(model, brand, device_type, price, _sizes(storage), _sizes(ram))
    for model, brand, device_type, price, storage, ram in _PRICE_TABLE
}

# Hostile strings for the renderer: markup, ampersands, emoji, a very long text.
SPEC_COLOURS = {
    "iPhone 15 Pro": "原色钛金属 <b>限量</b> & 🎉",
    "Mate 60 Pro": "雅川青 🌿✨",
    "MacBook Air M2": "午夜色 <i>Midnight</i> & Co",
}
LONG_QUALITY_NOTE = {  # 300 characters
    "Galaxy S24 Ultra": (
        "外观检测说明："
        + "屏幕边缘曲面区域需在强光下逐格检查是否存在压痕、烧屏残影与触控漂移，" * 9
    )[:300],
}


def expected_signature(params: dict[str, str], secret: str) -> str:
    """The platform's rule, written out here on its own so the client is checked against it."""
    names = sorted(name for name, value in params.items() if name != "sign" and value)
    text = "&".join(f"{name}={params[name]}" for name in names) + f"&secret={secret}"
    return hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest()


def market_coefficient(model: str, elapsed: float) -> Decimal:
    """Between 0.92 and 1.08; each model swings once a week from its own phase."""
    phase = int.from_bytes(hashlib.sha256(model.encode()).digest()[:4], "big") / 2**32
    angle = 2 * math.pi * (elapsed / COEFFICIENT_PERIOD + phase)
    value = 1 + COEFFICIENT_AMPLITUDE * math.sin(angle)
    return Decimal(str(value)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def base_price(entry: PricedModel, storage: str, ram: str | None, channel: str | None) -> Decimal:
    step = max(100, round(entry.base_price * 0.12, -1))
    steps = entry.storage.index(storage) if storage in entry.storage else 0  # a watch may send none
    price = Decimal(entry.base_price + step * steps)
    if ram and ram in entry.ram:
        price += Decimal(max(100, round(entry.base_price * 0.08, -1)) * entry.ram.index(ram))
    price *= CHANNEL_FACTORS.get(channel or "", Decimal(1))
    return price.quantize(Decimal(1), rounding=ROUND_HALF_UP)


def quote(entry: PricedModel, form: dict[str, str], elapsed: float) -> dict[str, Decimal]:
    base = base_price(entry, form.get("storage", ""), form.get("ram"), form.get("purchase_channel"))
    discount = CONDITION_DISCOUNTS[form["condition"]]
    rate = FUNCTION_DEDUCTION_RATES[form["function_status"]]
    rate += REPAIR_DEDUCTION_RATES.get(form.get("repair_history") or "", Decimal(0))
    deduction = (base * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    coefficient = market_coefficient(entry.model, elapsed)
    final = (base * discount - deduction * coefficient).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return {
        "base_price": base,
        "condition_discount": discount,
        "function_deduction": deduction,
        "market_coefficient": coefficient,
        "final_price": max(Decimal(0), final),
    }


def _door_window(now: datetime) -> str:
    """The next two-hour slot between 09:00 and 21:00 that starts at least an hour from now."""
    start = max(9, now.hour + 2)
    if start + 2 > 21:
        return "次日 09:00-11:00"
    return f"{start:02d}:00-{start + 2:02d}:00"


def _store_distance(model: str) -> str:
    digest = hashlib.sha256(f"store:{model}".encode()).digest()
    return f"{0.5 + digest[0] / 255 * 5.5:.1f}"


def _answer(code: int, msg: str, status: int) -> web.Response:
    return web.json_response({"code": code, "msg": msg}, status=status)


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def register(app: web.Application, state: SandboxState) -> None:
    credentials = SANDBOX_CREDENTIALS[PLATFORM]

    async def apply_fault(request: web.Request, fault: Fault) -> web.StreamResponse | None:
        """The injected failure's answer, or None when the request goes on (after a delay)."""
        if fault.kind == "timeout":
            await asyncio.sleep(fault.delay)
            return None
        if fault.kind in STREAM_FAULTS:
            return await stream_fault(request, fault)
        if fault.kind == "disconnect":
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError  # nothing more is written on a dropped connection
        if fault.kind == "malformed":
            return web.Response(text="<html>502 Bad Gateway", content_type="text/html")
        if fault.kind == "code":
            code = fault.code if fault.code is not None else 500
            return web.json_response({"code": code, "msg": fault.msg}, status=fault.status)
        return web.Response(status=fault.status)  # "http": the status with an empty body

    async def inquire(request: web.Request) -> web.StreamResponse:
        counters = state.note_call(PLATFORM)
        state.aihuishou_in_flight += 1
        in_flight = state.aihuishou_in_flight
        state.aihuishou_peak_in_flight = max(state.aihuishou_peak_in_flight, in_flight)
        try:
            if in_flight > MAX_CONCURRENT:
                counters.rejected += 1
                return _answer(403, f"请求频率超限:并发请求不得超过{MAX_CONCURRENT}个", 403)
            fault = state.take_fault(PLATFORM)
            if fault is not None:
                answer = await apply_fault(request, fault)
                if answer is not None:
                    return answer
            response = await handle(request)
            if response.status == 200:
                counters.ok += 1
            else:
                counters.rejected += 1
            return response
        finally:
            state.aihuishou_in_flight -= 1

    async def handle(request: web.Request) -> web.Response:
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        for name in ("app_id", "timestamp", "version", "sign"):
            if not form.get(name):
                return _answer(400, f"缺少公共参数 {name}", 400)
        if form["app_id"] != credentials["app_id"]:
            return _answer(401, "app_id 无效", 401)
        if form["version"] != "v2":
            return _answer(400, "version 不支持", 400)
        if not hmac.compare_digest(form["sign"], expected_signature(form, credentials["secret"])):
            return _answer(401, "签名错误", 401)
        try:
            sent = datetime.strptime(form["timestamp"], TIMESTAMP_FORMAT).replace(tzinfo=CHINA_TZ)
        except ValueError:
            return _answer(400, "timestamp 格式错误,应为 YYYY-MM-DD HH:MM:SS", 400)
        if abs(sent.timestamp() - state.clock.time()) > MAX_CLOCK_SKEW:
            return _answer(400, "timestamp 与服务器时间偏差超过5分钟", 400)
        kind = KIND_OF.get(form.get("device_type", ""))
        watch = kind is not None  # watches, cameras, headphones: no storage to state
        for name in REQUIRED:
            if not form.get(name) and not (watch and name == "storage"):
                return _answer(400, f"缺少必填参数 {name}", 400)

        per_day = DAILY_QUOTA[state.tiers.get(PLATFORM, "test")]
        if state.over_quota(PLATFORM, per_day):
            return _answer(403, f"今日调用次数已达上限(配额 {per_day} 次/天)", 403)

        strict = state.aihuishou_strict
        if (
            form["device_type"] not in DEVICE_TYPES
            or (kind == WATCH and state.aihuishou_refuses_watches)
            or kind in state.aihuishou_refuses
            or (strict and form["device_type"] not in SEED_VOCABULARY["device_type"])
        ):
            return _answer(400, "device_type 不支持", 400)
        entry = PRICED_MODELS.get(form["model"])
        if entry is None:
            return _answer(404, "型号未收录", 404)
        device_type = kind or form["device_type"]
        if form["brand"] != entry.brand or device_type != entry.device_type:
            return _answer(400, "品牌或设备类型与型号不符", 400)
        storage = form.get("storage", "")
        if not (watch and (not storage or not entry.storage)) and storage not in entry.storage:
            return _answer(400, f"该型号无此存储容量,可选:{'/'.join(entry.storage)}", 400)
        ram = form.get("ram")
        if entry.device_type == "笔记本" and not ram:
            return _answer(400, "电脑必须填写内存 ram", 400)
        if ram and entry.ram and ram not in entry.ram:
            return _answer(400, f"该型号无此内存,可选:{'/'.join(entry.ram)}", 400)
        for name, allowed in (
            ("condition", CONDITION_DISCOUNTS),
            ("function_status", FUNCTION_DEDUCTION_RATES),
            ("repair_history", REPAIR_DEDUCTION_RATES),
            ("purchase_channel", CHANNEL_FACTORS),
        ):
            accepted = SEED_VOCABULARY[name] if strict else tuple(allowed)
            if form.get(name) and form[name] not in accepted:
                return _answer(400, f"{name} 取值无效", 400)

        prices = quote(entry, form, state.elapsed())
        now = datetime.fromtimestamp(state.clock.time(), CHINA_TZ)
        colour = SPEC_COLOURS.get(entry.model, "黑色")
        spec = " + ".join(p for p in (storage, ram and f"{ram} 内存", colour) if p)
        checks = [*QUALITY_CHECK]
        if entry.model in LONG_QUALITY_NOTE:
            checks.append(LONG_QUALITY_NOTE[entry.model])
        data: dict[str, Any] = {
            "device_info": {
                "device_id": "AHS" + hashlib.md5(entry.model.encode()).hexdigest()[:10].upper(),
                "device_type": entry.device_type,
                "brand": entry.brand,
                "model": entry.model,
                "storage": storage,
                "ram": ram or "",
                "condition": form["condition"],
                "spec": spec,
            },
            "price_info": {name: _number(value) for name, value in prices.items()},
            "recycle_info": {
                # the seed writes 上门 / 到店 / 邮寄: a list, or (computers here) one string
                "recycle_type": (
                    "/".join(RECYCLE_TYPES) if entry.device_type == "笔记本" else RECYCLE_TYPES
                ),
                "store_distance": _store_distance(entry.model),
                "door_time_window": _door_window(now),
                "valid_time": (now + timedelta(hours=QUOTE_VALID_HOURS)).strftime(TIMESTAMP_FORMAT),
            },
            "quality_check": checks,
        }
        return web.json_response({"code": 0, "msg": "success", "data": data})

    app.router.add_post(PATH, inquire)
