"""Storage of watches, history, alerts and linked accounts: plain tables, atomic writes."""

from __future__ import annotations

import sqlite3
from decimal import Decimal as D
from pathlib import Path

import pytest

from clients.models import Listing, ListingKind, ListingStatus, PriceUnit
from clock import FakeClock
from storage.accounts import AccountStore, mask_email, mask_name, mask_phone
from storage.alerts import AlertStore
from storage.database import Database
from storage.users import UserStore
from storage.watches import (
    AlertDraft,
    Decision,
    NewBase,
    Watch,
    WatchLimitReached,
    WatchStore,
)


def make_listing(
    listing_id: str = "712345678901",
    price: str | None = "100",
    status: ListingStatus = ListingStatus.ON_SALE,
    title: str = "Phone",
) -> Listing:
    return Listing(
        platform="xianyu",
        listing_id=listing_id,
        url=f"https://www.goofish.com/item?id={listing_id}",
        title=title,
        kind=ListingKind.ITEM,
        price=D(price) if price else None,
        price_unit=PriceUnit.YUAN,
        status=status,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def database(tmp_path: Path, clock: FakeClock) -> Database:
    db = Database(tmp_path / "bot.sqlite3", clock)
    yield db  # type: ignore[misc]
    db.close()


@pytest.fixture
def subs(database: Database) -> WatchStore:
    return WatchStore(database)


async def watch(
    subs: WatchStore,
    user_id: int,
    listing: Listing | None = None,
    rule: str = "any_drop",
    value: D | None = None,
    limit: int = 50,
) -> tuple[Watch, bool]:
    listing = listing or make_listing()
    base = None if rule == "target" else listing.price
    return await subs.add(
        user_id=user_id,
        chat_id=user_id,
        listing=listing,
        rule=rule,
        rule_value=value,
        base_price=base,
        max_per_user=limit,
    )


def drop_to(price: str):  # type: ignore[no-untyped-def]
    """A decide() that alerts every watch whose base is above `price`."""

    def decide(sub: Watch) -> Decision:
        if sub.base_price is not None and D(price) < sub.base_price:
            key = f"{sub.id}:v{sub.base_version}:price_drop:{price}:on_sale"
            return Decision(
                NewBase(D(price), "on_sale", sub.base_version + 1),
                AlertDraft(key, ("price_drop",), sub.base_price, D(price), "on_sale"),
            )
        return Decision(NewBase(sub.base_price, sub.base_status, sub.base_version))

    return decide


def test_migrations_create_readable_tables_in_wal_mode(database: Database) -> None:
    tables = set(database.db.table_names())
    assert {
        "watched_listings",
        "price_history",
        "watches",
        "alerts",
        "linked_accounts",
        "users",
    } <= tables
    assert database.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert database.schema_version >= 4


def test_reopening_the_file_applies_no_migration_twice(tmp_path: Path, clock: FakeClock) -> None:
    Database(tmp_path / "a.sqlite3", clock).close()
    again = Database(tmp_path / "a.sqlite3", clock)
    assert again.migrate() == []
    again.close()


async def test_watching_stores_the_listing_the_rule_and_the_base(subs: WatchStore) -> None:
    sub, created = await watch(subs, 1, rule="percent", value=D("5"))
    assert created
    assert (sub.rule, sub.rule_value, sub.watched_price, sub.base_price, sub.base_status) == (
        "percent",
        D("5"),
        D("100"),
        D("100"),
        "on_sale",
    )
    listing = await subs.listing(sub.ref_key)
    assert listing is not None and listing.price == D("100") and listing.last_checked_at is None
    assert [p.price for p in await subs.history(sub.ref_key)] == [D("100")]


async def test_watching_again_changes_the_rule_instead_of_duplicating(
    subs: WatchStore,
) -> None:
    first, _ = await watch(subs, 1)
    second, created = await watch(subs, 1, rule="target", value=D("80"))
    assert not created and second.id == first.id
    assert second.rule == "target" and second.base_price is None
    assert await subs.count_for_user(1) == 1


async def test_the_cap_refuses_a_new_watch_but_not_a_rule_change(subs: WatchStore) -> None:
    await watch(subs, 1, make_listing("712345678901"), limit=2)
    await watch(subs, 1, make_listing("712345678902"), limit=2)
    with pytest.raises(WatchLimitReached):
        await watch(subs, 1, make_listing("712345678903"), limit=2)
    await watch(subs, 1, make_listing("712345678902"), rule="percent", value=D("3"), limit=2)
    assert await subs.count_for_user(1) == 2
    assert await subs.listing("xianyu:712345678903") is None  # the refused watch left nothing


async def test_a_check_records_alerts_and_bases_atomically(
    subs: WatchStore, database: Database, clock: FakeClock
) -> None:
    a, _ = await watch(subs, 1)
    _b, _ = await watch(subs, 2)
    result = await subs.record_check(
        a.ref_key, make_listing(price="90"), "on_sale", clock.time(), drop_to("90")
    )
    assert result.alerts_created == 2
    assert (await subs.get(a.id)).base_price == D("90")  # type: ignore[union-attr]
    pending = await AlertStore(database).pending()
    assert {(p.user_id, p.old_price, p.new_price, p.lowest_price) for p in pending} == {
        (1, D("100"), D("90"), D("90")),
        (2, D("100"), D("90"), D("90")),
    }
    assert result.listing.last_checked_at == clock.time()


async def test_a_crash_inside_a_check_leaves_nothing_half_written(
    subs: WatchStore, database: Database, clock: FakeClock
) -> None:
    a, _ = await watch(subs, 1)
    await watch(subs, 2)
    calls = []

    def crash_on_second(sub: Watch) -> Decision:
        calls.append(sub.id)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return drop_to("90")(sub)

    with pytest.raises(RuntimeError):
        await subs.record_check(
            a.ref_key, make_listing(price="90"), "on_sale", clock.time(), crash_on_second
        )
    assert await AlertStore(database).pending() == []
    assert (await subs.get(a.id)).base_price == D("100")  # type: ignore[union-attr]
    assert (await subs.listing(a.ref_key)).price == D("100")  # type: ignore[union-attr]


async def test_an_alert_key_is_recorded_only_once(
    subs: WatchStore, database: Database, clock: FakeClock
) -> None:
    a, _ = await watch(subs, 1)

    def same_change(sub: Watch) -> Decision:  # as a stale second evaluation would
        return Decision(
            NewBase(D("90"), "on_sale", 1),
            AlertDraft(
                f"{sub.id}:v0:price_drop:90:on_sale", ("price_drop",), D("100"), D("90"), "on_sale"
            ),
        )

    first = await subs.record_check(
        a.ref_key, make_listing(price="90"), "on_sale", 1.0, same_change
    )
    second = await subs.record_check(
        a.ref_key, make_listing(price="90"), "on_sale", 2.0, same_change
    )
    assert (first.alerts_created, second.alerts_created, second.duplicates) == (1, 0, 1)
    assert len(await AlertStore(database).pending()) == 1


async def test_history_keeps_one_row_per_stretch_of_equal_observations(
    subs: WatchStore, clock: FakeClock
) -> None:
    a, _ = await watch(subs, 1)
    keep = drop_to("0")
    for price, status in [
        ("100", "on_sale"),
        ("100", "on_sale"),
        ("90", "on_sale"),
        ("90", "sold"),
        ("90", "sold"),
    ]:
        clock.advance(300)
        listing = make_listing(price=price, status=ListingStatus(status))
        await subs.record_check(a.ref_key, listing, status, clock.time(), keep)
    history = await subs.history(a.ref_key)
    assert [(p.price, p.status, p.observations) for p in history] == [
        (D("100"), "on_sale", 3),
        (D("90"), "on_sale", 1),
        (D("90"), "sold", 2),
    ]
    assert history[0].last_observed_at - history[0].first_observed_at == 600


async def test_lowest_price_only_counts_on_sale_prices(subs: WatchStore) -> None:
    a, _ = await watch(subs, 1)
    keep = drop_to("0")
    await subs.record_check(
        a.ref_key, make_listing(price="50", status=ListingStatus.SOLD), "sold", 1.0, keep
    )
    await subs.record_check(a.ref_key, make_listing(price="95"), "on_sale", 2.0, keep)
    assert (await subs.listing(a.ref_key)).lowest_price == D("95")  # type: ignore[union-attr]


async def test_a_removed_listing_keeps_its_last_price(subs: WatchStore) -> None:
    a, _ = await watch(subs, 1)
    await subs.record_check(a.ref_key, None, "taken_down", 1.0, drop_to("0"))
    listing = await subs.listing(a.ref_key)
    assert listing is not None and (listing.status, listing.price) == ("taken_down", D("100"))


async def test_only_the_owner_can_unwatch(subs: WatchStore) -> None:
    a, _ = await watch(subs, 1)
    assert await subs.unwatch(a.id, 2) is None
    assert await subs.get(a.id) is not None
    assert await subs.owned(a.id, 2) is None and await subs.owned(a.id, 1) is not None
    assert await subs.unwatch(a.id, 1) is not None
    assert await subs.get(a.id) is None
    assert await subs.listing(a.ref_key) is None  # nobody watches it: snapshot and history go


async def test_a_listing_stays_while_someone_else_watches_it(subs: WatchStore) -> None:
    a, _ = await watch(subs, 1)
    await watch(subs, 2)
    await subs.unwatch(a.id, 1)
    assert await subs.listing(a.ref_key) is not None and await subs.history(a.ref_key)


async def test_delete_user_removes_their_watches_and_alerts_only(
    subs: WatchStore, database: Database
) -> None:
    a, _ = await watch(subs, 1)
    await watch(subs, 1, make_listing("712345678999"))
    await watch(subs, 2)
    await subs.record_check(a.ref_key, make_listing(price="90"), "on_sale", 1.0, drop_to("90"))
    assert await subs.delete_user(1) == (2, 1)
    assert await subs.count_for_user(1) == 0 and await subs.count_for_user(2) == 1
    assert [p.user_id for p in await AlertStore(database).pending()] == [2]
    assert await subs.listing("xianyu:712345678999") is None


async def test_paused_chats_are_not_polled_until_they_come_back(subs: WatchStore) -> None:
    await watch(subs, 1)
    assert await subs.watched_counts() == {"xianyu": 1}
    assert await subs.pause_chat(1, "blocked") == 1
    assert await subs.watched_counts() == {}
    assert await subs.stalest("xianyu", 10) == []
    assert await subs.resume_chat(1) == 1
    assert [entry.ref_key for entry in await subs.stalest("xianyu", 10)] == ["xianyu:712345678901"]


async def test_an_update_from_a_chat_with_nothing_paused_reads_nothing(
    database: Database, subs: WatchStore
) -> None:
    """resume_chat runs on every update (handlers/alerts.py): after one load of the paused
    chats, a chat with nothing paused costs no database round trip (bench/chat.py)."""
    reads = 0
    read = database.read

    async def counted(work):  # type: ignore[no-untyped-def]
        nonlocal reads
        reads += 1
        return await read(work)

    database.read = counted  # type: ignore[method-assign]
    await watch(subs, 1)
    await watch(subs, 2)
    assert await subs.pause_chat(1, "blocked") == 1
    assert await subs.resume_chat(2) == 0
    loaded = reads
    for _ in range(5):
        assert await subs.resume_chat(2) == 0
    assert reads == loaded
    assert await subs.resume_chat(1) == 1  # the paused chat is still found, and resumed
    assert await subs.resume_chat(1) == 0
    assert [e.ref_key for e in await subs.stalest("xianyu", 10)] == ["xianyu:712345678901"]


async def test_a_chat_paused_before_the_process_started_resumes(
    database: Database, subs: WatchStore
) -> None:
    await watch(subs, 1)
    assert await subs.pause_chat(1, "blocked") == 1
    fresh = WatchStore(database)  # a restart: nothing in memory
    assert await fresh.resume_chat(2) == 0
    assert await fresh.resume_chat(1) == 1
    assert await fresh.watched_counts() == {"xianyu": 1}


async def test_a_chat_paused_after_its_check_still_resumes(subs: WatchStore) -> None:
    await watch(subs, 1)
    assert await subs.resume_chat(1) == 0  # known: nothing paused
    assert await subs.pause_chat(1, "blocked") == 1
    assert await subs.resume_chat(1) == 1
    assert await subs.move_chat(1, -100) == 1
    assert await subs.pause_chat(-100, "blocked") == 1
    assert await subs.resume_chat(-100) == 1


async def test_stalest_puts_never_checked_first_then_the_least_recent(
    subs: WatchStore,
) -> None:
    for n in range(4):
        await watch(subs, 1, make_listing(f"71234567890{n}"))
    keep = drop_to("0")
    await subs.record_check(
        "xianyu:712345678902", make_listing("712345678902"), "on_sale", 20.0, keep
    )
    await subs.record_check(
        "xianyu:712345678900", make_listing("712345678900"), "on_sale", 10.0, keep
    )
    await subs.record_failure("xianyu:712345678903", "transient", 30.0)
    order = [entry.listing_id for entry in await subs.stalest("xianyu", 10)]
    assert order == ["712345678901", "712345678900", "712345678902", "712345678903"]
    assert len(await subs.stalest("xianyu", 2)) == 2


async def test_users_list_is_numbered_in_watch_order(subs: WatchStore, clock: FakeClock) -> None:
    for n in (3, 1, 2):
        clock.advance(1)
        await watch(subs, 1, make_listing(f"71234567890{n}"))
    entries = await subs.for_user(1)
    assert [(e.number, e.listing.listing_id) for e in entries] == [
        (1, "712345678903"),
        (2, "712345678901"),
        (3, "712345678902"),
    ]


async def test_alert_delivery_states(subs: WatchStore, database: Database) -> None:
    a, _ = await watch(subs, 1)
    await watch(subs, 2)
    await subs.record_check(a.ref_key, make_listing(price="90"), "on_sale", 1.0, drop_to("90"))
    alerts = AlertStore(database)
    first, second = await alerts.pending()
    assert await alerts.mark_sent(first.id) and not await alerts.mark_sent(first.id)
    assert await alerts.note_attempt(second.id, "TimedOut") == 1
    assert [p.id for p in await alerts.pending()] == [second.id]
    await alerts.mark_failed(second.id, "bad_request")
    assert await alerts.pending() == []
    counts = await alerts.counts()
    assert (counts.sent, counts.failed, counts.pending) == (1, 1, 0)


async def test_linked_account_is_stored_masked_when_shown_and_deleted(database: Database) -> None:
    accounts = AccountStore(database)
    linked = await accounts.link(
        7, "17895896", name="ken", phone="13988888888", email="ken@anjuke.com"
    )
    assert "13988888888" not in repr(linked) and "ken@anjuke.com" not in repr(linked)
    got = await accounts.get(7)
    assert got is not None and got.phone == "13988888888" and got.anjuke_user_id == "17895896"
    await accounts.link(7, "17895001", email="xiaoming@example.com", registered_by_bot=True)
    got = await accounts.get(7)
    assert got is not None and got.phone is None and got.registered_by_bot
    assert (
        await accounts.delete(7) and await accounts.get(7) is None and not await accounts.delete(7)
    )


async def test_personal_data_lives_only_in_the_linked_accounts_table(
    database: Database, subs: WatchStore
) -> None:
    await AccountStore(database).link(
        1, "17895896", name="ken", phone="13988888888", email="ken@anjuke.com"
    )
    UserStore(database).touch(1, "en")
    await watch(subs, 1)
    conn = sqlite3.connect(str(database.path))
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        if table == "linked_accounts":
            continue
        dump = " ".join(str(row) for row in conn.execute(f"SELECT * FROM {table}"))
        assert "13988888888" not in dump and "ken@anjuke.com" not in dump, table
    conn.close()


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("13988888888", "139****8888"), ("+8613988888888", "+86*******8888"), ("12345", "***45")],
)
def test_phone_masking(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_email_and_name_masking() -> None:
    assert mask_email("ken@anjuke.com") == "k****@anjuke.com"
    assert mask_email("") is None
    assert mask_name("王小明") == "王**"
    assert mask_name("<b>Lily</b> & 🏠") == "<****"
