"""Beike / Lianjia second-hand homes (二手房), through JustOneAPI's resale detail (CONTRACT 3.2).

Protocol (seed 001):
- `GET {BEIKE_API_URL}/api/beike/ershoufang/detail/v1?token=&cityId=&houseCode=`.
  The token travels in the query string, so the request URL never goes into an
  error message (`PlatformClient.send` strips httpx errors). Allow 60 s per call.
- Answer `{"code": 0, "data": {...}}`; `data.basicInfo.price` is in yuan,
  `unitPrice` in yuan/m², `isOffSale` marks a home no longer on sale.
- Codes: 0 ok, 100 bad token, 301 collection failed (retry), 302 rate limit,
  303 daily quota, 400 bad parameters, 500 server error, 600 permission denied,
  601 insufficient balance. Errors carry `message` (JustOneAPI) or `msg`.
- `code` 0 with `data` empty or null: no such home (the sandbox answers this way for
  a removed or unknown house code, and for a code asked in the wrong city) -> NotFound.
- Off sale: SOLD when the answer records a deal (成交 / 已售 in `offSaleText`,
  `offSaleReason`, `dealInfo`, a colour tag or a basic-list entry), else TAKEN_DOWN;
  Beike keeps the page of a sold home with its deal, a home withdrawn by its owner
  carries no such record.
- Limits are per account and unpublished: the gateway learns them from 302 / 303.
- Cities: every call needs the 6-digit city id (GB/T 2260: `110000` for municipalities,
  `XXXX00` for prefecture cities, Jinan is Beike's own `370101`), taken from the link's
  city slug (`bj.ke.com`, `m.ke.com/bj/...`); an unknown slug leaves the city to ask.
- Links: `{slug}.ke.com/ershoufang/{code}.html`, `m.ke.com/{slug}/ershoufang/{code}.html`,
  the sold-home pages `.../chengjiao/{code}.html` (the same code, the answer says sold),
  the same on `lianjia.com`, and the mini-program path `esfDetail?cityId=..&houseCode=..`.
  House codes are 12 digits (ambiguous with Xianyu as bare IDs); Lianjia's older codes
  are the city letters, district letters and digits (`BJCY91736842`).
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import parse_qs

import httpx

from clients.base import ErrorMap, ErrorRule, Found, Limits, ListingClient
from clients.bounds import (
    TAGS_KEPT,
    URL_CHARS,
    answer_id,
    bounded_listing,
    first,
    photo_urls,
    sane_number,
)
from clients.errors import (
    BadRequest,
    InsufficientBalance,
    NotFound,
    NotPermitted,
    QuotaExhausted,
    RateLimited,
    Transient,
)
from clients.links import fold_with_origins, split_url, subdomain_of, url_candidates
from clients.models import Fact, Listing, ListingKind, ListingRef, ListingStatus, PriceUnit
from clients.probe import Refusal

log = logging.getLogger(__name__)

DETAIL_PATH = "/api/beike/ershoufang/detail/v1"

# -- cities ---------------------------------------------------------------------------

#: (city_id, link slug, full pinyin, Chinese name), in the order a "which city?" menu shows
#: them. Slugs are the ke.com / lianjia.com subdomains; where the two-letter form is not
#: the site's own (or would clash), the slug is the full pinyin, as the sites do.
CITIES: list[tuple[str, str, str, str]] = [
    ("110000", "bj", "beijing", "北京"),
    ("310000", "sh", "shanghai", "上海"),
    ("440100", "gz", "guangzhou", "广州"),
    ("440300", "sz", "shenzhen", "深圳"),
    ("330100", "hz", "hangzhou", "杭州"),
    ("320100", "nj", "nanjing", "南京"),
    ("510100", "cd", "chengdu", "成都"),
    ("420100", "wh", "wuhan", "武汉"),
    ("120000", "tj", "tianjin", "天津"),
    ("500000", "cq", "chongqing", "重庆"),
    ("610100", "xa", "xian", "西安"),
    ("320500", "su", "suzhou", "苏州"),
    ("430100", "cs", "changsha", "长沙"),
    ("410100", "zz", "zhengzhou", "郑州"),
    ("370101", "jn", "jinan", "济南"),
    ("370200", "qd", "qingdao", "青岛"),
    ("210200", "dl", "dalian", "大连"),
    ("210100", "sy", "shenyang", "沈阳"),
    ("340100", "hf", "hefei", "合肥"),
    ("350100", "fz", "fuzhou", "福州"),
    ("350200", "xm", "xiamen", "厦门"),
    ("530100", "km", "kunming", "昆明"),
    ("450100", "nn", "nanning", "南宁"),
    ("130100", "sjz", "shijiazhuang", "石家庄"),
    ("140100", "ty", "taiyuan", "太原"),
    ("150100", "hhht", "huhehaote", "呼和浩特"),
    ("150200", "baotou", "baotou", "包头"),
    ("220100", "cc", "changchun", "长春"),
    ("230100", "hrb", "haerbin", "哈尔滨"),
    ("360100", "nc", "nanchang", "南昌"),
    ("360700", "ganzhou", "ganzhou", "赣州"),
    ("520100", "gy", "guiyang", "贵阳"),
    ("520300", "zunyi", "zunyi", "遵义"),
    ("620100", "lz", "lanzhou", "兰州"),
    ("630100", "xn", "xining", "西宁"),
    ("640100", "yinchuan", "yinchuan", "银川"),
    ("650100", "wlmq", "wulumuqi", "乌鲁木齐"),
    ("460100", "hk", "haikou", "海口"),
    ("460200", "sanya", "sanya", "三亚"),
    ("320200", "wx", "wuxi", "无锡"),
    ("320300", "xz", "xuzhou", "徐州"),
    ("320400", "cz", "changzhou", "常州"),
    ("320600", "nt", "nantong", "南通"),
    ("320900", "yancheng", "yancheng", "盐城"),
    ("321000", "yz", "yangzhou", "扬州"),
    ("321100", "zhenjiang", "zhenjiang", "镇江"),
    ("330200", "nb", "ningbo", "宁波"),
    ("330300", "wz", "wenzhou", "温州"),
    ("330400", "jx", "jiaxing", "嘉兴"),
    ("330500", "huzhou", "huzhou", "湖州"),
    ("330600", "sx", "shaoxing", "绍兴"),
    ("330700", "jh", "jinhua", "金华"),
    ("331000", "taizhou", "taizhou", "台州"),
    ("340200", "wuhu", "wuhu", "芜湖"),
    ("350500", "quanzhou", "quanzhou", "泉州"),
    ("370300", "zb", "zibo", "淄博"),
    ("370600", "yt", "yantai", "烟台"),
    ("370700", "wf", "weifang", "潍坊"),
    ("371300", "linyi", "linyi", "临沂"),
    ("130200", "ts", "tangshan", "唐山"),
    ("130600", "bd", "baoding", "保定"),
    ("131000", "lf", "langfang", "廊坊"),
    ("410300", "ly", "luoyang", "洛阳"),
    ("420500", "yichang", "yichang", "宜昌"),
    ("420600", "xy", "xiangyang", "襄阳"),
    ("430200", "zhuzhou", "zhuzhou", "株洲"),
    ("440400", "zh", "zhuhai", "珠海"),
    ("440600", "fs", "foshan", "佛山"),
    ("440700", "jm", "jiangmen", "江门"),
    ("441300", "hui", "huizhou", "惠州"),
    ("441900", "dg", "dongguan", "东莞"),
    ("442000", "zs", "zhongshan", "中山"),
    ("450200", "liuzhou", "liuzhou", "柳州"),
]

_CITY_BY_NAME: dict[str, str] = {}
for _city_id, _slug, _pinyin, _chinese in CITIES:
    _CITY_BY_NAME.setdefault(_slug, _city_id)
    _CITY_BY_NAME.setdefault(_pinyin, _city_id)
    _CITY_BY_NAME.setdefault(_chinese, _city_id)
_SLUG_BY_CITY: dict[str, str] = {city_id: slug for city_id, slug, _, _ in CITIES}


def city_id_for_slug(slug: str) -> str | None:
    """The city id for a link slug (`bj`), full pinyin (`beijing`) or Chinese name (`北京`/`北京市`)."""
    name = slug.strip().lower()
    return _CITY_BY_NAME.get(name) or _CITY_BY_NAME.get(name.removesuffix("市"))


def slug_for_city(city_id: str) -> str | None:
    return _SLUG_BY_CITY.get(city_id)


# -- link recognition -----------------------------------------------------------------

_DOMAINS = ("ke.com", "lianjia.com")
#: subdomains that carry the city in the path (`m.ke.com/bj/ershoufang/...`) instead
_CITYLESS_HOSTS = frozenset({"", "m", "www", "wap"})
#: 12-digit Beike codes, Lianjia's older city + district letters and 8 digits; other
#: lengths are no house the platform could know, and are never sent upstream
_HOUSE_CODE = r"\d{12}|[A-Za-z]{4,6}\d{8}"
#: resale (`ershoufang`) and sold (`chengjiao`) pages name the same house code
_DETAIL_PATH = re.compile(
    rf"^/(?:(?P<slug>[a-z]+)/)?(?:ershoufang|chengjiao)/(?P<code>{_HOUSE_CODE})\.html?/?$",
    re.IGNORECASE,
)
_MINI_PROGRAM = re.compile(r"esfDetail\?([A-Za-z0-9=&_%.\-]+)")
#: Lianjia's older codes: city letters (the link slug), district letters, 8 digits
_LEGACY_CODE = re.compile(r"(?P<city>[A-Z]{2})[A-Z]{2,4}\d{8}")


def _beike_host_part(host: str) -> str | None:
    """The subdomain part of a ke.com / lianjia.com host ('' for the bare domain), else None."""
    for domain in _DOMAINS:
        sub = subdomain_of(host, domain)
        if sub is not None:
            return sub
    return None


def _ref_from_url(candidate: str) -> tuple[ListingRef, bool] | None:
    """(ref, needs_city) for a Beike / Lianjia detail URL, else None."""
    split = split_url(candidate)
    if split is None:
        return None
    scheme, host, path, query = split
    if scheme not in ("", "http", "https"):
        return None
    sub = _beike_host_part(host)
    if sub is None:
        return None
    sub = sub.removeprefix("www.")
    match = _DETAIL_PATH.match(path)
    if match:
        slug = match.group("slug") or (None if sub in _CITYLESS_HOSTS else sub.split(".")[0])
        city_id = city_id_for_slug(slug) if slug else None
        return ListingRef("beike", match.group("code"), city_id), city_id is None
    return _ref_from_query(parse_qs(query))


def _ref_from_query(query: dict[str, list[str]]) -> tuple[ListingRef, bool] | None:
    code = (query.get("houseCode") or query.get("house_code") or [""])[0]
    if not re.fullmatch(_HOUSE_CODE, code):
        return None
    city_id = (query.get("cityId") or query.get("city_id") or query.get("cityCode") or [""])[0]
    city = city_id if re.fullmatch(r"\d{6}", city_id) else None
    return ListingRef("beike", code, city), city is None


# -- parsing --------------------------------------------------------------------------

#: infoList label (without its colon) -> our fact key; 单价 is `Listing.unit_price` already
_INFO_KEYS: dict[str, str | None] = {
    "单价": None,
    "挂牌": "listed",
    "朝向": "orientation",
    "楼层": "floor",
    "楼型": "building",
    "电梯": "elevator",
    "装修": "decoration",
    "年代": "built_year",
    "用途": "usage",
    "权属": "ownership",
}
_SOLD_WORDS = ("成交", "已售")
_PARENTHESISED = re.compile(r"[(（]([^()（）]+)[)）]\s*$")


#: entries read from each list of the answer: the seed's home has 3 in basicList, 10 in
#: infoList and 3 in infoJumpList; a hostile list is not read to its end, and what follows
#: infoList (community, district, budget) stays within `bounds.FACTS_KEPT`
BASIC_READ = 16
INFO_READ = 16
JUMP_READ = 4


def _label(name: object) -> str:
    return str(name or "").strip().rstrip(":：").strip()


def _decimal(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    return sane_number(str(value))


def _number_text(value: Decimal) -> str:
    """`63.40` -> `63.4`, `45` -> `45`, without exponent notation."""
    text = format(value.normalize(), "f")
    return text


def _items(value: object) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _status(data: dict[str, Any], basic: dict[str, Any]) -> ListingStatus:
    if not basic.get("isOffSale"):
        return ListingStatus.ON_SALE
    texts = [str(basic.get(k) or "") for k in ("offSaleText", "offSaleReason", "dealInfo")]
    texts += [str(t.get("desc") or "") for t in _items(data.get("colorTags"))]
    texts += [f"{e.get('name')}{e.get('value')}" for e in _items(data.get("basicList"))]
    if any(word in text for text in texts for word in _SOLD_WORDS):
        return ListingStatus.SOLD
    return ListingStatus.TAKEN_DOWN


def _facts(data: dict[str, Any], basic: dict[str, Any], house_code: str) -> tuple[Fact, ...]:
    facts: list[Fact] = []
    basic_list = {
        _label(e.get("name")): str(e.get("value") or "")
        for e in _items(data.get("basicList"))[:BASIC_READ]
    }
    layout = basic_list.get("房型")
    if not layout and basic.get("blueprintBedroomNum") is not None:
        layout = f"{basic.get('blueprintBedroomNum')}室{basic.get('blueprintHallNum') or 0}厅"
    if layout:
        facts.append(("layout", "房型", layout))
    area = _decimal(basic.get("area"))
    if area is not None:
        facts.append(("area", "建筑面积", f"{_number_text(area)}㎡"))
    for entry in _items(data.get("infoList"))[:INFO_READ]:
        label = _label(entry.get("name"))
        key = _INFO_KEYS.get(label, "")
        value = str(entry.get("value") or "").strip()
        if key is None or not value:
            continue
        # a label we have no key for is still shown, under the platform's own label
        facts.append((key or "info", label, value))
    if basic.get("communityName"):
        facts.append(("community", "小区", str(basic["communityName"])))
    for entry in _items(data.get("infoJumpList"))[:JUMP_READ]:
        if _label(entry.get("name")) == "小区" or entry.get("id") == "xiaoqurukou":
            match = _PARENTHESISED.search(str(entry.get("value") or ""))
            if match:
                facts.append(("district", "区域", match.group(1).strip()))
        elif entry.get("id") == "goufangyusuan":
            down = _decimal(entry.get("sfTotal"))
            monthly = _decimal(entry.get("monthlySupply"))
            if down is not None:
                facts.append(("down_payment", "首付", f"{_number_text(down)}万"))
            if monthly is not None:
                facts.append(("monthly_payment", "月供", f"{_number_text(monthly)}元"))
    facts.append(("house_code", "房源编号", house_code))
    return tuple(facts)


def parse_house(data: dict[str, Any], ref: ListingRef) -> Listing:
    """A `Listing` from the `data` object of a code-0 answer (raises NotFound when it is empty)."""
    basic = data.get("basicInfo")
    if not isinstance(basic, dict) or not basic:
        raise NotFound("beike", "no such home")
    house_code = answer_id(str(basic.get("houseCode") or ""), ref.listing_id)
    city_id = answer_id(str(basic.get("cityId") or ""), ref.city_id or "") or None
    price_yuan = _decimal(basic.get("price"))
    # read until the card's photos and tags are found, not to a hostile list's end
    photos = photo_urls(
        str(img["imgUrl"])
        for group in _items(data.get("headPictures"))
        for img in _items(group.get("imgObjectList"))
        if img.get("imgUrl")
    )
    tags = first(
        (str(t["desc"]) for t in _items(data.get("colorTags")) if t.get("desc")), TAGS_KEPT
    )
    page = str(basic.get("mUrl") or "")
    agent_info = data.get("verificationInfo")
    agent = agent_info.get("agentName") if isinstance(agent_info, dict) else None
    ref = ListingRef("beike", house_code, city_id)
    return bounded_listing(
        Listing(
            platform="beike",
            listing_id=house_code,
            # a page URL too long to be one is dropped, never cut: ours is built instead
            url=page if page and len(page) <= URL_CHARS else BeikeClient.build_url(ref),
            title=str(basic.get("title") or ""),
            kind=ListingKind.SALE,
            price=price_yuan / 10000 if price_yuan is not None else None,
            price_unit=PriceUnit.WAN_YUAN,
            status=_status(data, basic),
            unit_price=_decimal(basic.get("unitPrice")),
            photos=photos,
            facts=_facts(data, basic, house_code),
            tags=tuple(tags),
            agent=str(agent) if agent else None,
            city_id=city_id,
        )
    )


# -- the client -----------------------------------------------------------------------

#: the seed's business codes ("determined by the code field"); HTTP answers are 200
ERRORS = ErrorMap(
    statuses={429: (ErrorRule(RateLimited, "too many requests"),)},
    codes={
        100: (ErrorRule(NotPermitted, "invalid or inactive token"),),
        301: (ErrorRule(Transient, "collection failed, retry"),),
        302: (ErrorRule(RateLimited, "rate limit exceeded"),),
        303: (ErrorRule(QuotaExhausted, "daily quota exceeded"),),
        400: (ErrorRule(BadRequest, "invalid parameters"),),
        500: (ErrorRule(Transient, "platform server error"),),
        600: (ErrorRule(NotPermitted, "permission denied"),),
        601: (ErrorRule(InsufficientBalance, "insufficient balance"),),
    },
)
#: `python -m bot check`: the seed's business codes, quoted (the token has no signature)
REFUSALS: tuple[Refusal, ...] = (
    Refusal(
        "wrong token",
        "BEIKE_TOKEN",
        "100: Invalid or Inactive Token",
        codes=(100,),
        credentials_refused=True,
    ),
    Refusal(
        "daily quota used up", "the JustOneAPI account", "303: Daily Quota Exceeded", codes=(303,)
    ),
    Refusal("rate limit", "the JustOneAPI account", "302: Rate Limit Exceeded", codes=(302,)),
    Refusal("no permission", "the JustOneAPI account", "600: Permission Denied", codes=(600,)),
    Refusal("no balance left", "the JustOneAPI account", "601: Insufficient Balance", codes=(601,)),
)
#: the seed's own sample home (Beijing): code 0, with data or without (no such home),
#: or 400 means the token passed (a bad token is code 100)
PROBE_REF = ListingRef("beike", "101127449675", "110000")


class BeikeClient(ListingClient):
    """Beike / Lianjia resale detail: one GET per home, city id required."""

    platform = "beike"
    NEEDS_CITY = True
    ERRORS: ClassVar[ErrorMap] = ERRORS
    REFUSALS: ClassVar[tuple[Refusal, ...]] = REFUSALS
    #: limits are per account and unpublished; the gateway learns them from codes 302 / 303
    TIERS: ClassVar[dict[str, Limits]] = {}
    BARE_ID_PATTERNS: ClassVar[tuple[re.Pattern[str], ...]] = (re.compile(r"\d{12}"), _LEGACY_CODE)
    ON_SALE_TTL: ClassVar[float] = 300.0
    OFF_SALE_TTL: ClassVar[float] = 3600.0
    #: the seed asks for at least 60 s: the platform collects the page live
    request_timeout: float = 60.0

    @classmethod
    def find(cls, text: str) -> list[Found]:
        normal, origin = fold_with_origins(text)
        found: list[Found] = []
        for start, candidate in url_candidates(normal):
            hit = _ref_from_url(candidate)
            if hit is not None:
                ref, needs_city = hit
                found.append(
                    Found(
                        origin[start],
                        candidate,
                        ref=ref,
                        needs_city=needs_city,
                        platform=cls.platform,
                    )
                )
        for match in _MINI_PROGRAM.finditer(normal):
            hit = _ref_from_query(parse_qs(match.group(1)))
            if hit is not None:
                ref, needs_city = hit
                found.append(
                    Found(
                        origin[match.start()],
                        match.group(),
                        ref=ref,
                        needs_city=needs_city,
                        platform=cls.platform,
                    )
                )
        found.sort(key=lambda f: f.start)
        seen: set[str] = set()
        unique: list[Found] = []
        for item in found:
            key = item.ref.key if item.ref else ""
            if key not in seen:
                seen.add(key)
                unique.append(item)
        return unique

    @classmethod
    def bare_ref(cls, token: str) -> ListingRef | None:
        """12-digit codes come without a city; older Lianjia codes name it in their letters."""
        ref = super().bare_ref(token)
        legacy = _LEGACY_CODE.fullmatch(token)
        if ref is not None and legacy:
            return ListingRef(cls.platform, token, city_id_for_slug(legacy.group("city")))
        return ref

    async def fetch_listing(self, ref: ListingRef, *, fresh: bool = False) -> Listing:
        if not ref.city_id:
            raise BadRequest(self.platform, "a Beike home needs its city")
        if not re.fullmatch(_HOUSE_CODE, ref.listing_id):
            raise BadRequest(self.platform, "not a Beike house code")
        params = {
            "token": self.config.secret.get_secret_value(),
            "cityId": ref.city_id,
            "houseCode": ref.listing_id,
        }
        request = self.http.build_request("GET", self.config.api_url + DETAIL_PATH, params=params)
        response = await self.send(request, timeout=self.request_timeout)
        body = self._answer(response)
        code = body.get("code")
        message = body.get("message") or body.get("msg")
        platform_message = str(message) if message else None
        if code == 0:
            data = body.get("data")
            if not isinstance(data, dict) or not data:
                raise NotFound(
                    self.platform, "no such home", code=0, platform_message=platform_message
                )
            return parse_house(data, ref)
        raise self.error_for(response.status_code, code, platform_message or "")

    async def probe_call(self) -> str:
        await self.fetch_listing(PROBE_REF)
        return f"sample home {PROBE_REF.listing_id} answered"

    def _answer(self, response: httpx.Response) -> dict[str, Any]:
        """The JSON body with an integer `code`, or the error an HTTP failure means."""
        status, body = self.read_answer(response)
        if status != 200 and not body:  # no body to read: the status alone decides
            raise self.error_for(status, None, "")
        code = body.get("code")
        if isinstance(code, str) and code.lstrip("-").isdigit():
            body["code"] = int(code)
        elif not isinstance(code, int) or isinstance(code, bool):
            raise Transient(self.platform, "answer without a code", http_status=status)
        return body

    def listing_ttl(self, listing: Listing) -> float:
        return self.ON_SALE_TTL if listing.status is ListingStatus.ON_SALE else self.OFF_SALE_TTL

    def listing_url(self, ref: ListingRef) -> str:
        return self.build_url(ref)

    @staticmethod
    def build_url(ref: ListingRef) -> str:
        """The mobile page `m.ke.com/{slug}/ershoufang/{code}.html` (www.ke.com when the city is unknown)."""
        slug = slug_for_city(ref.city_id) if ref.city_id else None
        if slug:
            return f"https://m.ke.com/{slug}/ershoufang/{ref.listing_id}.html"
        return f"https://www.ke.com/ershoufang/{ref.listing_id}.html"
