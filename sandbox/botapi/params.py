"""Request decoding: form values given the type the Bot API expects by field name, the
values a method accepts, and the entities Telegram detects in a user's plain text."""

from __future__ import annotations

import json
import re
from typing import Any

from sandbox.botapi.html import utf16_len
from sandbox.botapi.models import bad_request

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
CHAT_ACTIONS = frozenset(
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
BUTTON_ACTIONS = frozenset(
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
COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_INCOMING_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w@/])")
_INCOMING_URL_RE = re.compile(r"https?://[^\s<>\"]+")


def coerce(name: str, value: Any) -> Any:
    """Give a form value (always a string) the type the Bot API expects for `name`."""
    if not isinstance(value, str):
        return value
    if name in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None
    if name == "chat_id":
        return int(value) if _INTEGER_RE.fullmatch(value) else value
    if name in _INT_FIELDS:
        if not _INTEGER_RE.fullmatch(value.strip()):
            raise bad_request(f"invalid {name} specified")
        return int(value)
    if name == "timeout":
        try:
            return float(value)
        except ValueError:
            raise bad_request("invalid timeout specified") from None
    if name in _BOOL_FIELDS:
        return value.strip().lower() in ("true", "1")
    return value


def incoming_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram detects in a user's plain text: commands and links."""
    found: list[tuple[int, int, str]] = []
    for regex, kind in ((_INCOMING_COMMAND_RE, "bot_command"), (_INCOMING_URL_RE, "url")):
        found.extend((m.start(), m.end(), kind) for m in regex.finditer(text))
    found.sort()
    return [
        {"type": kind, "offset": utf16_len(text[:start]), "length": utf16_len(text[start:end])}
        for start, end, kind in found
    ]
