"""Webhook mode (WEBHOOK_URL): python-telegram-bot's webhook server with a secret token,
fed by the emulator as Telegram feeds a webhook; and the Docker health check."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.config import SettingsError, load_settings
from bot.health import STALE_AFTER, heartbeat_path
from tests.conftest import BotEnv, start_bot_env

SECRET = "webhook-secret_42"
REPO = Path(__file__).resolve().parent.parent
XIANYU_LINK = "https://www.goofish.com/item?id=712345678901"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def webhook_env(tmp_path: Path) -> AsyncIterator[BotEnv]:
    port = free_port()
    async for env in start_bot_env(
        tmp_path,
        webhook_url=f"http://127.0.0.1:{port}/telegram-hook",
        webhook_listen="127.0.0.1",
        webhook_port=port,
        webhook_secret_token=SECRET,
    ):
        yield env


async def test_the_bot_in_webhook_mode_sets_its_webhook_and_answers_through_it(
    webhook_env: BotEnv,
) -> None:
    emulator = webhook_env.emulator
    assert emulator.webhook is not None
    assert emulator.webhook["secret_token"] == SECRET
    assert emulator.webhook["url"].endswith("/telegram-hook")
    assert not [c for c in emulator.calls if c.method == "getUpdates"]
    user = webhook_env.user(1)
    (card,) = await webhook_env.say(user, XIANYU_LINK)  # POSTed to the bot by the emulator
    assert "sandbox" in card.visible and card.buttons
    assert emulator.webhook_refusals == 0


async def test_the_webhook_refuses_a_wrong_or_missing_secret(webhook_env: BotEnv) -> None:
    url = webhook_env.emulator.webhook["url"]  # type: ignore[index]
    user = webhook_env.user(2)
    update = {
        "update_id": 999,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": user.id, "type": "private"},
            "from": {"id": user.id, "is_bot": False, "first_name": "Eve"},
            "text": "hello",
        },
    }
    async with httpx.AsyncClient() as client:
        for headers in ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {}):
            answer = await client.post(
                url,
                content=json.dumps(update),
                headers={"Content-Type": "application/json", **headers},
            )
            assert answer.status_code == 403
        # the right secret is let in
        answer = await client.post(
            url,
            content=json.dumps(update),
            headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        assert answer.status_code == 200
    await webhook_env.emulator.wait_for_messages(user.id, 1)
    (answer,) = webhook_env.messages(user.id)  # one update, answered once
    assert "I found no listing" in answer.visible


def test_webhook_mode_needs_a_well_formed_secret() -> None:
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET_TOKEN is required"):
        load_settings(require_token=False, webhook_url="https://bot.example.com/hook")
    with pytest.raises(SettingsError, match="WEBHOOK_SECRET_TOKEN"):
        load_settings(
            require_token=False,
            webhook_url="https://bot.example.com/hook",
            webhook_secret_token="not allowed!",
        )
    assert not load_settings(require_token=False).webhook  # long polling is the default


def health(database_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env |= {"DATABASE_PATH": str(database_path), "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "bot.health"],
        cwd=database_path.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_the_health_check_command_follows_the_running_bots_heartbeat(
    webhook_env: BotEnv,
) -> None:
    database = webhook_env.settings.database_path
    # in a thread: the check asks the webhook server, which runs on this event loop
    alive = await asyncio.to_thread(health, database)
    assert (alive.returncode, alive.stdout.strip()) == (0, "healthy")
    stale = time.time() - STALE_AFTER - 5
    os.utime(heartbeat_path(database), (stale, stale))
    assert (await asyncio.to_thread(health, database)).returncode == 1


def test_the_health_check_fails_without_a_bot(tmp_path: Path) -> None:
    result = health(tmp_path / "bot.sqlite3")
    assert result.returncode == 1 and "unhealthy" in result.stdout
