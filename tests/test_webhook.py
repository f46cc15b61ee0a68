"""Webhook mode (WEBHOOK_URL): python-telegram-bot's webhook server with a secret token,
fed by the emulator as Telegram feeds a webhook; and the Docker health check."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

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


# -- the webhook's own edges: refused before the body, capped, deadlines, 400s, redelivery


def peak_rss_reset() -> None:
    """Reset this process's peak RSS (VmHWM), so the next reading is the peak since now."""
    Path("/proc/self/clear_refs").write_text("5")


def peak_rss() -> int:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]


def hook_address(env: BotEnv) -> tuple[str, int, str]:
    url = urlsplit(env.emulator.webhook["url"])  # type: ignore[index]
    return url.hostname or "", url.port or 80, url.path


async def send_head(
    env: BotEnv, headers: dict[str, str]
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Open a connection to the webhook and send a POST's headers only, no body yet."""
    host, port, path = hook_address(env)
    reader, writer = await asyncio.open_connection(host, port)
    head = f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    writer.write(head.encode() + b"\r\n")
    await writer.drain()
    return reader, writer


async def post_raw(env: BotEnv, body: bytes, secret: str = SECRET) -> int:
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            env.emulator.webhook["url"],  # type: ignore[index]
            content=body,
            headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
        )
    return answer.status_code


def update_from(user_id: int, update_id: int, text: str) -> bytes:
    message = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Ann"},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return json.dumps({"update_id": update_id, "message": message}).encode()


async def test_a_request_without_the_secret_is_refused_before_its_body_is_read(
    webhook_env: BotEnv,
) -> None:
    """The 403 comes back on the headers alone, and ten 90 MB POSTs cost no memory (before:
    the server read each whole body first, ~150 MB apiece)."""
    huge = 90 * 1024 * 1024
    chunk = b" " * (1024 * 1024)
    peak_rss_reset()
    before = peak_rss()
    for secret in ["wrong", None] * 5:
        headers = {"Content-Type": "application/json", "Content-Length": str(huge)}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        reader, writer = await send_head(webhook_env, headers)
        status = await asyncio.wait_for(reader.readline(), timeout=10)  # no body sent yet
        assert status.startswith(b"HTTP/1.1 403"), status
        sent = 0
        with contextlib.suppress(ConnectionError):
            while sent < huge:  # the sender goes on regardless; the server has hung up
                writer.write(chunk)
                await asyncio.wait_for(writer.drain(), timeout=10)
                sent += len(chunk)
        with contextlib.suppress(ConnectionError):  # the server closed the connection
            await asyncio.wait_for(reader.read(), timeout=10)
        writer.close()
        assert sent < huge  # it stopped reading: the body never arrived whole
    assert peak_rss() - before < 20 * 1024 * 1024


async def test_bodies_are_capped_and_must_arrive_in_time(webhook_env: BotEnv) -> None:
    from bot.webhook import MAX_UPDATE_BYTES, WebhookReceiver

    secret_headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": SECRET}
    # over the cap by its Content-Length: 413 on the headers
    reader, writer = await send_head(
        webhook_env, {**secret_headers, "Content-Length": str(MAX_UPDATE_BYTES + 1)}
    )
    assert (await asyncio.wait_for(reader.readline(), timeout=10)).startswith(b"HTTP/1.1 413")
    writer.close()
    # over the cap in chunks, no length given: cut off, never handled
    reader, writer = await send_head(
        webhook_env, {**secret_headers, "Transfer-Encoding": "chunked"}
    )
    part = b"x" * (256 * 1024)
    with contextlib.suppress(ConnectionError):
        for _ in range(8):
            writer.write(b"%x\r\n%s\r\n" % (len(part), part))
            await asyncio.wait_for(writer.drain(), timeout=10)
        writer.write(b"0\r\n\r\n")
        await writer.drain()
    try:
        answer = await asyncio.wait_for(reader.read(), timeout=10)
    except ConnectionError:  # reset: the server hung up with our bytes unread
        answer = b""
    assert answer in (b"", b"HTTP/1.1 400 Bad Request\r\n\r\n"), answer[:40]
    writer.close()
    # a body that stalls is dropped at the deadline (a receiver with a short one, same code)
    port = free_port()
    receiver = WebhookReceiver(
        webhook_env.application, secret_token=SECRET, path="/slow", body_seconds=0.5
    )
    await receiver.start("127.0.0.1", port)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"POST /slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\nContent-Length: 100\r\n\r\n{{".encode()
        )
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), timeout=10) == b""  # closed, unanswered
        writer.close()
    finally:
        await receiver.stop()


async def test_malformed_json_with_the_right_secret_gets_400_and_changes_nothing(
    webhook_env: BotEnv,
) -> None:
    for body in (b"{not json", b"[]", b'"text"', b'{"update_id": "7"}', b"{}", b"[" * 100_000):
        assert await post_raw(webhook_env, body) == 400, body[:20]
    user = webhook_env.user(21)
    assert await post_raw(webhook_env, update_from(user.id, 5001, "hello")) == 200
    [answer] = await webhook_env.emulator.wait_for_messages(user.id, 1)
    assert "I found no listing" in answer.visible


async def test_the_same_update_delivered_twice_is_handled_once(webhook_env: BotEnv) -> None:
    user = webhook_env.user(22)
    redelivered = update_from(user.id, 6001, "hello")
    # Telegram redelivers an update whose answer it did not get in time
    assert await post_raw(webhook_env, redelivered) == 200
    assert await post_raw(webhook_env, redelivered) == 200
    await webhook_env.emulator.wait_for_messages(user.id, 1)
    # the bot answers what comes next...
    assert await post_raw(webhook_env, update_from(user.id, 6002, "/watches")) == 200
    await webhook_env.emulator.wait_for_messages(user.id, 2)
    hello, watches = webhook_env.messages(user.id)  # ...and answered the update only once
    assert "I found no listing" in hello.visible and "I found no listing" not in watches.visible


async def test_a_webhook_another_instance_deleted_or_replaced_stops_the_bot(
    webhook_env: BotEnv,
) -> None:
    """No error tells a webhook bot of another instance: the check asks getWebhookInfo."""
    from bot.instance import ConflictWatch, WebhookCheck, check_webhook

    emulator, queue = webhook_env.emulator, webhook_env.application.job_queue
    conflicts = ConflictWatch()
    ours = emulator.webhook["url"]  # type: ignore[index]
    job = queue.run_repeating(check_webhook, interval=0.2, data=WebhookCheck(ours, conflicts))
    try:
        await emulator.wait_for(lambda: len(emulator.calls_to("getWebhookInfo")) >= 2)
        assert not conflicts.happened.is_set()  # still ours: nothing to say
        async with httpx.AsyncClient() as client:  # what a polling instance does on start
            await client.post(
                f"{emulator.base_url}/bot{webhook_env.settings.telegram_bot_token.get_secret_value()}/deleteWebhook"
            )
        await asyncio.wait_for(conflicts.happened.wait(), timeout=10)
    finally:
        job.schedule_removal()
        conflicts.close()
    assert conflicts.reason().startswith("this bot's webhook was deleted by someone else")
