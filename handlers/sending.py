"""What the handlers tell the rate limiter (`bot/rate_limiter.py`) about a request.

- `Lane`: whose request it is, passed as python-telegram-bot's `rate_limit_args`
  (ExtBot methods take it: "can e.g. be used to specify the priority of the request").
  Chat replies use the default lane; alerts and late cards edited over "still
  fetching" `Lane.BACKGROUND`.
- `retry_after_seconds`: the wait a flood answer asks for (Bot API,
  ResponseParameters.retry_after), read from python-telegram-bot's public attribute.
- `send_photo_answer`: sendPhoto answered with the Bot API's raw Message object, for a
  card whose sent message is only read for its photo's file_id.
- `send_message_raw`: sendMessage with the Bot API's own objects (a keyboard as a dict),
  for alerts, which read nothing of the sent message.
"""

from __future__ import annotations

import warnings
from datetime import timedelta
from enum import IntEnum
from typing import Any

from telegram import Bot
from telegram.error import RetryAfter
from telegram.ext import ExtBot
from telegram.warnings import PTBDeprecationWarning, PTBUserWarning

#: `Bot.do_api_request` warns when asked for a method the library has a shortcut for (it
#: would rather parse the answer into objects); `send_photo_answer` and `send_message_raw`
#: ask on purpose
warnings.filterwarnings(
    "ignore",
    message=r"Please use 'Bot\.(sendPhoto|sendMessage)' instead of 'Bot\.do_api_request",
    category=PTBUserWarning,
)


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


async def send_photo_answer(bot: Bot, params: dict[str, Any]) -> dict[str, Any]:
    """sendPhoto with `params` as the Bot API names them; the answer as Telegram sent it.

    `Bot.send_photo` parses the sent message into python-telegram-bot's objects (the
    message, its photo sizes, caption entities and keyboard): the largest share of a cached
    card's cost (bench/chat.py). `Bot.do_api_request` takes the same road to Telegram
    (ExtBot's rate limiter, the request's timeouts, the same errors raised) but returns the
    answer's `result` as decoded JSON. Unlike `send_photo` it inserts no `Defaults` for
    what is not given: give `parse_mode` and the rest explicitly.
    """
    answer = await bot.do_api_request("sendPhoto", params)
    return answer if isinstance(answer, dict) else {}


async def send_message_raw(bot: Bot, params: dict[str, Any], lane: Lane = Lane.CHAT) -> None:
    """sendMessage with `params` as the Bot API names them (a keyboard as its
    InlineKeyboardMarkup object, a dict); the sent message is not read.

    Building python-telegram-bot's keyboard objects (about 20 attribute writes a button)
    and parsing the sent message back were the largest share of an alert's cost
    (`python -m bench.alerts memory`). The road to Telegram is `Bot.do_api_request`'s:
    ExtBot's rate limiter (`lane` as its `rate_limit_args`), the request's timeouts, the
    same errors raised; no `Defaults` are inserted, so `params` gives `parse_mode` and the
    rest explicitly.
    """
    if isinstance(bot, ExtBot):
        await bot.do_api_request("sendMessage", params, rate_limit_args=lane)
    else:
        await bot.do_api_request("sendMessage", params)
