"""The per-user budget sizes documented in docs/gateway.md ("Fair shares"), from each tier's quota."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bot.config import SettingsError, load_settings
from clock import FakeClock
from gateway import CHAT_RESERVE
from gateway.budget import BudgetPolicy
from storage.budgets import BudgetStore
from storage.database import Database
from watching.poller import daily_checks_per_listing, watch_cap


@pytest.mark.parametrize(
    ("per_day", "budget"),
    [
        (50, 5),  # Anjuke personal: 20 % of 15 is 3, the floor is 5
        (500, 30),
        (5_000, 300),
        (100, 6),  # Xianyu personal, Aihuishou test
        (10_000, 600),
        (100_000, 6_000),
        (2_000, 120),  # Aihuishou commercial
        (None, 100),  # Beike: no daily number
        (3, 3),  # never more than the whole day
    ],
)
def test_a_users_day_is_a_share_of_the_chat_part_with_a_floor(
    per_day: int | None, budget: int
) -> None:
    assert BudgetPolicy().limit(per_day, CHAT_RESERVE) == budget


def test_settings_change_the_share_and_the_floor() -> None:
    assert BudgetPolicy(share=0.5, floor=1).limit(100, CHAT_RESERVE) == 15
    assert BudgetPolicy(share=0.01, floor=2).limit(100, CHAT_RESERVE) == 2


@pytest.mark.parametrize(
    ("background", "cap"), [(35, 8), (70, 17), (7_000, 50), (None, 50), (2, 1)]
)
def test_the_watch_cap_lets_each_watch_be_checked_four_times_a_day(
    background: int | None, cap: int
) -> None:
    assert watch_cap(max_per_user=50, background_per_day=background, min_checks=4) == cap


def test_checks_per_listing_are_bounded_by_the_cycle_and_the_rate() -> None:
    one_an_hour = daily_checks_per_listing(
        watched=1, background_per_day=70, per_second=1, interval=3600
    )
    assert one_an_hour == 24  # one check a cycle at most
    shared = daily_checks_per_listing(watched=2, background_per_day=70, per_second=1, interval=300)
    assert shared == 35
    by_rate = daily_checks_per_listing(
        watched=1_000, background_per_day=None, per_second=1, interval=300
    )
    assert by_rate == 150 * 288 / 1_000  # half the rate: 150 checks a cycle


BUDGET_SETTINGS = (
    "USER_DAILY_SHARE",
    "USER_DAILY_FLOOR",
    "USER_DAILY_UNMETERED",
    "USER_DAILY_SHORT_LINKS",
    "WATCH_MIN_CHECKS_PER_DAY",
    "ADMIN_IDS",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> pytest.MonkeyPatch:  # type: ignore[no-untyped-def]
    for name in BUDGET_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    return monkeypatch


def test_budget_settings_have_documented_defaults(clean_env: pytest.MonkeyPatch) -> None:
    s = load_settings(require_token=False)
    assert s.budget_policy() == BudgetPolicy()
    assert s.watch_min_checks_per_day == 4


def test_budget_settings_come_from_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    for name, value in {
        "USER_DAILY_SHARE": "0.5",
        "USER_DAILY_FLOOR": "2",
        "USER_DAILY_UNMETERED": "40",
        "USER_DAILY_SHORT_LINKS": "3",
        "ADMIN_IDS": "7",
    }.items():
        clean_env.setenv(name, value)
    policy = load_settings(require_token=False).budget_policy()
    assert policy == BudgetPolicy(
        share=0.5, floor=2, unmetered=40, short_links=3, admin_ids=frozenset({7})
    )


@pytest.mark.parametrize(("name", "value"), [("USER_DAILY_SHARE", "2"), ("USER_DAILY_FLOOR", "0")])
def test_a_bad_budget_setting_is_named(
    clean_env: pytest.MonkeyPatch, name: str, value: str
) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(SettingsError, match=rf"^{name}"):
        load_settings(require_token=False)


def test_a_restart_keeps_todays_spend_and_drops_older_days(tmp_path) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock(start=1_767_240_000.0)  # 2026-01-01 12:00 Beijing time
    database = Database(tmp_path / "bot.sqlite3", clock)
    database.db["user_budget_usage"].insert_all(
        [
            {"user_id": 1, "budget": "xianyu", "day": "2026-01-01", "used": 3},
            {"user_id": 1, "budget": "xianyu", "day": "2025-12-31", "used": 6},
            {"user_id": 1, "budget": "xianyu", "day": "2025-12-30", "used": 6},
            {"user_id": 2, "budget": "anjuke", "day": "2025-06-01", "used": 9},
        ]
    )
    store = BudgetStore(database)
    try:
        assert store.used(1, "xianyu", "2026-01-01") == 3
        assert store.used(1, "xianyu", "2025-12-31") == 6  # yesterday stays: clocks drift
        days = [row["day"] for row in database.db["user_budget_usage"].rows]
        assert sorted(days) == ["2025-12-31", "2026-01-01"]
    finally:
        database.close()


async def test_forgetting_a_user_drops_their_counts_and_no_queued_flush_writes_them_back(
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    clock = FakeClock(start=1_767_240_000.0)
    database = Database(tmp_path / "bot.sqlite3", clock)
    store = BudgetStore(database)
    day = "2026-01-01"
    assert store.take(1, "xianyu", day, 5) and store.take(1, "short_links", day, 5)
    assert store.take(2, "xianyu", day, 5)
    database.submit(lambda db: None).result()  # the first flush has landed
    go = threading.Event()
    database.submit(lambda db: go.wait(10))  # the writer is busy: a flush queues, not inline
    assert store.take(1, "xianyu", day, 5)  # marked again: a flush is queued, not yet run
    forgetting = asyncio.ensure_future(store.forget_user(1))
    await asyncio.sleep(0)  # its keys are dropped from memory; its delete queues
    go.set()
    assert await forgetting == 2
    assert store.used(1, "xianyu", day) == 0 and store.used(2, "xianyu", day) == 1
    database.close()  # every pending write lands
    reopened = Database(tmp_path / "bot.sqlite3", clock)
    try:
        rows = [(r["user_id"], r["budget"]) for r in reopened.db["user_budget_usage"].rows]
        assert rows == [(2, "xianyu")]
    finally:
        reopened.close()
