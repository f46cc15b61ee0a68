"""What text each form of message gives the recogniser (handlers/message_forms.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from telegram import (
    Chat,
    ExternalReplyInfo,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    MessageOriginHiddenUser,
    TextQuote,
    User,
)
from telegram.constants import MessageEntityType

from clients.base import Found
from clients.recognise import recognise
from clients.registry import LISTING_CLIENTS
from clock import FakeClock
from handlers.message_forms import (
    MEMORY_SECONDS,
    MentionMemory,
    mentions_bot,
    reading_text,
    replied_texts,
)
from sandbox.botapi import utf16_len

ITEM = "https://www.goofish.com/item?id=712345678901"
SWITCH = "https://www.goofish.com/item?id=767890123456"
CHAT = Chat(1, "private")
BOT = User(99, "Sandbox Bot", is_bot=True, username="sandbox_bot")


def message(text: str | None = None, **kw: Any) -> Message:
    return Message(1, datetime.now(UTC), CHAT, text=text, **kw)


def link(text: str, part: str, url: str | None = None) -> MessageEntity:
    start = text.index(part)
    kind = MessageEntityType.TEXT_LINK if url else MessageEntityType.URL
    return MessageEntity(kind, utf16_len(text[:start]), utf16_len(part), url=url)


def items(text: str) -> list[str]:
    return [f.ref.listing_id for f in recognise(text, LISTING_CLIENTS) if f.ref is not None]


@given(
    before=st.text(max_size=30),
    words=st.text(min_size=1, max_size=12),
    after=st.text(max_size=30),
)
def test_a_hidden_link_is_written_out_after_its_words_wherever_they_stand(
    before: str, words: str, after: str
) -> None:
    # emoji and supplementary characters count two UTF-16 units: offsets still land
    text = before + words + after
    entity = MessageEntity(
        MessageEntityType.TEXT_LINK, utf16_len(before), utf16_len(words), url=ITEM
    )
    read = reading_text(message(text, entities=[entity]))
    assert read == f"{before} {words} {ITEM} {after}"
    assert "712345678901" in items(read)


def test_captions_are_read_with_their_own_entities() -> None:
    caption = "🏠🏠 截图 链接"
    shot = message(caption=caption, caption_entities=[link(caption, "链接", SWITCH)])
    assert items(reading_text(shot)) == ["767890123456"]
    assert reading_text(message()) == ""


def test_a_link_shown_and_hidden_is_one_mention() -> None:
    text = f"{ITEM} 和 这个"
    both = message(text, entities=[link(text, ITEM, ITEM), link(text, "这个", SWITCH)])
    assert items(reading_text(both)) == ["712345678901", "767890123456"]


def test_replies_read_the_quote_then_the_replied_message_then_an_external_preview() -> None:
    text = "这台"
    replied = message(text, entities=[link(text, "这台", ITEM)])
    quoted = message("/watch", reply_to_message=replied, quote=TextQuote("这台", 0))
    assert replied_texts(quoted) == ["这台", f" 这台 {ITEM} "]
    origin = MessageOriginHiddenUser(datetime.now(UTC), "Li")
    preview = LinkPreviewOptions(url=SWITCH)
    external = message(
        "/watch", external_reply=ExternalReplyInfo(origin, link_preview_options=preview)
    )
    assert replied_texts(external) == [SWITCH]
    assert replied_texts(message("/watch")) == []


def test_the_bot_is_mentioned_by_username_in_any_case_or_by_a_text_mention() -> None:
    text = "@Sandbox_Bot 看看"
    at = message(text, entities=[MessageEntity(MessageEntityType.MENTION, 0, 12)])
    assert mentions_bot(at, "sandbox_bot", BOT.id)
    assert not mentions_bot(at, "other_bot", BOT.id)
    named = message(
        "机器人", entities=[MessageEntity(MessageEntityType.TEXT_MENTION, 0, 3, user=BOT)]
    )
    assert mentions_bot(named, "sandbox_bot", BOT.id)
    assert not mentions_bot(message("sandbox_bot"), "sandbox_bot", BOT.id)


def found(*ids: str) -> list[Found]:
    return [
        f for i in ids for f in recognise(f"https://www.goofish.com/item?id={i}", LISTING_CLIENTS)
    ]


def test_an_edit_answers_only_what_it_adds_and_only_for_a_remembered_message() -> None:
    clock = FakeClock()
    memory = MentionMemory(clock.monotonic)
    original = message("x")
    assert memory.added_by_edit(original, found("712345678901")) is None  # never seen
    memory.remember_message(original, found("712345678901"))
    assert memory.added_by_edit(original, found("712345678901")) == []
    [added] = memory.added_by_edit(original, found("712345678901", "767890123456")) or []
    assert added.ref is not None and added.ref.listing_id == "767890123456"
    assert memory.added_by_edit(original, found("767890123456")) == []  # answered once
    clock.advance(MEMORY_SECONDS + 1)
    assert memory.added_by_edit(original, found("767890123456")) is None  # forgotten


def test_an_album_answers_each_listing_once_whichever_item_names_it() -> None:
    memory = MentionMemory(FakeClock().monotonic)
    first, third = (
        Message(n, datetime.now(UTC), CHAT, caption="x", media_group_id="g") for n in (1, 3)
    )
    assert len(memory.new_in_album(first, found("712345678901"))) == 1
    assert memory.new_in_album(third, found("712345678901")) == []
    alone = message("x")
    assert len(memory.new_in_album(alone, found("712345678901"))) == 1  # no album: as is
