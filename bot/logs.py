"""Logging that can never print a secret or personal data, at any level.

Every line goes through `RedactingFormatter`, which replaces the Telegram token,
every platform key/secret/token and anything shaped like a bot token or a
`token=`/`sign=`/`secret=` query value with `***`, and masks mainland mobile numbers
(`139****8888`, in every common form: `+86 139 1234 5678`, `139-1234-5678`,
`(139)12345678`, full-width digits), email addresses (`***@example.com`, whatever
script the local part is in) and Telegram names and usernames (`first_name='***'`,
`"username": ***`, `@***`), after the whole line, traceback included, has been
formatted. httpx/httpcore are raised to WARNING as well,
since their request lines carry the token in the URL. Uncaught exceptions (the main
thread, other threads, the asyncio loop) are logged through the same formatter.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from clients.privacy import mask_emails, mask_phones

if TYPE_CHECKING:
    from bot.config import Settings


_BOT_TOKEN = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{20,}\b")
#: only real `bot<id>:<token>` paths (not `/sandbox/botapi.py`)
_BOT_PATH = re.compile(r"(/(?:file/)?bot)\d+:[^/\s]+")
#: Telegram's own fields in a repr, JSON or keyword form
_NAME_FIELD = re.compile(
    r"""(\b(?:first_name|last_name|username|full_name)['"]?\s*[:=]\s*)"""
    r"""(?:'[^'\n]*'|"[^"\n]*"|[^\s,)}&]+)"""
)
#: a Telegram @username (5-32 characters); an email's @ follows a word character
_HANDLE = re.compile(r"(?<![\w@.*])@[A-Za-z][A-Za-z0-9_]{3,31}\b")
_QUERY_SECRET = re.compile(
    r"((?:token|sign|secret|app_secret|key|app_key|password|access_token)=)[^&\s\"']+",
    re.IGNORECASE,
)


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def redact_secrets(self, text: str) -> str:
        """Tokens, keys and signed query values only (what `check` prints: no personal
        data, but the bot's own @username is the answer an operator wants to see)."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        text = _BOT_PATH.sub(r"\1***", text)
        text = _BOT_TOKEN.sub("***", text)
        return _QUERY_SECRET.sub(r"\1***", text)

    def redact(self, text: str) -> str:
        text = mask_phones(self.redact_secrets(text))
        text = _NAME_FIELD.sub(r"\1'***'", text)
        text = _HANDLE.sub("@***", text)
        return mask_emails(text)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


def secret_values(settings: Settings) -> list[str]:
    """Every secret of the settings (and keys, which are credentials too)."""
    return settings.secret_values()


def setup_logging(level: str, secrets: Iterable[str], stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Their request lines contain the Bot API URL with the token in it.
    for noisy in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    sys.excepthook = log_uncaught
    threading.excepthook = _log_thread_exception


def log_to_file(path: Path) -> None:
    """Send every log line to `path` (appended) instead of the stream, still redacted.

    The demo's terminal chat uses it so log lines never interleave with the conversation.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    root = logging.getLogger()
    for old in list(root.handlers):
        handler.setFormatter(old.formatter)
        root.removeHandler(old)
    root.addHandler(handler)
    logging.captureWarnings(True)  # warnings too, instead of stderr


_crash_log = logging.getLogger("bot.crash")


def log_uncaught(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    """sys.excepthook: the traceback goes through the redacting formatter, not raw stderr."""
    _crash_log.critical("uncaught %s", kind.__name__, exc_info=(kind, error, tb))


def _log_thread_exception(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None:
        log_uncaught(args.exc_type, args.exc_value, args.exc_traceback)


def log_loop_exception(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """asyncio's exception handler: the message and traceback only (never the task's repr)."""
    error = context.get("exception")
    _crash_log.error(
        "asyncio: %s",
        context.get("message", "unhandled error"),
        exc_info=(type(error), error, error.__traceback__) if error is not None else None,
    )
