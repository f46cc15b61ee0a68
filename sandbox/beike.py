"""Simulated Beike resale detail (JustOneAPI): `GET /api/beike/ershoufang/detail/v1`.

Checks what the real service checks, in its order: the token (code 100), the
parameters (400), the account's per-second rate (`state.beike_per_second`, 302) and
daily quota (`state.beike_per_day`, 303). Injected faults (`state.inject("beike", ...)`)
come first. Answers are shaped like the seed's sample, prices drifting over time.

The seed does not say how 'no such house' is answered. An unknown house code and a
house asked in the wrong city get `{"code": 0, "data": null}`; a removed house answers
in the form `remove(code, form)` picks: `null` (the default), `empty` (`"data": {}`) or
`no_basic` (`"data": {"basicInfo": {}}`). The client reads each as NotFound. A sold home is off sale with `offSaleText` 该房源已成交; a withdrawn
one with 该房源已下架.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from aiohttp import web

from clients.models import ListingStatus
from sandbox.core import SANDBOX_CREDENTIALS, Fault, SandboxState, drifted_price, fault_answer

PLATFORM = "beike"
DETAIL_PATH = "/api/beike/ershoufang/detail/v1"
#: the `data` of a removed house, per reading of the seed (it says nothing)
REMOVED_FORMS: dict[str, dict[str, Any] | None] = {
    "null": None,
    "empty": {},
    "no_basic": {"basicInfo": {}},
}
MESSAGES = {
    0: "success",
    100: "Invalid or Inactive Token",
    302: "Rate Limit Exceeded",
    303: "Daily Quota Exceeded",
    400: "Invalid Parameters",
}


@dataclass
class House:
    """One home for sale; `price_wan` set by a test stops the drift."""

    code: str
    city_id: str
    slug: str
    district: str  # 区-板块, shown in parentheses after the community
    community: str
    community_id: str
    title: str
    base_price_wan: Decimal
    area: Decimal
    bedrooms: int
    halls: int
    orientation: str
    floor_state: str  # basicInfo form: 中楼层/18层
    floor_text: str  # infoList form: 中楼层(共18层)
    building: str
    elevator: str
    decoration: str
    built_year: int
    listed: str  # 2024.11.05
    tags: tuple[str, ...]
    agent_name: str
    agent_ucid: str
    usage: str = "普通住宅"
    ownership: str = "商品房"
    status: ListingStatus = ListingStatus.ON_SALE
    removed: bool = False
    removed_form: str = "null"
    price_wan: Decimal | None = field(default=None)


def _long_title() -> str:
    text = "西湖区文鼎苑 南北通透两居室 业主诚心出售 近地铁近学校 精装修拎包入住 "
    return (text * 10)[:300]


HOUSES: tuple[House, ...] = (
    House(
        "101127449675",
        "110000",
        "bj",
        "顺义区-后沙峪",
        "双裕花园西区",
        "1111027379646",
        "双裕花园西区 1室1厅 63.4平米",
        Decimal("235"),
        Decimal("63.4"),
        1,
        1,
        "南",
        "顶层/4层",
        "顶层(共4层)",
        "板楼",
        "无",
        "精装",
        2003,
        "2024.11.05",
        ("满五年", "随时可看", "房主自荐"),
        "张忠良",
        "1000000010081720",
    ),
    House(
        "101130512345",
        "110000",
        "bj",
        "朝阳区-望京",
        "望京西园三区",
        "1111027374321",
        "望京西园三区 <b>南北通透</b> & 满五唯一 3室1厅",
        Decimal("868"),
        Decimal("128.6"),
        3,
        1,
        "南 北",
        "中楼层/18层",
        "中楼层(共18层)",
        "塔楼",
        "有",
        "简装",
        2001,
        "2025.03.18",
        ("满五年", "近地铁"),
        "李雪梅",
        "1000000020093311",
    ),
    House(
        "107108339402",
        "310000",
        "sh",
        "浦东新区-联洋",
        "联洋年华",
        "5011000012345",
        "🏠 联洋年华 景观房 🌇 2室2厅",
        Decimal("860"),
        Decimal("89.2"),
        2,
        2,
        "南",
        "高楼层/24层",
        "高楼层(共24层)",
        "板塔结合",
        "有",
        "精装",
        2006,
        "2025.01.09",
        ("满二年", "VR看房"),
        "王志强",
        "1000000030012045",
    ),
    House(
        "108400123456",
        "440100",
        "gz",
        "天河区-华景",
        "华景新城",
        "2411000098765",
        "华景新城 3室2厅 105平米",
        Decimal("560"),
        Decimal("105"),
        3,
        2,
        "东南",
        "低楼层/9层",
        "低楼层(共9层)",
        "板楼",
        "有",
        "精装",
        1998,
        "2024.09.21",
        ("满五年", "随时可看"),
        "陈嘉豪",
        "1000000040056781",
    ),
    House(
        "105600234567",
        "440300",
        "sz",
        "南山区-桃源",
        "桃源村",
        "2411000054321",
        "桃源村 3室1厅 88平米",
        Decimal("680"),
        Decimal("88"),
        3,
        1,
        "西南",
        "中楼层/30层",
        "中楼层(共30层)",
        "塔楼",
        "有",
        "简装",
        2000,
        "2024.06.30",
        ("近地铁",),
        "林晓彤",
        "1000000050034567",
        status=ListingStatus.TAKEN_DOWN,
    ),
    House(
        "103100345678",
        "330100",
        "hz",
        "西湖区-文三西路",
        "文鼎苑",
        "1811000034567",
        _long_title(),
        Decimal("420"),
        Decimal("76.5"),
        2,
        1,
        "南",
        "中楼层/6层",
        "中楼层(共6层)",
        "板楼",
        "无",
        "精装",
        2004,
        "2025.02.14",
        ("满五年", "学区房"),
        "周子航",
        "1000000060078912",
    ),
    House(
        "104200456789",
        "420100",
        "wh",
        "武昌区-中北路",
        "中北路1号",
        "3711000045678",
        "中北路1号 4室2厅 156平米",
        Decimal("498"),
        Decimal("156"),
        4,
        2,
        "南 北",
        "高楼层/33层",
        "高楼层(共33层)",
        "板楼",
        "有",
        "精装",
        2015,
        "2024.12.01",
        ("满二年",),
        "刘思远",
        "1000000070023456",
        status=ListingStatus.SOLD,
    ),
    House(
        "106500567890",
        "510100",
        "cd",
        "高新区-大源",
        "大源国际",
        "4311000056789",
        "大源国际 2室1厅 72平米",
        Decimal("185"),
        Decimal("72"),
        2,
        1,
        "东",
        "低楼层/32层",
        "低楼层(共32层)",
        "塔楼",
        "有",
        "简装",
        2012,
        "2024.10.10",
        ("随时可看",),
        "杨海波",
        "1000000080067890",
        removed=True,
    ),
    House(
        "103900678901",
        "320100",
        "nj",
        "鼓楼区-湖南路",
        "山西路小区",
        "1411000067890",
        "山西路小区 2室1厅 58平米 学区",
        Decimal("310"),
        Decimal("58"),
        2,
        1,
        "南",
        "中楼层/7层",
        "中楼层(共7层)",
        "板楼",
        "无",
        "毛坯",
        1995,
        "2025.04.02",
        ("满五年", "学区房", "房主自荐"),
        "吴佳怡",
        "1000000090045678",
    ),
)


class BeikeCatalogue:
    """The sandbox's homes, by house code (prices in 万元)."""

    def __init__(self, state: SandboxState, houses: tuple[House, ...] = HOUSES) -> None:
        self.state = state
        # copies: tests change prices and states, the module's table stays as written
        self.houses: dict[str, House] = {h.code: replace(h) for h in houses}

    def ids(self) -> list[str]:
        return list(self.houses)

    def house(self, listing_id: str) -> House:
        return self.houses[listing_id]

    def set_price(self, listing_id: str, price: Decimal) -> None:
        self.houses[listing_id].price_wan = Decimal(price)

    def set_status(self, listing_id: str, status: ListingStatus) -> None:
        if status is ListingStatus.RENTED:
            raise ValueError("a home for sale cannot be rented out")
        self.houses[listing_id].status = status

    def remove(self, listing_id: str, form: str = "null") -> None:
        """The house disappears; `form` picks how 'nothing to collect' is written."""
        if form not in REMOVED_FORMS:
            raise ValueError(f"unknown form {form!r}")
        self.houses[listing_id].removed = True
        self.houses[listing_id].removed_form = form

    def price_wan(self, house: House) -> Decimal:
        if house.price_wan is not None:
            return house.price_wan
        return drifted_price(house.base_price_wan, house.code, self.state.elapsed(), places=1)

    def detail(self, code: str, city_id: str, base_url: str) -> dict[str, Any] | None:
        """The `data` object of the answer, or None when there is nothing to collect."""
        house = self.houses.get(code)
        if house is None or house.city_id != city_id:
            return None
        if house.removed:
            return REMOVED_FORMS[house.removed_form]
        return _detail_json(house, self.price_wan(house), base_url)


