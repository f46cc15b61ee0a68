"""Simulated Xianyu item_get (`POST /router/rest`) and the m.tb.cn short links (`GET /short/{code}`).

Checks, in order: injected faults, app_key (401, codes 28/29), method and version
(401, 21/22), timestamp within 5 minutes either way (401, 31/32), signature (401, 25),
the tier's per-second rate and daily quota from CONTRACT 4.1 (403, code 7), item_id
(400, 40/41). An unknown item is HTTP 400 code 41 `isv.item-not-found`; a removed one
answers in one of the forms the seed's "无商品数据返回" can mean, chosen per item by
`remove(id, form)`: `empty` (`"item": {}`, the default), `missing` (no `item` key),
`null` (`"item": null`) or `error` (HTTP 400 `isv.item-not-found`). The codes are the ones documented in
`clients/xianyu.py`; they are written out here again because this module plays the
platform and must not take its answers from the client it tests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from clients.models import ListingStatus
from sandbox.core import SANDBOX_CREDENTIALS, Fault, SandboxState, drifted_price, fault_answer

PLATFORM = "xianyu"
API_PATH = "/router/rest"
TIMESTAMP_WINDOW_MS = 5 * 60 * 1000
#: CONTRACT 4.1: tier -> (per day, per second)
TIER_LIMITS: dict[str, tuple[int, int]] = {
    "personal": (100, 1),
    "enterprise_basic": (10_000, 5),
    "enterprise_advanced": (100_000, 20),
}
#: seed 002: same_items 需进阶权限, trade_record 需企业权限 (历史成交记录需企业资质). The seed's
#: applications go 基础 / 进阶 / 高级 over 个人测试 / 企业基础 / 企业高级, so both are answered
#: from the first enterprise tier up (docs/assumptions.md); a lower tier that names them in
#: `fields` is refused as the seed's 权限不足(403) says
FIELD_TIERS: dict[str, frozenset[str]] = {
    "same_items": frozenset({"enterprise_basic", "enterprise_advanced"}),
    "trade_record": frozenset({"enterprise_basic", "enterprise_advanced"}),
}
FIELD_PERMISSION_WORDS = {
    "same_items": "同款商品列表需进阶权限",
    "trade_record": "历史成交记录需企业权限",
}
#: the iPhone's market, written out so the answer can be checked by hand: same items on
#: sale (price) and past sales (days ago, price)
IPHONE_SAME_PRICES = (
    "4899",
    "4999",
    "5050",
    "5100",
    "5199",
    "5250",
    "5350",
    "5399",
    "5499",
    "5599",
    "5699",
    "5999",
)
IPHONE_SALES = ((3, "4600"), (7, "4450"), (12, "4300"), (18, "4100"), (25, "4500"), (45, "4800"))
#: twins (same items) get 13-digit IDs from here up
TWIN_FIRST_ID = 8_100_000_000_000
_STATUS_WORDS = {
    ListingStatus.ON_SALE: "onsale",
    ListingStatus.SOLD: "soldout",
    ListingStatus.TAKEN_DOWN: "offline",
}

#: how a removed item's answer is written (`item_get_response` content), per reading of the seed
REMOVED_FORMS: dict[str, dict[str, Any]] = {
    "empty": {"item": {}},
    "missing": {},
    "null": {"item": None},
    "error": {},  # answered as HTTP 400 isv.item-not-found instead
}


@dataclass
class Item:
    item_id: str
    title: str
    base_price: Decimal
    original_price: Decimal | None
    condition: str  # the platform's grade (English) or its Chinese words
    category: str
    params: tuple[tuple[str, str], ...]
    location: str
    seller_nick: str
    seller_id: str
    seller_level: str
    seller_score: float
    logistics: str
    guarantee: tuple[str, ...]
    listed_days_ago: int
    desc: str
    photos: int = 3
    #: the picture URLs as given (a hostile answer's `file://`, `data:`, ...); else the sandbox's
    photo_urls: tuple[str, ...] | None = None
    status: ListingStatus = ListingStatus.ON_SALE
    removed: bool = False
    removed_form: str = "empty"
    price: Decimal | None = field(default=None)
    #: the same item on sale by others (their IDs) and past sales (days ago, price)
    same_items: tuple[str, ...] = ()
    sales: tuple[tuple[int, Decimal], ...] = ()


def _long_title() -> str:
    text = "索尼 WH-1000XM5 头戴式降噪耳机 黑色 国行 9成新 配件齐全 原装盒子 送耳机包 "
    return (text * 10)[:300]


ITEMS: tuple[Item, ...] = (
    Item(
        "712345678901",
        "iPhone 14 Pro 256G 暗紫色 国行 电池92%",
        Decimal("5299"),
        Decimal("8899"),
        "like_new",
        "手机-苹果手机-iPhone 14 Pro",
        (("存储容量", "256GB"), ("颜色", "暗紫色"), ("版本", "国行")),
        "浙江杭州",
        "数码小王",
        "2201234567",
        "钻",
        99.8,
        "包邮",
        ("验货担保", "七天无理由"),
        12,
        "自用一年，无磕碰，电池健康92%。",
    ),
    Item(
        "6987654321098",
        "华为 Mate 60 Pro 12+512G 雅川青",
        Decimal("4599"),
        Decimal("6999"),
        "九成新",
        "手机-华为手机-Mate 60 Pro",
        (("存储容量", "512GB"), ("运行内存", "12GB"), ("颜色", "雅川青")),
        "广东深圳",
        "阿杰的闲置",
        "2207654321",
        "心",
        98.5,
        "卖家包邮",
        ("验货担保",),
        3,
        "换新机了，出旧机。",
    ),
    Item(
        "698765432109876543",
        "MacBook Air M2 13寸 8+256G 午夜色",
        Decimal("5680.50"),
        Decimal("8999"),
        "very_good",
        "电脑-笔记本-MacBook Air",
        (("处理器", "M2"), ("内存", "8GB"), ("硬盘", "256GB")),
        "上海",
        "Lily的小铺",
        "2209876543",
        "冠",
        100,
        "自提",
        ("正品保障",),
        30,
        "循环次数120次，送保护壳。",
    ),
    Item(
        "734567890123",
        "捷安特 ATX 777 山地车 27.5寸",
        Decimal("1200"),
        Decimal("2698"),
        "good",
        "运动户外-自行车-山地车",
        (("车架尺寸", "M"), ("变速", "27速")),
        "北京",
        "骑行老张",
        "2203456789",
        "心",
        97.2,
        "自提",
        (),
        60,
        "骑了两年，保养良好。",
        status=ListingStatus.SOLD,
    ),
    Item(
        "745678901234",
        "宜家 三人布艺沙发 浅灰色",
        Decimal("350"),
        Decimal("1999"),
        "acceptable",
        "家具-沙发-布艺沙发",
        (("尺寸", "200x88cm"),),
        "江苏南京",
        "搬家清仓",
        "2204567890",
        "心",
        95.0,
        "买家承担运费",
        (),
        90,
        "搬家急出，需自提。",
        status=ListingStatus.TAKEN_DOWN,
    ),
    Item(
        "756789012345",
        "<b>全新</b> 小米手环8 & 原装充电器",
        Decimal("99.90"),
        Decimal("239"),
        "new",
        "智能设备-手环-小米手环",
        (("颜色", "亮黑色"),),
        "湖北武汉",
        "米粉&<小店>",
        "2205678901",
        "钻",
        99.1,
        "包邮",
        ("七天无理由",),
        1,
        "全新未拆封。",
    ),
    Item(
        "767890123456",
        "🎮 Switch OLED 港版 + 塞尔达 🗡️",
        Decimal("1650"),
        Decimal("2599"),
        "like_new",
        "游戏-游戏机-Switch",
        (("版本", "港版"), ("颜色", "白色")),
        "四川成都",
        "游戏宅🐱",
        "2206789012",
        "钻",
        99.5,
        "包邮",
        ("验货担保",),
        5,
        "带卡带，箱说全。",
    ),
    Item(
        "778901234567",
        _long_title(),
        Decimal("1399"),
        Decimal("2999"),
        "like_new",
        "数码-耳机-头戴式耳机",
        (("颜色", "黑色"),),
        "北京",
        "耳机发烧友",
        "2207890123",
        "冠",
        99.9,
        "包邮",
        ("验货担保", "正品保障"),
        8,
        "音质完美。",
    ),
    Item(
        "7012345678901234",
        "戴尔 U2723QE 27寸 4K 显示器",
        Decimal("2350"),
        Decimal("3999"),
        "very_good",
        "电脑-显示器-4K显示器",
        (("尺寸", "27英寸"), ("分辨率", "3840x2160")),
        "广东广州",
        "办公清仓",
        "2208901234",
        "钻",
        98.9,
        "卖家包邮",
        ("验货担保",),
        20,
        "无坏点，带原装线。",
    ),
    Item(  # seed 002: item_id 16-19 位数字, the longest; a grade in the seed's Chinese words
        "6912345678901234567",
        "任天堂 Switch OLED 日版 白色 有划痕",
        Decimal("1150"),
        Decimal("2599"),
        "六成新及以下",
        "游戏-游戏机-Switch",
        (("版本", "日版"), ("颜色", "白色")),
        "四川成都",
        "游戏玩家",
        "2201122334",
        "心",
        97.5,
        "买家承担运费",
        (),
        5,
        "屏幕有明显划痕，功能正常。",
    ),
    Item(
        "789012345678",
        "Kindle Paperwhite 5 8G",
        Decimal("499"),
        Decimal("1068"),
        "good",
        "数码-电子书-Kindle",
        (("存储容量", "8GB"),),
        "天津",
        "书虫",
        "2209012345",
        "心",
        96.0,
        "包邮",
        (),
        40,
        "已删除的商品。",
        removed=True,
    ),
    Item(  # a device whose params state everything the trade-in check needs
        "7023456789012",
        "vivo X100 12+256G 星迹蓝 自用",
        Decimal("2399"),
        Decimal("3999"),
        "very_good",
        "手机-vivo手机-vivo X100",
        (("存储容量", "256GB"), ("运行内存", "12GB"), ("功能状态", "正常")),
        "福建厦门",
        "阿明数码",
        "2200123456",
        "心",
        97.5,
        "包邮",
        ("验货担保",),
        2,
        "功能全部正常。",
    ),
)

#: short link code -> where it redirects (`{base}` is the sandbox's own root)
SHORT_LINKS: dict[str, str] = {
    "h.5abcDEF": "https://www.goofish.com/item?id=712345678901",
    "h.5xyGHIJ": "https://h5.m.goofish.com/item?id=698765432109876543&ut_sk=share",
    # a Taobao item, not Xianyu: resolves to nothing
    "h.taobao1": "https://item.taobao.com/item.htm?id=600000000001",
    # two redirects: back through m.tb.cn, then to an app page
    "h.chain1": "https://m.tb.cn/h.chain2",
    "h.chain2": (
        "https://market.m.taobao.com/app/idleFish-F2e/widle-taobao-rax/page-detail"
        "?id=6987654321098&itemId=6987654321098"
    ),
    # never ends: the resolver must give up
    "h.loop": "https://m.tb.cn/h.loop",
}
#: short link code -> a 200 page naming the target in script, as m.tb.cn does for some links
SHORT_LINK_PAGES: dict[str, str] = {
    "h.page": (
        "<html><head><script>var url = 'https:\\/\\/www.goofish.com\\/item?id=7012345678901234"
        "&spm=share';</script></head><body>正在打开闲鱼...</body></html>"
    ),
}


class XianyuCatalogue:
    """The sandbox's items, by item ID (prices in 元)."""

    def __init__(self, state: SandboxState, items: tuple[Item, ...] = ITEMS) -> None:
        self.state = state
        # copies: tests change prices and states, the module's table stays as written
        self.items: dict[str, Item] = {i.item_id: replace(i) for i in items}
        self.twins: set[str] = set()
        self._add_markets()

    def _add_markets(self) -> None:
        """Same items (real items of their own, so their cards work) and past sales.

        The iPhone gets the hand-written market above; every other on-sale item gets four
        twins at 90-115 % of its price and three sales; sold and removed items none.
        """
        next_id = TWIN_FIRST_ID
        for item in list(self.items.values()):
            if item.removed or item.status is not ListingStatus.ON_SALE:
                continue
            if item.item_id == "712345678901":
                prices = [Decimal(p) for p in IPHONE_SAME_PRICES]
                sales = tuple((days, Decimal(p)) for days, p in IPHONE_SALES)
            else:
                prices = [
                    (item.base_price * Decimal(share)).quantize(Decimal(1))
                    for share in ("0.90", "0.97", "1.05", "1.15")
                ]
                sales = tuple(
                    (days, (item.base_price * Decimal(share)).quantize(Decimal(1)))
                    for days, share in ((4, "0.92"), (16, "0.88"), (33, "0.95"))
                )
            twins = []
            for n, price in enumerate(prices):
                twin_id = str(next_id)
                next_id += 1
                self.items[twin_id] = replace(
                    item,
                    item_id=twin_id,
                    base_price=price,
                    price=price,
                    seller_nick=f"{item.seller_nick[:6]}同款{n + 1}",
                    seller_id=str(2300000000 + next_id % 100000),
                )
                twins.append(twin_id)
                self.twins.add(twin_id)
            item.same_items = tuple(twins)
            item.sales = sales

    def ids(self) -> list[str]:
        """The catalogue's own items (not the twins made for their markets)."""
        return [i for i in self.items if i not in self.twins]

    def add_copies(self, count: int, first_id: int = 800_000_000_000) -> list[str]:
        """Add `count` on-sale items (copies of the first with new 12-digit IDs) for load tests."""
        template = next(iter(self.items.values()))
        ids = []
        for n in range(count):
            item_id = str(first_id + n)
            self.items[item_id] = replace(
                template,
                item_id=item_id,
                title=f"{template.title} #{n}",
                status=ListingStatus.ON_SALE,
                removed=False,
                price=None,
            )
            ids.append(item_id)
        return ids

    def item(self, listing_id: str) -> Item:
        return self.items[listing_id]

    def set_price(self, listing_id: str, price: Decimal) -> None:
        self.items[listing_id].price = Decimal(price)

    def set_status(self, listing_id: str, status: ListingStatus) -> None:
        if status not in _STATUS_WORDS:
            raise ValueError(f"an item cannot be {status}")
        self.items[listing_id].status = status

    def remove(self, listing_id: str, form: str = "empty") -> None:
        """The item disappears; `form` picks how 'no item data' is written (module docstring)."""
        if form not in REMOVED_FORMS:
            raise ValueError(f"unknown form {form!r}")
        self.items[listing_id].removed = True
        self.items[listing_id].removed_form = form

    def price(self, item: Item) -> Decimal:
        if item.price is not None:
            return item.price
        places = 0 if item.base_price == item.base_price.to_integral_value() else 2
        return drifted_price(item.base_price, item.item_id, self.state.elapsed(), places=places)

    def item_json(self, item: Item, base_url: str) -> dict[str, Any]:
        photos = list(item.photo_urls or ()) or [
            f"{base_url}/img/xianyu-{item.item_id}-{n}.png" for n in range(1, item.photos + 1)
        ]
        listed_ms = int((self.state.epoch - item.listed_days_ago * 86400) * 1000)
        return {
            "item_id": item.item_id,
            "title": item.title,
            "pic_url": photos[0],
            "item_imgs": photos,  # the main picture comes first again, as on the platform
            "price": f"{self.price(item):.2f}",
            "original_price": f"{item.original_price:.2f}" if item.original_price else "",
            "condition": item.condition,
            "category": item.category,
            "params": [{"key": k, "value": v} for k, v in item.params],
            "status": _STATUS_WORDS[item.status],
            "sales": 1 if item.status is ListingStatus.SOLD else 0,
            "logistics": item.logistics,
            "location": item.location,
            "valid_time": listed_ms,
            "guarantee": list(item.guarantee),
            "seller_id": item.seller_id,
            "seller_nick": item.seller_nick,
            "seller_avatar": f"{base_url}/img/xianyu-seller-{item.seller_id}.png",
            "seller_level": item.seller_level,
            "seller_score": item.seller_score,
            "seller_location": item.location,
            "desc": item.desc,
        }

    def market_json(self, item: Item, wanted: set[str]) -> dict[str, Any]:
        """`same_items` (同款 item_id、价格、卖家信息) and `trade_record` (成交时间、成交价格)."""
        out: dict[str, Any] = {}
        if "same_items" in wanted:
            same = [self.items[i] for i in item.same_items if i in self.items]
            out["same_items"] = [
                {
                    "item_id": twin.item_id,
                    "price": f"{self.price(twin):.2f}",
                    "seller_info": {
                        "seller_nick": twin.seller_nick,
                        "seller_level": twin.seller_level,
                    },
                }
                for twin in same
                if not twin.removed and twin.status is ListingStatus.ON_SALE
            ]
        if "trade_record" in wanted:
            out["trade_record"] = [
                {
                    "trade_time": int((self.state.clock.time() - days * 86400) * 1000),
                    "trade_price": f"{price:.2f}",
                }
                for days, price in item.sales
            ]
        return out


