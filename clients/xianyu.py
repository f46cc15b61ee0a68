"""Xianyu (闲鱼) second-hand items, through the open platform's item_get (CONTRACT 3.3).

Protocol (seed 002):
- `POST XIANYU_API_URL`, form-encoded: `app_key`, `method=xianyu.item.get`, `timestamp`
  (Unix milliseconds), `version=v2`, `item_id`, optional `fields`, and `sign`.
- `sign = hex(hmac_sha256(key=secret, urlencode(sorted pairs) + "&app_secret=" + secret))`:
  pairs with an empty value and `sign` itself left out, names sorted by byte value,
  `urllib.parse.urlencode` of the pairs. A timestamp more than 5 minutes off is refused.
- Success: `{"item_get_response": {"item": {...}}}`; an empty `item` means the item is
  deleted, private or banned (the seed: 无商品数据返回) -> NotFound.
- Errors: `{"error_response": {"code", "msg", "sub_code", "sub_msg"}}` with HTTP 400 /
  401 / 403 / 504. The seed names only the HTTP statuses; the codes below follow the
  Taobao Open Platform gateway that serves this API, and the sandbox answers with them:

  | HTTP | code | sub_code | meaning | error |
  |---|---|---|---|---|
  | 400 | 40 | | missing required argument | BadRequest |
  | 400 | 41 | | invalid argument (item_id not 10-19 digits) | BadRequest |
  | 400 | 41 | `isv.item-not-found` | no such item / deleted | NotFound |
  | 400 | any | | `item_id 无效`, 已删除 / 下架 / 违规 / 私密 (seed: causes of 无商品数据) | NotFound |
  | 400 | any | | `item_id 格式错误`, 缺少 (malformed: more specific than 无效) | BadRequest |
  | 401 | 21 / 22 | | missing / invalid method or version | NotPermitted |
  | 401 | 25 | | invalid signature | NotPermitted |
  | 401 | 28 / 29 | | missing / invalid app_key | NotPermitted |
  | 401 | 31 / 32 | | missing / expired timestamp | NotPermitted |
  | 403 | 11 | | no permission, IP not whitelisted | NotPermitted |
  | 403 | 7 | `accesscontrol.limited-by-app-frequency` | 调用频率超限 | RateLimited |
  | 403 | 7 | `accesscontrol.limited-by-app-access-count` | 日调用次数超限 | QuotaExhausted |
  | 500 | 15 | | remote service error | Transient |
  | 504 | 50 | | remote service timeout | Transient |

  The codes are the gateway's, not the seed's, so `ERRORS` decides by the HTTP status
  and then the words of `sub_code` / `msg` / `sub_msg` (a 401 is always NotPermitted; a
  403 is NotPermitted unless it names a window of a second (每秒 / 频率 / frequency: rate,
  even with 次数), the day (日调用 / 今日 / 配额 / access-count: quota) or a bare count
  (调用次数超限: the seed's 403 cause, 调用频率超限, so rate)). A missing, null or empty `item` is NotFound (the seed's 无商品数据).
- Tiers (CONTRACT 4.1): personal 100/day 1/s, enterprise_basic 10000/day 5/s,
  enterprise_advanced 100000/day 20/s. Cache: on sale 5 min, sold 1 h, offline 1 day,
  not found 10 min.
- Links: `2.taobao.com/item.htm?id=`, `(www.|h5.m.)goofish.com/item?id=`,
  `goofish.com/item/<id>`, `ssr.m.goofish.com/<...item or detail...>?...&id=<id>&...`
  (the item is `itemId` / `item_id` / `id`, never another numeric parameter),
  `market.m.taobao.com/app/idleFish-F2e/...?id=&itemId=`, `fleamarket://item?id=`, and the
  app's share texts with a short link `m.tb.cn/h.XXXX` (shared with Taobao: `resolve`
  decides from where it leads). Item IDs are 12-13 digits, newer ones 16-19.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from itertools import chain
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

from clients.base import (
    AnswerTooLarge,
    ErrorMap,
    ErrorRule,
    Found,
    Limits,
    ListingClient,
    read_bounded,
)
from clients.bounds import (
    PARAMS_KEPT,
    answer_id,
    bounded_listing,
    first,
    photo_urls,
    sane_number,
)
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
from clients.links import (
    HTTP_SCHEME,
    fold_with_origins,
    split_url,
    subdomain_of,
    url_candidates,
)
from clients.models import (
    Fact,
    ItemMarket,
    Listing,
    ListingKind,
    ListingRef,
    ListingStatus,
    PriceUnit,
    Sale,
    SameItem,
)
from clients.probe import Refusal
from clock import CHINA_TZ

log = logging.getLogger(__name__)

METHOD = "xianyu.item.get"
VERSION = "v2"

# -- errors (see the module docstring) --------------------------------------------------

SUB_ITEM_NOT_FOUND = "isv.item-not-found"
SUB_FREQUENCY = "accesscontrol.limited-by-app-frequency"
SUB_ACCESS_COUNT = "accesscontrol.limited-by-app-access-count"
#: a malformed argument is the more specific reading of a 400 (item_id 格式错误)
_MALFORMED = ErrorRule(
    BadRequest,
    "item_id or parameters malformed",
    ("格式", "缺少", "missing", "invalid-parameter"),
)
#: the seed lists 商品已删除 / 下架 / 违规, item_id 无效 and 私密商品 as the causes of 无商品数据
_NOT_FOUND = ErrorRule(
    NotFound,
    "no such item",
    (
        "item-not-found",
        "item-deleted",
        "不存在",
        "已删除",
        "无商品",
        "下架",
        "违规",
        "私密",
        "item_id 无效",
        "item_id无效",
        "商品id无效",
        "商品 id 无效",
    ),
)
#: the most specific meaning first: a window of a second (每秒调用次数超限) is a rate refusal,
#: only the day is the daily quota, and a bare count is the seed's 403 cause, 调用频率超限
_FREQUENCY = ErrorRule(RateLimited, "call frequency exceeded", RATE_WORDS)
_QUOTA = ErrorRule(QuotaExhausted, "daily quota used up", DAY_WORDS)
_COUNT = ErrorRule(RateLimited, "call count exceeded, no window named", COUNT_WORDS)
#: the seed documents HTTP statuses and their causes; codes are the gateway's, not the seed's
ERRORS = ErrorMap(
    statuses={
        400: (_MALFORMED, _NOT_FOUND, ErrorRule(BadRequest, "item_id or parameters refused")),
        401: (ErrorRule(NotPermitted, "credentials, signature or timestamp refused"),),
        403: (
            _FREQUENCY,
            _QUOTA,
            _COUNT,
            ErrorRule(NotPermitted, "permission or IP whitelist refused"),
        ),
        504: (ErrorRule(Transient, "platform timed out"),),
    },
    # no status to go by: the words alone, the most specific first (an app_key that does
    # not exist is a credential refusal before an item that does not)
    answer=(
        _FREQUENCY,
        _QUOTA,
        _COUNT,
        ErrorRule(
            NotPermitted,
            "credentials, signature or permission refused",
            ("app_key", "app key", "签名", "signature", "权限", "permission", "白名单"),
        ),
        _NOT_FOUND,
    ),
)

#: `python -m bot check`: the seed's troubleshooting table (高频问题排查表), quoted
_SEED_401 = "签名验证失败(401): app_key/app_secret 错误; 参数排序错误; 时间戳过期"
REFUSALS: tuple[Refusal, ...] = (
    Refusal(
        "clock skew: the timestamp is more than 5 minutes off",
        "this machine's clock (sync it with NTP)",
        "时间戳有效期为 5 分钟,超出则签名失效",
        kinds=(NotPermitted,),
        statuses=(401,),
        words=("timestamp", "时间戳"),
        credentials_refused=True,
    ),
    Refusal(
        "wrong app key",
        "XIANYU_APP_KEY",
        _SEED_401,
        kinds=(NotPermitted,),
        statuses=(401,),
        words=("app key", "app_key", "appkey"),
        credentials_refused=True,
    ),
    Refusal(
        "wrong app secret (signature refused)",
        "XIANYU_APP_SECRET",
        _SEED_401,
        kinds=(NotPermitted,),
        statuses=(401,),
        credentials_refused=True,
    ),
    Refusal(
        "daily quota used up",
        "XIANYU_TIER",
        "日调用上限: 个人测试权限 100 次/IP, 企业基础权限 10000 次/IP, 企业高级权限 100000 次/IP",
        kinds=(QuotaExhausted,),
    ),
    Refusal(
        "rate limit",
        "XIANYU_TIER",
        "权限不足(403): 调用频率超限",
        kinds=(RateLimited,),
    ),
    Refusal(
        "no permission",
        "XIANYU_TIER (and the app's permissions, IP whitelist)",
        "权限不足(403): 未申请 item_get 接口权限; IP 不在白名单",
        kinds=(NotPermitted,),
    ),
)
#: the seed's own sample item_id: an answer for it, found or not (400 item-not-found, or
#: 200 with no item), means the app key, timestamp and signature passed (those are 401)
PROBE_ITEM_ID = "698765432109876543"


# -- the market around an item: same_items and trade_record ------------------------------

#: seed 002: `same_items` 同款商品列表 (需进阶权限) and `trade_record` 历史成交记录 (需企业权限;
#: 历史成交记录需企业资质). The seed's applications are 基础 / 进阶 / 高级 and its tiers
#: 个人测试 / 企业基础 / 企业高级, so 进阶 is the second step, the first enterprise tier, and
#: 企业 is any enterprise tier: both from enterprise_basic up (docs/assumptions.md). The
#: platform decides in the end: a 403 for a field is read as the refusal it is.
MARKET_FIELD_TIERS: dict[str, tuple[str, ...]] = {
    "same_items": ("enterprise_basic", "enterprise_advanced"),
    "trade_record": ("enterprise_basic", "enterprise_advanced"),
}
#: the seed's words for what each field needs, quoted when a tier does not allow it
MARKET_FIELD_PERMISSION: dict[str, str] = {"same_items": "进阶权限", "trade_record": "企业权限"}
#: the item's own fields asked for beside them (`fields` is 逗号分隔, as the seed spells it)
MARKET_BASE_FIELDS = ("item_id", "title", "price", "status", "condition", "category", "params")
#: at most this many entries of either list are read (a hostile answer may list millions)
MARKET_MAX_ENTRIES = 500


def market_fields(tier: str | None) -> tuple[str, ...]:
    """The market fields `tier` may ask for, in the seed's order."""
    return tuple(name for name, tiers in MARKET_FIELD_TIERS.items() if tier in tiers)


