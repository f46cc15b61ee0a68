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

Protocol (as Telegram): `POST|GET {base_url}/bot<token>/<method>` with the parameters as
query string, `application/x-www-form-urlencoded`, `multipart/form-data` (uploaded files
are parts with a file name; `attach://<part>` refers to them) or a JSON body. PTB sends
nested values (reply_markup, media, commands, scope, reply_parameters...) as JSON strings
inside the form; they are decoded by field name. Every answer is the Bot API envelope
`{"ok": true, "result": ...}` or `{"ok": false, "error_code": N, "description": "...",
"parameters": {...}}` with the HTTP status equal to `error_code`. Files the emulator holds
are served from `{base_url}/file/bot<token>/<file_path>`.

Methods: getMe, getUpdates (long polling with offset, limit, timeout, allowed_updates),
deleteWebhook, setWebhook (updates are then POSTed to it), getWebhookInfo, sendMessage, sendPhoto, sendMediaGroup (photos),
editMessageText, editMessageCaption, editMessageReplyMarkup, deleteMessage,
answerCallbackQuery, sendChatAction, set/get/deleteMyCommands, getFile, getChat,
setMyDescription/setMyShortDescription/setMyName/setChatMenuButton (stored), logOut,
close. Anything else answers 404 "Not Found" like Telegram does for unknown methods.

Checks that mirror Telegram (so a bug shows up here before it shows up in production):
- parse_mode=HTML accepts only Telegram's tags (b strong i em u ins s strike del,
  span class="tg-spoiler", tg-spoiler, a href, code, pre with an inner
  code class="language-x", blockquote [expandable], tg-emoji emoji-id), properly nested
  and closed, and only &lt; &gt; &amp; &quot; and numeric entities. Deliberately
  stricter than Telegram in one point: a bare `&` that starts no entity is refused (real
  Telegram keeps it), because our contract says every platform string is escaped.
  A bare `>` is accepted, as Telegram does.
- Lengths count visible characters after entity parsing: text 1-4096, caption 0-1024.
- Inline keyboards: every button has text and an action; callback_data 1-64 bytes.
- Edits that change nothing answer "message is not modified", as Telegram does; an
  editMessageText without reply_markup removes the keyboard, as Telegram does.
- `block(user_id)`: the user's private chat answers 403 "bot was blocked by the user".
- Limits (only with `enforce_limits=True`; CONTRACT 4.2), Telegram's published numbers
  (Bots FAQ, "My bot is hitting limits, how do I avoid this?"): one message a second in a
  chat, 20 a minute in a group, 30 a second in all. Counted per delivered message
  (sendMessage, sendPhoto, sendMediaGroup; an album counts each item; chat actions and
  edits are no messages). A chat, private or group, takes one message each second and
  no burst (the FAQ's "short bursts" are a tolerance Telegram "may" allow, not one it
  promises): an album goes when its chat is free and leaves the chat owing one second
  per photo. "20 a minute" (a group; `FloodRules.minute`, for tests that scale it) and
  "30 a second" (all chats) are counted as `FloodRules.counting` says, so a test can pick
  the reading: "sliding" (the default: at most N in any window of that length), "fixed"
  (at most N in each clock-aligned window, a laxer reading) or "even" (the strictest:
  one each period/N, no two closer, an album taking N slots). Excess answers 429 "Too
  Many Requests: retry after N" with `parameters.retry_after` = N whole seconds until the
  request would pass (Bot API, ResponseParameters: "the number of seconds left to wait
  before the request can be repeated").
  Time comes from `clock.monotonic()`; long-poll waits are real time (PTB waits in real
  time too).

- One consumer per token, as telegram-bot-api: a getUpdates that is going to wait ends
  the one already waiting with 409 "Conflict: terminated by other getUpdates request; make
  sure that only one bot instance is running" (the *older* poll is answered 409, the new
  one waits); setWebhook ends it with 409 "Conflict: terminated by setWebhook request";
  getUpdates while a webhook is set answers 409 "Conflict: can't use getUpdates method
  while webhook is active; use deleteWebhook to delete the webhook first". `conflicts`
  lists every 409 answered. (Telegram also holds a 409 back 3 s when the previous one is
  under 3 s old; not emulated.)

Not emulated: inline mode, payments, inline_message_id edits, other media
types than photos, group privacy mode, Markdown parsing (Markdown text is stored as sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NamedTuple

import aiohttp
from aiohttp import web

from clients.clock import Clock, SystemClock

TEXT_LIMIT = 4096
#: Telegram's 409 descriptions for getUpdates, word for word from telegram-bot-api
#: (tdlib/telegram-bot-api, telegram-bot-api/Client.cpp: Client::abort_long_poll and
#: Client::process_get_updates_query)
CONFLICT_OTHER_GET_UPDATES = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)
CONFLICT_SET_WEBHOOK = "Conflict: terminated by setWebhook request"
CONFLICT_WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes
MEDIA_GROUP_SIZE = (2, 10)

GLOBAL_PER_SECOND = 30
CHAT_PER_SECOND = 1
GROUP_PER_MINUTE = 20

UPDATE_TYPES = ("message", "edited_message", "callback_query")

# ---------------------------------------------------------------------------------------
# Telegram's HTML subset
# ---------------------------------------------------------------------------------------

_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([A-Za-z][A-Za-z0-9]{0,31}));")
_TAG_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
_ATTR_NAME_RE = re.compile(r"[A-Za-z0-9_-]+")
_UNQUOTED_VALUE_RE = re.compile(r"[^\s>]+")
_PLAIN_RUN_RE = re.compile(r"[^<&]+")


class TelegramHtmlError(ValueError):
    """The text is not Telegram HTML; the message is what Telegram puts after
    "can't parse entities: "."""


@dataclass(frozen=True)
class ParsedText:
    text: str  # what the user sees: tags removed, entities decoded
    entities: tuple[dict[str, Any], ...]  # MessageEntity dicts, UTF-16 offsets


@dataclass
class _OpenTag:
    name: str
    index: int  # in the source, for error messages
    start: int  # UTF-16 offset in the visible text
    entity: dict[str, Any] | None