def _monthly_payment(loan_yuan: Decimal) -> int:
    # 30 years at 3.1 %: only needs to look plausible.
    rate = 0.031 / 12
    months = 360
    factor = (1 + rate) ** months
    return round(float(loan_yuan) * rate * factor / (factor - 1))


def _detail_json(house: House, price_wan: Decimal, base_url: str) -> dict[str, Any]:
    price_yuan = int((price_wan * 10000).to_integral_value(ROUND_HALF_UP))
    unit_price = int((Decimal(price_yuan) / house.area).to_integral_value(ROUND_HALF_UP))
    down_wan = int((price_wan * Decimal("0.3")).to_integral_value(ROUND_HALF_UP))
    monthly = _monthly_payment(Decimal(price_yuan - down_wan * 10000))
    layout = f"{house.bedrooms}室{house.halls}厅"
    area_text = format(house.area.normalize(), "f")
    price_text = format(price_wan.normalize(), "f")
    off_sale = house.status is not ListingStatus.ON_SALE
    share_id = hashlib.md5(house.code.encode()).hexdigest()
    m_url = f"https://m.ke.com/{house.slug}/ershoufang/{house.code}.html"
    pictures = [
        (2, "户型", "huxing"),
        (1, "客厅", "keting"),
        (3, "卧室", "woshi"),
        (4, "厨房", "chufang"),
    ]
    basic_info: dict[str, Any] = {
        "isFocus": False,
        "isOffSale": off_sale,
        "title": house.title,
        "cityId": house.city_id,
        "houseCode": house.code,
        "communityId": house.community_id,
        "communityName": house.community,
        "price": price_yuan,
        "unitPrice": unit_price,
        "floorState": house.floor_state,
        "blueprintHallNum": house.halls,
        "blueprintBedroomNum": house.bedrooms,
        "area": float(house.area),
        "orientation": house.orientation,
        "mUrl": m_url,
        "hasFramePoints": 0,
    }
    if house.status is ListingStatus.SOLD:
        basic_info["offSaleText"] = "该房源已成交"
    elif house.status is ListingStatus.TAKEN_DOWN:
        basic_info["offSaleText"] = "该房源已下架"
    return {
        "miniProgram": {
            "accessKey": "gh_2dbd87cb164c",
            "path": (
                "subpackages/ershoufang/pages/esfDetail/esfDetail"
                f"?cityId={house.city_id}&houseCode={house.code}&share_user_id=0"
                f"&share_user_type=2&source=share_beikeapp&from=shell&share=true&share_id={share_id}"
            ),
        },
        "isVr": "VR看房" in house.tags,
        "verificationInfo": {
            "title": "房源维护人",
            "agentUcid": house.agent_ucid,
            "agentName": house.agent_name,
            "certificateInfo": [
                {
                    "title": "房源发布人",
                    "icon": f"{base_url}/img/beike-badge.png",
                    "list": [
                        {
                            "name": "从业人员工作牌",
                            "path": f"{base_url}/img/beike-agent-{house.agent_ucid}.png",
                        },
                        {
                            "name": "全国房地产经纪人协理证",
                            "certCode": "30620191011" + house.agent_ucid[-8:],
                            "path": f"{base_url}/img/beike-cert-{house.agent_ucid}.png",
                        },
                    ],
                }
            ],
        },
        "headPictures": [
            {
                "groupId": group_id,
                "groupName": group_name,
                "imgObjectList": [
                    {
                        "groupId": group_id,
                        "groupName": group_name,
                        "imgUrl": f"{base_url}/img/beike-{house.code}-{slug}.png",
                    }
                ],
            }
            for group_id, group_name, slug in pictures
        ],
        "styleSet": {"styleName": "normal", "titleSize": 22, "basicTitleColor": "FA5741"},
        "colorTags": [{"desc": tag, "color": "849AAE", "boldFont": 0} for tag in house.tags],
        "basicInfo": basic_info,
        "basicList": [
            {"name": "售价", "value": f"{price_text}万"},
            {"name": "房型", "value": layout},
            {"name": "建筑面积", "value": f"{area_text}㎡"},
        ],
        "infoList": [
            {"name": "单价:", "value": f"{unit_price}元/平"},
            {"name": "挂牌:", "value": house.listed},
            {"name": "朝向:", "value": house.orientation},
            {"name": "楼层:", "value": house.floor_text},
            {"name": "楼型:", "value": house.building},
            {"name": "电梯:", "value": house.elevator},
            {"name": "装修:", "value": house.decoration},
            {
                "name": "年代:",
                "value": f"{house.built_year}年建成",
                "alertText": "根据本栋部分房源产权证中《房屋登记表》上的测图日期统计生成,仅供参考。",
            },
            {"name": "用途:", "value": house.usage},
            {"name": "权属:", "value": house.ownership},
        ],
        "infoJumpList": [
            {
                "id": "xiaoqurukou",
                "name": "小区:",
                "value": f"{house.community} ({house.district})",
                "actionUrl": f"lianjiabeike://community/detailv4?communityid={house.community_id}",
            },
            {
                "id": "gengduofangyuanxinxi",
                "name": "其他:",
                "value": "梯户比 供暖方式",
                "actionUrl": f"lianjiabeike://ershou/detail/info?houseCode={house.code}",
            },
            {
                "id": "goufangyusuan",
                "sfTotal": down_wan,
                "monthlySupply": monthly,
                "name": "首付:",
                "value": f"净首付(不含税){down_wan}万,月供{monthly}元",
                "color": "3072F6",
            },
        ],
        "userRelated": {"isFollowed": 0, "isFollowedPrice": 0, "isAddCart": 0},
        "isDefault": False,
        "hasFollowedPrice": 1,
        "share": {"showWeixin": True, "showCircle": True, "showAgent": True, "showMsg": True},
        "houseKeys": {
            "title": "钥匙房源 随时看房",
            "actionUrl": f"lianjiabeike://ershou/daikan?houseCode={house.code}&cityId={house.city_id}",
        },
        "nav": [{"name": "房源", "key": "basicInfo"}],
    }