def first_tier_for(field_name: str) -> str:
    return MARKET_FIELD_TIERS[field_name][0]


def _when(value: object) -> float | None:
    """A sale time: Unix seconds or milliseconds (number or digits), or `YYYY-MM-DD[ HH:MM[:SS]]`."""
    text = _text(value)
    if re.fullmatch(r"\d{9,13}", text):
        return int(text) / (1000 if len(text) == 13 else 1)
    match = re.fullmatch(
        r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?", text
    )
    if not match:
        return None
    y, m, d, hh, mm, ss = (int(g) if g else 0 for g in match.groups())
    try:
        return datetime(y, m, d, hh, mm, ss, tzinfo=CHINA_TZ).timestamp()
    except ValueError:
        return None


def _entries(value: object) -> list[dict[str, Any]]:
    """A list of objects, or Taobao's wrapped `{"same_item": [...]}` form; anything else none."""
    if isinstance(value, dict):
        lists = [v for v in value.values() if isinstance(v, list)]
        value = lists[0] if len(lists) == 1 else []
    if not isinstance(value, list):
        return []
    return [e for e in value[:MARKET_MAX_ENTRIES] if isinstance(e, dict)]


def _seller(entry: dict[str, Any]) -> str:
    info = entry.get("seller_info") or entry.get("seller")
    if isinstance(info, dict):
        return _text(info.get("seller_nick") or info.get("nick") or info.get("name"))
    return _text(entry.get("seller_nick") or info)


