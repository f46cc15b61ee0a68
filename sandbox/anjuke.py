"""Simulated Anjuke item_get (`GET /anjuke/item_get`), checking requests like the platform.

Checks, in order: injected faults; `key` (401, code 28 missing / 29 unknown); `sign`
recomputed with the secret (401, code 25); the tier's per-second rate (403, code 7
调用频率超限, and, as the seed says, every call in the next 10 minutes gets the same);
the tier's daily quota, counted in UTC+8 days (403, code 6 日调用次数超限); the
parameters (400, code 40 missing, 41 malformed: `api_name` must be item_get,
`result_type` json, `cache` yes/no, booleans true/false, `house_id` one of the real
shapes); `need_contact=true` below the advanced tier (403, code 11 无权限).

Then the house: unknown -> 400 code 43 房源不存在; taken down -> 400 code 42 房源已下架
(the seed: 参数错误 400, house_id 对应的房源已下架); removed by a test -> 200 with an
empty `house_detail` (the seed: 200 但 data 为空, 房源已下架或违规). `field_filter`
returns only the named fields plus `house_id`; `need_media=false` leaves out `img_list`,
`vr_url` and `video_url`; `need_transaction=false` leaves out `down_payment` and
`loan_month`; `need_evaluate=true` adds `evaluate_list`; `broker_phone` only with
`need_contact=true`.

The codes are the ones documented in `clients/anjuke.py`; they are written out here
again because this module plays the platform and must not take its answers from the
client it tests.

Catalogue IDs (`ids()`) are house_ids as the platform's pages show them:
`AK2026011800001` (the seed's search form), `A...`, `S...`, 10/16-digit rent IDs, the
loupan number `245678` of a new home and the numbers `3187906783` / `3166544960` of a
shop and an office page. The platform is sent no kind: it knows a house by its ID alone.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from aiohttp import web

from clients.models import ListingStatus
from sandbox.core import SANDBOX_CREDENTIALS, Fault, SandboxState, drifted_price, fault_answer

PLATFORM = "anjuke"
API_PATH = "/anjuke/item_get"
#: CONTRACT 4.1: tier -> (per day, per second)
TIER_LIMITS: dict[str, tuple[int, int]] = {
    "personal": (50, 1),
    "enterprise_basic": (500, 3),
    "enterprise_advanced": (5000, 10),
}
CONTACT_TIERS = frozenset({"enterprise_advanced"})
REQUIRED = ("key", "api_name", "house_id", "sign")
BOOLEAN_PARAMS = ("need_media", "need_transaction", "need_evaluate", "need_contact")
HOUSE_ID = re.compile(r"AK\d{13}|A\d{9,10}|S\d{16}|\d{4,16}")
MEDIA_FIELDS = ("img_list", "vr_url", "video_url")
TRANSACTION_FIELDS = ("down_payment", "loan_month")
#: 30-year commercial loan at the LPR-based rate the platform quotes, for `loan_month`
LOAN_YEARS = 30
LOAN_RATE = Decimal("0.031")
#: every house's `evaluate_list` (评分 + 评语 + 时间), in no particular order, with the
#: personal data reviewers do write (a phone, an email) that the bot must mask
REVIEWS: tuple[dict[str, Any], ...] = (
    {"score": 4.8, "content": "房子采光好，经纪人很专业", "time": "2026-01-10"},
    {"score": 5, "content": "小区安静，物业负责。有意向可联系我 13912345678", "time": "2026-02-03"},
    {"score": 3.5, "content": "楼下早上有点吵 <b>注意</b>", "time": "2025-11-21"},
    {"score": 4.2, "content": "交通方便，地铁步行8分钟", "time": "2026-01-28"},
    {"score": 4, "content": "房东好说话，资料发我邮箱 wang.li@example.com", "time": "2025-12-15"},
    {"score": 2.5, "content": "厨房偏小", "time": "2025-10-02"},
    {"score": 4.6, "content": "学区不错", "time": "2025-09-09"},
)


@dataclass
class House:
    house_id: str
    house_type: str  # 新房 / 二手房 / 租房 / 商铺 / 写字楼
    house_name: str
    building_name: str
    region: str
    address: str
    house_style: str
    area_build: Decimal
    area_use: Decimal | None
    orientation: str
    floor: str
    room_height: Decimal | None
    base_price: Decimal  # 万元 for sale and new homes, 元/月 for rent
    metro_info: str
    school_info: str
    commerce_info: str
    price_trend: str
    broker_name: str
    broker_shop: str
    broker_phone: str
    house_code: str = ""
    down_payment: int = 30
    photos: int = 3
    has_vr: bool = True
    has_video: bool = False
    status: ListingStatus = ListingStatus.ON_SALE
    #: the platform's own status word when it says more than the status (已预订)
    status_word: str | None = None
    removed: bool = False
    price: Decimal | None = field(default=None)

    @property
    def for_rent(self) -> bool:
        # Commercial property is let or sold; its title says which (出租 / 出售).
        return self.house_type == "租房" or (
            self.house_type in ("商铺", "写字楼") and "出租" in self.house_name
        )


def _long_title() -> str:
    text = "【押一付一 南北通透】世纪城晴波园 精装三居 整租 近地铁10号线 拎包入住 "
    return (text * 10)[:300]


HOUSES: tuple[House, ...] = (
    House(
        "AK2026011800001",
        "二手房",
        "望京西园三区 3室2厅 南北通透 满五唯一",
        "望京西园三区",
        "北京市 朝阳区 望京街道 望京",
        "北京市朝阳区望京西园三区312号楼",
        "3室2厅1厨2卫",
        Decimal("128.6"),
        Decimal("102.3"),
        "南北通透",
        "18/33层 中高层",
        Decimal("2.8"),
        Decimal("868"),
        "14号线 望京站 步行600米",
        "北京市朝阳区望京实验小学 公立",
        "望京凯德MALL 800米",
        "-1.2%",
        "李建国",
        "我爱我家望京西园店",
        "13800000001",
        house_code="京(2025)朝阳区不动产权第0123456号",
    ),
    House(
        "A1234567890",
        "二手房",
        "陆家嘴花园 2室1厅 江景房 精装修",
        "陆家嘴花园",
        "上海市 浦东新区 陆家嘴",
        "上海市浦东新区东昌路568弄",
        "2室1厅1厨1卫",
        Decimal("89.5"),
        Decimal("71.2"),
        "南",
        "12/28层 中层",
        Decimal("2.9"),
        Decimal("1150"),
        "2号线 陆家嘴站 步行450米",
        "上海市浦东新区福山外国语小学 公立",
        "正大广场 1公里",
        "+0.8%",
        "王芳",
        "链家陆家嘴花园店",
        "13800000002",
    ),
    House(
        "A987654321",
        "二手房",
        "<b>急售</b> 镜湖新城 & 赭山公园旁 三房",
        "镜湖新城",
        "安徽省 芜湖市 镜湖区 赭山",
        "芜湖市镜湖区赭山中路88号",
        "3室2厅1厨1卫",
        Decimal("115"),
        None,
        "南北",
        "6/11层 中层",
        None,
        Decimal("135.5"),
        "1号线 赭山公园站 步行300米",
        "芜湖市师范学校附属小学 公立",
        "新百大厦 1.5公里",
        "-2.3%",
        "张<伟>&",
        "安居客芜湖镜湖门店",
        "13800000003",
        has_vr=False,
    ),
    House(
        "S1234567890123456",
        "二手房",
        "珠江新城 天銮 4室2厅 豪装",
        "天銮",
        "广东省 广州市 天河区 珠江新城",
        "广州市天河区冼村路28号",
        "4室2厅1厨3卫",
        Decimal("245"),
        Decimal("198.4"),
        "东南",
        "40/56层 高层",
        Decimal("3.1"),
        Decimal("3380"),
        "3号线 珠江新城站 步行500米",
        "华阳小学 公立",
        "太古汇 1公里",
        "0.0%",
        "陈志强",
        "中原地产珠江新城店",
        "13800000004",
        status=ListingStatus.SOLD,
    ),
    House(
        "2398427383",
        "租房",
        "🏠 整租 国贸 建外SOHO 一居室 🚇近地铁 拎包入住 ✨",
        "建外SOHO",
        "北京市 朝阳区 国贸",
        "北京市朝阳区东三环中路39号",
        "1室1厅1厨1卫",
        Decimal("56"),
        Decimal("45"),
        "西",
        "15/30层 中层",
        Decimal("2.7"),
        Decimal("8500"),
        "1号线 国贸站 步行300米",
        "",
        "国贸商城 500米",
        "+1.5%",
        "赵敏",
        "麦田房产国贸店",
        "13800000005",
        has_video=True,
    ),
    House(
        "1234567890123456",
        "租房",
        "南山科技园 深圳湾科技生态园 两居室 整租",
        "深圳湾科技生态园",
        "广东省 深圳市 南山区 科技园",
        "深圳市南山区高新南十道",
        "2室1厅1厨1卫",
        Decimal("78"),
        Decimal("62"),
        "南",
        "22/32层 高层",
        Decimal("2.8"),
        Decimal("7200"),
        "2号线 科苑站 步行700米",
        "",
        "海岸城 1.2公里",
        "-0.5%",
        "刘洋",
        "乐有家科技园店",
        "13800000006",
        status=ListingStatus.RENTED,
    ),
    House(
        "3001234567",
        "租房",
        _long_title(),
        "世纪城晴波园",
        "北京市 海淀区 世纪城",
        "北京市海淀区远大路世纪城晴波园",
        "3室1厅1厨1卫",
        Decimal("110"),
        Decimal("90"),
        "南北",
        "8/16层 中层",
        Decimal("2.8"),
        Decimal("11000"),
        "10号线 长春桥站 步行800米",
        "",
        "金源燕莎 600米",
        "+0.3%",
        "孙丽",
        "我爱我家世纪城店",
        "13800000007",
        status_word="已预订",
    ),
    House(
        "245678",
        "新房",
        "滨江·云樾府 新品加推 建面89-143㎡三至四居",
        "滨江云樾府",
        "浙江省 杭州市 滨江区 奥体",
        "杭州市滨江区闻涛路与江汉路交叉口",
        "3室2厅2卫",
        Decimal("118"),
        Decimal("95"),
        "南",
        "洋房 18层",
        Decimal("3.0"),
        Decimal("512.8"),
        "6号线 奥体中心站 步行900米",
        "杭州市滨江区奥体实验小学 公立",
        "星光大道 1.1公里",
        "+0.5%",
        "周婷",
        "滨江云樾府售楼处",
        "13800000008",
        house_code="杭房预售证第2025012号",
        has_video=True,
    ),
    House(
        "3187906783",
        "商铺",
        "春熙路 临街旺铺 出售 带租约 年租金28万",
        "春熙坊",
        "四川省 成都市 锦江区 春熙路",
        "成都市锦江区春熙路西段12号",
        "临街商铺",
        Decimal("86"),
        None,
        "东",
        "1/5层 底商",
        Decimal("5.2"),
        Decimal("420"),
        "2号线 春熙路站 步行200米",
        "",
        "IFS国际金融中心 300米",
        "-0.8%",
        "杨帆",
        "安居客成都商铺中心",
        "13800000009",
        down_payment=50,
    ),
    House(
        "3166544960",
        "写字楼",
        "国贸三期 甲级写字楼 整层出租 可注册",
        "国贸三期",
        "北京市 朝阳区 国贸",
        "北京市朝阳区建国门外大街1号",
        "开放式办公",
        Decimal("520"),
        Decimal("380"),
        "南",
        "45/80层 高区",
        Decimal("2.9"),
        Decimal("156000"),
        "1号线 国贸站 步行100米",
        "",
        "国贸商城 0米",
        "0.0%",
        "吴迪",
        "安居客商办北京中心",
        "13800000010",
    ),
    House(
        "A1122334455",
        "二手房",
        "光谷 保利时代 2室2厅 已下架",
        "保利时代",
        "湖北省 武汉市 洪山区 光谷",
        "武汉市洪山区关山大道保利时代",
        "2室2厅1厨1卫",
        Decimal("92"),
        Decimal("75"),
        "南",
        "10/33层 中层",
        Decimal("2.9"),
        Decimal("198"),
        "2号线 光谷广场站 步行1公里",
        "武汉市光谷第一小学 公立",
        "光谷世界城 800米",
        "-3.0%",
        "何静",
        "链家光谷店",
        "13800000011",
        status=ListingStatus.TAKEN_DOWN,
    ),
)


def _status_word(house: House) -> str:
    if house.status_word is not None:
        return house.status_word
    if house.status is ListingStatus.SOLD:
        return "已售"
    if house.status is ListingStatus.RENTED:
        return "已出租"
    if house.status is ListingStatus.TAKEN_DOWN:
        return "已下架"
    return "出租中" if house.for_rent else "在售"


class AnjukeCatalogue:
    """The sandbox's houses by house_id (prices: 万元 for sale and new homes, 元/月 for rent)."""

    def __init__(self, state: SandboxState, houses: tuple[House, ...] = HOUSES) -> None:
        self.state = state
        # copies: tests change prices and states, the module's table stays as written
        self.houses: dict[str, House] = {h.house_id: replace(h) for h in houses}
        #: monotonic time the key's rate ban ends (the sandbox has one key)
        self.banned_until = float("-inf")

    def ids(self) -> list[str]:
        return list(self.houses)

    def house(self, listing_id: str) -> House:
        return self.houses[listing_id]

    def set_price(self, listing_id: str, price: Decimal) -> None:
        self.house(listing_id).price = Decimal(price)

    def set_status(self, listing_id: str, status: ListingStatus) -> None:
        house = self.house(listing_id)
        house.status = status
        house.status_word = None

    def remove(self, listing_id: str) -> None:
        self.house(listing_id).removed = True

    def price(self, house: House) -> Decimal:
        if house.price is not None:
            return house.price
        return drifted_price(house.base_price, house.house_id, self.state.elapsed(), places=1)

    def detail(self, house: House, base_url: str, params: dict[str, str]) -> dict[str, Any]:
        """`house_detail` as the platform shapes it for these request parameters."""
        price = self.price(house)
        detail: dict[str, Any] = {
            "house_id": house.house_id,
            "house_name": house.house_name,
            "building_name": house.building_name,
            "house_type": house.house_type,
            "house_code": house.house_code,
            "house_style": house.house_style,
            "area_build": float(house.area_build),
            "orientation": house.orientation,
            "floor": house.floor,
            "price": float(price),
            "price_trend": house.price_trend,
            "transaction_status": _status_word(house),
            "region": house.region,
            "address": house.address,
            "metro_info": house.metro_info,
            "school_info": house.school_info,
            "commerce_info": house.commerce_info,
            "broker_name": house.broker_name,
            "broker_shop": house.broker_shop,
        }
        if house.area_use is not None:
            detail["area_use"] = float(house.area_use)
        if house.room_height is not None:
            detail["room_height"] = float(house.room_height)
        if not house.for_rent:
            # 元/㎡, only for new and second-hand homes (and commercial property for sale)
            unit = price * 10_000 / house.area_build
            detail["unit_price"] = int(unit.quantize(Decimal(1), rounding=ROUND_HALF_UP))
            detail["down_payment"] = house.down_payment
            detail["loan_month"] = _monthly_payment(price, house.down_payment)
        detail["img_list"] = [
            f"{base_url}/img/anjuke-{house.house_id}-{n}.png" for n in range(1, house.photos + 1)
        ]
        if house.has_vr:
            detail["vr_url"] = f"{base_url}/vr/anjuke-{house.house_id}"
        if house.has_video:
            detail["video_url"] = f"{base_url}/video/anjuke-{house.house_id}.mp4"
        if params.get("need_media") == "false":
            for name in MEDIA_FIELDS:
                detail.pop(name, None)
        if params.get("need_transaction") == "false":
            for name in TRANSACTION_FIELDS:
                detail.pop(name, None)
        if params.get("need_evaluate") == "true":
            detail["evaluate_list"] = [dict(r) for r in REVIEWS]
        if params.get("need_contact") == "true":
            detail["broker_phone"] = house.broker_phone
        wanted = {f.strip() for f in params.get("field_filter", "").split(",") if f.strip()}
        if wanted:
            detail = {k: v for k, v in detail.items() if k in wanted or k == "house_id"}
        return detail


