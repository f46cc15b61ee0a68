"""Fair-price summaries and the readings of seed 002's `same_items` / `trade_record` and
seed 000's `evaluate_list`: the seeds name what the entries hold (同款 item_id、价格、卖家信息;
成交时间、成交价格; 评分 + 评语 + 时间), not their spelling, so every plausible one is read."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clients.anjuke import parse_reviews
from clients.models import Sale, SameItem
from clients.privacy import mask_personal_data
from clients.xianyu import market_fields, parse_same_items, parse_trade_record
from clock import CHINA_TZ
from deals.fair_price import Standing, on_sale, past_sales

OWN = "712345678901"
NOW = datetime(2026, 12, 7, 12, tzinfo=CHINA_TZ).timestamp()


def same(*prices: int) -> tuple[SameItem, ...]:
    return tuple(SameItem(str(800_000_000_000 + n), Decimal(p), "s") for n, p in enumerate(prices))


def test_where_the_asking_price_stands_among_the_same_items() -> None:
    summary = on_sale(Decimal(5299), same(4899, 4999, 5050, 5100, 5199, 5250, 5350, 5399))
    assert summary is not None
    assert (summary.count, summary.lowest, summary.median) == (8, Decimal(4899), Decimal("5149.5"))
    assert summary.cheaper == 6 and summary.standing is Standing.ABOVE
    assert summary.from_median == Decimal("149.5")
    assert [i.price for i in summary.cheapest] == [4899, 4999, 5050]


@pytest.mark.parametrize(
    ("asking", "standing"),
    [
        (100, Standing.CHEAPEST),
        (400, Standing.DEAREST),
        (200, Standing.AT),
        (150, Standing.BELOW),  # as low as the lowest, not under it
        (250, Standing.ABOVE),
    ],
)
def test_standing_words(asking: int, standing: Standing) -> None:
    summary = on_sale(Decimal(asking), same(150, 200, 250))
    assert summary is not None and summary.standing is standing


def test_no_same_items_is_no_summary_not_a_zero() -> None:
    assert on_sale(Decimal(100), ()) is None
    assert past_sales((), NOW) is None


def test_past_sales_this_month_and_before() -> None:
    sales = tuple(
        Sale(NOW - days * 86400, Decimal(p)) for days, p in ((45, 4800), (3, 4600), (18, 4100))
    )
    summary = past_sales(sales, NOW)
    assert summary is not None
    assert (summary.count, summary.low, summary.high) == (3, 4100, 4800)
    assert summary.latest.price == 4600
    assert (summary.recent_count, summary.recent_low, summary.recent_high) == (2, 4100, 4600)
    assert not summary.chartable  # fewer than 4 points: said in words only


@pytest.mark.parametrize(
    "entry",
    [
        {"item_id": "800000000001", "price": "4899.00", "seller_nick": "a"},
        {"itemId": "800000000001", "price": 4899, "seller_info": {"nick": "a"}},
        {"id": 800000000001, "item_price": "¥4899", "seller": {"seller_nick": "a"}},
        {"item_id": "800000000001", "price": "4899", "seller": "a"},
    ],
)
def test_same_items_in_every_plausible_spelling(entry: dict[str, Any]) -> None:
    assert parse_same_items([entry], OWN) == (SameItem("800000000001", Decimal(4899), "a"),)
    assert parse_same_items({"same_item": [entry]}, OWN) == parse_same_items([entry], OWN)


def test_same_items_leave_out_the_item_itself_duplicates_and_entries_without_a_price() -> None:
    entries = [
        {"item_id": OWN, "price": "1"},
        {"item_id": "800000000001", "price": "10"},
        {"item_id": "800000000001", "price": "11"},
        {"item_id": "800000000002"},
        {"item_id": "not-an-id", "price": "5"},
        {"item_id": "800000000003", "price": "0"},
    ]
    assert [i.item_id for i in parse_same_items(entries, OWN)] == ["800000000001"]


@pytest.mark.parametrize(
    "entry",
    [
        {"trade_time": 1796000000000, "trade_price": "4600.00"},
        {"deal_time": "1796000000", "deal_price": 4600},
        {
            "time": datetime.fromtimestamp(1796000000, CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S"),
            "price": "4600",
        },
        {
            "成交时间": datetime.fromtimestamp(1796000000, CHINA_TZ).strftime("%Y-%m-%d %H:%M"),
            "成交价格": "¥4600",
        },
    ],
)
def test_trade_records_in_every_plausible_spelling(entry: dict[str, Any]) -> None:
    [sale] = parse_trade_record([entry])
    assert sale.price == Decimal(4600)
    assert abs(sale.when - 1796000000) < 60


def test_tiers_ask_only_for_what_the_seed_gives_them() -> None:
    assert market_fields("personal") == ()
    assert market_fields("enterprise_basic") == ("same_items", "trade_record")
    assert market_fields("enterprise_advanced") == ("same_items", "trade_record")
    assert market_fields(None) == ()


@given(
    st.recursive(
        st.none() | st.integers() | st.text(max_size=20),
        lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
        max_leaves=20,
    )
)
def test_hostile_market_and_review_answers_never_crash(value: Any) -> None:
    parse_same_items(value, OWN)
    parse_trade_record(value)
    parse_reviews(value)


@pytest.mark.parametrize(
    "entry",
    [
        {"score": 4.5, "content": "好", "time": "2026-01-10"},
        {"rating": "4.5", "comment": "好", "date": "2026-01-10"},
        {"star": 4.5, "text": "好", "create_time": 1768003200},
    ],
)
def test_reviews_in_every_plausible_spelling(entry: dict[str, Any]) -> None:
    [review] = parse_reviews([entry])
    assert (review.rating, review.comment, review.date) == (Decimal("4.5"), "好", "2026-01-10")


def test_reviews_come_newest_first() -> None:
    reviews = parse_reviews(
        [{"score": 1, "content": d, "time": d} for d in ("2025-01-02", "2026-03-01", "2025-12-31")]
    )
    assert [r.date for r in reviews] == ["2026-03-01", "2025-12-31", "2025-01-02"]


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("call 13912345678 now", "call 139****5678 now"),
        ("+86 139 1234 5678", "+86 139****5678"),
        ("邮箱 wang.li@example.com", "邮箱 ***@example.com"),
        ("学区不错", "学区不错"),
    ],
)
def test_personal_data_in_reviews_is_masked(written: str, shown: str) -> None:
    assert mask_personal_data(written) == shown
