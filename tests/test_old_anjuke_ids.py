"""Watches stored under the old made-up Anjuke IDs (`L…`, `SP…`, `XZL…`, before 92381f6)
are not lost: migration 10 moves each to the page's own ID and kind, where it is polled
again; one whose page ID cannot be worked out is retired, and its owner told once,
in their language, never twice across restarts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import database
from tests.test_alerts_e2e import world

OWNER, TWIN, LOST = 5001, 5002, 5003


def old_database(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database as the bot left it before migration 10, with watches under old IDs."""
    with monkeypatch.context() as patch:
        patch.setattr(database, "MIGRATIONS", database.MIGRATIONS[:9])
        old = database.Database(path)
    listings = [
        # old key, old ID, title, unit, price
        ("anjuke:L245678", "L245678", "滨江·云樾府 新品加推", "wan_yuan", "9999"),
        ("anjuke:SP3187906783", "SP3187906783", "春熙路 临街商铺 出售", "wan_yuan", "9999"),
        ("anjuke:XZL3166544960", "XZL3166544960", "国贸三期 整层出租", "yuan_per_month", "999999"),
        # digits no Anjuke page has: no page ID can be worked out
        ("anjuke:L12", "L12", "望京 <某楼盘> & 新房", "wan_yuan", "500"),
    ]
    for key, listing_id, title, unit, price in listings:
        old.db.execute(
            "INSERT INTO watched_listings (ref_key, platform, listing_id, title, url, price_unit, "
            "price, status, first_seen_at, last_error, errors) "
            "VALUES (?, 'anjuke', ?, ?, ?, ?, ?, 'on_sale', 0, 'bad_request', 7)",
            [key, listing_id, title, f"https://m.anjuke.com/x/{listing_id}/", unit, price],
        )
        old.db.execute(
            "INSERT INTO price_history (ref_key, price, status, first_observed_at, "
            "last_observed_at) VALUES (?, ?, 'on_sale', 0, 0)",
            [key, price],
        )
    watches = [
        (OWNER, "anjuke:L245678", "9999"),
        (OWNER, "anjuke:SP3187906783", "9999"),
        (OWNER, "anjuke:XZL3166544960", "999999"),
        (TWIN, "anjuke:XZL3166544960", "999999"),
        (LOST, "anjuke:L12", "500"),
        (OWNER, "anjuke:L12", "500"),
    ]
    for user_id, key, price in watches:
        old.db.execute(
            "INSERT INTO subscriptions (user_id, chat_id, ref_key, rule, watched_price, "
            "base_price, base_status, created_at, updated_at) "
            "VALUES (?, ?, ?, 'any_drop', ?, ?, 'on_sale', 0, 0)",
            [user_id, user_id, key, price, price],
        )
    # TWIN already watches the office under its page ID too: one watch is kept, not two
    old.db.execute(
        "INSERT INTO watched_listings (ref_key, platform, listing_id, title, url, price_unit, "
        "price, status, first_seen_at) VALUES ('anjuke:3166544960@office', 'anjuke', "
        "'3166544960', '国贸三期', 'https://m.anjuke.com/xzl/3166544960/', 'yuan_per_month', "
        "'999999', 'on_sale', 0)"
    )
    old.db.execute(
        "INSERT INTO subscriptions (user_id, chat_id, ref_key, rule, rule_value, watched_price, "
        "base_price, base_status, created_at, updated_at) VALUES (?, ?, "
        "'anjuke:3166544960@office', 'percent', '5', '999999', '999999', 'on_sale', 0, 0)",
        [TWIN, TWIN],
    )
    old.close()