def utf16_len(text: str) -> int:
    """Telegram measures offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _decode_entity(source: str, index: int) -> tuple[str, int]:
    match = _ENTITY_RE.match(source, index)
    if match is None:
        raise TelegramHtmlError(
            f'Character "&" at byte offset {_byte_offset(source, index)} must be escaped as "&amp;"'
        )
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        if name not in _NAMED_ENTITIES:
            raise TelegramHtmlError(
                f'Unsupported HTML entity "{match.group()}" at byte offset '
                f"{_byte_offset(source, index)}"
            )
        return _NAMED_ENTITIES[name], match.end()
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise TelegramHtmlError(
            f'Invalid HTML entity "{match.group()}" at byte offset {_byte_offset(source, index)}'
        )
    return chr(code), match.end()


def _decode_entities(source: str) -> str:
    parts: list[str] = []
    index = 0
    while index < len(source):
        if source[index] == "&":
            value, index = _decode_entity(source, index)
            parts.append(value)
        else:
            end = source.find("&", index)
            end = len(source) if end < 0 else end
            parts.append(source[index:end])
            index = end
    return "".join(parts)


def _parse_attributes(
    source: str, index: int, tag: str, tag_index: int
) -> tuple[dict[str, str], int]:
    """Attributes of a start tag from just after its name; returns them and the index
    after the closing `>`."""
    attributes: dict[str, str] = {}
    size = len(source)

    def unclosed() -> TelegramHtmlError:
        return TelegramHtmlError(
            f"Unclosed start tag at byte offset {_byte_offset(source, tag_index)}"
        )

    while True:
        while index < size and source[index].isspace():
            index += 1
        if index >= size:
            raise unclosed()
        if source[index] == ">":
            return attributes, index + 1
        name_match = _ATTR_NAME_RE.match(source, index)
        if name_match is None:
            raise TelegramHtmlError(
                f'Empty attribute name in the tag "{tag}" at byte offset '
                f"{_byte_offset(source, index)}"
            )
        name = name_match.group().lower()
        index = name_match.end()
        while index < size and source[index].isspace():
            index += 1
        value = ""
        if index < size and source[index] == "=":
            index += 1
            while index < size and source[index].isspace():
                index += 1
            if index >= size:
                raise unclosed()
            if source[index] in "\"'":
                end = source.find(source[index], index + 1)
                if end < 0:
                    raise unclosed()
                value = _decode_entities(source[index + 1 : end])
                index = end + 1
            else:
                value_match = _UNQUOTED_VALUE_RE.match(source, index)
                if value_match is None:
                    raise unclosed()
                value = _decode_entities(value_match.group())
                index = value_match.end()
        attributes[name] = value


def _entity_for_tag(
    name: str, attributes: dict[str, str], stack: list[_OpenTag], source: str, index: int
) -> dict[str, Any] | None:
    if name == "span" and attributes.get("class") != "tg-spoiler":
        raise TelegramHtmlError(
            f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(source, index)}'
        )
    if name == "tg-emoji":
        emoji_id = attributes.get("emoji-id", "")
        if not emoji_id.isdigit():
            raise TelegramHtmlError(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset '
                f"{_byte_offset(source, index)}"
            )
        return {"type": "custom_emoji", "custom_emoji_id": emoji_id}
    if name == "a":
        href = attributes.get("href", "")
        return {"type": "text_link", "url": href} if href else None
    if name == "blockquote":
        return {"type": "expandable_blockquote" if "expandable" in attributes else "blockquote"}
    if name == "code":
        language = attributes.get("class", "")
        if stack and stack[-1].name == "pre" and language.startswith("language-"):
            # <pre><code class="language-x"> is one pre entity with a language.
            if stack[-1].entity is not None:
                stack[-1].entity["language"] = language.removeprefix("language-")
            return None
    return {"type": _ENTITY_TYPES[name]}


def parse_telegram_html(source: str) -> ParsedText:
    """Parse text in Telegram's HTML subset; raise TelegramHtmlError where Telegram would."""
    visible: list[str] = []
    offset16 = 0
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    index = 0
    size = len(source)
    while index < size:
        char = source[index]
        if char == "&":
            value, index = _decode_entity(source, index)
            visible.append(value)
            offset16 += utf16_len(value)
            continue
        if char != "<":
            run = _PLAIN_RUN_RE.match(source, index)
            assert run is not None  # char is neither < nor &
            visible.append(run.group())
            offset16 += utf16_len(run.group())
            index = run.end()
            continue
        if source.startswith("</", index):
            name_match = _TAG_NAME_RE.match(source, index + 2)
            if name_match is None:
                raise TelegramHtmlError(
                    f"Unexpected end tag at byte offset {_byte_offset(source, index)}"
                )
            name = name_match.group().lower()
            end = name_match.end()
            while end < size and source[end].isspace():
                end += 1
            if end >= size or source[end] != ">":
                raise TelegramHtmlError(
                    f"Unclosed end tag at byte offset {_byte_offset(source, index)}"
                )
            if not stack:
                raise TelegramHtmlError(
                    f"Unexpected end tag at byte offset {_byte_offset(source, index)}"
                )
            if stack[-1].name != name:
                raise TelegramHtmlError(
                    f"Unmatched end tag at byte offset {_byte_offset(source, index)}, "
                    f'expected "</{stack[-1].name}>", found "</{name}>"'
                )
            opened = stack.pop()
            if opened.entity is not None and offset16 > opened.start:
                entities.append(
                    {**opened.entity, "offset": opened.start, "length": offset16 - opened.start}
                )
            index = end + 1
            continue
        name_match = _TAG_NAME_RE.match(source, index + 1)
        name = name_match.group().lower() if name_match else ""
        if name_match is None or name not in _ENTITY_TYPES:
            raise TelegramHtmlError(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, index)}'
            )
        attributes, after = _parse_attributes(source, name_match.end(), name, index)
        entity = _entity_for_tag(name, attributes, stack, source, index)
        stack.append(_OpenTag(name, index, offset16, entity))
        index = after
    if stack:
        raise TelegramHtmlError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"'
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText("".join(visible), tuple(entities))


# ---------------------------------------------------------------------------------------
# What the emulator records
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data


@dataclass(frozen=True)
class Chat:
    id: int
    type: Literal["private", "group", "supergroup", "channel"]
    title: str | None = None
    first_name: str | None = None
    username: str | None = None

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("title", "first_name", "username"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes

    def __repr__(self) -> str:
        return f"Upload({self.filename!r}, {len(self.data)} bytes)"


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    url: str | None = None  # sent by URL: the emulator never fetches it
    data: bytes | None = None  # uploaded by the bot

    @property
    def size(self) -> int | None:
        return len(self.data) if self.data is not None else None


@dataclass(frozen=True)
class Photo:
    file_id: str
    url: str | None
    size: int | None  # bytes, when uploaded

    def describe(self) -> str:
        return self.url if self.url is not None else f"{self.size} bytes"


@dataclass(frozen=True)
class Version:
    """One state of a bot message: as sent, then after each edit."""

    method: str
    at: float  # clock.monotonic()
    text: str | None  # visible text or caption
    raw: str | None  # as the bot sent it (HTML source)
    reply_markup: dict[str, Any] | None


@dataclass
class SentMessage:
    """A message the bot sent; edits are applied in place and appended to `history`."""

    chat: Chat
    message_id: int
    date: int
    sender: dict[str, Any]
    sent_at: float  # clock.monotonic()
    parse_mode: str | None = None
    text: str | None = None  # visible text of a text message
    raw_text: str | None = None
    entities: tuple[dict[str, Any], ...] = ()
    caption: str | None = None  # visible caption of a photo
    raw_caption: str | None = None
    caption_entities: tuple[dict[str, Any], ...] = ()
    photo: Photo | None = None
    media_group_id: str | None = None
    reply_markup: dict[str, Any] | None = None
    reply_to_message: dict[str, Any] | None = None
    edit_date: int | None = None
    deleted: bool = False
    history: list[Version] = field(default_factory=list)

    @property
    def chat_id(self) -> int:
        return self.chat.id

    @property
    def visible(self) -> str:
        """What the user reads: the text, or the caption of a photo."""
        return (self.text if self.photo is None else self.caption) or ""

    @property
    def edits(self) -> list[Version]:
        return self.history[1:]

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Inline keyboard buttons, row by row, left to right."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [button for row in rows for button in row]

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat.to_api(),
            "date": self.date,
        }
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if self.photo is not None:
            data["photo"] = [
                {
                    "file_id": self.photo.file_id,
                    "file_unique_id": "u" + self.photo.file_id,
                    "width": 800,
                    "height": 600,
                    **({"file_size": self.photo.size} if self.photo.size is not None else {}),
                }
            ]
            if self.caption:
                data["caption"] = self.caption
                if self.caption_entities:
                    data["caption_entities"] = list(self.caption_entities)
        else:
            data["text"] = self.text or ""
            if self.entities:
                data["entities"] = list(self.entities)
        if self.media_group_id is not None:
            data["media_group_id"] = self.media_group_id
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            data["reply_markup"] = self.reply_markup
        if self.reply_to_message is not None:
            data["reply_to_message"] = self.reply_to_message
        return data

    def _snapshot(self, method: str, at: float) -> Version:
        if self.photo is None:
            return Version(method, at, self.text, self.raw_text, self.reply_markup)
        return Version(method, at, self.caption, self.raw_caption, self.reply_markup)


@dataclass(frozen=True)
class InlineAnswer:
    """answerInlineQuery as Telegram took it; each result's message text already parsed."""

    query_id: str
    results: list[dict[str, Any]]
    texts: list[ParsedText]  # what choosing each result would post
    cache_time: int
    is_personal: bool
    button: dict[str, Any] | None


@dataclass(frozen=True)
class CallbackAnswer:
    query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int


@dataclass(frozen=True)
class ChatAction:
    chat_id: int
    action: str
    at: float


