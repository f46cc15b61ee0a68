"""A local Telegram Bot API emulator: the bot talks to it exactly as to api.telegram.org.


    async with BotApiEmulator(token="123456:TEST-TOKEN") as emulator:
        # TELEGRAM_API_URL = emulator.base_url; PTB:
        # ApplicationBuilder().token(t).base_url(f"{api}/bot").base_file_url(f"{api}/file/bot")
        ann = emulator.user(1001, first_name="Ann", language_code="zh-hans")
        await emulator.send_text(ann, None, "/start")         # None: Ann's private chat
        [reply] = await emulator.wait_for_messages(ann.id, 1)
        query_id = await emulator.press(ann, reply, 0)          # first inline button
        answer = await emulator.wait_for_callback_answer(query_id)
        # any Message shape (captions, entities, forwards, replies, albums), and its edits:
        sent = await emulator.send_message(ann, None, "看看", entities=[...], forward_origin={...})
        await emulator.edit_incoming(sent, text="改过的")

One module per job; everything is re-exported here, so `from sandbox.botapi import ...`
is all a test needs:

- `server.py`: `BotApiEmulator`, the HTTP server and the Bot API methods (the protocol,
  the methods answered, the checks that mirror Telegram, one consumer per token);
- `users.py`: the test side: simulated users and chats that write, press and query, and
  what the bot did (calls, answers, deliveries) with the waits for it;
- `models.py`: what the emulator records and answers (`User`, `Chat`, `SentMessage`,
  `CallbackAnswer`, `ApiError`, ...);
- `html.py`: Telegram's HTML subset, parsed as Telegram does (`parse_telegram_html`);
- `limits.py`: Telegram's flood limits as the emulator reads them (`FloodRules`);
- `params.py`: request parameters decoded by name, the entities of a user's text.
"""

from __future__ import annotations

from sandbox.botapi.html import ParsedText, TelegramHtmlError, parse_telegram_html, utf16_len
from sandbox.botapi.limits import (
    CHAT_PER_SECOND,
    GLOBAL_PER_SECOND,
    GROUP_PER_MINUTE,
    Counting,
    FloodRules,
)
from sandbox.botapi.models import (
    ApiCall,
    ApiError,
    BotEvent,
    CallbackAnswer,
    Chat,
    ChatAction,
    DeliveryStats,
    InlineAnswer,
    Photo,
    SentMessage,
    StoredFile,
    Upload,
    User,
    Version,
)
from sandbox.botapi.server import (
    CALLBACK_DATA_LIMIT,
    CAPTION_LIMIT,
    CONFLICT_OTHER_GET_UPDATES,
    CONFLICT_SET_WEBHOOK,
    CONFLICT_WEBHOOK_ACTIVE,
    MEDIA_GROUP_SIZE,
    TEXT_LIMIT,
    UPDATE_TYPES,
    BotApiEmulator,
    Handler,
)
from sandbox.botapi.users import Listener

__all__ = [
    "CALLBACK_DATA_LIMIT",
    "CAPTION_LIMIT",
    "CHAT_PER_SECOND",
    "CONFLICT_OTHER_GET_UPDATES",
    "CONFLICT_SET_WEBHOOK",
    "CONFLICT_WEBHOOK_ACTIVE",
    "GLOBAL_PER_SECOND",
    "GROUP_PER_MINUTE",
    "MEDIA_GROUP_SIZE",
    "TEXT_LIMIT",
    "UPDATE_TYPES",
    "ApiCall",
    "ApiError",
    "BotApiEmulator",
    "BotEvent",
    "CallbackAnswer",
    "Chat",
    "ChatAction",
    "Counting",
    "DeliveryStats",
    "FloodRules",
    "Handler",
    "InlineAnswer",
    "Listener",
    "ParsedText",
    "Photo",
    "SentMessage",
    "StoredFile",
    "TelegramHtmlError",
    "Upload",
    "User",
    "Version",
    "parse_telegram_html",
    "utf16_len",
]