def _monthly_payment(price_wan: Decimal, down_payment: int) -> int:
    """Equal monthly instalments on the loan part of the price."""
    principal = price_wan * 10_000 * (100 - down_payment) / 100
    rate = LOAN_RATE / 12
    months = LOAN_YEARS * 12
    factor = (1 + rate) ** months
    return int((principal * rate * factor / (factor - 1)).quantize(Decimal(1)))


def expected_sign(params: dict[str, str], secret: str) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "sign" and v)
    return hashlib.md5(("".join(k + v for k, v in pairs) + secret).encode()).hexdigest()


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


#: seed 000: 超出频率上限会触发临时封禁 10 分钟
BAN_SECONDS = 600.0


def _error(status: int, code: int | str, msg: str) -> web.Response:
    return web.json_response(
        {"error_response": {"code": code, "msg": msg}}, status=status, dumps=_dumps
    )


async def _fault_answer(request: web.Request, fault: Fault) -> web.StreamResponse | None:
    """The answer an injected fault gives instead of the real one (None: answer normally after it)."""
    return await fault_answer(
        request,
        fault,
        _fault_error,
        malformed_body="<html><body>504 Gateway Time-out</body></html>",
    )


def _fault_error(fault: Fault) -> web.StreamResponse:
    return _error(fault.status, fault.code if fault.code is not None else 15, fault.msg)


