"""One bot per database and one consumer per token.

The database: an OS-level lock on `<database>.lock` beside the SQLite file.

    lock = hold_instance_lock(settings.database_path)   # raises InstanceLocked
    ...                                                  # run the bot
    lock.release()                                       # or let the process end

Why `flock` on a file and not a row in SQLite: the kernel releases an flock when the
last descriptor of its open file goes, which happens however the process ends (exit,
exception, `kill -9`, a crash, the OOM killer). A row would outlive a killed process and
block the next start until someone decided it was stale, by a pid check that pid reuse
and containers (every bot is pid 1) make unreliable. The file keeps the holder's pid and
start time only to say *who* holds it; the lock itself decides.

The token: Telegram lets one getUpdates wait at a time. A second consumer's long poll
ends ours with 409 "Conflict: terminated by other getUpdates request; make sure that only
one bot instance is running"; a webhook set for the token ends it with "Conflict:
terminated by setWebhook request", and getUpdates then gets "Conflict: can't use getUpdates
method while webhook is active; use deleteWebhook to delete the webhook first"
(tdlib/telegram-bot-api, Client.cpp). python-telegram-bot's updater retries such errors
forever; `ConflictWatch`, its `error_callback`, turns the first 409 into a stop with one
line instead (exit 6).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from telegram.error import Conflict, TelegramError

if TYPE_CHECKING:
    from handlers.context import BotContext

log = logging.getLogger(__name__)


class InstanceLocked(Exception):
    """Another process holds the database's instance lock."""

    def __init__(self, lock_path: Path, holder: str) -> None:
        database = lock_path.with_name(lock_path.name.removesuffix(".lock"))
        super().__init__(
            f"another instance of the bot ({holder}) holds the database {database}; "
            "stop it first, or give this one its own DATABASE_PATH"
        )
        self.lock_path = lock_path
        self.holder = holder


@dataclass
class InstanceLock:
    """The held lock: an open descriptor with an exclusive flock on `path`."""

    path: Path
    fd: int | None

    def release(self) -> None:
        if self.fd is not None:
            # the content stays: a stale file is harmless, the lock is what counts
            os.close(self.fd)
            self.fd = None


def lock_path(database_path: Path) -> Path:
    return database_path.with_name(database_path.name + ".lock")


def hold_instance_lock(database_path: Path) -> InstanceLock:
    """Take the database's instance lock, or raise InstanceLocked naming its holder.

    Non-blocking: a second instance learns at once. The descriptor is not inherited by
    child processes (Python opens files non-inheritable), so nothing the bot starts keeps
    the lock after it dies.
    """
    path = lock_path(database_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _describe_holder(fd)
        os.close(fd)
        raise InstanceLocked(path, holder) from None
    except BaseException:
        os.close(fd)
        raise
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()} since {started}\n".encode(), 0)
    return InstanceLock(path, fd)


def _describe_holder(fd: int) -> str:
    """The holder's "pid N since T", as it wrote it (a few bytes, never more)."""
    with contextlib.suppress(OSError):
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
        if text.startswith("pid ") and text.isprintable():
            return text
    # the holder has the lock but has not written yet (it writes right after taking it)
    return "pid unknown, starting"


class TelegramConflict(Exception):
    """Telegram answered 409 Conflict to our getUpdates: the one-line reason, for the operator."""


class ConflictWatch:
    """`error_callback` of `Updater.start_polling`: the first 409 Conflict sets `happened`.

    Other errors are logged in one line (python-telegram-bot's updater retries them, which
    is right for network errors). Once a conflict happened, the updater's own traceback
    for it (its clean-up getUpdates on stop meets the same 409) is left out of the log:
    the reason is said once, by `reason()`.
    """

    def __init__(self) -> None:
        self.happened = asyncio.Event()
        self.error: Conflict | None = None
        self._webhook_now: str | None = None
        logging.getLogger("telegram.ext.Updater").addFilter(self._said_already)

    def __call__(self, error: TelegramError) -> None:
        if isinstance(error, Conflict):
            if self.error is None:
                self.error = error
                self.happened.set()
            return
        log.error("getUpdates failed (retrying): %s", error)

    def webhook_gone(self, now: str) -> None:
        """Webhook mode: the token's webhook is no longer ours (`now`: Telegram's url)."""
        if not self.happened.is_set():
            self._webhook_now = now
            self.happened.set()

    def reason(self) -> str:
        if self._webhook_now is not None:
            now = f"set to {self._webhook_now}" if self._webhook_now else "deleted"
            return (
                f"this bot's webhook was {now} by someone else (another instance: one that "
                "polls deletes it, one in webhook mode sets its own); Telegram sends this one "
                "nothing now: stop the other, then start again"
            )
        assert self.error is not None
        told = self.error.message
        if "webhook" in told.lower():
            return (
                "Telegram refuses getUpdates because a webhook is set for this bot (another "
                "instance in webhook mode?): run deleteWebhook, or unset WEBHOOK_URL where it is "
                f"set, then start again (409 {told})"
            )
        return (
            "another instance is polling Telegram with this TELEGRAM_BOT_TOKEN; stop it, or "
            f"give this one its own bot (409 {told})"
        )

    def close(self) -> None:
        logging.getLogger("telegram.ext.Updater").removeFilter(self._said_already)

    def _said_already(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (self.error is not None and isinstance(exc, Conflict))


#: webhook mode: how often Telegram is asked whether the webhook is still ours
WEBHOOK_CHECK_SECONDS = 60.0


@dataclass(frozen=True)
class WebhookCheck:
    url: str
    conflicts: ConflictWatch


async def check_webhook(context: BotContext) -> None:
    """JobQueue job (data: WebhookCheck): is the token's webhook still our URL?

    In webhook mode no error tells us of another instance: Telegram simply posts to the
    last webhook set, and an instance that polls deletes it on start (python-telegram-bot
    calls deleteWebhook before polling). getWebhookInfo says whose it is.
    """
    check = context.job.data if context.job is not None else None
    assert isinstance(check, WebhookCheck)
    try:
        info = await context.bot.get_webhook_info()
    except TelegramError as exc:
        log.warning("getWebhookInfo failed (checked again later): %s", exc)
        return
    if info.url != check.url:
        check.conflicts.webhook_gone(info.url)
