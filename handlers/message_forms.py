"""Every shape in which Telegram hands the bot a link: what text a message gives the recogniser.

A link reaches the bot as plain text (`text`), as the caption of a photo, video, document
or album item (`caption`), behind words as a hidden link (a `text_link` entity: rich
text, channel posts, desktop clients), in a forwarded message or channel post
(`forward_origin`; the text is the forwarded text), or in the message a command or a
mention replies to (`reply_to_message`, the selected part `quote`, or an
`external_reply` from another chat). docs/message-forms.md says which of them the bot
answers and why (edits, channel posts, automatic forwards).

What it promises:
- `reading_text(message)`: the text or caption, with every link entity (`url`,
  `text_link`) set apart by spaces and every hidden link written out right after the
  words that hide it. Entity offsets are in UTF-16 code units (Bot API, "MessageEntity");
  python-telegram-bot's `parse_entities` / `parse_caption_entities` cut them out, so a
  link after an emoji or a CJK supplement character is still found where it is.
- `replied_texts(message)`: what a reply points at, the most specific first: the quoted
  part, the replied message (same chat), the link preview's URL of an external reply;
  `replied_listings` recognises the first of them that names a listing.
- `mentions_bot(message, username, bot_id)`: the message names the bot (`@bot` or a
  text mention), as group members call it.
- `MentionMemory`: the listings already answered for a message or an album, bounded,
  so an edit answers only what it adds and an album gets one card per listing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from cachetools import TTLCache
from telegram import Message, MessageEntity
from telegram.constants import MessageEntityType

from clients.base import Found, ListingClient
from clients.recognise import mention_key, recognise

#: messages (and albums) whose mentions are remembered, and for how long: Telegram lets
#: a message be edited for days; two days covers the edits that correct a fresh link
MEMORY_SIZE = 20_000
MEMORY_SECONDS = 2 * 24 * 3600.0

_LINKS: list[str | None] = [MessageEntityType.URL, MessageEntityType.TEXT_LINK]


def reading_text(message: Message) -> str:
    """The text or caption as the recogniser reads it (hidden links written out)."""
    if message.text is not None:
        text, links = message.text, message.parse_entities(_LINKS)
    elif message.caption is not None:
        text, links = message.caption, message.parse_caption_entities(_LINKS)
    else:
        return ""
    if not links:
        return text
    return _with_links_written_out(text, links)


def _with_links_written_out(text: str, links: dict[MessageEntity, str]) -> str:
    # offsets are UTF-16 code units: cut the UTF-16 form, as PTB's parse_entity does
    units = text.encode("utf-16-le")

    def cut(start: int, end: int) -> str:
        return units[start * 2 : end * 2].decode("utf-16-le", errors="replace")

    pieces: list[str] = []
    cursor = 0
    for entity in sorted(links, key=lambda e: e.offset):
        if entity.offset < cursor:  # overlapping link entities: the first one is kept
            continue
        pieces.append(cut(cursor, entity.offset))
        pieces.append(f" {links[entity]} ")
        if entity.type == MessageEntityType.TEXT_LINK and entity.url:
            pieces.append(f"{entity.url} ")
        cursor = entity.offset + entity.length
    pieces.append(cut(cursor, len(units) // 2))
    return "".join(pieces)


def replied_texts(message: Message) -> list[str]:
    """What a reply points at, the most specific first (callers take the first that helps).

    The quote (TextQuote) is the part the user selected, but Telegram keeps only
    formatting entities in it (Bot API, "TextQuote": no hidden links), so the whole
    replied message follows it. A reply to another chat's message (ExternalReplyInfo)
    carries no text of its own: its quote and its link preview's URL are all there is.
    """
    texts: list[str] = []
    if message.quote is not None and message.quote.text:
        texts.append(message.quote.text)
    if message.reply_to_message is not None:
        replied = reading_text(message.reply_to_message)
        if replied:
            texts.append(replied)
    external = message.external_reply
    if external is not None and external.link_preview_options is not None:
        url = external.link_preview_options.url
        if isinstance(url, str) and url:  # typed as a default value too (python-telegram-bot)
            texts.append(url)
    return texts


def replied_listings(message: Message, platforms: Iterable[type[ListingClient]]) -> list[Found]:
    """The listings of what a reply points at: of the first replied text that has any."""
    platforms = tuple(platforms)
    for text in replied_texts(message):
        found = recognise(text, platforms)
        if found:
            return found
    return []


def mentions_bot(message: Message, username: str | None, bot_id: int) -> bool:
    """The message names the bot: `@username` (a `mention`) or a `text_mention` of it."""
    named = f"@{username}".lower() if username else None
    parts = list(message.parse_entities().items()) if message.text else []
    if message.caption:
        parts += list(message.parse_caption_entities().items())
    for entity, text in parts:
        if entity.type == MessageEntityType.MENTION and text.lower() == named:
            return True
        if entity.type == MessageEntityType.TEXT_MENTION and entity.user is not None:
            if entity.user.id == bot_id:
                return True
    return False


def is_command(message: Message) -> bool:
    """A command message (`/watch ...`): its text starts with a `bot_command` entity."""
    return any(
        e.type == MessageEntityType.BOT_COMMAND and e.offset == 0 for e in message.entities or ()
    )


class MentionMemory:
    """The mention keys answered per message and per album, bounded in size and age."""

    def __init__(self, timer: Callable[[], float]) -> None:
        self._seen: TTLCache[tuple[object, ...], frozenset[str]] = TTLCache(
            MEMORY_SIZE, MEMORY_SECONDS, timer=timer
        )

    def remember_message(self, message: Message, found: Iterable[Found]) -> None:
        """What `message` mentioned when it was first answered (nothing counts too)."""
        self._seen[("message", message.chat_id, message.message_id)] = frozenset(
            mention_key(f) for f in found
        )

    def added_by_edit(self, message: Message, found: list[Found]) -> list[Found] | None:
        """The mentions an edit adds, now remembered; None when the message is unknown
        (older than the memory, or sent before a restart): its edit is not answered."""
        key = ("message", message.chat_id, message.message_id)
        before = self._seen.get(key)
        if before is None:
            return None
        added = [f for f in found if mention_key(f) not in before]
        self._seen[key] = before | {mention_key(f) for f in found}
        return added

    def new_in_album(self, message: Message, found: list[Found]) -> list[Found]:
        """The mentions no other item of `message`'s album has had answered; now remembered."""
        if message.media_group_id is None:
            return found
        key = ("album", message.chat_id, message.media_group_id)
        before = self._seen.get(key, frozenset())
        fresh = [f for f in found if mention_key(f) not in before]
        self._seen[key] = before | {mention_key(f) for f in fresh}
        return fresh