def expected_sign(params: dict[str, str], secret: str) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k != "sign" and v)
    text = urlencode(pairs) + "&app_secret=" + secret
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _error(
    status: int, code: int | str, msg: str, sub_code: str = "", sub_msg: str = ""
) -> web.Response:
    error: dict[str, Any] = {"code": code, "msg": msg}
    if sub_code:
        error["sub_code"] = sub_code
    if sub_msg:
        error["sub_msg"] = sub_msg
    return web.json_response({"error_response": error}, status=status, dumps=_dumps)


async def _fault_answer(request: web.Request, fault: Fault) -> web.StreamResponse | None:
    """The answer an injected fault gives instead of the real one (None: answer normally after it)."""
    return await fault_answer(
        request, fault, _fault_error, malformed_body="<html><body>gateway error</body></html>"
    )


def _fault_error(fault: Fault) -> web.StreamResponse:
    return _error(fault.status, fault.code if fault.code is not None else 15, fault.msg)


def _refusal(state: SandboxState, params: dict[str, str]) -> web.Response | None:
    """The gateway's refusal of a request's credentials, method, version, timestamp or sign."""
    credentials = SANDBOX_CREDENTIALS[PLATFORM]
    app_key = params.get("app_key", "")
    if not app_key:
        return _error(401, 28, "Missing App Key")
    if app_key != credentials["app_key"]:
        return _error(401, 29, "Invalid App Key")
    if not params.get("method"):
        return _error(401, 21, "Missing Method")
    if params["method"] != "xianyu.item.get":
        return _error(401, 22, "Invalid Method")
    if params.get("version") != "v2":
        return _error(401, 22, "Invalid Method", "isv.invalid-version", "version must be v2")
    timestamp = params.get("timestamp", "")
    if not timestamp:
        return _error(401, 31, "Missing Timestamp")
    now_ms = state.clock.time() * 1000
    if (
        not re.fullmatch(r"\d{10,16}", timestamp)
        or abs(now_ms - int(timestamp)) > TIMESTAMP_WINDOW_MS
    ):
        return _error(401, 32, "Invalid Timestamp", "isv.timestamp-expired", "时间戳已过期")
    given = params.get("sign", "")
    if not hmac.compare_digest(given, expected_sign(params, credentials["secret"])):
        return _error(401, 25, "Invalid Signature")
    return None