@dataclass(frozen=True)
class BotEvent:
    """Something the bot did in a chat, as the listeners (the terminal chat) see it."""

    kind: Literal["message", "album", "edit", "delete", "callback_answer", "chat_action"]
    chat_id: int
    messages: tuple[SentMessage, ...] = ()
    answer: CallbackAnswer | None = None
    action: str | None = None


class ApiCall(NamedTuple):
    method: str
    params: dict[str, Any]  # decoded; uploaded files appear as Upload under their part name


@dataclass(frozen=True)
class DeliveryStats:
    count: int
    first_at: float
    last_at: float


@dataclass
class _Fault:
    error_code: int
    description: str
    parameters: dict[str, Any]
    remaining: int
    chat_id: int | None = None  # only requests to this chat fail; None: every request
    body: str | None = None  # answered as this text/html page instead of the JSON envelope


@dataclass
class _Update:
    update_id: int
    kind: str
    payload: dict[str, Any]


@dataclass
class _LongPoll:
    """A getUpdates waiting for updates; `ended` is the 409 description when another ends it."""

    ended: str | None = None


@dataclass
class _PendingQuery:
    chat_id: int
    answered: CallbackAnswer | None = None


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(
        self,
        error_code: int,
        description: str,
        parameters: dict[str, Any] | None = None,
        body: str | None = None,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters or {}
        self.body = body  # a page instead of the envelope (a proxy's 502, not Telegram's)

    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


# ---------------------------------------------------------------------------------------
# Telegram's flood limits
# ---------------------------------------------------------------------------------------


Counting = Literal["sliding", "fixed", "even"]


@dataclass(frozen=True)
class FloodRules:
    """How the emulator reads Telegram's published limits (module docstring)."""

    per_second: int = GLOBAL_PER_SECOND  # all chats together
    chat_per_second: int = CHAT_PER_SECOND  # one chat, private or group: an even pace
    group_per_minute: int = GROUP_PER_MINUTE
    minute: float = 60.0
    #: how "30 a second" and "20 a minute" are counted: "sliding", "fixed" or "even"
    counting: Counting = "sliding"


class _Pace:
    """One limit: `limit` messages per `period` seconds, counted the `counting` way."""

    def __init__(self, limit: int, period: float, counting: Counting) -> None:
        self.limit, self.period, self.counting = limit, period, counting
        self._stamps: deque[float] = deque()  # sliding: when each message went
        self._window = (-1, 0)  # fixed: (window number, messages in it)
        self._free_at = -math.inf  # even: when the next slot opens

    def wait(self, now: float, count: int) -> float:
        """Seconds until `count` more messages may go (0: now)."""
        if self.counting == "even":
            return max(0.0, self._free_at - now)
        if self.counting == "fixed":
            number, taken = self._window
            current = math.floor(now / self.period)
            if number == current and taken + count > self.limit:
                return (current + 1) * self.period - now
            return 0.0
        stamps = self._stamps
        while stamps and stamps[0] <= now - self.period:
            stamps.popleft()
        excess = len(stamps) + count - self.limit
        if excess > 0 and stamps:
            return stamps[min(excess, len(stamps)) - 1] + self.period - now
        return 0.0

    def take(self, now: float, count: int) -> None:
        if self.counting == "even":
            self._free_at = max(self._free_at, now) + count * self.period / self.limit
        elif self.counting == "fixed":
            number, taken = self._window
            current = math.floor(now / self.period)
            self._window = (current, (taken if number == current else 0) + count)
        else:
            self._stamps.extend([now] * count)


class _SendLimits:
    """The three limits of CONTRACT 4.2; see the module docstring for the exact rules."""

    def __init__(self, clock: Clock, rules: FloodRules) -> None:
        self._clock = clock
        self.rules = rules
        self._all = _Pace(rules.per_second, 1.0, rules.counting)
        # one message a second in a chat: an even pace whatever the counting (no burst)
        self._chats: dict[int, _Pace] = defaultdict(
            lambda: _Pace(rules.chat_per_second, 1.0, "even")
        )
        self._groups: dict[int, _Pace] = defaultdict(
            lambda: _Pace(rules.group_per_minute, rules.minute, rules.counting)
        )

    def acquire(self, chat: Chat, count: int = 1) -> None:
        """Take `count` messages to `chat` or raise 429 with the seconds to wait."""
        now = self._clock.monotonic()
        paces = [self._all, self._chats[chat.id]]
        if chat.type != "private":
            paces.append(self._groups[chat.id])
        wait = max(pace.wait(now, count) for pace in paces)
        if wait > 1e-9:
            retry_after = max(1, math.ceil(wait - 1e-9))
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        for pace in paces:
            pace.take(now, count)


# ---------------------------------------------------------------------------------------
# Request decoding
# ---------------------------------------------------------------------------------------

_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "media",
        "commands",
        "scope",
        "reply_parameters",
        "link_preview_options",
        "entities",
        "caption_entities",
        "allowed_updates",
        "menu_button",
    }
)
_INT_FIELDS = frozenset(
    {"message_id", "offset", "limit", "cache_time", "message_thread_id", "user_id"}
)
_BOOL_FIELDS = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "has_spoiler",
        "drop_pending_updates",
        "show_caption_above_media",
        "allow_sending_without_reply",
        "disable_web_page_preview",
        "allow_paid_broadcast",
    }
)
_INTEGER_RE = re.compile(r"-?[0-9]+")
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_BUTTON_ACTIONS = frozenset(
    {
        "callback_data",
        "url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "login_url",
        "web_app",
        "pay",
        "callback_game",
        "copy_text",
    }
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_INCOMING_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w@/])")
_INCOMING_URL_RE = re.compile(r"https?://[^\s<>\"]+")


def _coerce(name: str, value: Any) -> Any:
    """Give a form value (always a string) the type the Bot API expects for `name`."""
    if not isinstance(value, str):
        return value
    if name in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            raise _bad_request(f"can't parse {name} JSON object") from None
    if name == "chat_id":
        return int(value) if _INTEGER_RE.fullmatch(value) else value
    if name in _INT_FIELDS:
        if not _INTEGER_RE.fullmatch(value.strip()):
            raise _bad_request(f"invalid {name} specified")
        return int(value)
    if name == "timeout":
        try:
            return float(value)
        except ValueError:
            raise _bad_request("invalid timeout specified") from None
    if name in _BOOL_FIELDS:
        return value.strip().lower() in ("true", "1")
    return value


def _incoming_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram detects in a user's plain text: commands and links."""
    found: list[tuple[int, int, str]] = []
    for regex, kind in ((_INCOMING_COMMAND_RE, "bot_command"), (_INCOMING_URL_RE, "url")):
        found.extend((m.start(), m.end(), kind) for m in regex.finditer(text))
    found.sort()
    return [
        {"type": kind, "offset": utf16_len(text[:start]), "length": utf16_len(text[start:end])}
        for start, end, kind in found
    ]


# ---------------------------------------------------------------------------------------
# The emulator
# ---------------------------------------------------------------------------------------

Handler = Callable[[dict[str, Any], dict[str, Upload]], Awaitable[Any]]
Listener = Callable[[BotEvent], None]