def parse_same_items(value: object, own_id: str) -> tuple[SameItem, ...]:
    """`same_items` (同款 item_id、价格、卖家信息): entries without an ID or a price are left out."""
    found: dict[str, SameItem] = {}
    for entry in _entries(value):
        item_id = _text(entry.get("item_id") or entry.get("itemId") or entry.get("id"))
        price = _decimal(
            entry.get("price") if entry.get("price") is not None else entry.get("item_price")
        )
        if not _ITEM_ID.fullmatch(item_id) or item_id == own_id or price is None or price <= 0:
            continue
        found.setdefault(item_id, SameItem(item_id, price, _seller(entry)))
    return tuple(found.values())


def parse_trade_record(value: object) -> tuple[Sale, ...]:
    """`trade_record` (成交时间、成交价格), oldest first; entries missing either are left out."""
    sales = []
    for entry in _entries(value):
        when = None
        for name in ("trade_time", "deal_time", "time", "date", "成交时间"):
            if entry.get(name) not in (None, ""):
                when = _when(entry.get(name))
                break
        price = None
        for name in ("trade_price", "deal_price", "price", "成交价格"):
            if entry.get(name) not in (None, ""):
                price = _decimal(entry.get(name))
                break
        if when is not None and price is not None and price > 0:
            sales.append(Sale(when, price))
    return tuple(sorted(sales, key=lambda s: s.when))


