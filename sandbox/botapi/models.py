"""What the emulator records (users, chats, the bot's messages and answers, calls) and
the error it answers with (`ApiError`, the Bot API envelope)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from sandbox.botapi.html import ParsedText


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
    content_type: str = ""  # of the request's body ("" without one): how the bot encoded it


@dataclass(frozen=True)
class DeliveryStats:
    count: int
    first_at: float
    last_at: float


@dataclass
class InjectedFault:
    error_code: int
    description: str
    parameters: dict[str, Any]
    remaining: int
    chat_id: int | None = None  # only requests to this chat fail; None: every request
    body: str | None = None  # answered as this text/html page instead of the JSON envelope


@dataclass
class QueuedUpdate:
    update_id: int
    kind: str
    payload: dict[str, Any]


@dataclass
class LongPoll:
    """A getUpdates waiting for updates; `ended` is the 409 description when another ends it."""

    ended: str | None = None


@dataclass
class PendingQuery:
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


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")
