"""409 Conflict: one getUpdates consumer per token, as Telegram. The emulator ends the
waiting long poll when another comes or a webhook is set (telegram-bot-api's wording);
the bot says what that means in one line and stops (exit 6) instead of retrying forever."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from sandbox.botapi import (
    CONFLICT_OTHER_GET_UPDATES,
    CONFLICT_SET_WEBHOOK,
    CONFLICT_WEBHOOK_ACTIVE,
    BotApiEmulator,
)
from tests.test_instance import child_env, spawn_bot, stop

TOKEN = "555000333:conflict-test-token"


async def test_a_second_long_poll_ends_the_waiting_one_with_409_and_waits_itself() -> None:
    async with BotApiEmulator(token=TOKEN) as emulator, httpx.AsyncClient(timeout=30) as client:
        url = f"{emulator.base_url}/bot{TOKEN}/getUpdates"
        older = asyncio.create_task(client.post(url, json={"timeout": 20}))
        await emulator.wait_for(lambda: emulator.long_poll_waiting, timeout=10)
        newer = asyncio.create_task(client.post(url, json={"timeout": 20}))
        ended = await asyncio.wait_for(older, timeout=10)
        assert ended.status_code == 409
        assert ended.json() == {
            "ok": False,
            "error_code": 409,
            "description": CONFLICT_OTHER_GET_UPDATES,
        }
        assert not newer.done()  # the newcomer is the one that waits, and gets the update
        user = emulator.user(5)
        await emulator.send_text(user, None, "hi")
        answer = await asyncio.wait_for(newer, timeout=10)
        assert answer.status_code == 200 and answer.json()["result"][0]["message"]["text"] == "hi"
        # a short poll (timeout 0) ends nobody: Telegram ends a poll only for one that waits
        assert (await client.post(url, json={"timeout": 0})).status_code == 200
    assert emulator.conflicts == [CONFLICT_OTHER_GET_UPDATES]


async def test_set_webhook_ends_the_waiting_poll_and_get_updates_then_gets_409() -> None:
    async with BotApiEmulator(token=TOKEN) as emulator, httpx.AsyncClient(timeout=30) as client:
        api = f"{emulator.base_url}/bot{TOKEN}"
        waiting = asyncio.create_task(client.post(f"{api}/getUpdates", json={"timeout": 20}))
        await emulator.wait_for(lambda: emulator.long_poll_waiting, timeout=10)
        hook = {"url": "http://127.0.0.1:9/hook"}  # never called: no update is sent here
        assert (await client.post(f"{api}/setWebhook", json=hook)).json()["result"] is True
        ended = await asyncio.wait_for(waiting, timeout=10)
        assert (ended.status_code, ended.json()["description"]) == (409, CONFLICT_SET_WEBHOOK)
        refused = await client.post(f"{api}/getUpdates", json={"timeout": 0})
        assert (refused.status_code, refused.json()["description"]) == (
            409,
            CONFLICT_WEBHOOK_ACTIVE,
        )
        await client.post(f"{api}/deleteWebhook")
        assert (await client.post(f"{api}/getUpdates", json={"timeout": 0})).status_code == 200


async def test_of_two_bots_polling_one_token_the_older_stops_in_one_line(tmp_path: Path) -> None:
    """Two deployments (their own databases, so the instance lock cannot tell) on one token:
    Telegram ends the older one's poll; it says so and exits 6; the newer goes on."""
    async with BotApiEmulator(token=TOKEN) as emulator:

        def env(name: str) -> dict[str, str]:
            (tmp_path / name).mkdir()
            return child_env(
                TELEGRAM_BOT_TOKEN=TOKEN,
                TELEGRAM_API_URL=emulator.base_url,
                DATABASE_PATH=str(tmp_path / name / "bot.sqlite3"),
            )

        older = await spawn_bot(tmp_path, env("old"))
        newer = None
        try:
            await emulator.wait_for(lambda: emulator.long_poll_waiting, timeout=60)
            newer = await spawn_bot(tmp_path, env("new"))
            _, stderr = await asyncio.wait_for(older.communicate(), timeout=30)
            user = emulator.user(78, language_code="en")
            await emulator.send_text(user, None, "hello")
            [answer] = await emulator.wait_for_messages(user.id, 1, timeout=30)
        except BaseException:
            older.kill()
            if newer is not None:
                newer.kill()
            raise
        code, newer_stderr = await stop(newer)
    assert older.returncode == 6, stderr
    errors = [line for line in stderr.decode().splitlines() if "error" in line.lower()]
    assert errors == [
        "error: another instance is polling Telegram with this TELEGRAM_BOT_TOKEN; stop it, or "
        f"give this one its own bot (409 {CONFLICT_OTHER_GET_UPDATES})"
    ]
    assert "Traceback" not in stderr.decode()
    assert "I found no listing" in answer.visible  # the newer one answers
    assert code == 0, newer_stderr
    assert CONFLICT_OTHER_GET_UPDATES in emulator.conflicts


async def test_a_webhook_set_for_the_token_stops_the_polling_bot_in_one_line(
    tmp_path: Path,
) -> None:
    async with BotApiEmulator(token=TOKEN) as emulator, httpx.AsyncClient() as client:
        bot = await spawn_bot(
            tmp_path,
            child_env(
                TELEGRAM_BOT_TOKEN=TOKEN,
                TELEGRAM_API_URL=emulator.base_url,
                DATABASE_PATH=str(tmp_path / "bot.sqlite3"),
            ),
        )
        try:
            await emulator.wait_for(lambda: emulator.long_poll_waiting, timeout=60)
            # what a webhook-mode instance elsewhere does on start
            hook = {"url": "http://127.0.0.1:9/hook"}
            await client.post(f"{emulator.base_url}/bot{TOKEN}/setWebhook", json=hook)
            _, stderr = await asyncio.wait_for(bot.communicate(), timeout=30)
        except BaseException:
            bot.kill()
            raise
    assert bot.returncode == 6, stderr
    errors = [line for line in stderr.decode().splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and errors[0].startswith("error: Telegram refuses getUpdates"), errors
    assert "run deleteWebhook, or unset WEBHOOK_URL" in errors[0]
    assert "Traceback" not in stderr.decode()