def rows(path: Path, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    db = database.Database(path)
    try:
        return db.db.execute(sql).fetchall()
    finally:
        db.close()


async def test_old_ids_move_to_the_pages_own_and_are_polled_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bot.sqlite3"
    old_database(path, monkeypatch)
    async with world(tmp_path) as w:
        owner = w.person(OWNER)
        w.person(TWIN)
        async with w.running():
            subs = await w.services.database.fetchall(
                "SELECT user_id, ref_key, rule FROM watches ORDER BY user_id, ref_key"
            )
            assert subs == [
                (OWNER, "anjuke:245678@new_home", "any_drop"),
                (OWNER, "anjuke:3166544960@office", "any_drop"),
                (OWNER, "anjuke:3187906783@shop", "any_drop"),
                (TWIN, "anjuke:3166544960@office", "percent"),  # the newer watch, merged
            ]
            moved = await w.services.database.fetchall(
                "SELECT ref_key, listing_id, url, errors FROM watched_listings ORDER BY ref_key"
            )
            assert moved == [
                ("anjuke:245678@new_home", "245678", "https://m.anjuke.com/loupan/245678/", 0),
                (
                    "anjuke:3166544960@office",
                    "3166544960",
                    "https://m.anjuke.com/xzl/3166544960/",
                    0,
                ),
                ("anjuke:3187906783@shop", "3187906783", "https://m.anjuke.com/sp/3187906783/", 0),
            ]
            history = await w.services.database.fetchall(
                "SELECT ref_key, price FROM price_history ORDER BY ref_key"
            )
            assert ("anjuke:245678@new_home", "9999") in history
            assert not any(
                key.startswith(("anjuke:L", "anjuke:SP", "anjuke:XZL")) for key, _ in history
            )

            # the next cycle asks Anjuke for the page IDs, and their drops alert the owner
            await w.poll()
            alerts = w.alerts_to(OWNER)
            assert len(alerts) == 3, [a.visible for a in alerts]
            assert all("Price drop" in a.visible for a in alerts)
            checked = await w.services.database.fetchall(
                "SELECT ref_key FROM watched_listings WHERE last_seen_at IS NOT NULL"
            )
            assert len(checked) == 3
            (listing,) = await w.say(owner, "/watches")
            assert "(3 of " in listing.visible  # all three kept, none lost


async def test_an_id_that_cannot_be_worked_out_is_told_to_its_owners_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bot.sqlite3"
    old_database(path, monkeypatch)
    with monkeypatch.context() as patch:  # LOST reads Chinese
        patch.setattr(database, "MIGRATIONS", database.MIGRATIONS[:9])
        db = database.Database(path)
        db.db.execute(
            "INSERT INTO users (user_id, language, created_at, updated_at) VALUES (?, 'zh', 0, 0)",
            [LOST],
        )
        db.close()
    async with world(tmp_path) as w:
        w.person(OWNER)
        w.person(LOST, "zh-hans")
        async with w.running():
            told = await w.emulator.wait_for_messages(LOST, 1, timeout=10)
            await w.emulator.wait_for_messages(OWNER, 1, timeout=10)
            (zh,) = told
            assert "我不得不停止关注" in zh.visible and "L12" in zh.visible
            assert "望京 <某楼盘> & 新房" in zh.visible  # escaped for HTML, shown as written
            [en] = w.messages(OWNER)
            assert "I had to stop watching" in en.visible and "/watch" in en.visible
            left = await w.services.database.fetchall(
                "SELECT COUNT(*) FROM watches WHERE ref_key = 'anjuke:L12'"
            )
            assert left == [(0,)]
            await w.poll()  # another delivery: nothing more
        async with w.running():  # a restart: nothing more either
            await w.poll()
            (reply,) = await w.say(w.person(LOST), "/watches")
        assert len(w.messages(LOST)) == 2 and reply is w.messages(LOST)[-1]
        assert len([m for m in w.messages(OWNER) if "stop watching" in m.visible]) == 1
    told_at = rows(
        path, "SELECT user_id, told_at IS NOT NULL FROM retired_watches ORDER BY user_id"
    )
    assert told_at == [(OWNER, 1), (LOST, 1)]


async def test_forget_deletes_the_notices_of_retired_watches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_database(tmp_path / "bot.sqlite3", monkeypatch)
    async with world(tmp_path) as w:
        w.person(OWNER)
        w.person(LOST)
        async with w.running():
            await w.emulator.wait_for_messages(LOST, 1, timeout=10)
            await w.services.watches.delete_user(LOST)
            left = await w.services.database.fetchall(
                "SELECT user_id FROM retired_watches ORDER BY user_id"
            )
            assert left == [(OWNER,)]


def test_a_database_without_old_ids_is_left_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bot.sqlite3"
    with monkeypatch.context() as patch:
        patch.setattr(database, "MIGRATIONS", database.MIGRATIONS[:9])
        old = database.Database(path)
    for key, listing_id in (
        ("anjuke:A1234567890", "A1234567890"),
        ("anjuke:245678@new_home", "245678"),
    ):
        old.db.execute(
            "INSERT INTO watched_listings (ref_key, platform, listing_id, title, url, price_unit, "
            "status, first_seen_at) VALUES (?, 'anjuke', ?, 't', 'u', 'wan_yuan', 'on_sale', 0)",
            [key, listing_id],
        )
        old.db.execute(
            "INSERT INTO subscriptions (user_id, chat_id, ref_key, rule, base_status, created_at, "
            "updated_at) VALUES (1, 1, ?, 'any_drop', 'on_sale', 0, 0)",
            [key],
        )
    # the columns as of migration 9 (later steps may add columns of their own)
    columns = ", ".join(c[1] for c in old.db.execute("PRAGMA table_info(watched_listings)"))
    before = old.db.execute(f"SELECT {columns} FROM watched_listings ORDER BY ref_key").fetchall()
    old.close()
    assert rows(path, f"SELECT {columns} FROM watched_listings ORDER BY ref_key") == before
    assert rows(path, "SELECT ref_key FROM watches ORDER BY ref_key") == [
        ("anjuke:245678@new_home",),
        ("anjuke:A1234567890",),
    ]
    assert rows(path, "SELECT COUNT(*) FROM retired_watches") == [(0,)]
