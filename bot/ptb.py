"""python-telegram-bot without its built-in webhook server: imported first by `bot.app`.

`import telegram.ext` tries to import PTB's own webhook server (in its updater module, a
`try: import ...` of the webhook handler / `except ImportError: WEBHOOKS_AVAILABLE =
False`), which imports tornado, whenever tornado is installed. The bot
never uses that server: with `WEBHOOK_URL` set it runs its own (`bot/webhook.py`, which
imports tornado itself), otherwise it polls. So tornado is hidden for `telegram.ext`'s
import, as if PTB were installed without its `[webhooks]` extra: polling never loads it
(~15 ms and ~3 MB off every start, issue 19 point 5, bench/startup.py), and
`Updater.start_webhook` says "install python-telegram-bot[webhooks]" if anything ever
called it. A `None` in `sys.modules` makes `import tornado` raise ImportError, which PTB
expects; it is removed right after, so `bot/webhook.py` imports the real tornado. When
`telegram.ext` or tornado is already loaded, nothing changes.
"""

from __future__ import annotations

import sys

_HIDDEN = "tornado"


def _import_telegram_ext_without_tornado() -> None:
    if "telegram.ext" in sys.modules or _HIDDEN in sys.modules:
        return
    sys.modules[_HIDDEN] = None  # type: ignore[assignment]  # "not installed", for a moment
    try:
        import telegram.ext  # noqa: F401
    finally:
        if sys.modules.get(_HIDDEN, ...) is None:
            del sys.modules[_HIDDEN]


_import_telegram_ext_without_tornado()
