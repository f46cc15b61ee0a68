"""An item's asking price against the same items on sale and its past sales (Xianyu).

Only what the platform answered is summed up: a list the tier does not allow is not a
list of none, and nothing here guesses a missing figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from statistics import median

from clients.models import Sale, SameItem

#: the cheapest few same items shown, each with its own card
CHEAPEST_SHOWN = 3
#: past sales are charted from this many points (fewer say more as words)
CHART_MIN_POINTS = 4
#: "this month": the sales of the last 30 days
RECENT_SECONDS = 30 * 86400


class Standing(StrEnum):
    CHEAPEST = "cheapest"  # under every same item
    BELOW = "below"  # under the median
    AT = "at"  # the median itself
    ABOVE = "above"  # over the median
    DEAREST = "dearest"  # over every same item


@dataclass(frozen=True, slots=True)
class OnSale:
    count: int
    lowest: Decimal
    median: Decimal
    highest: Decimal
    #: how many same items ask less than this one
    cheaper: int
    standing: Standing
    #: asking price − median (negative: under the median)
    from_median: Decimal
    cheapest: tuple[SameItem, ...]


@dataclass(frozen=True, slots=True)
class PastSales:
    count: int
    low: Decimal
    high: Decimal
    latest: Sale
    #: the sales of the last 30 days (None when there were none)
    recent_count: int
    recent_low: Decimal | None
    recent_high: Decimal | None
    sales: tuple[Sale, ...]

    @property
    def chartable(self) -> bool:
        return self.count >= CHART_MIN_POINTS


def on_sale(asking: Decimal, same_items: tuple[SameItem, ...]) -> OnSale | None:
    """Where `asking` stands among the same items on sale; None when there are none."""
    prices = sorted(item.price for item in same_items)
    if not prices:
        return None
    middle = Decimal(median(prices))
    cheaper = sum(1 for p in prices if p < asking)
    if asking < prices[0]:
        standing = Standing.CHEAPEST
    elif asking > prices[-1]:
        standing = Standing.DEAREST
    elif asking < middle:
        standing = Standing.BELOW
    elif asking > middle:
        standing = Standing.ABOVE
    else:
        standing = Standing.AT
    cheapest = tuple(sorted(same_items, key=lambda i: (i.price, i.item_id))[:CHEAPEST_SHOWN])
    return OnSale(
        count=len(prices),
        lowest=prices[0],
        median=middle,
        highest=prices[-1],
        cheaper=cheaper,
        standing=standing,
        from_median=asking - middle,
        cheapest=cheapest,
    )


def past_sales(sales: tuple[Sale, ...], now: float) -> PastSales | None:
    """The item's past sales in a few figures; None when there are none."""
    if not sales:
        return None
    ordered = tuple(sorted(sales, key=lambda s: s.when))
    prices = [s.price for s in ordered]
    recent = [s.price for s in ordered if now - s.when <= RECENT_SECONDS]
    return PastSales(
        count=len(ordered),
        low=min(prices),
        high=max(prices),
        latest=ordered[-1],
        recent_count=len(recent),
        recent_low=min(recent) if recent else None,
        recent_high=max(recent) if recent else None,
        sales=ordered,
    )