def _refusal(params: dict[str, str]) -> web.Response | None:
    """The platform's refusal of a request's key or signature."""
    credentials = SANDBOX_CREDENTIALS[PLATFORM]
    key = params.get("key", "")
    if not key:
        return _error(401, 28, "缺少必填参数 key")
    if key != credentials["key"]:
        return _error(401, 29, "key 无效或已过期")
    given = params.get("sign", "")
    if not hmac.compare_digest(given, expected_sign(params, credentials["secret"])):
        return _error(401, 25, "签名验证失败")
    return None


def _bad_parameters(params: dict[str, str]) -> web.Response | None:
    for name in REQUIRED:
        if not params.get(name):
            return _error(400, 40, f"缺少必填参数 {name}")
    if params["api_name"] != "item_get":
        return _error(400, 41, "api_name 错误，应为 item_get")
    if params.get("result_type", "json") != "json":
        return _error(400, 41, "result_type 仅支持 json")
    if params.get("cache", "yes") not in ("yes", "no"):
        return _error(400, 41, "cache 应为 yes 或 no")
    for name in BOOLEAN_PARAMS:
        if params.get(name, "false") not in ("true", "false"):
            return _error(400, 41, f"{name} 应为 true 或 false")
    if not HOUSE_ID.fullmatch(params["house_id"]):
        return _error(400, 41, "house_id 格式非法")
    return None


