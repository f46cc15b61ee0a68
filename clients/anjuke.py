"""Anjuke (安居客) house detail through the open platform's item_get (CONTRACT 3.1).

Protocol (seed 000):
- `GET ANJUKE_API_URL` with `key`, `api_name=item_get`, `result_type=json`, `cache=yes|no`,
  `house_id`, `need_media`, `need_transaction`, `need_evaluate`, `need_contact` (booleans
  as `true` / `false`; we always send `need_contact=false`: broker phones need the
  advanced permission and are never shown), optional `field_filter` (comma-separated
  field names), and `sign`. The secret is never sent.
- `sign = lower(md5(k1v1k2v2... + secret))`: parameters with an empty value and `sign`
  itself left out, names sorted by byte value, each name followed directly by its value.
- Success: `{"item_get_response": {"house_detail": {...}}}`. An empty `house_detail` means
  the house is taken down or banned (the seed: 无数据返回 -> 房源已下架或违规) -> NotFound.
- Errors: `{"error_response": {"code", "msg"}}` with HTTP 400 / 401 / 403 / 504. The seed
  names only the HTTP statuses and their causes, no codes, so `ERRORS` decides by the
  status, then by the message's words; a code decides nothing:

  | HTTP | msg (the seed's causes) | error |
  |---|---|---|
  | 400 | 房源已下架 / 不存在 / 违规 | NotFound |
  | 400 | anything else (house_id 为空或格式非法, field_filter 错误) | BadRequest |
  | 401 | any (签名验证失败, key 错误或过期) | NotPermitted, never NotFound |
  | 403 | a window of a second (每秒 / 秒 / 频率 / frequency), even with 次数 | RateLimited: the key is banned 10 minutes, never retried |
  | 403 | the day (日调用 / 今日 / 每天 / 配额 / quota) | QuotaExhausted |
  | 403 | a bare count (调用次数超限): the seed's 403 cause 调用频率超限 | RateLimited |
  | 403 | anything else (无接口权限, IP 白名单, need_contact) | NotPermitted |
  | 504 | any | Transient (retried: 1 s, 2 s, 4 s) |

  An error body on HTTP 200 is read by its words alone (unknown words: Transient).
  Any 5xx, a timeout, a dropped connection or a body that is not JSON is Transient.
- Prices: `price` is the total in 万元 for new and second-hand homes, the monthly rent in
  元 for rentals (seed); for commercial property it is 元/月 when the listing is for rent
  (`house_type` or `transaction_status` says 租), else 万元. `unit_price` is 元/㎡.
- `transaction_status` -> status: 在售 / 待售 -> on sale; 已售 / 已成交 -> sold; 出租中 / 招租中
  (offered for rent now) -> on sale; 已出租 / 已租 -> rented; 已预订 -> still on sale, with
  the tag 已预订 (a reservation can fall through, and an alert saying 'sold' would be
  wrong); 已下架 -> taken down; 已售出 / 已租出 / 待租 as their words say. A missing status
  (a `field_filter` that leaves it out) is on sale: the platform answers only for
  published houses. Any other word is shown as written (status OTHER), never guessed
  and never a failure: a wrong guess would send a false alert.
- Tiers (CONTRACT 4.1): personal 50/day 1/s, enterprise_basic 500/day 3/s,
  enterprise_advanced 5000/day 10/s; going over the rate bans the key for 10 minutes.
- Cache (seed): price and status 5 min, layout and facilities 30 min, media URLs 24 h.
- IDs: `house_id` is sent exactly as the page or search shows it (the seed: from
  item_search or the official listing page), never with anything of ours added:
  - `AK` + date + 5-digit serial (`AK2026011800001`), the seed's form, any type;
  - second-hand: `A` + 9-10 digits, `S` + 16 digits (`/prop/view/A1234567890`);
  - rent: 10 or 16 digits (`zu.anjuke.com/fangyuan/1234567890`);
  - new homes: the loupan number (`fang.anjuke.com/loupan/245678.html` -> `245678`);
  - commercial: the number of `sp.anjuke.com/shou|zu/<n>` (shops) and
    `xzl.anjuke.com/shou|zu/<n>` (offices).
  The kind of listing a link shows travels as `ListingRef.kind` where the ID does not
  say it (new_home, shop, office; sale and rent IDs have their own shapes): it keeps a
  shop and a rent flat with the same number apart in the cache and storage keys, and
  picks the card's kind when the answer has no house_type.
- Links: `<city>.anjuke.com/prop/view/<id>`, `m.anjuke.com/<city>/sale/<id>/`,
  `<city>.zu.anjuke.com/fangyuan/<id>`, `<city>.zu.anjuke.com/gfangyuan/<id>`,
  `m.anjuke.com/<city>/rent/<id>/` (rent pages may add `-<n>` after the ID: not part of it),
  `<city>.fang.anjuke.com/loupan/<n>.html`, `m.anjuke.com/<city>/loupan/<n>/`,
  `<city>.sp.anjuke.com/shou|zu/<n>`, `<city>.xzl.anjuke.com/shou|zu/<n>`, and any
  anjuke.com link with an `AK` ID in its path or a `house_id=` query. City slugs are
  two letters (`bj`) or full pinyin (`wuhu`); the city is not part of the ID.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import parse_qs

import httpx

from clients.base import ErrorMap, ErrorRule, Found, Limits, ListingClient, RetryPolicy
from clients.bounds import answer_id, bounded_listing, photo_urls, sane_number
from clients.errors import (
    COUNT_WORDS,
    DAY_WORDS,
    RATE_WORDS,
    BadRequest,
    NotFound,
    NotPermitted,
    QuotaExhausted,
    RateLimited,
    Transient,
)
from clients.links import fold_with_origins, split_url, subdomain_of, url_candidates
from clients.models import (
    Fact,
    HouseReviews,
    Listing,
    ListingKind,
    ListingRef,
    ListingStatus,
    PriceUnit,
    Review,
)
from clients.probe import Refusal
from clock import CHINA_TZ

log = logging.getLogger(__name__)

PLATFORM = "anjuke"
API_NAME = "item_get"

# -- errors (see the module docstring) --------------------------------------------------

_NOT_FOUND = ErrorRule(
    NotFound, "no such house or taken down", ("下架", "不存在", "违规", "not found")
)
#: read in the seed's order of meaning, the most specific first: a window of a second is a
#: rate refusal even when it counts (每秒调用次数超限); only the day is the daily quota; a bare
#: count (调用次数超限) is the seed's 403 cause, 调用频率超限 (its quota has no status)
_FREQUENCY = ErrorRule(RateLimited, "call frequency exceeded", RATE_WORDS)
_QUOTA = ErrorRule(QuotaExhausted, "daily quota used up", DAY_WORDS)
_COUNT = ErrorRule(RateLimited, "call count exceeded, no window named", COUNT_WORDS)
_CREDENTIALS = ErrorRule(NotPermitted, "key or signature refused")
#: the seed documents HTTP statuses and their causes, no codes
ERRORS = ErrorMap(
    statuses={
        400: (_NOT_FOUND, ErrorRule(BadRequest, "house_id or parameters refused")),
        401: (_CREDENTIALS,),
        403: (
            _FREQUENCY,
            _QUOTA,
            _COUNT,
            ErrorRule(NotPermitted, "permission or IP whitelist refused"),
        ),
        504: (ErrorRule(Transient, "platform timed out"),),
    },
    # no status to go by: the words alone, the most specific first (a key that does not
    # exist, key不存在, is a credential refusal before it is a house that does not)
    answer=(
        _FREQUENCY,
        _QUOTA,
        _COUNT,
        ErrorRule(
            NotPermitted,
            "key, signature or permission refused",
            ("签名", "key", "secret", "权限", "白名单"),
        ),
        _NOT_FOUND,
        ErrorRule(BadRequest, "parameters refused", ("参数", "param")),
    ),
)

#: `python -m bot check`: the seed's troubleshooting table (高频问题排查表), quoted
_SEED_401 = "签名验证失败(401): key/secret 错误或过期"
REFUSALS: tuple[Refusal, ...] = (
    Refusal(
        "wrong key",
        "ANJUKE_KEY",
        _SEED_401,
        kinds=(NotPermitted,),
        statuses=(401, 200),
        words=("key",),
        credentials_refused=True,
    ),
    Refusal(
        "wrong secret (signature refused)",
        "ANJUKE_SECRET",
        _SEED_401,
        kinds=(NotPermitted,),
        statuses=(401,),
        credentials_refused=True,
    ),
    Refusal(  # the same refusal as an error body on HTTP 200 (read by its words)
        "wrong secret (signature refused)",
        "ANJUKE_SECRET",
        _SEED_401,
        kinds=(NotPermitted,),
        statuses=(200,),
        words=("签名", "sign"),
        credentials_refused=True,
    ),
    Refusal(
        "daily quota used up",
        "ANJUKE_TIER",
        "日调用上限: 个人测试权限 50 次/天, 企业基础权限 500 次/天, 企业高级权限 5000 次/天",
        kinds=(QuotaExhausted,),
    ),
    Refusal(
        "rate limit: the key is banned for 10 minutes",
        "ANJUKE_TIER",
        "超出频率上限会触发临时封禁 10 分钟",
        kinds=(RateLimited,),
    ),
    Refusal(
        "no permission",
        "ANJUKE_TIER (and the key's permissions, IP whitelist)",
        "权限不足(403): 未申请anjuke.item.get接口权限; 服务器 IP 不在白名单",
        kinds=(NotPermitted,),
    ),
)
#: the seed's own sample house_id: an answer for it, found or not (400 房源不存在 / 已下架,
#: or 200 with no data), means the key and signature passed (a bad one is 401)
PROBE_HOUSE_ID = "AK2026011800001"


def sign(params: Mapping[str, str], secret: str) -> str:
    """`lower(md5(name1value1name2value2... + secret))` over the non-empty params except `sign`."""
    pairs = sorted(
        ((k, v) for k, v in params.items() if k != "sign" and v not in ("", None)),
        key=lambda pair: pair[0].encode(),
    )
    text = "".join(f"{k}{v}" for k, v in pairs) + secret
    return hashlib.md5(text.encode("utf-8")).hexdigest().lower()


# -- IDs and links ----------------------------------------------------------------------

_AK_ID = r"AK(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{5}"
_SALE_ID = r"A\d{9,10}|S\d{16}"
_RENT_ID = r"\d{10}|\d{16}"
AK_ID = re.compile(_AK_ID)
SALE_ID = re.compile(_SALE_ID)
RENT_ID = re.compile(_RENT_ID)
LOUPAN_NUMBER = re.compile(r"\d{4,8}")
COMMERCIAL_NUMBER = re.compile(r"\d{6,12}")
#: every house_id shape the client sends, as the platform writes it (refs from anywhere are
#: checked against it): AK IDs, second-hand A/S IDs, and the numbers of rent, loupan, shop
#: and office pages
HOUSE_ID = re.compile(rf"{_AK_ID}|{_SALE_ID}|\d{{4,16}}")
#: the kinds of listing Anjuke links show (`ListingRef.kind`)
SALE, RENT, NEW_HOME, SHOP, OFFICE = "sale", "rent", "new_home", "shop", "office"
_LINK_KINDS: dict[str, ListingKind] = {
    SALE: ListingKind.SALE,
    RENT: ListingKind.RENT,
    NEW_HOME: ListingKind.NEW_HOME,
    SHOP: ListingKind.COMMERCIAL,
    OFFICE: ListingKind.COMMERCIAL,
}
_COMMERCIAL_SECTIONS = {"sp": SHOP, "xzl": OFFICE}
HouseLink = tuple[str, str | None]  # (house_id as the page shows it, kind of listing)
_CITY = re.compile(r"[a-z]{2,24}")
_LABEL = re.compile(r"[a-z]{1,24}")
_AK_IN_TEXT = re.compile(rf"(?<![A-Za-z0-9]){_AK_ID}(?!\d)")
_RENT_SEGMENT = re.compile(rf"({_RENT_ID})(?:-\d{{1,3}})?(?:\.html?)?")
_LOUPAN_PAGE = re.compile(r"(?:[a-z]+-)?(\d{4,8})\.html")

DOMAIN = "anjuke.com"


def _anjuke_host(url: str) -> tuple[str, str, str] | None:
    """(subdomain labels before anjuke.com, path, query) when the URL's host is Anjuke's.

    The authority is parsed, not searched: `anjuke.com.example.org`, `anjuke.com@evil.example`
    and `notanjuke.com` are other hosts.
    """
    if "://" in url and not url.lower().startswith(("http://", "https://")):
        return None
    split = split_url(url, check_port=True)
    if split is None:
        return None
    _, host, path, query = split
    sub = subdomain_of(host, DOMAIN)
    return None if sub is None else (sub, path, query)


def house_id_from_url(url: str) -> HouseLink | None:
    """(house_id, kind) an Anjuke listing URL names, else None (search pages, other hosts...)."""
    split = _anjuke_host(url)
    if split is None:
        return None
    sub, path, query = split
    labels = sub.split(".") if sub else []
    segments = [s for s in path.split("/") if s]
    found = _house_id_from_path(labels, segments)
    if found is not None:
        return found
    # The seed's own IDs and any `house_id=` query, on any Anjuke page.
    for value in parse_qs(query).get("house_id", ()):
        if HOUSE_ID.fullmatch(value):
            return value, None
    match = _AK_IN_TEXT.search(path)
    return (match.group(), None) if match else None


def _with_kind(house_id: str | None, kind: str | None) -> HouseLink | None:
    return None if house_id is None else (house_id, kind)


def _house_id_from_path(labels: list[str], segments: list[str]) -> HouseLink | None:
    """The house_id of a listing page, from the host's labels before anjuke.com and the path."""
    if len(labels) > 2 or not all(_LABEL.fullmatch(label) for label in labels):
        return None  # a.b.c.anjuke.com, or labels with digits: no listing pages there
    section = labels[-1] if labels else ""
    if section in ("zu", "fang", "sp", "xzl"):
        # [<city>.]zu / fang / sp / xzl, and m.fang.anjuke.com/<city>/loupan/<n>/
        if section == "fang" and labels[0] == "m":
            return _mobile_path(segments)
        if len(segments) < 2:
            return None
        kind, ident = segments[0], segments[1]
        if section == "zu" and kind in ("fangyuan", "gfangyuan"):
            return _with_kind(_rent_id(ident), None)
        if section == "fang" and kind == "loupan":
            page = _LOUPAN_PAGE.fullmatch(ident)
            return (page.group(1), NEW_HOME) if page else None
        if section in _COMMERCIAL_SECTIONS and kind in ("shou", "zu"):
            if COMMERCIAL_NUMBER.fullmatch(ident):
                return ident, _COMMERCIAL_SECTIONS[section]
        return None
    if len(labels) > 1:
        return None
    if section == "m":
        return _mobile_path(segments)
    # anjuke.com, www.anjuke.com, <city>.anjuke.com
    if len(segments) == 3 and segments[:2] == ["prop", "view"]:
        ident = segments[2]
        if SALE_ID.fullmatch(ident) or AK_ID.fullmatch(ident):
            return ident, None
    return None


