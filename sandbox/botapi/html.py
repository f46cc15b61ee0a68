"""Telegram's HTML subset, parsed as Telegram parses a message's `parse_mode=HTML`.

parse_mode=HTML accepts only Telegram's tags (b strong i em u ins s strike del,
span class="tg-spoiler", tg-spoiler, a href, code, pre with an inner
code class="language-x", blockquote [expandable], tg-emoji emoji-id), properly nested
and closed, and only &lt; &gt; &amp; &quot; and numeric entities. Deliberately
stricter than Telegram in one point: a bare `&` that starts no entity is refused (real
Telegram keeps it), because our contract says every platform string is escaped.
A bare `>` is accepted, as Telegram does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

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
