"""Every form in which Telegram delivers a link, end to end through the Bot API emulator.

Each update is shaped as the Bot API documentation shows it (core.telegram.org/bots/api;
the section is named in each test), sent by `BotApiEmulator.send_message` /
`edit_incoming`, and answered by the real bot from the sandbox platforms. What the bot
does with each form, and why, is in docs/message-forms.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.__main__ import ALLOWED_UPDATES
from handlers.texts import t
from sandbox.botapi import SentMessage, User, utf16_len
from tests.conftest import BotEnv, start_bot_env

ITEM = "https://www.goofish.com/item?id=712345678901"  # iPhone 14 Pro
SWITCH = "https://www.goofish.com/item?id=767890123456"  # Switch OLED
BEIKE = "https://m.ke.com/bj/ershoufang/101127449675.html"  # 双裕花园西区
DEVICE = "iPhone 14 Pro 256G 95新 功能正常"  # a complete device description
TELEGRAM = {"id": 777000, "is_bot": False, "first_name": "Telegram"}  # automatic forwards' sender


class Handled:
    """Which updates the bot has run every handler group for, through python-telegram-bot's
    own seam (`BaseUpdateProcessor.do_process_update`), so a test can tell 'nothing was
    answered' from 'not answered yet' without sleeping."""

    def __init__(self, application: Any) -> None:
        self.updates: list[object] = []
        self._changed = asyncio.Condition()
        processor = application.update_processor
        inner = processor.do_process_update

        async def tracked(update: object, coroutine: Any) -> None:
            try:
                await inner(update, coroutine)
            finally:
                async with self._changed:
                    self.updates.append(update)
                    self._changed.notify_all()

        processor.do_process_update = tracked

    def count(self, message: Mapping[str, Any]) -> int:
        chat_id, message_id = message["chat"]["id"], message["message_id"]
        return sum(
            1
            for u in self.updates
            if isinstance(u, Update)
            and u.effective_message is not None
            and (u.effective_message.chat_id, u.effective_message.message_id)
            == (chat_id, message_id)
        )

    async def wait(self, message: Mapping[str, Any], times: int = 1) -> None:
        """Until `times` updates naming `message` (it, then its edits) have been handled."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: self.count(message) >= times), timeout=10
            )


@pytest.fixture
def handled(bot_env: BotEnv) -> Handled:
    return Handled(bot_env.application)


def entity(kind: str, text: str, part: str, **extra: Any) -> dict[str, Any]:
    """A MessageEntity over `part` of `text`, offset and length in UTF-16 code units."""
    start = text.index(part)
    return {"type": kind, "offset": utf16_len(text[:start]), "length": utf16_len(part), **extra}


def cards(messages: list[SentMessage], title: str) -> list[SentMessage]:
    return [m for m in messages if title in m.visible]


async def answers(
    env: BotEnv, handled: Handled, chat_id: int, before: int, message: Mapping[str, Any]
) -> list[SentMessage]:
    """Everything the bot sent in `chat_id` since `before`, once `message` is handled."""
    await handled.wait(message)
    return env.messages(chat_id)[before:]


def budget(env: BotEnv, user: User, platform: str = "xianyu") -> int | None:
    return env.services.gateway.budget_left(user.id, platform)


# -- hidden links and link entities -----------------------------------------------------


async def test_a_hidden_link_gives_the_card_of_its_url_and_is_paid_by_the_sender(
    bot_env: BotEnv, handled: Handled
) -> None:
    """Bot API, "MessageEntity": `text_link` ("for clickable text URLs") with `url`; offset
    and length in UTF-16 code units (the emoji before the words counts 2)."""
    user = bot_env.user(7001)
    text = "🏠🏠 看看这套房：点这里"
    left = budget(bot_env, user, "beike")
    before = len(bot_env.messages(user.id))
    message = await bot_env.emulator.send_message(
        user, None, text, entities=[entity("text_link", text, "点这里", url=BEIKE)]
    )
    replies = await answers(bot_env, handled, user.id, before, message)
    assert len(cards(replies, "双裕花园西区")) == 1 and len(replies) == 1
    assert budget(bot_env, user, "beike") == (left or 0) - 1  # paid like a typed link


async def test_the_same_listing_shown_and_hidden_gets_one_card_and_a_different_one_its_own(
    bot_env: BotEnv, handled: Handled
) -> None:
    """Bot API, "MessageEntity": a `url` entity (a link in the text) and a `text_link`
    whose words are the same URL, as rich text pasted from a web page comes."""
    user = bot_env.user(7002)
    text = f"{ITEM} 和 这个"
    before = len(bot_env.messages(user.id))
    message = await bot_env.emulator.send_message(
        user,
        None,
        text,
        entities=[
            entity("text_link", text, ITEM, url=ITEM),
            entity("text_link", text, "这个", url=SWITCH),
        ],
    )
    await bot_env.emulator.wait_for_messages(user.id, before + 2)
    replies = await answers(bot_env, handled, user.id, before, message)
    assert len(cards(replies, "iPhone 14 Pro")) == 1
    assert len(cards(replies, "Switch OLED")) == 1
    assert len(replies) == 2


@pytest.mark.parametrize(
    "kind",
    ["pre", "code", "expandable_blockquote", "blockquote", "spoiler"],
)
async def test_a_link_inside_formatting_is_still_read(bot_env: BotEnv, kind: str) -> None:
    """Bot API, "MessageEntity": `pre`, `code`, `blockquote`, `expandable_blockquote`,
    `spoiler` only format the text; the link inside them is the user's all the same
    (Telegram makes no `url` entity inside code)."""
    user = bot_env.user(7003)
    text = f"房源：\n{BEIKE}\n再看看"
    extra = {"language": "text"} if kind == "pre" else {}
    message = await bot_env.emulator.send_message(
        user, None, text, entities=[entity(kind, text, BEIKE, **extra)]
    )
    [card] = await bot_env.emulator.wait_for_messages(user.id, 1)
    assert "双裕花园西区" in card.visible and message["entities"][0]["type"] == kind


# -- captions and albums -----------------------------------------------------------------


async def test_a_screenshot_with_a_hidden_link_in_its_caption_gives_the_card(
    bot_env: BotEnv, handled: Handled
) -> None:
    """Bot API, "Message": `photo` (array of PhotoSize), `caption` and `caption_entities`
    (a `text_link` under the screenshot)."""
    user = bot_env.user(7004, "zh-hans")
    caption = "截图 👉 链接"
    before = len(bot_env.messages(user.id))
    message = await bot_env.emulator.send_message(
        user,
        None,
        photo=True,
        caption=caption,
        caption_entities=[entity("text_link", caption, "链接", url=ITEM)],
    )
    replies = await answers(bot_env, handled, user.id, before, message)
    assert len(cards(replies, "iPhone 14 Pro")) == 1 and len(replies) == 1


MEDIA = {
    "document": {
        "file_id": "BQACAgIAAxkBAAIBdocument",
        "file_unique_id": "AgADdocument",
        "file_name": "listing.pdf",
        "mime_type": "application/pdf",
        "file_size": 20480,
    },
    "video": {
        "file_id": "BAACAgIAAxkBAAIBvideo",
        "file_unique_id": "AgADvideo",
        "width": 1280,
        "height": 720,
        "duration": 12,
        "mime_type": "video/mp4",
        "file_size": 1048576,
    },
}


@pytest.mark.parametrize("kind", ["document", "video"])
async def test_a_document_or_video_caption_with_a_link_gives_the_card(
    bot_env: BotEnv, kind: str
) -> None:
    """Bot API, "Message": `document` (Document) or `video` (Video) with `caption`; the
    link in it is a `url` entity of `caption_entities`."""
    user = bot_env.user(7005)
    await bot_env.emulator.send_message(user, None, caption=f"看: {SWITCH}", **{kind: MEDIA[kind]})
    [card] = await bot_env.emulator.wait_for_messages(user.id, 1)
    assert "Switch OLED" in card.visible


@pytest.mark.parametrize("captions", [("first",), ("first", "third")])
async def test_an_album_gives_one_card_per_listing_whichever_captions_name_it(
    bot_env: BotEnv, handled: Handled, captions: tuple[str, ...]
) -> None:
    """Bot API, "Message": `media_group_id` ("the unique identifier of a media message
    group this message belongs to"): an album is one message per item; the link in one
    caption (or the same link in several) gives one card."""
    user = bot_env.user(7006)
    before = len(bot_env.messages(user.id))
    items = []
    for position in ("first", "second", "third"):
        caption = f"这台 {ITEM}" if position in captions else None
        items.append(
            await bot_env.emulator.send_message(
                user, None, photo=True, caption=caption, media_group_id="13612385847362951"
            )
        )
    for item in items:
        await handled.wait(item)
    replies = bot_env.messages(user.id)[before:]
    assert len(cards(replies, "iPhone 14 Pro")) == 1 and len(replies) == 1


# -- forwards and channel posts ------------------------------------------------------------


def origins(env: BotEnv) -> dict[str, dict[str, Any]]:
    """One MessageOrigin of each type, as the Bot API documents them."""
    channel = env.emulator.channel_chat(-1001700000001, "二手好物", username="good_stuff")
    group = env.emulator.group_chat(-1001700000002, "Flat hunters", supergroup=True)
    seller = env.user(7100, first_name="Seller")
    return {
        "user": {"type": "user", "date": 1765000000, "sender_user": seller.to_api()},
        "hidden_user": {"type": "hidden_user", "date": 1765000000, "sender_user_name": "Li"},
        "chat": {"type": "chat", "date": 1765000000, "sender_chat": group.to_api()},
        "channel": {
            "type": "channel",
            "date": 1765000000,
            "chat": channel.to_api(),
            "message_id": 42,
            "author_signature": "编辑",
        },
    }


@pytest.mark.parametrize("origin", ["user", "hidden_user", "chat", "channel"])
async def test_a_forwarded_message_gives_the_card_and_the_forwarder_pays(
    bot_env: BotEnv, handled: Handled, origin: str
) -> None:
    """Bot API, "MessageOrigin": MessageOriginUser, MessageOriginHiddenUser,
    MessageOriginChat, MessageOriginChannel in `forward_origin`; a channel post forwarded
    keeps its hidden links (`text_link`)."""
    user = bot_env.user(7007)
    text = "转发：好价 iPhone"
    left = budget(bot_env, user)
    before = len(bot_env.messages(user.id))
    message = await bot_env.emulator.send_message(
        user,
        None,
        text,
        entities=[entity("text_link", text, "好价 iPhone", url=ITEM)],
        forward_origin=origins(bot_env)[origin],
    )
    replies = await answers(bot_env, handled, user.id, before, message)
    assert len(cards(replies, "iPhone 14 Pro")) == 1 and len(replies) == 1
    assert budget(bot_env, user) == (left or 0) - 1  # paid by the forwarder
    assert bot_env.services.gateway.budget_left(
        7100, "xianyu"
    ) == bot_env.services.gateway.budget_limit("xianyu")  # never by the original sender


async def test_channel_posts_are_not_asked_for_nor_answered(bot_env: BotEnv) -> None:
    """Bot API, "Update": `channel_post` ("new incoming channel post of any kind");
    "Message": `sender_chat` is the channel and `from` is empty. The bot does not ask for
    them (getUpdates `allowed_updates`), and one delivered anyway changes nothing."""
    channel = bot_env.emulator.channel_chat(-1001700000003, "二手好物")
    polls = await bot_env.emulator.wait_for(
        lambda: [c for c in bot_env.emulator.calls if c.method == "getUpdates"]
    )
    assert "channel_post" not in polls[-1].params["allowed_updates"]
    assert "channel_post" not in ALLOWED_UPDATES
    calls = sum(c.calls for c in bot_env.sandbox.state.counters.values())
    sent = len([c for c in bot_env.emulator.calls if c.method != "getUpdates"])
    post = {
        "message_id": 5,
        "sender_chat": channel.to_api(),
        "chat": channel.to_api(),
        "date": 1765000000,
        "text": f"新品 {ITEM}",
        "entities": [entity("url", f"新品 {ITEM}", ITEM)],
    }
    for kind in ("channel_post", "edited_channel_post"):
        update = Update.de_json({"update_id": 10**6, kind: post}, bot_env.application.bot)
        await bot_env.application.process_update(update)  # every handler group has run
    assert len([c for c in bot_env.emulator.calls if c.method != "getUpdates"]) == sent
    assert sum(c.calls for c in bot_env.sandbox.state.counters.values()) == calls


async def test_an_automatic_forward_is_left_alone_until_a_member_asks_by_reply(
    bot_env: BotEnv, handled: Handled
) -> None:
    """Bot API, "Message": `is_automatic_forward` ("a channel post that was automatically
    forwarded to the connected discussion group"), `sender_chat` the channel, `from` the
    fake sender; `reply_to_message` and a `mention` of the bot by a member."""
    group = bot_env.emulator.group_chat(-1001700000004, "讨论组", supergroup=True)
    channel = bot_env.emulator.channel_chat(-1001700000005, "二手好物")
    member = bot_env.user(7008)
    text = "今日好物：iPhone 14 Pro"
    post = {
        "message_id": 1,
        "from": TELEGRAM,
        "sender_chat": channel.to_api(),
        "chat": group.to_api(),
        "date": 1765000000,
        "is_automatic_forward": True,
        "forward_origin": {
            "type": "channel",
            "date": 1765000000,
            "chat": channel.to_api(),
            "message_id": 77,
        },
        "text": text,
        "entities": [entity("text_link", text, "iPhone 14 Pro", url=ITEM)],
    }
    await bot_env.emulator.send_update("message", post)
    await handled.wait(post)
    assert bot_env.messages(group.id) == []  # nobody asked
    username = f"@{bot_env.application.bot.username}"
    ask = await bot_env.emulator.send_message(
        member,
        group,
        username,
        entities=[entity("mention", username, username)],
        reply_to=post,
    )
    [card] = await answers(bot_env, handled, group.id, 0, ask)
    assert "iPhone 14 Pro" in card.visible
    # `/watch@bot` (what Group Privacy lets through) in reply to it: a watch in the group
    command = f"/watch@{bot_env.application.bot.username}"
    await bot_env.emulator.send_message(member, group, command, reply_to=post)
    await bot_env.emulator.wait_for_messages(group.id, 2, timeout=10)
    [entry] = await bot_env.services.watches.for_user(member.id)
    assert entry.watch.chat_id == group.id
    assert entry.watch.ref_key.endswith("712345678901")


# -- replies -----------------------------------------------------------------------------


async def test_watch_as_a_reply_watches_the_replied_listing_with_the_rule_typed(
    bot_env: BotEnv,
) -> None:
    """Bot API, "Message": `reply_to_message` ("for replies in the same chat and message
    thread, the original message"); `/watch 5%` with no link of its own acts on it."""
    user = bot_env.user(7009)
    text = "这台不错"
    original = await bot_env.emulator.send_message(
        user, None, text, entities=[entity("text_link", text, "这台", url=ITEM)]
    )
    await bot_env.emulator.wait_for_messages(user.id, 1)
    before = len(bot_env.messages(user.id))
    await bot_env.emulator.send_message(user, None, "/watch 5%", reply_to=original)
    watching = (await bot_env.emulator.wait_for_messages(user.id, before + 1))[-1]
    [entry] = await bot_env.services.watches.for_user(user.id)
    assert entry.watch.rule == "percent"
    assert "iPhone 14 Pro" in watching.visible


async def test_watch_as_a_reply_with_a_quote_watches_the_quoted_listing(bot_env: BotEnv) -> None:
    """Bot API, "TextQuote": `quote` is the part of the replied message the user selected
    (`is_manual`); of two listings in the message, the quoted one is watched."""
    user = bot_env.user(7010)
    original = await bot_env.emulator.send_message(user, None, f"{ITEM}\n{SWITCH}")
    await bot_env.emulator.wait_for_messages(user.id, 2)
    quote = {"text": SWITCH, "position": utf16_len(f"{ITEM}\n"), "is_manual": True}
    await bot_env.emulator.send_message(user, None, "/watch", reply_to=original, quote=quote)
    await bot_env.emulator.wait_for_messages(user.id, 3)
    [entry] = await bot_env.services.watches.for_user(user.id)
    assert entry.watch.ref_key.endswith("767890123456")


async def test_watch_as_a_reply_to_another_chat_reads_the_quote_and_the_link_preview(
    bot_env: BotEnv,
) -> None:
    """Bot API, "ExternalReplyInfo" (a reply to a message of another chat: no text, but
    `link_preview_options` with its `url`) and "TextQuote" (`quote` of it)."""
    user = bot_env.user(7011)
    channel = bot_env.emulator.channel_chat(-1001700000006, "二手好物")
    external = {
        "origin": {
            "type": "channel",
            "date": 1765000000,
            "chat": channel.to_api(),
            "message_id": 9,
        },
        "chat": channel.to_api(),
        "message_id": 9,
        "link_preview_options": {"url": ITEM},
    }
    await bot_env.emulator.send_message(user, None, "/watch", external_reply=external)
    await bot_env.emulator.wait_for_messages(user.id, 1)
    [entry] = await bot_env.services.watches.for_user(user.id)
    assert entry.watch.ref_key.endswith("712345678901")
    quote = {"text": f"看这个 {SWITCH}", "position": 0}
    external.pop("link_preview_options")
    await bot_env.emulator.send_message(user, None, "/watch", external_reply=external, quote=quote)
    await bot_env.emulator.wait_for_messages(user.id, 2)
    keys = sorted(e.watch.ref_key for e in await bot_env.services.watches.for_user(user.id))
    assert keys[0].endswith("712345678901") and keys[1].endswith("767890123456")


async def test_watch_without_a_link_nor_a_reply_still_shows_how_to_use_it(bot_env: BotEnv) -> None:
    user = bot_env.user(7012)
    [usage] = await bot_env.say(user, "/watch")
    assert usage.raw_text == t("en", "watch_usage")


async def test_quote_as_a_reply_quotes_the_replied_device_text(
    bot_env: BotEnv, handled: Handled
) -> None:
    """Bot API, "Message": `reply_to_message`; `/quote` without a description acts on the
    replied message's text (a seller's device description in a group)."""
    group = bot_env.emulator.group_chat(-1001700000007, "Flat hunters")
    seller, user = bot_env.user(7013), bot_env.user(7014)
    original = await bot_env.emulator.send_message(seller, group, f"出 {DEVICE}")
    await handled.wait(original)
    before = len(bot_env.messages(group.id))
    ask = await bot_env.emulator.send_message(user, group, "/quote", reply_to=original)
    [card] = await answers(bot_env, handled, group.id, before, ask)
    assert card.visible.splitlines()[0] == "💱 iPhone 14 Pro · 256GB"
    assert card.reply_to_message is not None
    assert card.reply_to_message["message_id"] == ask["message_id"]  # the answer to /quote


async def test_quote_as_a_reply_to_another_chat_quotes_the_quoted_text(
    bot_env: BotEnv, handled: Handled
) -> None:
    """Bot API, "ExternalReplyInfo" and "TextQuote": a reply to a channel's post from a
    private chat carries only the quoted text; `/quote` quotes that."""
    user = bot_env.user(7021)
    channel = bot_env.emulator.channel_chat(-1001700000009, "二手好物")
    external = {
        "origin": {
            "type": "channel",
            "date": 1765000000,
            "chat": channel.to_api(),
            "message_id": 3,
        },
        "chat": channel.to_api(),
        "message_id": 3,
    }
    quote = {"text": DEVICE, "position": 2, "is_manual": True}
    ask = await bot_env.emulator.send_message(
        user, None, "/quote", external_reply=external, quote=quote
    )
    [card] = await answers(bot_env, handled, user.id, 0, ask)
    assert card.visible.splitlines()[0] == "💱 iPhone 14 Pro · 256GB"


# -- edits ------------------------------------------------------------------------------


async def test_an_edit_that_corrects_a_link_gets_one_card_paid_like_a_message(
    bot_env: BotEnv, handled: Handled
) -> None:
    """Bot API, "Update": `edited_message` ("new version of a message that is known to the
    bot and was edited"), with `edit_date`. The corrected link gets its card once; an
    edit that adds no listing gets nothing."""
    user = bot_env.user(7015)
    message = await bot_env.emulator.send_message(
        user, None, "https://www.goofish.com/item?id=71234567890"
    )
    await handled.wait(message)
    first = bot_env.messages(user.id)
    left = budget(bot_env, user)
    edited = await bot_env.emulator.edit_incoming(message, text=ITEM)
    assert edited["edit_date"] >= edited["date"]
    await handled.wait(message, times=2)
    replies = bot_env.messages(user.id)[len(first) :]
    assert len(cards(replies, "iPhone 14 Pro")) == 1 and len(replies) == 1
    assert budget(bot_env, user) == (left or 0) - 1
    # the same listing again, with words around it: nothing new to answer
    await bot_env.emulator.edit_incoming(message, text=f"{ITEM} 便宜出")
    await handled.wait(message, times=3)
    assert len(bot_env.messages(user.id)) == len(first) + 1


async def test_an_edit_that_adds_a_second_listing_answers_only_the_new_one(
    bot_env: BotEnv, handled: Handled
) -> None:
    """Bot API, "Update": `edited_message` with a caption edited (`caption_entities`)."""
    user = bot_env.user(7016)
    message = await bot_env.emulator.send_message(user, None, photo=True, caption=ITEM)
    [card] = await bot_env.emulator.wait_for_messages(user.id, 1)
    await handled.wait(message)
    await bot_env.emulator.edit_incoming(message, caption=f"{ITEM}\n{SWITCH}")
    await handled.wait(message, times=2)
    replies = bot_env.messages(user.id)[1:]
    assert len(replies) == 1 and "Switch OLED" in replies[0].visible
    assert "iPhone 14 Pro" in card.visible


async def test_an_edited_command_or_an_unknown_message_is_not_answered(
    bot_env: BotEnv, handled: Handled
) -> None:
    """Bot API, "Update": `edited_message`. An edited `/watch` would watch twice; an edit
    of a message the bot never saw (sent before a restart) cannot tell what is new."""
    user = bot_env.user(7017)
    command = await bot_env.emulator.send_message(user, None, f"/watch {ITEM}")
    await bot_env.emulator.wait_for_messages(user.id, 1)
    await handled.wait(command)
    await bot_env.emulator.edit_incoming(command, text=f"/watch {SWITCH}")
    await handled.wait(command, times=2)
    unknown = {
        "message_id": 999,
        "from": user.to_api(),
        "chat": bot_env.emulator.private_chat(user).to_api(),
        "date": 1765000000,
        "edit_date": 1765000100,
        "text": SWITCH,
    }
    await bot_env.emulator.send_update("edited_message", unknown)
    await handled.wait(unknown)
    assert len(bot_env.messages(user.id)) == 1
    assert len(await bot_env.services.watches.for_user(user.id)) == 1


async def test_edits_pass_flood_control_like_messages(tmp_path: Path) -> None:
    """Bot API, "Update": `edited_message` counts in the sender's flood bucket
    (bot/flood.py) like any update: past the burst, one "slow down" and no card."""
    async for env in start_bot_env(tmp_path, flood_burst=2, flood_per_minute=0.01):
        handled = Handled(env.application)
        user = env.user(7018)
        message = await env.emulator.send_message(user, None, "hello")
        await handled.wait(message)
        await env.emulator.edit_incoming(message, text=ITEM)
        await handled.wait(message, times=2)
        await env.emulator.edit_incoming(message, text=f"{ITEM} {SWITCH}")
        await handled.wait(message, times=3)
        texts = [m.visible for m in env.messages(user.id)]
        assert texts[0] == t("en", "no_listing")
        assert "iPhone 14 Pro" in texts[1]
        assert texts[2:] == [t("en", "slow_down")]


# -- groups ------------------------------------------------------------------------------


async def test_a_member_mentioning_the_bot_in_reply_to_a_link_gets_its_card(
    bot_env: BotEnv, handled: Handled
) -> None:
    """Bot API, "MessageEntity": `mention` (@username) and `text_mention` (for users
    without usernames); "Message": `reply_to_message`."""
    group = bot_env.emulator.group_chat(-1001700000008, "Flat hunters", supergroup=True)
    seller, member = bot_env.user(7019), bot_env.user(7020)
    text = "出房 见链接"
    listing = await bot_env.emulator.send_message(
        seller, group, text, entities=[entity("text_link", text, "见链接", url=BEIKE)]
    )
    [card] = await bot_env.emulator.wait_for_messages(group.id, 1)
    bot = bot_env.application.bot
    mention = f"@{bot.username} 这套多少钱"
    ask = await bot_env.emulator.send_message(
        member,
        group,
        mention,
        entities=[entity("mention", mention, f"@{bot.username}")],
        reply_to=listing,
    )
    [_, second] = await bot_env.emulator.wait_for_messages(group.id, 2, timeout=10)
    assert "双裕花园西区" in second.visible and "双裕花园西区" in card.visible
    # a text mention of the bot (no username shown) works the same
    words = "机器人"
    by_name = await bot_env.emulator.send_message(
        member,
        group,
        words,
        entities=[entity("text_mention", words, words, user=bot.bot.to_dict())],
        reply_to=listing,
    )
    await handled.wait(by_name)
    await handled.wait(ask)
    assert len(cards(bot_env.messages(group.id), "双裕花园西区")) == 3