def _rent_id(segment: str) -> str | None:
    """A rent page's ID; mobile and `gfangyuan` pages may add `-<n>` after it (not the ID)."""
    match = _RENT_SEGMENT.fullmatch(segment)
    return match.group(1) if match else None


def _mobile_path(segments: list[str]) -> HouseLink | None:
    """m.anjuke.com: `[/<city>]/sale|rent|loupan|sp|xzl/<id>/`."""
    if len(segments) == 3 and _CITY.fullmatch(segments[0]):
        segments = segments[1:]
    if len(segments) != 2:
        return None
    kind, ident = segments
    if kind == "sale" and (SALE_ID.fullmatch(ident) or AK_ID.fullmatch(ident)):
        return ident, None
    if kind == "rent":
        return _with_kind(_rent_id(ident), None)
    if kind == "loupan" and LOUPAN_NUMBER.fullmatch(ident):
        return ident, NEW_HOME
    if kind in _COMMERCIAL_SECTIONS and COMMERCIAL_NUMBER.fullmatch(ident):
        return ident, _COMMERCIAL_SECTIONS[kind]
    return None


# -- parsing ----------------------------------------------------------------------------

_KINDS: dict[str, ListingKind] = {
    "新房": ListingKind.NEW_HOME,
    "二手房": ListingKind.SALE,
    "租房": ListingKind.RENT,
}
_COMMERCIAL_WORDS = ("商铺", "写字楼", "商业", "厂房", "仓库")
_STATUSES: dict[str, ListingStatus] = {
    "在售": ListingStatus.ON_SALE,
    "待售": ListingStatus.ON_SALE,
    "已预订": ListingStatus.ON_SALE,
    "出租中": ListingStatus.ON_SALE,
    "招租中": ListingStatus.ON_SALE,
    "待租": ListingStatus.ON_SALE,
    "已售": ListingStatus.SOLD,
    "已售出": ListingStatus.SOLD,
    "已成交": ListingStatus.SOLD,
    "已出租": ListingStatus.RENTED,
    "已租": ListingStatus.RENTED,
    "已租出": ListingStatus.RENTED,
    "已下架": ListingStatus.TAKEN_DOWN,
}
#: statuses shown as a tag because the status alone does not say them
_STATUS_TAGS = frozenset({"已预订"})


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _decimal(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    return sane_number(str(value).strip().rstrip("%").replace(",", ""))


def _with_unit(value: object, unit: str) -> str:
    """A number gets its unit; the platform's own text ('89.5㎡', '约2.9米') is kept."""
    text = _text(value)
    if not text:
        return ""
    return text + unit if _decimal(text) is not None else text


def _kind(house_type: str) -> ListingKind:
    if house_type in _KINDS:
        return _KINDS[house_type]
    if any(word in house_type for word in _COMMERCIAL_WORDS):
        return ListingKind.COMMERCIAL
    if "租" in house_type:
        return ListingKind.RENT
    if "新" in house_type:
        return ListingKind.NEW_HOME
    return ListingKind.SALE


def _photos(detail: Mapping[str, Any]) -> tuple[str, ...]:
    images = detail.get("img_list")
    if not isinstance(images, list):
        return ()
    urls = (_text(image.get("url") if isinstance(image, dict) else image) for image in images)
    # read until the card's photos are found (`photo_urls`), not to a hostile list's end
    return photo_urls("https:" + url if url.startswith("//") else url for url in urls)


def parse_house_detail(
    detail: Mapping[str, Any], house_id: str, link_kind: str | None = None
) -> Listing:
    """A `Listing` from `item_get_response.house_detail` (NotFound when it is empty).

    `broker_phone` is read by nobody: it is personal data the bot never shows.
    """
    if not detail:
        raise NotFound(PLATFORM, "no such house or taken down")
    listing_id = answer_id(_text(detail.get("house_id")), house_id)
    house_type = _text(detail.get("house_type"))
    # the answer's house_type decides; a field_filter may leave it out, then the link's kind
    kind = _kind(house_type) if house_type else _LINK_KINDS.get(link_kind or "", ListingKind.SALE)
    raw_status = _text(detail.get("transaction_status"))
    # an unknown word is shown as written: a guess could send a false alert
    status = _STATUSES.get(raw_status, ListingStatus.OTHER) if raw_status else ListingStatus.ON_SALE
    if kind is ListingKind.RENT or (
        kind is ListingKind.COMMERCIAL and ("租" in house_type or "租" in raw_status)
    ):
        unit = PriceUnit.YUAN_PER_MONTH
    else:
        unit = PriceUnit.WAN_YUAN
    facts: list[Fact] = []
    for key, label, value in (
        ("layout", "户型", _text(detail.get("house_style"))),
        ("area", "建筑面积", _with_unit(detail.get("area_build"), "㎡")),
        ("area_inner", "套内使用面积", _with_unit(detail.get("area_use"), "㎡")),
        ("floor", "楼层", _text(detail.get("floor"))),
        ("orientation", "房屋朝向", _text(detail.get("orientation"))),
        ("room_height", "层高", _with_unit(detail.get("room_height"), "米")),
        ("community", "所属楼盘", _text(detail.get("building_name"))),
        ("district", "所属区域", _text(detail.get("region"))),
        ("address", "详细地址", _text(detail.get("address"))),
        ("metro", "周边地铁", _text(detail.get("metro_info"))),
        ("school", "学区配套", _text(detail.get("school_info"))),
        ("commerce", "商业配套", _text(detail.get("commerce_info"))),
        ("price_trend", "价格走势", _text(detail.get("price_trend"))),
        ("down_payment", "参考首付比例", _with_unit(detail.get("down_payment"), "%")),
        ("monthly_payment", "参考月供", _with_unit(detail.get("loan_month"), "元")),
        ("house_code", "房源备案编号", _text(detail.get("house_code"))),
        ("agency", "所属门店", _text(detail.get("broker_shop"))),
    ):
        if value:
            facts.append((key, label, value))
    tags: list[str] = []
    if raw_status in _STATUS_TAGS:
        tags.append(raw_status)
    if _text(detail.get("vr_url")):
        tags.append("VR看房")
    if _text(detail.get("video_url")):
        tags.append("实拍视频")
    unit_price = _decimal(detail.get("unit_price"))
    return bounded_listing(
        Listing(
            platform=PLATFORM,
            listing_id=listing_id,
            url=AnjukeClient.build_url(listing_id, link_kind),
            title=_text(detail.get("house_name")),
            kind=kind,
            price=_decimal(detail.get("price")),
            price_unit=unit,
            status=status,
            unit_price=unit_price if unit_price else None,
            photos=_photos(detail),
            facts=tuple(facts),
            tags=tuple(tags),
            agent=_text(detail.get("broker_name")) or None,
            status_word=raw_status if status is ListingStatus.OTHER else "",
            link_kind=link_kind,
        )
    )


# -- reviews ----------------------------------------------------------------------------

#: `field_filter` of a reviews call: the list alone (house_id comes with every answer)
REVIEW_FIELDS = "house_id,evaluate_list"
#: seed 000 names no lifetime for evaluations; they are neither price nor status (5 min),
#: so they live as the other slow parts of a house (户型 / 面积 / 配套): 30 minutes
REVIEWS_TTL = 1800.0
REVIEWS_MAX = 200


def _review_date(value: object) -> str:
    text = _text(value)
    if re.fullmatch(r"\d{10}|\d{13}", text):
        seconds = int(text) / (1000 if len(text) == 13 else 1)
        return datetime.fromtimestamp(seconds, CHINA_TZ).strftime("%Y-%m-%d")
    return text[:19]


def parse_reviews(value: object) -> tuple[Review, ...]:
    """`evaluate_list` (评分 + 评语 + 时间), newest first; entries with no words are left out."""
    if not isinstance(value, list):
        return ()
    reviews = []
    for entry in value[:REVIEWS_MAX]:
        if not isinstance(entry, dict):
            continue
        comment = _text(
            entry.get("content")
            or entry.get("comment")
            or entry.get("evaluate")
            or entry.get("text")
        )
        rating = None
        for name in ("score", "rating", "star", "grade"):
            if entry.get(name) not in (None, ""):
                rating = _decimal(entry.get(name))
                break
        date = _review_date(
            entry.get("time")
            or entry.get("date")
            or entry.get("create_time")
            or entry.get("evaluate_time")
        )
        if comment or rating is not None:
            reviews.append(Review(rating, comment[:1000], date))
    # ISO dates sort as text; undated entries go last
    return tuple(sorted(reviews, key=lambda r: r.date, reverse=True))


# -- the client -------------------------------------------------------------------------


class AnjukeClient(ListingClient):
    """Anjuke item_get: one signed GET per house."""

    #: seed 000 answers errors as `error_response` on any status, 5xx included
    READS_SERVER_ERRORS = True

    platform = PLATFORM
    LINK_KINDS = frozenset(_LINK_KINDS)
    TIERS: ClassVar[dict[str, Limits]] = {
        "personal": Limits(per_day=50, per_second=1),
        "enterprise_basic": Limits(per_day=500, per_second=3),
        "enterprise_advanced": Limits(per_day=5000, per_second=10),
    }
    # Bare tokens: the digit-only rent shapes also fit other platforms' IDs; the central
    # recogniser turns such a token into a choice between the candidates.
    BARE_ID_PATTERNS: ClassVar[tuple[re.Pattern[str], ...]] = (
        AK_ID,
        re.compile(r"A\d{9,10}"),
        re.compile(r"S\d{16}"),
        re.compile(r"\d{10}"),
        re.compile(r"\d{16}"),
    )
    LISTING_ID_PATTERNS: ClassVar[tuple[re.Pattern[str], ...]] = (HOUSE_ID,)
    NOT_FOUND_TTL: ClassVar[float] = 600.0
    ERRORS: ClassVar[ErrorMap] = ERRORS
    REFUSALS: ClassVar[tuple[Refusal, ...]] = REFUSALS
    # Seed 000: 'first delay 1 s, then doubling, at most 3 retries' for 504 timeouts.
    RETRY: ClassVar[RetryPolicy] = RetryPolicy(retries=3, first_delay=1.0, jitter=0.0)
    # Seed 000: going over the rate bans the key for 10 minutes; retrying only extends it.
    RATE_BAN_SECONDS: ClassVar[float] = 600.0
    # The seed caches price and status 5 min, layout and facilities 30 min, media 24 h.
    # One answer carries all of them and we cache it as one record, so the record lives
    # as long as its shortest-lived part: 5 minutes.
    LISTING_TTL: ClassVar[float] = 300.0

    #: `cache=yes` (the seed's default) lets the platform answer from its own cache; the seed
    #: says its dynamic data (price, status) is synced within 3 minutes either way
    use_platform_cache: bool = True
    #: comma-separated fields to ask for; empty asks for all (and is left out of the request)
    field_filter: str = ""
    need_media: bool = True
    need_transaction: bool = True
    # Evaluations cost the platform 200-500 ms and the card does not show them.
    need_evaluate: bool = False

    @classmethod
    def find(cls, text: str) -> list[Found]:
        normal, origin = fold_with_origins(text)
        found: list[Found] = []
        seen: set[HouseLink] = set()
        for start, candidate in url_candidates(normal):
            link = house_id_from_url(candidate) if "." in candidate else None
            if link is None or link in seen:
                continue
            seen.add(link)
            ref = ListingRef(cls.platform, link[0], kind=link[1])
            found.append(Found(origin[start], candidate, ref=ref, platform=cls.platform))
        return found

    def request_params(self, house_id: str, *, fresh: bool = False) -> dict[str, str]:
        """The signed query for one house (the secret only enters the signature).

        `fresh` (a price-alert check) sends `cache=no`, so the platform's own cache cannot
        hide a change the check exists to see.
        """
        params = {
            "key": self.config.key,
            "api_name": API_NAME,
            "result_type": "json",
            "cache": "yes" if self.use_platform_cache and not fresh else "no",
            "house_id": house_id,
            "need_media": _bool(self.need_media),
            "need_transaction": _bool(self.need_transaction),
            "need_evaluate": _bool(self.need_evaluate),
            "need_contact": "false",
            "field_filter": self.field_filter,
        }
        params = {k: v for k, v in params.items() if v}
        params["sign"] = sign(params, self.config.secret.get_secret_value())
        return params

    async def fetch_listing(self, ref: ListingRef, *, fresh: bool = False) -> Listing:
        house_id = ref.listing_id
        if not HOUSE_ID.fullmatch(house_id):
            # Not one of the shapes above: the platform could only refuse it.
            raise BadRequest(self.platform, "not an Anjuke house ID")
        request = self.http.build_request(
            "GET", self.config.api_url, params=self.request_params(house_id, fresh=fresh)
        )
        response = await self.send(request)  # within `request_timeout`, body capped
        body = self._answer(response)
        answer = body.get("item_get_response")
        if not isinstance(answer, dict):
            raise Transient(
                self.platform, "answer without item_get_response", http_status=response.status_code
            )
        detail = answer.get("house_detail")
        if detail is not None and not isinstance(detail, dict):
            raise Transient(
                self.platform, "unexpected house_detail", http_status=response.status_code
            )
        if not detail:
            # The seed: 200 with no data means the house is taken down or banned.
            raise NotFound(
                self.platform, "no such house or taken down", http_status=response.status_code
            )
        return parse_house_detail(detail, house_id, ref.kind)

    async def fetch_reviews(self, ref: ListingRef) -> HouseReviews:
        """The house's `evaluate_list`, asked for on its own (`need_evaluate=true`).

        Seed 000: evaluations add 200-500 ms to an answer, so cards never ask for them;
        `field_filter=evaluate_list` asks for that part alone, as the seed suggests for a
        module opened later (滚动到对应模块再请求补充字段).
        """
        house_id = ref.listing_id
        if not HOUSE_ID.fullmatch(house_id):
            raise BadRequest(self.platform, "not an Anjuke house ID")
        params = {
            "key": self.config.key,
            "api_name": API_NAME,
            "result_type": "json",
            "cache": "yes" if self.use_platform_cache else "no",
            "house_id": house_id,
            "need_media": "false",
            "need_transaction": "false",
            "need_evaluate": "true",
            "need_contact": "false",
            "field_filter": REVIEW_FIELDS,
        }
        params["sign"] = sign(params, self.config.secret.get_secret_value())
        request = self.http.build_request("GET", self.config.api_url, params=params)
        response = await self.send(request)
        body = self._answer(response)
        answer = body.get("item_get_response")
        detail = answer.get("house_detail") if isinstance(answer, dict) else None
        if detail is not None and not isinstance(detail, dict):
            raise Transient(
                self.platform, "unexpected house_detail", http_status=response.status_code
            )
        if not detail:
            raise NotFound(
                self.platform, "no such house or taken down", http_status=response.status_code
            )
        return HouseReviews(house_id, parse_reviews(detail.get("evaluate_list")))

    async def probe_call(self) -> str:
        await self.fetch_listing(ListingRef(PLATFORM, PROBE_HOUSE_ID))
        return f"sample house {PROBE_HOUSE_ID} answered"

    def _answer(self, response: httpx.Response) -> dict[str, Any]:
        """The JSON body of a successful answer; every failure raised as its error class."""
        status, body = self.read_answer(response)
        error = body.get("error_response")
        if status == 200 and not isinstance(error, dict):
            return body
        error = error if isinstance(error, dict) else {}
        message = _text(error.get("msg") or error.get("sub_msg"))
        raise self.error_for(status, error.get("code"), message)

    def listing_ttl(self, listing: Listing) -> float:
        return self.LISTING_TTL

    def listing_url(self, ref: ListingRef) -> str:
        return self.build_url(ref.listing_id, ref.kind)

    @staticmethod
    def build_url(house_id: str, kind: str | None = None) -> str:
        """The public page of a house on Anjuke's mobile site (it picks the city itself).

        The city is not part of our IDs, so the city-less mobile paths are used; `find`
        recognises every form built here.
        """
        if house_id.startswith("AK"):
            return f"https://www.anjuke.com/prop/view/{house_id}"
        if SALE_ID.fullmatch(house_id):
            return f"https://m.anjuke.com/sale/{house_id}/"
        section = {NEW_HOME: "loupan", SHOP: "sp", OFFICE: "xzl"}.get(kind or "", "rent")
        return f"https://m.anjuke.com/{section}/{house_id}/"


def _bool(value: bool) -> str:
    return "true" if value else "false"
