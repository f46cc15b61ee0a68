"""Linked accounts on disk: migration 10 (proven links, one owner per account)."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import database
from storage.accounts import AccountStore, AccountTaken
from storage.database import Database


async def test_links_made_before_proof_survive_the_migration_unproven(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bot.sqlite3"
    with monkeypatch.context() as m:
        m.setattr(database, "MIGRATIONS", database.MIGRATIONS[:9])
        old = Database(path)
        for user_id in (1, 2):  # two users typed the same phone: both linked, neither proven
            old.db.execute(
                "INSERT INTO linked_accounts (user_id, anjuke_user_id, phone, linked_at) "
                "VALUES (?, '17895896', '13988888888', 0)",
                [user_id],
            )
        old.close()
    db = Database(path)
    try:
        store = AccountStore(db)
        first, second = await store.get(1), await store.get(2)
        assert first is not None and second is not None
        assert not first.proven and not second.proven
        assert await store.owner("17895896") is None
        proven = await store.link(1, "17895896", phone="13988888888")
        assert proven.proven and await store.owner("17895896") == 1
        with pytest.raises(AccountTaken):
            await store.link(2, "17895896", phone="13988888888")
        still = await store.get(2)
        assert still is not None and not still.proven  # the refused link changed nothing
    finally:
        db.close()
