"""Database faults and edited messages: a database the bot cannot write stops start-up in
one line; a full disk at run time is told to the user and the log; an edited message
that keeps its listing gets no second card (the other edits: tests/test_message_forms_e2e.py)."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from telegram import Update

from handlers.texts import t
from tests.conftest import BotEnv, run_python

REPO = Path(__file__).resolve().parent.parent


def run_bot(tmp_path: Path, database_path: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    env |= {
        "PYTHONPATH": str(REPO),
        "TELEGRAM_BOT_TOKEN": "123456:TEST-TOKEN-not-a-secret",
        # start-up must stop before any request: an address nothing listens on
        "TELEGRAM_API_URL": "http://127.0.0.1:9",
        "DATABASE_PATH": database_path,
    }
    return run_python(["-m", "bot"], tmp_path, env)


def not_a_database(tmp_path: Path) -> str:
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(b"this is not an SQLite file" * 100)
    return str(path)


def a_folder(tmp_path: Path) -> str:
    (tmp_path / "folder.sqlite3").mkdir()
    return str(tmp_path / "folder.sqlite3")


def on_a_read_only_filesystem(_: Path) -> str:
    # /proc is read-only even for root (the tests may run as root, where chmod is no bar)
    return "/proc/listing-bot-test/bot.sqlite3"


@pytest.mark.parametrize("where", [not_a_database, a_folder, on_a_read_only_filesystem])
def test_a_database_that_cannot_be_written_stops_start_up_in_one_line(
    tmp_path: Path, where: object
) -> None:
    path = where(tmp_path)  # type: ignore[operator]
    result = run_bot(tmp_path, path)
    assert result.returncode == 3
    lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: DATABASE_PATH {path} ")
    assert "Traceback" not in result.stderr


def damaged_inside(tmp_path: Path) -> Path:
    """A bot database whose header and schema are sound but a page of price history is not."""
    from storage.database import Database

    path = tmp_path / "damaged.sqlite3"
    database = Database(path)
    database.db.execute(
        "INSERT INTO watched_listings (ref_key, platform, listing_id, title, url, price_unit, "
        "status, first_seen_at) VALUES ('xianyu:1', 'xianyu', '1', 't', 'u', 'yuan', "
        "'on_sale', 0)"
    )
    database.db.conn.executemany(
        "INSERT INTO price_history (ref_key, price, status, first_observed_at, "
        "last_observed_at) VALUES ('xianyu:1', ?, 'on_sale', ?, ?)",
        [(f"{5000 + i}.00", i, i) for i in range(5000)],
    )
    database.close()  # the last connection checkpoints the WAL into the file
    (page_size,) = sqlite3.connect(path).execute("PRAGMA page_size").fetchone()
    data = bytearray(path.read_bytes())
    middle = (len(data) // page_size // 2) * page_size  # a page of price_history
    data[middle : middle + 64] = b"\xff" * 64  # its b-tree page header
    path.write_bytes(bytes(data))
    return path


def test_a_database_damaged_past_its_header_stops_start_up_in_one_line(tmp_path: Path) -> None:
    from storage.database import Database

    path = damaged_inside(tmp_path)
    database = Database(path)  # opening, migrating and a test write all still work ...
    database.check_writable()
    assert database.integrity_problem() is not None  # ... only reading every page tells
    database.close()
    result = run_bot(tmp_path, str(path))
    assert result.returncode == 3
    lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: DATABASE_PATH {path} is corrupt (")
    assert "Traceback" not in result.stderr


def test_a_sound_database_passes_the_integrity_check(tmp_path: Path) -> None:
    from storage.database import Database

    database = Database(tmp_path / "bot.sqlite3")
    assert database.integrity_problem() is None
    database.close()


def test_a_read_only_database_file_is_refused(tmp_path: Path) -> None:
    """The check writes (and rolls back): a database opened read-only fails it."""
    from storage.database import Database

    Database(tmp_path / "bot.sqlite3").close()
    database = Database(tmp_path / "bot.sqlite3")
    database.db.execute("PRAGMA query_only = ON")  # what a read-only file does to writes
    with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
        database.check_writable()
    database.db.execute("PRAGMA query_only = OFF")
    database.check_writable()  # and a writable one passes, leaving nothing behind
    assert database.schema_version > 0
    assert (
        database.db.execute("SELECT COUNT(*) FROM schema_migrations WHERE version < 0").fetchone()[
            0
        ]
        == 0
    )
    database.close()


async def test_a_full_disk_is_told_to_the_user_and_the_log(
    bot_env: BotEnv, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite says 'full' only when a write needs a new page, which a test cannot force for
    one table; the store's write meets exactly what SQLite raises on a full disk, on the
    writer thread, and `Database` says it in its own word (`StorageFull`)."""
    from storage.watches import WatchStore

    async def disk_full(store: WatchStore, *_: object, **__: object) -> None:
        def write(_db: object) -> None:
            raise sqlite3.OperationalError("database or disk is full")

        await store.database.run(write)

    monkeypatch.setattr(WatchStore, "add", disk_full)
    user = bot_env.user(4001, "zh-hans")
    with caplog.at_level(logging.ERROR, logger="handlers.common"):
        [reply] = await bot_env.say(user, "/watch https://www.goofish.com/item?id=712345678901")
    assert reply.visible == t("zh", "error_storage_full")
    [line] = [r.getMessage() for r in caplog.records if "the database is full" in r.getMessage()]
    assert "(message) from user 4001" in line and "goofish" not in line


async def test_an_edited_message_gets_no_second_card(bot_env: BotEnv) -> None:
    user = bot_env.user(4002)
    link = "https://www.goofish.com/item?id=712345678901"
    [card] = await bot_env.say(user, link)
    calls = sum(c.calls for c in bot_env.sandbox.state.counters.values())

    def sent() -> list[str]:  # what the bot asked of Telegram, but for its long polls
        return [c.method for c in bot_env.emulator.calls if c.method != "getUpdates"]

    before = sent()
    edited = {
        "message_id": 1,
        "from": user.to_api(),
        "chat": bot_env.emulator.private_chat(user).to_api(),
        "date": 0,
        "edit_date": 1,
        "text": f"{link} (edited)",
    }
    update = Update.de_json({"update_id": 10**6, "edited_message": edited}, bot_env.application.bot)
    await bot_env.application.process_update(update)  # every handler group has run
    assert sent() == before
    assert sum(c.calls for c in bot_env.sandbox.state.counters.values()) == calls
    assert card.photo is not None or card.visible


async def test_storage_speaks_its_own_errors_never_sqlites(tmp_path: Path) -> None:
    """The layers above catch `StorageBusy` / `StorageFull`, never SQLite's exceptions or
    its message strings; any other SQLite error is left as it is (a bug, not a state)."""
    from storage.database import Database, StorageBusy, StorageFull

    database = Database(tmp_path / "bot.sqlite3")

    def fails(message: str):  # type: ignore[no-untyped-def]
        def work(_db: object) -> None:
            raise sqlite3.OperationalError(message)

        return work

    try:
        with pytest.raises(StorageBusy):
            await database.run(fails("database is locked"))
        with pytest.raises(StorageFull):
            await database.run(fails("database or disk is full"))
        with pytest.raises(StorageBusy):
            await database.read(fails("database is locked"))
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            await database.run(fails("no such table: nothing"))
    finally:
        database.close()