def sign(params: Mapping[str, str], secret: str) -> str:
    """The request signature: HMAC-SHA256 (key = secret) of the urlencoded sorted pairs + app_secret."""
    pairs = sorted(
        ((k, v) for k, v in params.items() if k != "sign" and v not in ("", None)),
        key=lambda pair: pair[0].encode(),
    )
    to_sign = urlencode(pairs) + "&app_secret=" + secret
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


# -- link recognition -----------------------------------------------------------------

_ITEM_ID = re.compile(r"\d{10,19}")
#: links may also come in the app's own scheme (fleamarket://item?id=...)
_SCHEME = re.compile(r"(?:https?|fleamarket)://", re.IGNORECASE)
#: the app's own words around a share link; without them an m.tb.cn link may be Taobao's
_SHARE_WORDS = ("闲鱼", "咸鱼", "goofish", "idle", "fleamarket")
SHORT_LINK_HOSTS = frozenset({"m.tb.cn", "tb.cn"})
#: Taobao's mobile hosts serve Xianyu pages only under these path words
_TAOBAO_XIANYU_HOSTS = frozenset(
    {"market.m.taobao.com", "market.wapa.taobao.com", "h5.m.taobao.com"}
)
_TAOBAO_XIANYU_PATH_WORDS = ("idlefish", "fleamarket", "2shou")


def _link_schemes(normal: str) -> re.Pattern[str]:
    """`_SCHEME`, or the web schemes alone when the text has no app link: then the two
    split the text's tokens at the same places, and the candidates the other platforms
    read from the message are this platform's too. (Tokens are ASCII, where `lower()`
    is exact, so an app link is never missed; a false alarm only costs a second read.)"""
    return _SCHEME if "fleamarket://" in normal.lower() else HTTP_SCHEME


def _host_in(host: str, domain: str) -> bool:
    return subdomain_of(host, domain) is not None


#: `goofish.com/item/<id>`: the path form of an item page
_GOOFISH_ITEM_PATH = re.compile(r"/item/(\d{10,19})(?:\.htm)?/?")


def _goofish_item_page(host: str, path: str) -> bool:
    """An item page on goofish.com; `ssr.m.` serves them under longer paths that say so."""
    if path.rstrip("/") in ("/item", "/item.htm", "/detail"):
        return True
    lowered = path.lower()
    return host.startswith("ssr.") and ("item" in lowered or "detail" in lowered)


def item_id_from_url(url: str) -> str | None:
    """The item ID of a Xianyu item page URL, else None (Taobao items and assets included)."""
    split = split_url(url)
    if split is None:
        return None
    scheme, host, path, query = split
    params = parse_qs(query)
    if scheme == "fleamarket":
        pass  # the app's own scheme: fleamarket://item?id=, fleamarket://awesome_detail?itemId=
    elif scheme not in ("", "http", "https"):
        return None
    elif host == "2.taobao.com" or host == "2.m.taobao.com":
        if not path.startswith("/item"):
            return None
    elif _host_in(host, "goofish.com"):
        in_path = _GOOFISH_ITEM_PATH.fullmatch(path)
        if in_path:
            return in_path.group(1)
        if not _goofish_item_page(host, path):
            return None
    elif host in _TAOBAO_XIANYU_HOSTS:
        if not any(word in path.lower() for word in _TAOBAO_XIANYU_PATH_WORDS):
            return None
    else:
        return None
    for name in ("itemId", "item_id", "id"):
        for value in params.get(name, ()):
            if _ITEM_ID.fullmatch(value):
                return value
    return None


def _is_short_link(url: str) -> bool:
    split = split_url(url)
    return split is not None and split[0] in ("", "http", "https") and split[1] in SHORT_LINK_HOSTS


# -- parsing --------------------------------------------------------------------------