def register(app: web.Application, state: SandboxState) -> None:
    catalogue = AnjukeCatalogue(state)
    state.catalogues[PLATFORM] = catalogue

    async def item_get(request: web.Request) -> web.StreamResponse:
        counters = state.note_call(PLATFORM)
        fault = state.take_fault(PLATFORM)
        if fault is not None:
            answer = await _fault_answer(request, fault)
            if answer is not None:
                return answer
        params = dict(request.query.items())
        state.requests[PLATFORM].append(dict(params))
        refusal = _refusal(params)
        if refusal is None:
            tier = state.tiers[PLATFORM]
            per_day, per_second = TIER_LIMITS[tier]
            now = state.clock.monotonic()
            if now < catalogue.banned_until or state.over_rate(PLATFORM, per_second):
                if now >= catalogue.banned_until:
                    catalogue.banned_until = now + BAN_SECONDS
                refusal = _error(403, 7, "调用频率超限，已临时封禁10分钟")
            elif state.over_quota(PLATFORM, per_day):
                refusal = _error(403, 6, "日调用次数超限，请明日再试或升级权限")
            else:
                refusal = _bad_parameters(params)
            if (
                refusal is None
                and params.get("need_contact") == "true"
                and (tier not in CONTACT_TIERS)
            ):
                refusal = _error(403, 11, "无权限：need_contact 需要企业高级权限")
        if refusal is not None:
            counters.rejected += 1
            return refusal
        house = catalogue.houses.get(params["house_id"])
        if house is None:
            counters.rejected += 1
            return _error(400, 43, "房源不存在")
        if house.status is ListingStatus.TAKEN_DOWN:
            counters.rejected += 1
            return _error(400, 42, "房源已下架")
        counters.ok += 1
        if house.removed:
            detail: dict[str, Any] = {}
        else:
            detail = catalogue.detail(house, f"{request.scheme}://{request.host}", params)
        payload = {
            "item_get_response": {"house_detail": detail, "request_id": f"sandbox-{counters.calls}"}
        }
        return web.json_response(payload, dumps=_dumps)

    app.router.add_get(API_PATH, item_get)