class BotApiEmulator:
    """A Bot API server on 127.0.0.1 with simulated users, chats and a recorder."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        bot_username: str = "sandbox_bot",
        bot_first_name: str = "Sandbox Bot",
        clock: Clock | None = None,
        enforce_limits: bool = False,
        group_window: float = 60.0,
        flood_rules: FloodRules | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError("token must look like <digits>:<text>")
        self.token = token
        self.clock: Clock = clock or SystemClock()
        self.enforce_limits = enforce_limits
        self.host = host
        self.port = port
        self.bot: dict[str, Any] = {
            "id": int(bot_id),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

        # What tests read.
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.sent: defaultdict[int, list[SentMessage]] = defaultdict(list)
        self.calls: list[ApiCall] = []
        self.chat_actions: list[ChatAction] = []
        self.callback_answers: dict[str, CallbackAnswer] = {}
        self.inline_answers: dict[str, InlineAnswer] = {}
        #: every method call the emulator refused, with Telegram's description
        self.refusals: list[ApiCall] = []
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.bot_settings: dict[str, Any] = {}
        self.delivered: defaultdict[int, list[float]] = defaultdict(list)
        self.files: dict[str, StoredFile] = {}
        self.blocked: set[int] = set()
        #: every 429 answered, as (chat id or None, retry_after): limits kept and faults
        self.flood_answers: list[tuple[int | None, int]] = []

        rules = flood_rules or FloodRules()
        if group_window != 60.0:  # the older way to scale the minute down
            rules = replace(rules, minute=group_window)
        self._limits = _SendLimits(self.clock, rules)
        self._faults: dict[str, deque[_Fault]] = defaultdict(deque)
        self._incoming: dict[tuple[int, int], dict[str, Any]] = {}
        self._by_id: dict[tuple[int, int], SentMessage] = {}
        self._next_message_id: defaultdict[int, int] = defaultdict(lambda: 1)
        self._updates: list[_Update] = []
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._group_ids = itertools.count(1)
        self._queries: dict[str, _PendingQuery] = {}
        self._allowed_updates: frozenset[str] | None = None
        self._listeners: list[Listener] = []
        self._updates_changed = asyncio.Condition()
        self._activity = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        #: requests whose client hung up before its body arrived
        self.hang_ups = 0
        #: setWebhook's url and secret_token; updates are then POSTed there, as Telegram does
        self.webhook: dict[str, Any] | None = None
        self.webhook_refusals = 0
        self._webhook_lock = asyncio.Lock()
        self._long_poll: _LongPoll | None = None
        #: every 409 Conflict answered to getUpdates, with Telegram's description
        self.conflicts: list[str] = []

        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "deleteWebhook": self._delete_webhook,
                "setWebhook": self._set_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "sendMessage": self._send_message,
                "sendPhoto": self._send_photo,
                "sendMediaGroup": self._send_media_group,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "answerInlineQuery": self._answer_inline_query,
                "sendChatAction": self._send_chat_action,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "getFile": self._get_file,
                "getChat": self._get_chat,
                "setMyDescription": self._store_setting("description"),
                "setMyShortDescription": self._store_setting("short_description"),
                "setMyName": self._store_setting("name"),
                "setChatMenuButton": self._store_setting("menu_button"),
                "logOut": self._accept,
                "close": self._accept,
            }.items()
        }

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def long_poll_waiting(self) -> bool:
        """A getUpdates is waiting for updates now."""
        return self._long_poll is not None

    @property
    def bot_username(self) -> str:
        return str(self.bot["username"])

    async def start(self) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._closing = False
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        addresses = self._runner.addresses  # aiohttp's public record of the bound sockets
        if addresses:
            self.port = addresses[0][1]

    async def stop(self) -> None:
        # Long polls would otherwise hold the server's shutdown until their timeout.
        self._closing = True
        async with self._updates_changed:
            self._updates_changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- simulated people -----------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "User",
        language_code: str | None = "en",
        *,
        last_name: str | None = None,
        username: str | None = None,
    ) -> User:
        person = User(user_id, first_name, last_name, username, language_code)
        self.users[user_id] = person
        return person

    def private_chat(self, user: User) -> Chat:
        chat = self.chats.get(user.id)
        if chat is None:
            chat = Chat(user.id, "private", first_name=user.first_name, username=user.username)
            self.chats[user.id] = chat
        return chat

    def group_chat(self, chat_id: int, title: str, *, supergroup: bool = False) -> Chat:
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat = Chat(chat_id, "supergroup" if supergroup else "group", title=title)
        self.chats[chat_id] = chat
        return chat

    def channel_chat(self, chat_id: int, title: str, *, username: str | None = None) -> Chat:
        """A channel (its posts come as `channel_post`, without `from`)."""
        if chat_id >= 0:
            raise ValueError("channel chat ids are negative")
        chat = Chat(chat_id, "channel", title=title, username=username)
        self.chats[chat_id] = chat
        return chat

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sending to their private chat answers 403."""
        self.blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self.blocked.discard(user_id)

    async def send_text(
        self,
        user: User,
        chat: Chat | None,
        text: str,
        reply_to: SentMessage | Mapping[str, Any] | int | None = None,
    ) -> dict[str, Any]:
        """The user writes `text` in `chat` (None: their private chat); returns the Message."""
        chat = chat or self.private_chat(user)
        self.users.setdefault(user.id, user)
        if chat.type == "private":
            self.blocked.discard(user.id)  # writing to a bot means it is not blocked
        message: dict[str, Any] = {
            "message_id": self._new_message_id(chat.id),
            "from": user.to_api(),
            "chat": chat.to_api(),
            "date": int(self.clock.time()),
            "text": text,
        }
        entities = _incoming_entities(text)
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            replied = self._message_api(chat.id, self._message_id_of(reply_to))
            if replied is None:
                raise ValueError("reply_to is not a message of this chat")
            message["reply_to_message"] = replied
        self._incoming[(chat.id, message["message_id"])] = message
        await self._push_update("message", message)
        return message

    async def send_contact(
        self,
        user: User,
        phone_number: str,
        *,
        contact_user_id: int | None = None,
        first_name: str | None = None,
    ) -> dict[str, Any]:
        """The user sends a contact in their private chat (Bot API, Message: `contact`;
        Contact: `phone_number`, `first_name`, optional `user_id`). Pressing a
        `request_contact` keyboard button shares the user's own verified number, so
        `contact_user_id` defaults to the user's id; a forwarded or typed card of someone
        else carries another id or none (pass 0 for none)."""
        chat = self.private_chat(user)
        self.users.setdefault(user.id, user)
        contact: dict[str, Any] = {
            "phone_number": phone_number,
            "first_name": first_name or user.first_name,
        }
        owner = user.id if contact_user_id is None else contact_user_id
        if owner:
            contact["user_id"] = owner
        message: dict[str, Any] = {
            "message_id": self._new_message_id(chat.id),
            "from": user.to_api(),
            "chat": chat.to_api(),
            "date": int(self.clock.time()),
            "contact": contact,
        }
        self._incoming[(chat.id, message["message_id"])] = message
        await self._push_update("message", message)
        return message

    async def send_message(
        self,
        user: User | None,
        chat: Chat | None,
        text: str | None = None,
        *,
        entities: list[dict[str, Any]] | None = None,
        caption: str | None = None,
        caption_entities: list[dict[str, Any]] | None = None,
        photo: bool = False,
        document: dict[str, Any] | None = None,
        video: dict[str, Any] | None = None,
        media_group_id: str | None = None,
        forward_origin: dict[str, Any] | None = None,
        is_automatic_forward: bool = False,
        sender_chat: Chat | None = None,
        reply_to: SentMessage | Mapping[str, Any] | int | None = None,
        quote: dict[str, Any] | None = None,
        external_reply: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A Message in any of the shapes Telegram delivers (Bot API, "Message"); returns it.

        `user` None with a channel `chat`: a channel post (`channel_post`, no `from`).
        `entities` / `caption_entities` are sent as given (offsets in UTF-16 code units);
        without them the links and commands in the text are detected as Telegram does.
        `photo` adds a photo (PhotoSize sizes), `document` / `video` a Document / Video
        object as given; an album's
        items share `media_group_id`. `forward_origin` is a MessageOrigin object as the
        docs show it; `reply_to` a message of this chat; `quote` a TextQuote and
        `external_reply` an ExternalReplyInfo, as given.
        """
        chat = chat or (self.private_chat(user) if user is not None else None)
        if chat is None:
            raise ValueError("a message needs a chat")
        message: dict[str, Any] = {"message_id": self._new_message_id(chat.id)}
        if user is not None:
            self.users.setdefault(user.id, user)
            message["from"] = user.to_api()
            if chat.type == "private":
                self.blocked.discard(user.id)
        elif chat.type != "channel":
            raise ValueError("only a channel post comes without a sender")
        if sender_chat is not None or chat.type == "channel":
            message["sender_chat"] = (sender_chat or chat).to_api()
        message["chat"] = chat.to_api()
        message["date"] = int(self.clock.time())
        if forward_origin is not None:
            message["forward_origin"] = forward_origin
        if is_automatic_forward:
            message["is_automatic_forward"] = True
        if reply_to is not None:
            replied = self._message_api(chat.id, self._message_id_of(reply_to))
            if replied is None:
                raise ValueError("reply_to is not a message of this chat")
            message["reply_to_message"] = replied
        if external_reply is not None:
            message["external_reply"] = external_reply
        if quote is not None:
            message["quote"] = quote
        if media_group_id is not None:
            message["media_group_id"] = media_group_id
        if text is not None:
            message["text"] = text
            found = _incoming_entities(text) if entities is None else entities
            if found:
                message["entities"] = found
        if photo:
            message["photo"] = self._incoming_photo_sizes()
        if document is not None:
            message["document"] = document
        if video is not None:
            message["video"] = video
        if caption is not None:
            message["caption"] = caption
            found = _incoming_entities(caption) if caption_entities is None else caption_entities
            if found:
                message["caption_entities"] = found
        self._incoming[(chat.id, message["message_id"])] = message
        await self._push_update("channel_post" if chat.type == "channel" else "message", message)
        return message

    async def edit_incoming(
        self,
        message: Mapping[str, Any],
        *,
        text: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        caption: str | None = None,
        caption_entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """The sender edits their message: `edited_message` (`edited_channel_post` in a
        channel) with the new text or caption and `edit_date` (Bot API, "Update")."""
        key = (message["chat"]["id"], message["message_id"])
        edited = dict(self._incoming[key])
        edited["edit_date"] = int(self.clock.time())
        for name, value, entity_name, given in (
            ("text", text, "entities", entities),
            ("caption", caption, "caption_entities", caption_entities),
        ):
            if value is None:
                continue
            edited[name] = value
            found = _incoming_entities(value) if given is None else given
            edited.pop(entity_name, None)
            if found:
                edited[entity_name] = found
        self._incoming[key] = edited
        kind = "edited_channel_post" if edited["chat"]["type"] == "channel" else "edited_message"
        await self._push_update(kind, edited)
        return edited

    async def send_update(self, kind: str, payload: dict[str, Any]) -> None:
        """Deliver any update exactly as given (`kind` is its field: `message`,
        `channel_post`, ...); a message in it can be replied to and edited later."""
        if "message_id" in payload and "chat" in payload:
            chat_id, message_id = payload["chat"]["id"], payload["message_id"]
            self._incoming[(chat_id, message_id)] = payload
            # the chat's later messages get later ids, as in Telegram
            self._next_message_id[chat_id] = max(self._next_message_id[chat_id], message_id + 1)
        await self._push_update(kind, payload)

    def _incoming_photo_sizes(self) -> list[dict[str, Any]]:
        """A user's photo as Telegram lists it: the same picture in several sizes."""
        number = next(self._file_ids)
        return [
            {
                "file_id": f"AgACAgIAAxkBAAI{number:06d}{size}",
                "file_unique_id": f"AQAD{number:06d}{size}",
                "width": width,
                "height": height,
                "file_size": width * height // 10,
            }
            for size, (width, height) in enumerate(((90, 67), (320, 240), (1280, 960)))
        ]

    async def press(
        self,
        user: User,
        message: SentMessage | Mapping[str, Any],
        button: int | str,
    ) -> str:
        """The user presses an inline button (index row by row from 0, or its callback_data)
        of a bot message; returns the callback query id."""
        if isinstance(message, SentMessage):
            record = message
        else:
            record = self._by_id[(message["chat"]["id"], message["message_id"])]
        if record.deleted:
            raise ValueError("the message was deleted")
        buttons = record.buttons
        if isinstance(button, int):
            if not 0 <= button < len(buttons):
                raise ValueError(f"the message has {len(buttons)} buttons, not {button + 1}")
            chosen = buttons[button]
        else:
            matches = [b for b in buttons if b.get("callback_data") == button]
            if not matches:
                raise ValueError(f"no button with callback_data {button!r}")
            chosen = matches[0]
        if "callback_data" not in chosen:
            raise ValueError(f"button {chosen.get('text')!r} has no callback_data")
        return await self.press_data(user, record, chosen["callback_data"])

    async def press_data(self, user: User, record: SentMessage, data: str) -> str:
        """A callback query with any `data` on a bot message, as a modified client can send
        (Telegram passes callback_data through unchecked); returns the query id."""
        query_id = f"{self.bot['id']}{next(self._query_ids):08d}"
        self._queries[query_id] = _PendingQuery(record.chat_id)
        query = {
            "id": query_id,
            "from": user.to_api(),
            "message": record.to_api(),
            "chat_instance": str(-4_000_000_000_000 - abs(record.chat_id)),
            "data": data,
        }
        await self._push_update("callback_query", query)
        return query_id

    # -- what the bot did -----------------------------------------------------------------

    def add_listener(self, listener: Listener) -> None:
        """Call `listener` with every BotEvent, synchronously, as the bot's request lands."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [call.params for call in self.calls if call.method.lower() == method.lower()]

    def my_commands(self, language_code: str = "", scope: str = "default") -> list[dict[str, str]]:
        return self.commands.get((scope, language_code), [])

    def delivery_stats(self) -> dict[int, DeliveryStats]:
        """Messages delivered per chat, with the first and last monotonic time stamps."""
        return {
            chat_id: DeliveryStats(len(stamps), stamps[0], stamps[-1])
            for chat_id, stamps in self.delivered.items()
            if stamps
        }

    def albums(self, chat_id: int) -> dict[str, list[SentMessage]]:
        grouped: dict[str, list[SentMessage]] = {}
        for message in self.sent[chat_id]:
            if message.media_group_id is not None:
                grouped.setdefault(message.media_group_id, []).append(message)
        return grouped

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        count: int = 1,
        parameters: dict[str, Any] | None = None,
        chat_id: int | None = None,
        body: str | None = None,
    ) -> None:
        """The next `count` calls of `method` (to `chat_id`, when given) answer this error.

        A 5xx as Telegram's front answers it when the server behind is down comes as an
        HTML page, not the JSON envelope: pass that page as `body`.
        """
        params = dict(parameters or {})
        if retry_after is not None:
            params["retry_after"] = retry_after
        fault = _Fault(error_code, description, params, count, chat_id, body)
        self._faults[method.lower()].append(fault)

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Wait until `predicate()` is truthy (checked after every bot request); return it.

        A timeout argument rather than asyncio.timeout() so that the TimeoutError can say
        what the bot did meanwhile."""
        async with self._activity:
            try:
                async with asyncio.timeout(timeout):
                    return await self._activity.wait_for(predicate)
            except TimeoutError:
                recent = ", ".join(call.method for call in self.calls[-8:])
                raise TimeoutError(
                    f"condition not met within {timeout}s; last bot calls: {recent or 'none'}"
                ) from None

    async def wait_for_messages(
        self,
        chat_id: int,
        count: int,
        timeout: float = 5.0,
    ) -> list[SentMessage]:
        """Wait until the bot has sent at least `count` messages to `chat_id`."""
        await self.wait_for(lambda: len(self.sent[chat_id]) >= count, timeout)
        return list(self.sent[chat_id])

    async def send_inline_query(self, user: User, query: str, chat_type: str = "private") -> str:
        """The user types `@bot <query>` in a chat of `chat_type`; returns the inline query id."""
        query_id = f"{self.bot['id']}{next(self._query_ids):08d}"
        self._queries[query_id] = _PendingQuery(user.id)
        payload = {
            "id": query_id,
            "from": user.to_api(),
            "query": query,
            "offset": "",
            "chat_type": chat_type,
        }
        await self._push_update("inline_query", payload)
        return query_id

    async def wait_for_inline_answer(self, query_id: str, timeout: float = 5.0) -> InlineAnswer:
        result: InlineAnswer = await self.wait_for(
            lambda: self.inline_answers.get(query_id), timeout
        )
        return result

    async def wait_for_callback_answer(
        self,
        query_id: str,
        timeout: float = 5.0,
    ) -> CallbackAnswer:
        result: CallbackAnswer = await self.wait_for(
            lambda: self.callback_answers.get(query_id), timeout
        )
        return result

    # -- HTTP -----------------------------------------------------------------------------

    async def _handle_method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _answer_error(ApiError(401, "Unauthorized"))
        name = request.match_info["method"]
        known = self._methods.get(name.lower())
        try:
            params, uploads = await self._read_params(request)
        except ConnectionResetError:
            # The client hung up mid-request, as a bot does when it stops during a long poll;
            # nobody is left to answer, and it is no server error.
            self.hang_ups += 1
            await self._notify_activity()
            return web.Response(status=499)
        except ApiError as error:
            self.calls.append(ApiCall(known[0] if known else name, {}))
            await self._notify_activity()
            return _answer_error(error)
        self.calls.append(ApiCall(known[0] if known else name, {**params, **uploads}))
        await self._notify_activity()  # a long poll answers late; its arrival is news too
        try:
            result = await self._dispatch(name, known, params, uploads)
        except ApiError as error:
            if request.transport is None or request.transport.is_closing():
                # a long poll whose bot hung up (stopped, killed) is ended: nobody hears it
                self.hang_ups += 1
                return web.Response(status=499)
            if error.error_code == 409 and name.lower() == "getupdates":
                self.conflicts.append(error.description)
            self.refusals.append(ApiCall(known[0] if known else name, {"error": error.description}))
            return _answer_error(error)
        finally:
            await self._notify_activity()
        return web.json_response({"ok": True, "result": result})

    async def _dispatch(
        self,
        name: str,
        known: tuple[str, Handler] | None,
        params: dict[str, Any],
        uploads: dict[str, Upload],
    ) -> Any:
        fault = self._take_fault(name, params)
        try:
            if fault is not None:
                raise ApiError(fault.error_code, fault.description, fault.parameters, fault.body)
            if known is None:
                raise ApiError(404, "Not Found")
            return await known[1](params, uploads)
        except ApiError as error:
            if error.error_code == 429:
                chat_id = params.get("chat_id")
                retry_after = int((error.parameters or {}).get("retry_after", 0))
                self.flood_answers.append((int(chat_id) if chat_id else None, retry_after))
            raise

    def _take_fault(self, name: str, params: dict[str, Any]) -> _Fault | None:
        """The first fault waiting for this method and chat, used up by one."""
        faults = self._faults.get(name.lower())
        chat_id = params.get("chat_id")
        for fault in list(faults or ()):
            if fault.chat_id is not None and str(fault.chat_id) != str(chat_id):
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                faults.remove(fault)  # type: ignore[union-attr]  # found in it: not None
            return fault
        return None

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
        raw: dict[str, Any] = dict(request.query)
        uploads: dict[str, Upload] = {}
        if request.body_exists:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise _bad_request("can't parse JSON request body") from None
                if not isinstance(body, dict):
                    raise _bad_request("JSON request body must be an object")
                raw.update(body)
            elif request.content_type in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            ):
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        uploads[key] = Upload(value.filename, value.content_type, value.file.read())
                    else:
                        raw[key] = value
        return {key: _coerce(key, value) for key, value in raw.items()}, uploads

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _answer_error(ApiError(401, "Unauthorized"))
        path = request.match_info["path"]
        for stored in self.files.values():
            if stored.file_path == path and stored.data is not None:
                return web.Response(body=stored.data, content_type="application/octet-stream")
        return _answer_error(ApiError(404, "Not Found"))

    async def _notify_activity(self) -> None:
        async with self._activity:
            self._activity.notify_all()

    def _emit(self, event: BotEvent) -> None:
        for listener in list(self._listeners):
            listener(event)

    # -- updates --------------------------------------------------------------------------

    async def _push_update(self, kind: str, payload: dict[str, Any]) -> None:
        update_id = next(self._update_ids)
        self._updates.append(_Update(update_id, kind, payload))
        if self.webhook is not None:
            await self._post_to_webhook()
            return
        async with self._updates_changed:
            self._updates_changed.notify_all()

    async def _post_to_webhook(self) -> None:
        """POST pending updates, oldest first, to the webhook; one refused stays pending."""
        assert self.webhook is not None
        headers = {"Content-Type": "application/json"}
        if self.webhook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
        async with self._webhook_lock, aiohttp.ClientSession() as session:
            while self._deliverable():
                update = self._updates[0]
                body = json.dumps({"update_id": update.update_id, update.kind: update.payload})
                async with session.post(self.webhook["url"], data=body, headers=headers) as answer:
                    if answer.status != 200:
                        self.webhook_refusals += 1
                        return
                self._updates.pop(0)

    def _deliverable(self) -> list[_Update]:
        if self._allowed_updates is not None:
            # Telegram drops updates of types the bot did not ask for.
            self._updates = [u for u in self._updates if u.kind in self._allowed_updates]
        return self._updates

    async def _get_updates(self, params: dict[str, Any], _: dict[str, Upload]) -> Any:
        if self.webhook is not None:
            raise ApiError(409, CONFLICT_WEBHOOK_ACTIVE)
        offset = params.get("offset")
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(0.0, float(params.get("timeout") or 0))
        if "allowed_updates" in params:
            allowed = params["allowed_updates"] or []
            self._allowed_updates = frozenset(allowed) if allowed else None
        if isinstance(offset, int) and offset > 0:
            self._updates = [u for u in self._updates if u.update_id >= offset]
        elif isinstance(offset, int) and offset < 0:
            self._updates = self._updates[offset:]
        if timeout > 0 and not self._deliverable():
            # As telegram-bot-api (Client::do_get_updates): a poll that is going to wait ends
            # the one already waiting, which is answered 409; the newcomer waits.
            await self._end_long_poll(CONFLICT_OTHER_GET_UPDATES)
            poll = self._long_poll = _LongPoll()
            try:
                async with self._updates_changed:
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(timeout):
                            await self._updates_changed.wait_for(
                                lambda: (
                                    self._closing
                                    or poll.ended is not None
                                    or bool(self._deliverable())
                                )
                            )
            finally:
                if self._long_poll is poll:
                    self._long_poll = None
            if poll.ended is not None:
                raise ApiError(409, poll.ended)
        return [{"update_id": u.update_id, u.kind: u.payload} for u in self._deliverable()[:limit]]

    async def _end_long_poll(self, description: str) -> None:
        """Answer the waiting long poll, if any, with 409 `description`."""
        if self._long_poll is None:
            return
        self._long_poll.ended = description
        self._long_poll = None
        async with self._updates_changed:
            self._updates_changed.notify_all()

    async def _get_me(self, params: dict[str, Any], _: dict[str, Upload]) -> Any:
        return self.bot

    async def _delete_webhook(self, params: dict[str, Any], _: dict[str, Upload]) -> Any:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = None
        return True

    async def _set_webhook(self, params: dict[str, Any], _: dict[str, Upload]) -> Any:
        url = str(params.get("url") or "")
        if not url:
            return await self._delete_webhook(params, _)
        if not url.startswith(("https://", "http://127.0.0.1")):
            raise ApiError(400, "Bad Request: bad webhook: HTTPS url must be provided for webhook")
        if "allowed_updates" in params:
            allowed = params["allowed_updates"] or []
            if isinstance(allowed, str):
                allowed = json.loads(allowed)
            self._allowed_updates = frozenset(allowed) if allowed else None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        await self._end_long_poll(CONFLICT_SET_WEBHOOK)
        self.webhook = {"url": url, "secret_token": params.get("secret_token") or ""}
        return True

    async def _get_webhook_info(self, params: dict[str, Any], _: dict[str, Upload]) -> Any:
        return {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    # -- sending --------------------------------------------------------------------------

    def _target_chat(self, params: dict[str, Any]) -> Chat:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad_request("chat_id is empty")
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None and isinstance(chat_id, int) and chat_id in self.users:
            chat = self.private_chat(self.users[chat_id])
        if chat is None:
            raise _bad_request("chat not found")
        if chat.type == "private" and chat.id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _format(
        self, raw: str, parse_mode: str | None, entities: Any, *, limit: int, too_long: str
    ) -> ParsedText:
        mode = (parse_mode or "").lower()
        if mode == "html":
            try:
                parsed = parse_telegram_html(raw)
            except TelegramHtmlError as error:
                raise _bad_request(f"can't parse entities: {error}") from None
        elif mode in ("", "markdown", "markdownv2"):
            parsed = ParsedText(raw, tuple(entities or ()))
        else:
            raise _bad_request("unsupported parse_mode")
        if len(parsed.text) > limit:
            raise _bad_request(too_long)
        return parsed

    def _text(self, params: dict[str, Any]) -> ParsedText:
        raw = params.get("text")
        if not isinstance(raw, str) or not raw.strip():
            raise _bad_request("message text is empty")
        parsed = self._format(
            raw,
            params.get("parse_mode"),
            params.get("entities"),
            limit=TEXT_LIMIT,
            too_long="message is too long",
        )
        if not parsed.text.strip():
            raise _bad_request("message text is empty")
        return parsed

    def _caption(self, raw: Any, parse_mode: str | None, entities: Any) -> ParsedText | None:
        if raw is None or raw == "":
            return None
        if not isinstance(raw, str):
            raise _bad_request("caption must be a string")
        return self._format(
            raw, parse_mode, entities, limit=CAPTION_LIMIT, too_long="message caption is too long"
        )

    def _reply_markup(self, markup: Any) -> dict[str, Any] | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return markup  # reply keyboards, ForceReply, ReplyKeyboardRemove: kept as sent
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        for button in (button for row in rows for button in row):
            if not isinstance(button, dict) or not button.get("text"):
                raise _bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            if not _BUTTON_ACTIONS & button.keys():
                raise _bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT:
                    raise _bad_request("BUTTON_DATA_INVALID")
            if "url" in button:
                url = str(button["url"])
                if not url.startswith(("http://", "https://", "tg://")):
                    raise _bad_request(
                        f"inline keyboard button URL '{url}' is invalid: Unsupported URL protocol"
                    )
        return markup

    def _reply_to(self, chat: Chat, params: dict[str, Any]) -> dict[str, Any] | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply"))
        else:
            message_id = params.get("reply_to_message_id")
            allow_missing = bool(params.get("allow_sending_without_reply"))
        if message_id is None:
            return None
        replied = self._message_api(chat.id, int(message_id))
        if replied is None and not allow_missing:
            raise _bad_request("message to be replied not found")
        return replied

    def _resolve_photo(self, value: Any, uploads: dict[str, Upload], field_name: str) -> StoredFile:
        if value is None and field_name in uploads:
            return self._store_upload(uploads[field_name])
        if not isinstance(value, str) or not value:
            raise _bad_request(f"there is no {field_name} in the request")
        if value.startswith("attach://"):
            upload = uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise _bad_request("wrong file identifier/HTTP URL specified")
            return self._store_upload(upload)
        if value.startswith(("http://", "https://")):
            return self._new_file(url=value)
        stored = self.files.get(value)
        if stored is None:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        return stored

    def _store_upload(self, upload: Upload) -> StoredFile:
        if not upload.data:
            raise _bad_request("file must be non-empty")
        return self._new_file(data=upload.data)

    def _new_file(self, *, url: str | None = None, data: bytes | None = None) -> StoredFile:
        number = next(self._file_ids)
        file_id = f"AgACAgEmu{number:08d}"
        stored = StoredFile(file_id, f"AQADEmu{number:08d}", f"photos/file_{number}.jpg", url, data)
        self.files[file_id] = stored
        return stored

    def _record(
        self,
        chat: Chat,
        *,
        method: str,
        parse_mode: str | None,
        text: ParsedText | None = None,
        raw_text: str | None = None,
        caption: ParsedText | None = None,
        raw_caption: str | None = None,
        photo: StoredFile | None = None,
        media_group_id: str | None = None,
        reply_markup: dict[str, Any] | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> SentMessage:
        now = self.clock.monotonic()
        message = SentMessage(
            chat=chat,
            message_id=self._new_message_id(chat.id),
            date=int(self.clock.time()),
            sender=self.bot,
            sent_at=now,
            parse_mode=parse_mode,
            text=text.text if text else None,
            raw_text=raw_text,
            entities=text.entities if text else (),
            caption=caption.text if caption else None,
            raw_caption=raw_caption if caption else None,
            caption_entities=caption.entities if caption else (),
            photo=Photo(photo.file_id, photo.url, photo.size) if photo else None,
            media_group_id=media_group_id,
            reply_markup=reply_markup,
            reply_to_message=reply_to,
        )
        message.history.append(message._snapshot(method, now))
        self.sent[chat.id].append(message)
        self._by_id[(chat.id, message.message_id)] = message
        self.delivered[chat.id].append(now)
        return message

    def _acquire(self, chat: Chat, count: int = 1) -> None:
        if self.enforce_limits:
            self._limits.acquire(chat, count)

    async def _send_message(self, params: dict[str, Any], _: dict[str, Upload]) -> Any:
        chat = self._target_chat(params)
        text = self._text(params)
        markup = self._reply_markup(params.get("reply_markup"))
        reply_to = self._reply_to(chat, params)
        self._acquire(chat)
        message = self._record(
            chat,
            method="sendMessage",
            parse_mode=params.get("parse_mode"),
            text=text,
            raw_text=params["text"],
            reply_markup=markup,
            reply_to=reply_to,
        )
        self._emit(BotEvent("message", chat.id, (message,)))
        return message.to_api()

    async def _send_photo(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        chat = self._target_chat(params)
        caption = self._caption(
            params.get("caption"), params.get("parse_mode"), params.get("caption_entities")
        )
        markup = self._reply_markup(params.get("reply_markup"))
        reply_to = self._reply_to(chat, params)
        photo = self._resolve_photo(params.get("photo"), uploads, "photo")
        self._acquire(chat)
        message = self._record(
            chat,
            method="sendPhoto",
            parse_mode=params.get("parse_mode"),
            caption=caption,
            raw_caption=params.get("caption"),
            photo=photo,
            reply_markup=markup,
            reply_to=reply_to,
        )
        self._emit(BotEvent("message", chat.id, (message,)))
        return message.to_api()

    async def _send_media_group(self, params: dict[str, Any], uploads: dict[str, Upload]) -> Any:
        chat = self._target_chat(params)
        media = params.get("media")
        low, high = MEDIA_GROUP_SIZE
        if not isinstance(media, list) or not low <= len(media) <= high:
            raise _bad_request(f"a media group must have {low}-{high} items")
        items: list[tuple[StoredFile, ParsedText | None, dict[str, Any]]] = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") != "photo":
                raise _bad_request("the emulator supports only photos in media groups")
            caption = self._caption(
                item.get("caption"), item.get("parse_mode"), item.get("caption_entities")
            )
            items.append((self._resolve_photo(item.get("media"), uploads, "media"), caption, item))
        reply_to = self._reply_to(chat, params)
        self._acquire(chat, len(items))
        group_id = f"1{next(self._group_ids):017d}"
        messages = tuple(
            self._record(
                chat,
                method="sendMediaGroup",
                parse_mode=item.get("parse_mode"),
                caption=caption,
                raw_caption=item.get("caption"),
                photo=photo,
                media_group_id=group_id,
                reply_to=reply_to,
            )
            for photo, caption, item in items
        )
        self._emit(BotEvent("album", chat.id, messages))
        return [message.to_api() for message in messages]

    # -- editing --------------------------------------------------------------------------

    def _message_to_edit(self, params: dict[str, Any]) -> SentMessage:
        if params.get("inline_message_id"):
            raise _bad_request("the emulator does not support inline_message_id")
        chat = self._target_chat(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise _bad_request("message identifier is not specified")
        message = self._by_id.get((chat.id, message_id))
        if message is None or message.deleted:
            if (chat.id, message_id) in self._incoming:
                raise _bad_request("message can't be edited")
            raise _bad_request("message to edit not found")
        return message

    def _apply_edit(
        self,
        message: SentMessage,
        method: str,
        changes: dict[str, Any],
    ) -> Any:
        # Like Telegram, compare what the user would see, not the source that produced it.
        visible_keys = ("text", "entities", "caption", "caption_entities", "reply_markup")
        if all(getattr(message, k) == v for k, v in changes.items() if k in visible_keys):
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        for key, value in changes.items():
            setattr(message, key, value)
        message.edit_date = int(self.clock.time())
        message.history.append(message._snapshot(method, self.clock.monotonic()))
        self._emit(BotEvent("edit", message.chat_id, (message,)))
        return message.to_api()

    async def _edit_message_text(self, params: dict[str, Any], _: dict[str, Upload]) -> Any:
        message = self._message_to_edit(params)
        if message.photo is not None:
            raise _bad_request("there is no text in the message to edit")
        text = self._text(params)
        markup = self._reply_markup(params.get("reply_markup"))
        return self._apply_edit(
            message,
            "editMessageText",
            {
                "text": text.text,
                "entities": text.entities,
                "raw_text": params["text"],
                "parse_mode": params.get("parse_mode"),
                "reply_markup": markup,
            },
        )

    async def _edit_message_caption(self, params: dict[str, Any], _: dict[str, Upload]) -> Any:
        message = self._message_to_edit(params)
        if message.photo is None:
            raise _bad_request("there is no caption in the message to edit")
        caption = self._caption(
            params.get("caption"), params.get("parse_mode"), params.get("caption_entities")
        )
        markup = self._reply_markup(params.get("reply_markup"))
        return self._apply_edit(
            message,
            "editMessageCaption",
            {
                "caption": caption.text if caption else None,
                "caption_entities": caption.entities if caption else (),
                "raw_caption": params.get("caption") if caption else None,
                "parse_mode": params.get("parse_mode"),
                "reply_markup": markup,
            },
        )

    async def _edit_message_reply_markup(self, params: dict[str, Any], _: dict[str, Upload]) -> Any:
        message = self._message_to_edit(params)
        markup = self._reply_markup(params.get("reply_markup"))
        return self._apply_edit(message, "editMessageReplyMarkup", {"reply_markup": markup})

    async def _delete_message(self, params: dict[str, Any], _: dict[str, Upload]) -> Any:
        chat = self._target_chat(params)
        key = (chat.id, params.get("message_id"))
        message = self._by_id.get(key)  # type: ignore[arg-type]  # a missing id finds nothing
        if message is not None and not message.deleted:
            message.deleted = True
            self._emit(BotEvent("delete", chat.id, (message,)))
            return True
        if self._incoming.pop(key, None) is not None:  # type: ignore[arg-type]  # as above
            return True
        raise _bad_request("message to delete not found")

    # -- the rest -------------------------------------------------------------------------

    async def _answer_inline_query(self, params: dict[str, Any], _: dict[str, Upload]) -> Any:
        query_id = str(params.get("inline_query_id") or "")
        if query_id not in self._queries or query_id in self.inline_answers:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        results = params.get("results")
        if isinstance(results, str):
            results = json.loads(results)
        if not isinstance(results, list) or len(results) > 50:
            raise _bad_request("RESULTS_TOO_MUCH")
        ids = [str(r.get("id", "")) for r in results]
        if len(set(ids)) != len(ids) or not all(0 < len(i.encode()) <= 64 for i in ids):
            raise _bad_request("RESULT_ID_INVALID")
        texts = [self._inline_text(result) for result in results]
        button = params.get("button")
        if isinstance(button, str):
            button = json.loads(button)
        self.inline_answers[query_id] = InlineAnswer(
            query_id,
            results,
            texts,
            int(params["cache_time"]) if params.get("cache_time") is not None else 300,
            bool(params.get("is_personal")),
            button or None,
        )
        return True

    def _inline_text(self, result: dict[str, Any]) -> ParsedText:
        if result.get("type") != "article" or not result.get("title"):
            raise _bad_request("RESULT_TYPE_INVALID")  # the emulator takes articles only
        content = result.get("input_message_content") or {}
        raw = content.get("message_text")
        if not isinstance(raw, str) or not raw.strip():
            raise _bad_request("MESSAGE_EMPTY")
        return self._format(
            raw,
            content.get("parse_mode"),
            content.get("entities"),
            limit=TEXT_LIMIT,
            too_long="MESSAGE_TOO_LONG",
        )

    async def _answer_callback_query(self, params: dict[str, Any], _: dict[str, Upload]) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        pending = self._queries.get(query_id)
        if pending is None or pending.answered is not None:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get("text") or None
        if text is not None and len(text) > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        answer = CallbackAnswer(
            query_id,
            text,
            bool(params.get("show_alert")),
            params.get("url") or None,
            int(params.get("cache_time") or 0),
        )
        pending.answered = answer
        self.callback_answers[query_id] = answer
        self._emit(BotEvent("callback_answer", pending.chat_id, answer=answer))
        return True

    async def _send_chat_action(self, params: dict[str, Any], _: dict[str, Upload]) -> Any:
        chat = self._target_chat(params)
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        self.chat_actions.append(ChatAction(chat.id, action, self.clock.monotonic()))
        self._emit(BotEvent("chat_action", chat.id, action=action))
        return True

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if not scope:
            return "default"
        if not isinstance(scope, dict) or "type" not in scope:
            raise _bad_request("can't parse BotCommandScope JSON object")
        key = str(scope["type"])
        if "chat_id" in scope:
            key += f":{scope['chat_id']}"
        if "user_id" in scope:
            key += f":{scope['user_id']}"
        return key

    async def _set_my_commands(self, params: dict[str, Any], _: dict[str, Upload]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(
                str(command.get("command", ""))
            ):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self.commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _get_my_commands(self, params: dict[str, Any], _: dict[str, Upload]) -> Any:
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        return self.commands.get(key, [])

    async def _delete_my_commands(self, params: dict[str, Any], _: dict[str, Upload]) -> Any:
        key = (self._scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self.commands.pop(key, None)
        return True

    async def _get_file(self, params: dict[str, Any], _: dict[str, Upload]) -> Any:
        stored = self.files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise _bad_request("wrong file_id or the file is temporarily unavailable")
        result: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_path": stored.file_path,
        }
        if stored.size is not None:
            result["file_size"] = stored.size
        return result

    async def _get_chat(self, params: dict[str, Any], _: dict[str, Upload]) -> Any:
        chat = self._target_chat(params)
        return {**chat.to_api(), "accent_color_id": 0, "max_reaction_count": 11}

    def _store_setting(self, name: str) -> Handler:
        async def store(params: dict[str, Any], _: dict[str, Upload]) -> Any:
            self.bot_settings[name] = params
            return True

        return store

    async def _accept(self, params: dict[str, Any], _: dict[str, Upload]) -> Any:
        return True

    # -- bookkeeping ----------------------------------------------------------------------

    def _new_message_id(self, chat_id: int) -> int:
        # One counter per chat, shared by the user's and the bot's messages, as in Telegram.
        message_id = self._next_message_id[chat_id]
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    @staticmethod
    def _message_id_of(message: SentMessage | Mapping[str, Any] | int) -> int:
        if isinstance(message, SentMessage):
            return message.message_id
        if isinstance(message, int):
            return message
        return int(message["message_id"])

    def _message_api(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """The message as Telegram would nest it (one level of reply only)."""
        sent = self._by_id.get((chat_id, message_id))
        if sent is not None and not sent.deleted:
            data = sent.to_api()
        elif (chat_id, message_id) in self._incoming:
            data = dict(self._incoming[(chat_id, message_id)])
        else:
            return None
        data.pop("reply_to_message", None)
        return data

    def iter_messages(self, chat_id: int) -> Iterator[SentMessage]:
        """The bot's messages in `chat_id` that were not deleted, oldest first."""
        return (message for message in self.sent[chat_id] if not message.deleted)


def _answer_error(error: ApiError) -> web.Response:
    if error.body is not None:
        return web.Response(text=error.body, status=error.error_code, content_type="text/html")
    return web.json_response(error.envelope(), status=error.error_code)
