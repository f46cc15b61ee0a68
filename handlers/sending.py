"""What the handlers tell the rate limiter (`bot/rate_limiter.py`) about a request.

- `Lane`: whose request it is, passed as python-telegram-bot's `rate_limit_args`
  (ExtBot methods take it: "can e.g. be used to specify the priority of the request").
  Chat replies use the default lane; alerts and late cards edited over "still
  fetching" `Lane.BACKGROUND`.
- `retry_after_seconds`: the wait a flood answer asks for (Bot API,
  ResponseParameters.retry_after), read from python-telegram-bot's public attribute.
"""

from __future__ import annotations

import warnings
from datetime import timedelta
from enum import IntEnum
from typing import Any

from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning


class Lane(IntEnum):
    """Whose request it is: `bot.send_message(..., rate_limit_args=Lane.BACKGROUND)`."""

    CHAT = 0  # someone is waiting for it (the default)
    BACKGROUND = 1  # alerts, late cards: nobody waits for this very second


def retry_after_seconds(exc: RetryAfter) -> float:
    """The seconds a flood answer asks to wait (Bot API, ResponseParameters.retry_after).

    Read from the public attribute, which python-telegram-bot 22 gives as an int (with a
    deprecation warning) or, with `PTB_TIMEDELTA`, as the timedelta it will always be.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
