"""Entry point: `python -m bot` runs the Telegram bot; `python -m bot --demo` the sandbox demo.

- `python -m bot`: long polling against `TELEGRAM_API_URL` with the settings of
  CONTRACT section 1 (environment, then `.env`).
- `python -m bot --demo`: the same bot against the built-in sandbox platforms. With
  `TELEGRAM_BOT_TOKEN` set it is a real Telegram bot; without, a local Bot API
  emulator starts and you chat with the bot in this terminal.
- `python -m bot check [--demo]`: one call per platform with these settings, one table
  of what works and what each refusal means (`bot/check.py`); exit 1 when anything fails.
Ctrl-C stops everything cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from telegram.error import InvalidToken

from bot.allocator import pin_mmap_threshold
from bot.config import Settings, SettingsError, load_settings
from bot.instance import ConflictWatch, InstanceLocked, TelegramConflict, hold_instance_lock
from bot.logs import log_loop_exception, log_to_file, secret_values, setup_logging
from storage.database import Database

if TYPE_CHECKING:
    from handlers.context import BotApplication
    from sandbox.botapi import BotApiEmulator
    from sandbox.server import Sandbox

log = logging.getLogger("bot")

DEMO_TOKEN = "100000001:sandbox-demo-token-not-a-secret"
DEMO_DATABASE = "data/demo.sqlite3"
#: the update types the bot handles (Telegram sends only these). An edit is answered
#: for a listing it adds; channel posts are not asked for (docs/message-forms.md)
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "inline_query"]
#: the demo checks watched listings often, so /demo_drop's alert comes within a minute
DEMO_ALERT_INTERVAL = 20
#: tiers whose daily quota allows a check every DEMO_ALERT_INTERVAL (personal would not)
DEMO_TIERS = {"anjuke": "enterprise_advanced", "xianyu": "enterprise_advanced"}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.split("\n")[0])
    parser.add_argument(
        "command",
        nargs="?",
        choices=["check"],
        help="check: test the settings with one call per platform, then exit",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run against the built-in sandbox platforms (no credentials needed)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    pin_mmap_threshold()  # answers of megabytes go back to the OS when freed
    try:
        settings = load_settings(require_token=not args.demo)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, secret_values(settings))
    # `check` runs beside a running bot (an operator checks keys without stopping it): it
    # takes no instance lock and keeps its log lines on stderr
    instance = None
    if args.command != "check":
        database = settings.database_path
        if args.demo and not _set_by_user("DATABASE_PATH"):
            database = Path(DEMO_DATABASE)
        try:  # held until the process ends, however it ends (bot/instance.py)
            instance = hold_instance_lock(database)
        except InstanceLocked as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 5
        except OSError as exc:
            print(f"error: DATABASE_PATH {database} cannot be opened: {exc}", file=sys.stderr)
            return 3
        if args.demo and not (
            settings.telegram_bot_token and settings.telegram_bot_token.get_secret_value()
        ):
            # the terminal chat: log lines go to a file, so they never cut into the chat
            log_to_file(path := demo_log_path(settings))
            print(f"Logs go to {path}", flush=True)
    if not args.demo and (problem := database_problem(settings.database_path)):
        print(f"error: DATABASE_PATH {settings.database_path} {problem}", file=sys.stderr)
        return 3
    try:
        if args.command == "check":
            return asyncio.run(check(settings, demo=args.demo))
        asyncio.run(run(settings, demo=args.demo))
    except KeyboardInterrupt:
        pass
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except TelegramConflict as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 6
    except InvalidToken:
        # its message quotes the token: never print it
        print(
            "error: Telegram rejected TELEGRAM_BOT_TOKEN (check it with @BotFather)",
            file=sys.stderr,
        )
        return 4
    finally:
        if instance is not None:
            instance.release()
    return 0


def database_problem(path: Path) -> str | None:
    """Why the database cannot be used (one line), or None when it is sound and writable.

    A file damaged anywhere, not only in its header, stops start-up (PRAGMA quick_check,
    `Database.integrity_problem`), before any handler meets the damage.
    """
    try:
        database = Database(path)
    except (OSError, sqlite3.Error) as exc:
        return f"cannot be opened: {exc}"
    try:
        if corrupt := database.integrity_problem():
            return f"is corrupt ({corrupt}): restore a backup, or try `sqlite3 FILE .recover`"
        database.check_writable()
    except sqlite3.Error as exc:
        return f"is not writable: {exc}"
    finally:
        database.close()
    return None


async def run(settings: Settings, *, demo: bool) -> None:
    from bot.app import build_application
    from bot.services import build_services

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(log_loop_exception)
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    async with contextlib.AsyncExitStack() as stack:
        emulator = sandbox = None
        if demo:
            settings, sandbox, emulator = await start_demo(settings, stack)
        services = build_services(settings)
        services.demo_market = sandbox
        application = build_application(settings, services)
        async with application:
            await application.start()
            # run_polling() would call post_init; we run the pieces ourselves, so call it here
            if application.post_init is not None:
                await application.post_init(application)
            conflicts = ConflictWatch()  # a 409 from Telegram stops the bot (bot/instance.py)
            stop_updates = await start_updates(application, settings, conflicts=conflicts)
            log.info("bot running%s", " (demo, sandbox platforms)" if demo else "")
            waiters: list[asyncio.Task[object]] = [
                asyncio.create_task(stop.wait()),
                asyncio.create_task(conflicts.happened.wait()),
            ]
            if emulator is not None:
                waiters.append(asyncio.create_task(terminal_chat(emulator, application)))
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for task in waiters:
                task.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)
            log.info("stopping")
            await stop_updates()
            await application.stop()
    if conflicts.happened.is_set():
        raise TelegramConflict(conflicts.reason())


async def check(settings: Settings, *, demo: bool) -> int:
    from bot.check import run_check

    async with contextlib.AsyncExitStack() as stack:
        if demo:
            settings, _, _ = await start_demo(settings, stack)
        return await run_check(settings)


async def start_updates(
    application: BotApplication,
    settings: Settings,
    *,
    poll_timeout: int = 30,
    conflicts: ConflictWatch | None = None,
) -> Callable[[], Awaitable[None]]:
    """Receive updates by long polling, or by webhook when `WEBHOOK_URL` is set.

    Returns the coroutine function that stops receiving. Webhook mode serves
    `WEBHOOK_LISTEN:WEBHOOK_PORT` at the URL's path with our own server (bot/webhook.py:
    the secret checked before the body is read, bodies capped, redeliveries dropped),
    then calls setWebhook with the secret token. `conflicts` learns of another consumer
    of the token: a 409 to our getUpdates, or (webhook mode, checked every minute by a
    JobQueue job) a webhook that is no longer ours; either stops the bot (run()).
    """
    updater = application.updater
    assert updater is not None
    if not settings.webhook:
        await updater.start_polling(
            poll_interval=0.0,
            timeout=poll_timeout,
            drop_pending_updates=False,
            allowed_updates=ALLOWED_UPDATES,
            error_callback=conflicts,
        )
        return updater.stop
    from bot.webhook import start_webhook

    return await start_webhook(application, settings, ALLOWED_UPDATES, conflicts)


async def start_demo(
    settings: Settings, stack: contextlib.AsyncExitStack
) -> tuple[Settings, Sandbox, BotApiEmulator | None]:
    """Start the sandbox (and, without a token, the Bot API emulator).

    Returns the new settings, the sandbox and the emulator (None with a token).
    """
    from sandbox.server import Sandbox

    sandbox = Sandbox(tiers=DEMO_TIERS)
    await sandbox.start()
    stack.push_async_callback(sandbox.stop)
    overrides = sandbox.settings_overrides()
    if not _set_by_user("DATABASE_PATH"):
        overrides["database_path"] = DEMO_DATABASE
    if not _set_by_user("ALERT_INTERVAL_SECONDS"):
        overrides["alert_interval_seconds"] = DEMO_ALERT_INTERVAL
    emulator: BotApiEmulator | None = None
    token = settings.telegram_bot_token
    if not (token and token.get_secret_value()):
        from sandbox.botapi import BotApiEmulator

        emulator = BotApiEmulator(token=DEMO_TOKEN)
        await emulator.start()
        stack.push_async_callback(emulator.stop)
        overrides["telegram_api_url"] = emulator.base_url
        overrides["telegram_bot_token"] = DEMO_TOKEN
    log.info("sandbox platforms on %s", sandbox.base_url)
    return load_settings(require_token=True, **overrides), sandbox, emulator


def demo_log_path(settings: Settings) -> Path:
    """`demo.log` beside the demo's database (`data/demo.log` unless DATABASE_PATH is set)."""
    database = settings.database_path if _set_by_user("DATABASE_PATH") else Path(DEMO_DATABASE)
    return database.with_name("demo.log")


def _set_by_user(name: str) -> bool:
    return name in os.environ or _dotenv_sets(name)


def _dotenv_sets(name: str) -> bool:
    try:
        with open(".env", encoding="utf-8") as fh:
            return any(line.strip().startswith(f"{name}=") for line in fh)
    except OSError:
        return False


async def terminal_chat(emulator: BotApiEmulator, application: BotApplication) -> None:
    from sandbox.terminal_chat import run_terminal_chat

    lang = "zh-hans" if os.environ.get("LANG", "").lower().startswith("zh") else "en"
    user = emulator.user(1001, first_name="Demo", language_code=lang)
    await run_terminal_chat(emulator, user=user, bot_username=application.bot.username)


if __name__ == "__main__":
    raise SystemExit(main())