def register(app: web.Application, state: SandboxState) -> None:
    catalogue = XianyuCatalogue(state)
    state.catalogues[PLATFORM] = catalogue

    async def item_get(request: web.Request) -> web.StreamResponse:
        counters = state.note_call(PLATFORM)
        fault = state.take_fault(PLATFORM)
        if fault is not None:
            answer = await _fault_answer(request, fault)
            if answer is not None:
                return answer
        # The gateway takes POST forms and GET queries alike (the seed: POST/GET 均可).
        params = {k: v for k, v in request.query.items()}
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.post()).items()})
        state.requests[PLATFORM].append(dict(params))
        refusal = _refusal(state, params)
        if refusal is not None:
            counters.rejected += 1
            return refusal
        per_day, per_second = TIER_LIMITS[state.tiers[PLATFORM]]
        if state.over_rate(PLATFORM, per_second):
            counters.rejected += 1
            return _error(
                403, 7, "App Call Limited", "accesscontrol.limited-by-app-frequency", "调用频率超限"
            )
        if state.over_quota(PLATFORM, per_day):
            counters.rejected += 1
            return _error(
                403,
                7,
                "App Call Limited",
                "accesscontrol.limited-by-app-access-count",
                "今日调用次数已达上限",
            )
        wanted = {f.strip() for f in params.get("fields", "").split(",") if f.strip()}
        tier = state.tiers[PLATFORM]
        refused = [name for name in FIELD_TIERS if name in wanted and tier not in FIELD_TIERS[name]]
        if refused:
            counters.rejected += 1
            return _error(
                403,
                11,
                "Insufficient isv permissions",
                "isv.permission-denied",
                "权限不足: " + "; ".join(FIELD_PERMISSION_WORDS[name] for name in refused),
            )
        item_id = params.get("item_id", "")
        if not item_id:
            counters.rejected += 1
            return _error(400, 40, "Missing Required Arguments", "isv.missing-parameter:item_id")
        if not re.fullmatch(r"\d{10,19}", item_id):
            counters.rejected += 1
            return _error(400, 41, "Invalid Arguments", "isv.invalid-parameter:item_id")
        item = catalogue.items.get(item_id)
        if item is None:
            counters.rejected += 1
            return _error(400, 41, "Invalid Arguments", "isv.item-not-found", "商品不存在或已删除")
        if item.removed and item.removed_form == "error":
            counters.rejected += 1
            return _error(400, 41, "Invalid Arguments", "isv.item-not-found", "商品不存在或已删除")
        counters.ok += 1
        if item.removed:
            return web.json_response(
                {"item_get_response": REMOVED_FORMS[item.removed_form]}, dumps=_dumps
            )
        else:
            body = catalogue.item_json(item, f"{request.scheme}://{request.host}")
            if wanted:
                # named fields only; the market lists only when named (a card never asks)
                body = {k: v for k, v in body.items() if k in wanted or k == "item_id"}
                body.update(catalogue.market_json(item, wanted))
        payload = {"item_get_response": {"item": body, "request_id": f"sandbox-{counters.calls}"}}
        return web.json_response(payload, dumps=_dumps)

    async def short_link(request: web.Request) -> web.StreamResponse:
        code = request.match_info["code"]
        if code in SHORT_LINKS:
            raise web.HTTPFound(SHORT_LINKS[code])
        if code in SHORT_LINK_PAGES:
            return web.Response(text=SHORT_LINK_PAGES[code], content_type="text/html")
        raise web.HTTPNotFound()

    app.router.add_route("*", API_PATH, item_get)
    app.router.add_get("/short/{code}", short_link)