def _answer(
    code: int, data: Any = None, message: str | None = None, status: int = 200
) -> web.Response:
    body = {"code": code, "message": message or MESSAGES.get(code, "error"), "data": data}
    return web.json_response(body, status=status, dumps=_dumps)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


async def _fault_answer(request: web.Request, fault: Fault) -> web.StreamResponse | None:
    """The answer an injected fault gives instead of the real one (None: answer normally after it)."""
    return await fault_answer(
        request, fault, _fault_error, malformed_body="<html><body>502 Bad Gateway</body></html>"
    )


def _fault_error(fault: Fault) -> web.StreamResponse:
    return _answer(int(fault.code or 500), None, fault.msg, status=fault.status)


def register(app: web.Application, state: SandboxState) -> None:
    catalogue = BeikeCatalogue(state)
    state.catalogues[PLATFORM] = catalogue
    token = SANDBOX_CREDENTIALS[PLATFORM]["token"]

    async def detail(request: web.Request) -> web.StreamResponse:
        counters = state.note_call(PLATFORM)
        fault = state.take_fault(PLATFORM)
        if fault is not None:
            answer = await _fault_answer(request, fault)
            if answer is not None:
                return answer
        query = request.query
        if query.get("token") != token:
            counters.rejected += 1
            return _answer(100)
        city_id = query.get("cityId", "")
        code = query.get("houseCode", "")
        if not re.fullmatch(r"\d{6}", city_id) or not re.fullmatch(r"[A-Za-z0-9]{6,20}", code):
            counters.rejected += 1
            return _answer(400)
        if state.over_rate(PLATFORM, state.beike_per_second):
            counters.rejected += 1
            return _answer(302)
        if state.over_quota(PLATFORM, state.beike_per_day):
            counters.rejected += 1
            return _answer(303)
        counters.ok += 1
        base_url = f"{request.scheme}://{request.host}"
        return _answer(0, catalogue.detail(code, city_id, base_url))

    app.router.add_get(DETAIL_PATH, detail)