_STATUSES: dict[str, ListingStatus] = {
    "onsale": ListingStatus.ON_SALE,
    "soldout": ListingStatus.SOLD,
    "offline": ListingStatus.TAKEN_DOWN,
}
#: the platform's English condition grades, as the seed translates them
_CONDITIONS: dict[str, str] = {
    "new": "全新",
    "like_new": "九成新",
    "very_good": "八成新",
    "good": "七成新",
    "acceptable": "六成新及以下",
}


def _decimal(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    return sane_number(str(value).strip().lstrip("¥￥"))


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _photo(url: object) -> str:
    text = _text(url)
    return (
        "https:" + text if text.startswith("//") else text
    )  # the CDN gives protocol-relative URLs


def _listed(value: object) -> str:
    """valid_time as a UTC+8 date: milliseconds (number or digits) or the platform's own text."""
    text = _text(value)
    if re.fullmatch(r"\d{10,13}", text):
        seconds = int(text) / (1000 if len(text) == 13 else 1)
        return datetime.fromtimestamp(seconds, CHINA_TZ).strftime("%Y-%m-%d")
    return text[:10]


def _rating(value: object) -> str:
    text = _text(value)
    return text if not text or text.endswith("%") else text + "%"


def _params(value: object) -> list[tuple[str, str]]:
    """params as (name, value) pairs: a mapping or a list of {key|name, value} objects;
    the first `PARAMS_KEPT` that have both."""
    if isinstance(value, dict):
        pairs: Iterable[tuple[str, str]] = ((_text(k), _text(v)) for k, v in value.items())
    elif isinstance(value, list):
        pairs = (
            (_text(entry.get("key") or entry.get("name")), _text(entry.get("value")))
            for entry in value
            if isinstance(entry, dict)
        )
    else:
        return []
    return first(((k, v) for k, v in pairs if k and v), PARAMS_KEPT)


def _image_entries(value: object) -> list[object]:
    """`item_imgs` as a list, or Taobao's wrapped `{"item_img": [...]}`; anything else none."""
    if isinstance(value, dict):
        value = value.get("item_img")
    return value if isinstance(value, list) else []


def parse_item(item: dict[str, Any], item_id: str) -> Listing:
    """A `Listing` from `item_get_response.item` (NotFound when it is empty)."""
    if not item:
        raise NotFound("xianyu", "no such item")
    listing_id = answer_id(_text(item.get("item_id")), item_id)
    raw_status = _text(item.get("status")).lower() or "onsale"
    # an unknown word is shown as written: a guess would send a false alert
    status = _STATUSES.get(raw_status, ListingStatus.OTHER)
    # read until the card's photos are found (`photo_urls`), not to a hostile list's end
    images = chain(
        (_photo(item.get("pic_url")),),
        (
            _photo(image.get("url") if isinstance(image, dict) else image)
            for image in _image_entries(item.get("item_imgs"))
        ),
    )
    condition = _text(item.get("condition"))
    guarantee = item.get("guarantee")
    if isinstance(guarantee, list):
        guarantee = "、".join(_text(g) for g in guarantee if _text(g))
    facts: list[Fact] = []
    for key, label, value in (
        ("condition", "成色", _CONDITIONS.get(condition.lower(), condition)),
        ("category", "类目", _text(item.get("category"))),
        ("location", "所在地", _text(item.get("location") or item.get("seller_location"))),
        ("seller_rating", "好评率", _rating(item.get("seller_score"))),
        ("seller_level", "卖家等级", _text(item.get("seller_level"))),
        ("shipping", "物流", _text(item.get("logistics"))),
        ("guarantee", "保障", _text(guarantee)),
        ("sales", "已售", _text(item.get("sales"))),
        ("listed", "上架时间", _listed(item.get("valid_time"))),
    ):
        if value:
            facts.append((key, label, value))
    facts += [("param", name, value) for name, value in _params(item.get("params"))]
    return bounded_listing(
        Listing(
            platform="xianyu",
            listing_id=listing_id,
            url=XianyuClient.build_url(listing_id),
            title=_text(item.get("title")),
            kind=ListingKind.ITEM,
            price=_decimal(item.get("price")),
            price_unit=PriceUnit.YUAN,
            status=status,
            status_word=_text(item.get("status")) if status is ListingStatus.OTHER else "",
            original_price=_decimal(item.get("original_price")) or None,
            photos=photo_urls(images),
            facts=tuple(facts),
            agent=_text(item.get("seller_nick")) or None,
        )
    )


# -- the client -----------------------------------------------------------------------


class XianyuClient(ListingClient):
    """Xianyu item_get: one signed POST per item; short links resolved by following redirects."""

    platform = "xianyu"
    ERRORS: ClassVar[ErrorMap] = ERRORS
    REFUSALS: ClassVar[tuple[Refusal, ...]] = REFUSALS
    TIERS: ClassVar[dict[str, Limits]] = {
        "personal": Limits(per_day=100, per_second=1),
        "enterprise_basic": Limits(per_day=10_000, per_second=5),
        "enterprise_advanced": Limits(per_day=100_000, per_second=20),
    }
    BARE_ID_PATTERNS: ClassVar[tuple[re.Pattern[str], ...]] = (
        re.compile(r"\d{12,13}"),
        re.compile(r"\d{16,19}"),
    )
    LISTING_ID_PATTERNS: ClassVar[tuple[re.Pattern[str], ...]] = (_ITEM_ID,)
    NOT_FOUND_TTL: ClassVar[float] = 600.0
    TTL_BY_STATUS: ClassVar[dict[ListingStatus, float]] = {
        ListingStatus.ON_SALE: 300.0,
        ListingStatus.SOLD: 3600.0,
        ListingStatus.TAKEN_DOWN: 86400.0,
    }
    #: fields asked for; empty asks for all (and is then left out of the request and signature)
    fields: str = ""
    request_timeout: float = 10.0
    short_link_timeout: float = 5.0
    short_link_max_hops: int = 5
    #: at most this much of a short-link landing page is searched for the item link
    short_link_page_limit: int = 200_000

    @classmethod
    def find(cls, text: str) -> list[Found]:
        normal, origin = fold_with_origins(text)
        found: list[Found] = []
        seen: set[str] = set()
        for start, candidate in url_candidates(normal, _link_schemes(normal)):
            item_id = item_id_from_url(candidate)
            if item_id is not None:
                if item_id not in seen:
                    seen.add(item_id)
                    found.append(
                        Found(
                            origin[start],
                            candidate,
                            ref=ListingRef(cls.platform, item_id),
                            platform=cls.platform,
                        )
                    )
            elif _is_short_link(candidate) and candidate not in seen:
                # Taken whether or not the share text names Xianyu: resolve() decides from
                # where the link leads, which is the only sure answer for m.tb.cn.
                seen.add(candidate)
                found.append(
                    Found(
                        origin[start],
                        candidate,
                        short_url=cls._with_scheme(candidate),
                        platform=cls.platform,
                    )
                )
        return found

    @staticmethod
    def says_xianyu(text: str) -> bool:
        """Whether a message reads like a Xianyu share text (for ranking m.tb.cn links)."""
        lowered = unicodedata.normalize("NFKC", text).lower()
        return any(word in lowered for word in _SHARE_WORDS)

    @staticmethod
    def _with_scheme(url: str) -> str:
        return url if "://" in url else "https://" + url

    async def fetch_listing(self, ref: ListingRef, *, fresh: bool = False) -> Listing:
        return parse_item(await self._item_get(ref.listing_id, self.fields), ref.listing_id)

    async def _item_get(self, item_id: str, fields: str) -> dict[str, Any]:
        """One signed `item_get` (seed 002) asking for `fields`; the answer's item."""
        params = {
            "app_key": self.config.key,
            "method": METHOD,
            "timestamp": str(int(self.clock.time() * 1000)),
            "version": VERSION,
            "item_id": item_id,
            "fields": fields,
        }
        params = {k: v for k, v in params.items() if v}
        params["sign"] = sign(params, self.config.secret.get_secret_value())
        request = self.http.build_request("POST", self.config.api_url, data=params)
        response = await self.send(request, timeout=self.request_timeout)
        body = self._answer(response)
        answer = body.get("item_get_response")
        item = answer.get("item") if isinstance(answer, dict) else None
        if not item:
            # the seed's own code: no item is 无商品数据 (deleted, private, banned or unknown)
            raise NotFound(self.platform, "no such item", http_status=response.status_code)
        if not isinstance(item, dict):
            raise Transient(self.platform, "unexpected item", http_status=response.status_code)
        return item

    async def fetch_market(self, ref: ListingRef) -> ItemMarket:
        """The item with the market fields this tier may ask for (`fields`, comma-separated).

        Raises NotPermitted when the platform refuses them (权限不足, 403).
        """
        wanted = market_fields(self.config.tier)
        fields = ",".join((*MARKET_BASE_FIELDS, *wanted))
        item = await self._item_get(ref.listing_id, fields)
        return ItemMarket(
            listing=parse_item(item, ref.listing_id),
            same_items=(
                parse_same_items(item["same_items"], ref.listing_id)
                if "same_items" in wanted and "same_items" in item
                else None
            ),
            trade_record=(
                parse_trade_record(item["trade_record"])
                if "trade_record" in wanted and "trade_record" in item
                else None
            ),
            fields=fields,
        )

    def market_ttl(self, market: ItemMarket) -> float:
        return self.listing_ttl(market.listing)

    async def probe_call(self) -> str:
        await self.fetch_listing(ListingRef(self.platform, PROBE_ITEM_ID))
        return f"sample item {PROBE_ITEM_ID} answered"

    def _answer(self, response: httpx.Response) -> dict[str, Any]:
        """The JSON body of a successful answer; every failure raised as its error class."""
        status, body = self.read_answer(response)
        error = body.get("error_response")
        if status == 200 and not isinstance(error, dict):
            return body
        error = error if isinstance(error, dict) else {}
        words = (_text(error.get("sub_code")), _text(error.get("msg")), _text(error.get("sub_msg")))
        raise self.error_for(status, error.get("code"), " ".join(w for w in words if w))

    def listing_ttl(self, listing: Listing) -> float:
        return self.TTL_BY_STATUS[listing.status] if listing.status in self.TTL_BY_STATUS else 300.0

    def listing_url(self, ref: ListingRef) -> str:
        return self.build_url(ref.listing_id)

    @staticmethod
    def build_url(item_id: str) -> str:
        return f"https://www.goofish.com/item?id={item_id}"

    # -- short links ------------------------------------------------------------------

    def _fetchable(self, url: str) -> str | None:
        """Where to ask for a short-link hop: m.tb.cn itself, or the sandbox's stand-in for it."""
        base = (self.config.short_link_base or "").rstrip("/")
        if base and url.startswith(base + "/"):
            return url
        split = split_url(url)
        if split is None or split[1] not in SHORT_LINK_HOSTS:
            return None  # never fetch other pages: the URL alone decides
        if base:
            parts = urlsplit(self._with_scheme(url))
            return base + parts.path + (f"?{parts.query}" if parts.query else "")
        return self._with_scheme(url)

    async def resolve(self, short_url: str) -> ListingRef | None:
        """The Xianyu item an m.tb.cn link leads to; None when it leads elsewhere (a Taobao item)."""
        url = self._with_scheme(short_url)
        for _ in range(self.short_link_max_hops + 1):
            item_id = item_id_from_url(url)
            if item_id is not None:
                return ListingRef(self.platform, item_id)
            target = self._fetchable(url)
            if target is None:
                return None
            response = await self._hop(target)
            location = response.headers.get("location")
            if response.is_redirect and location:
                url = urljoin(target, location)
                continue
            if response.status_code == 200:
                # m.tb.cn answers some links with a page that names the target in script.
                return self._ref_in_page(response.text[: self.short_link_page_limit])
            log.info("short link answered HTTP %s", response.status_code)
            return None
        log.info("short link took more than %s redirects", self.short_link_max_hops)
        return None

    async def _hop(self, url: str) -> httpx.Response:
        """One GET that does not follow redirects, whatever the shared client is set to."""
        request = self.http.build_request("GET", url)
        request.extensions["timeout"] = httpx.Timeout(self.short_link_timeout).as_dict()
        try:
            # one deadline for the whole hop, and a page read no further than the cap
            async with asyncio.timeout(self.short_link_timeout):
                return await read_bounded(
                    self.http, request, self.config.max_answer_bytes, follow_redirects=False
                )
        except (TimeoutError, httpx.TimeoutException):
            raise Transient(self.platform, "short link timed out") from None
        except AnswerTooLarge:
            raise Transient(self.platform, "short link page too large") from None
        except httpx.HTTPError as exc:
            # No str(exc): it carries the URL.
            raise Transient(self.platform, f"short link failed ({type(exc).__name__})") from None

    def _ref_in_page(self, page: str) -> ListingRef | None:
        for found in self.find(page.replace("\\/", "/")):
            if found.ref is not None:
                return found.ref
        return None
