"""Groups: each chat has its own watches, and personal data stays in the private chat."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.texts import t
from storage import database
from storage.database import Database
from tests.conftest import BotEnv

ITEM_LINK = "https://www.goofish.com/item?id=712345678901"


def deep_link(env: BotEnv, payload: str) -> str:
    return f"https://t.me/{env.application.bot.username}?start={payload}"


async def test_a_watch_in_a_group_never_moves_the_private_watch(bot_env: BotEnv) -> None:
    user = bot_env.user(6001)
    group = bot_env.emulator.group_chat(-100601, "Flat hunters")
    await bot_env.say(user, f"/watch {ITEM_LINK} 5%")
    await bot_env.say(user, f"/watch {ITEM_LINK}", chat=group)
    subs = bot_env.services.watches
    chats = sorted((e.watch.chat_id, e.watch.rule) for e in await subs.for_user(user.id))
    assert chats == [(-100601, "any_drop"), (6001, "percent")]  # two watches, rules kept
    # in the group, /watches lists the group's watch only; /unwatch 1 there removes it only
    [listing] = await bot_env.say(user, "/watches", chat=group)
    assert listing.visible.count("iPhone") == 1
    await bot_env.say(user, "/unwatch 1", chat=group)
    [(private_chat, rule)] = [(e.watch.chat_id, e.watch.rule) for e in await subs.for_user(user.id)]
    assert (private_chat, rule) == (6001, "percent")


async def test_watches_of_other_chats_are_shown_in_a_group_only_as_a_private_button(
    bot_env: BotEnv,
) -> None:
    user = bot_env.user(6002)
    group = bot_env.emulator.group_chat(-100602, "Flat hunters")
    await bot_env.say(user, f"/watch {ITEM_LINK}")
    [answer] = await bot_env.say(user, "/watches", chat=group)
    assert answer.visible == t("en", "private_only")
    assert "iPhone" not in answer.visible
    assert [b.get("url") for b in answer.buttons] == [deep_link(bot_env, "watches")]
    # the button's /start payload goes on in private
    [private] = await bot_env.say(user, "/start watches")
    assert "iPhone" in private.visible


@pytest.mark.parametrize(
    ("command", "payload", "private_answer"),
    [
        ("/link 13988888888", "link", "link_share_phone"),
        ("/account", "account", None),
        ("/forget", "forget", None),
    ],
)
async def test_personal_data_commands_in_a_group_answer_with_a_private_button_only(
    bot_env: BotEnv, command: str, payload: str, private_answer: str | None
) -> None:
    user = bot_env.user(6003, "zh-hans")
    group = bot_env.emulator.group_chat(-100603, "Flat hunters")
    [answer] = await bot_env.say(user, command, chat=group)
    assert answer.visible == t("zh", "private_only")
    assert [b.get("url") for b in answer.buttons] == [deep_link(bot_env, payload)]
    assert "13988888888" not in answer.visible
    assert await bot_env.services.accounts.get(user.id) is None
    [private] = await bot_env.say(user, f"/start {payload}")
    if private_answer is not None:
        assert private.raw_text == t("zh", private_answer)
    assert private.visible != t("zh", "start")  # the command went on, not the welcome


def test_migration_6_keeps_every_watch_and_alert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bot.sqlite3"
    monkeypatch.setattr(database, "MIGRATIONS", database.MIGRATIONS[:5])
    old = Database(path)
    old.db.execute(
        "INSERT INTO watched_listings (ref_key, platform, listing_id, title, url, price_unit, "
        "status, first_seen_at) VALUES ('xianyu:712345678901', 'xianyu', '712345678901', 't', "
        "'u', 'yuan', 'on_sale', 0)"
    )
    old.db.execute(
        # the tables' names before the migration "one word: subscriptions are watches"
        "INSERT INTO subscriptions (id, user_id, chat_id, ref_key, rule, base_status, "
        "created_at, updated_at) VALUES (7, 1, 1, 'xianyu:712345678901', 'any_drop', "
        "'on_sale', 0, 0)"
    )
    old.db.execute(
        "INSERT INTO alerts (alert_key, subscription_id, user_id, chat_id, ref_key, changes, "
        "status, created_at) VALUES ('k', 7, 1, 1, 'xianyu:712345678901', 'sold', 'sold', 0)"
    )
    old.close()
    monkeypatch.undo()
    new = Database(path)
    assert new.schema_version == len(database.MIGRATIONS)
    assert new.db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 1
    # the same user and listing in another chat is a second watch now
    new.db.execute(
        "INSERT INTO watches (user_id, chat_id, ref_key, rule, base_status, created_at, "
        "updated_at) VALUES (1, -100, 'xianyu:712345678901', 'any_drop', 'on_sale', 0, 0)"
    )
    # and the alert still cascades with its watch
    new.db.execute("DELETE FROM watches WHERE id = 7")
    assert new.db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0] == 0
    new.close()
