"""Shared models every platform client returns and every handler renders.

Plain frozen dataclasses: no platform field names leak past a client module.
Prices are `Decimal` so comparisons for alerts are exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TypeAlias


class Platform(StrEnum):
    ANJUKE = "anjuke"
    BEIKE = "beike"
    XIANYU = "xianyu"
    AIHUISHOU = "aihuishou"
    ANJUKE_OPEN = "anjuke_open"


class ListingKind(StrEnum):
    SALE = "sale"  # second-hand home for sale (二手房)
    RENT = "rent"  # 租房
    NEW_HOME = "new_home"  # 新房
    COMMERCIAL = "commercial"  # 商铺 / 写字楼
    ITEM = "item"  # a second-hand goods item (Xianyu)


class ListingStatus(StrEnum):
    ON_SALE = "on_sale"
    SOLD = "sold"
    RENTED = "rented"
    TAKEN_DOWN = "taken_down"
    #: a status word the platform uses and we do not know: shown as written, never guessed
    OTHER = "other"


class PriceUnit(StrEnum):
    WAN_YUAN = "wan_yuan"  # total price in 万元 (homes for sale, new homes)
    YUAN_PER_MONTH = "yuan_per_month"  # monthly rent in 元
    YUAN = "yuan"  # an item's price in 元


@dataclass(frozen=True, slots=True)
class ListingRef:
    """What identifies one listing on one platform.

    `city_id` is Beike's 6-digit city code (`110000` for Beijing); other
    platforms leave it empty.
    """

    platform: str
    listing_id: str
    city_id: str | None = None
    #: the kind of listing the link shows (Anjuke: sale, rent, new_home, shop, office); the
    #: ID stays the platform's own, so two kinds may share a number and only this tells them
    kind: str | None = None

    @property
    def key(self) -> str:
        """A stable text key, e.g. `beike:110000:101127449675` or `anjuke:245678@new_home`."""
        key = (
            f"{self.platform}:{self.city_id}:{self.listing_id}"
            if self.city_id
            else (f"{self.platform}:{self.listing_id}")
        )
        return f"{key}@{self.kind}" if self.kind else key

    @classmethod
    def from_key(cls, key: str) -> ListingRef:
        key, _, kind = key.partition("@")
        parts = key.split(":")
        if len(parts) == 3:
            return cls(parts[0], parts[2], parts[1], kind or None)
        if len(parts) == 2:
            return cls(parts[0], parts[1], kind=kind or None)
        raise ValueError(f"not a listing key: {key!r}")


#: One fact of a listing, in the platform's order: `(key, label, value)`.
#:
#: `key` is a stable name the renderer can translate (`layout`, `area`, `floor`,
#: `orientation`, `community`, `district`, `condition`, `location`, ...); `label` is the
#: platform's own label; `value` the platform's text. Read it by unpacking
#: (`for key, label, value in listing.facts`).
#:
#: A plain tuple of strings, not a NamedTuple or a dataclass: Python's garbage collector
#: stops walking an exact tuple that holds only strings after its first collection, but
#: walks every instance of a class (a NamedTuple too) in every full collection; the facts
#: of the thousands of cached listings were 37,000 of the 51,000 objects a full collection
#: walked at 100k-1M watches (the longest event-loop stalls, BENCHMARKS.md "Cost follows
#: change" (f)). `Listing.facts` holds nothing else (see `tests/test_gc_walk.py`).
Fact: TypeAlias = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class Listing:
    platform: str
    listing_id: str
    url: str
    title: str
    kind: ListingKind
    price: Decimal | None
    price_unit: PriceUnit
    status: ListingStatus
    unit_price: Decimal | None = None  # 元/㎡ where the platform gives it
    original_price: Decimal | None = None  # items: the price when new
    photos: tuple[str, ...] = ()
    facts: tuple[Fact, ...] = ()
    tags: tuple[str, ...] = ()
    agent: str | None = None  # agent (homes) or seller nickname (items)
    city_id: str | None = None
    #: set only on a kept answer served past its lifetime: when it was fetched (Unix time)
    as_of: float | None = None
    #: the platform's own status word when `status` is OTHER
    status_word: str = ""
    #: the kind of listing the link showed (`ListingRef.kind`), kept for the listing's key
    link_kind: str | None = None

    @property
    def ref(self) -> ListingRef:
        return ListingRef(self.platform, self.listing_id, self.city_id, self.link_kind)

    def fact(self, key: str) -> str | None:
        for fact_key, _label, value in self.facts:
            if fact_key == key:
                return value
        return None


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    """Everything Aihuishou needs to price one device (values as the platform names them)."""

    device_type: str  # 手机 / 平板 / 笔记本
    brand: str  # 苹果, 华为, ...
    model: str  # iPhone 14 Pro
    storage: str  # 256GB
    condition: str  # 全新 / 99新 / 95新 / 九成新 / 八成新 / 七成新及以下
    function_status: str = "正常"
    ram: str | None = None
    repair_history: str | None = None
    purchase_channel: str | None = None

    @property
    def key(self) -> str:
        parts = (
            self.device_type,
            self.brand,
            self.model,
            self.storage,
            self.condition,
            self.function_status,
            self.ram or "",
            self.repair_history or "",
            self.purchase_channel or "",
        )
        return "aihuishou:" + "|".join(parts)


@dataclass(frozen=True, slots=True)
class RecycleOption:
    kind: str  # the platform's words: 上门 / 到店 / 邮寄
    time_window: str | None = None  # door-to-door: "10:00-12:00"
    store_distance_km: Decimal | None = None  # in store


@dataclass(frozen=True, slots=True)
class Quote:
    request: QuoteRequest
    base_price: Decimal
    condition_discount: Decimal
    function_deduction: Decimal
    market_coefficient: Decimal
    final_price: Decimal
    recycle_options: tuple[RecycleOption, ...] = ()
    valid_until: str | None = None  # platform text, UTC+8 'YYYY-MM-DD HH:MM:SS'
    device_id: str | None = None
    spec: str | None = None
    quality_check: tuple[str, ...] = field(default_factory=tuple)
    #: set only on a kept answer served past its lifetime: when it was fetched (Unix time)
    as_of: float | None = None
    #: (field, our value the platform refused, the seed's value quoted instead); see
    #: `clients.aihuishou.seed_retry`
    substituted: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class AnjukeUser:
    user_id: str
    name: str | None = None
    phone: str | None = None
    email: str | None = None


# -- what a buyer asks next: the market around an item, and what people say of a house ----


@dataclass(frozen=True, slots=True)
class SameItem:
    """One of Xianyu's `same_items`: the same item on sale by someone else (seed 002)."""

    item_id: str
    price: Decimal
    seller: str = ""


@dataclass(frozen=True, slots=True)
class Sale:
    """One of Xianyu's `trade_record` entries: when this item sold, and for how much."""

    when: float  # Unix time
    price: Decimal


@dataclass(frozen=True, slots=True)
class ItemMarket:
    """An item's asking price beside the same items on sale and its past sales.

    `same_items` / `trade_record` are None when they were not asked for (the tier does
    not allow them) or the platform left them out; an empty tuple means it answered none.
    """

    #: the item itself, from the same answer (title, price, status, condition, params)
    listing: Listing
    same_items: tuple[SameItem, ...] | None = None
    trade_record: tuple[Sale, ...] | None = None
    #: the `fields` asked for, exactly as sent
    fields: str = ""
    as_of: float | None = None


@dataclass(frozen=True, slots=True)
class Review:
    """One entry of Anjuke's `evaluate_list` (评分 + 评语 + 时间, seed 000), as written."""

    rating: Decimal | None
    comment: str
    date: str  # the platform's own date text, `YYYY-MM-DD` when it gives a time


@dataclass(frozen=True, slots=True)
class HouseReviews:
    house_id: str
    reviews: tuple[Review, ...]  # newest first
    as_of: float | None = None
