"""The Bot API emulator speaks Telegram to a real PTB Application, and the terminal chat
shows the conversation as a user sees it."""

from __future__ import annotations

import asyncio
import contextlib
import html
import io
import os
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto, Update
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from clock import FakeClock
from sandbox.botapi import BotApiEmulator, FloodRules, parse_telegram_html
from sandbox.terminal_chat import run_terminal_chat

TOKEN = "123456:TEST-TOKEN"
PNG = b"\x89PNG\r\n\x1a\n-not-really-a-picture"

Context = ContextTypes.DEFAULT_TYPE


# -- a tiny bot ------------------------------------------------------------------------------


def card_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Watch price", callback_data="watch:42"),
                InlineKeyboardButton("Refresh", callback_data="refresh:42"),
            ],
            [InlineKeyboardButton("Open", url="https://example.com/item/42")],
        ]
    )


async def start(update: Update, context: Context) -> None:
    assert update.message and update.effective_user
    name = html.escape(update.effective_user.first_name)
    await update.message.reply_html(f"Hello <b>{name}</b>! Send me anything.")


async def card(update: Update, context: Context) -> None:
    assert update.message
    await update.message.reply_html("<b>Item 42</b>\nPrice: ¥ 2,999", reply_markup=card_keyboard())


async def button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query and query.data
    action = query.data.split(":")[0]
    await query.answer(f"{action} ok")
    await query.edit_message_text(
        f"<b>Item 42</b>\nPrice: ¥ 2,799 ({action})",
        parse_mode="HTML",
        reply_markup=card_keyboard(),
    )


async def pictures(update: Update, context: Context) -> None:
    assert update.message
    await update.message.reply_photo(
        "https://img.example/42.jpg", caption="<i>by URL</i> &amp; more", parse_mode="HTML"
    )
    uploaded = await update.message.reply_photo(
        PNG, caption="uploaded", reply_markup=card_keyboard()
    )
    await update.message.reply_media_group(
        [InputMediaPhoto("https://img.example/a.jpg", caption="album"), InputMediaPhoto(PNG)]
    )
    await update.message.reply_photo(uploaded.photo[-1].file_id, caption="again by file_id")


async def echo(update: Update, context: Context) -> None:
    assert update.message and update.message.text
    await context.bot.send_chat_action(update.message.chat_id, "typing")
    await update.message.reply_html(f"echo: {html.escape(update.message.text)}")


def tiny_bot_handlers() -> list[BaseHandler[Update, Context, None]]:
    return [
        CommandHandler("start", start),
        CommandHandler("card", card),
        CommandHandler("pics", pictures),
        CallbackQueryHandler(button),
        MessageHandler(filters.TEXT & ~filters.COMMAND, echo),
    ]


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(token=TOKEN) as running:
        yield running


@contextlib.asynccontextmanager
async def running_bot(
    emulator: BotApiEmulator, *, rate_limiter: bool = False
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    builder = (
        ApplicationBuilder()
        .token(emulator.token)
        .base_url(f"{emulator.base_url}/bot")
        .base_file_url(f"{emulator.base_url}/file/bot")
    )
    if rate_limiter:
        builder = builder.rate_limiter(AIORateLimiter())
    application = builder.build()
    application.add_handlers(tiny_bot_handlers())
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()


@contextlib.asynccontextmanager
async def raw_client(emulator: BotApiEmulator) -> AsyncIterator[httpx.AsyncClient]:
    """Plain HTTP to the emulator, as any Bot API client would speak it."""
    async with httpx.AsyncClient(base_url=f"{emulator.base_url}/bot{emulator.token}/") as client:
        yield client


@pytest.fixture
async def api(emulator: BotApiEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with raw_client(emulator) as client:
        yield client


async def bot_api(client: httpx.AsyncClient, method: str, **params: object) -> httpx.Response:
    return await client.post(method, json=params)


# -- PTB against the emulator ----------------------------------------------------------------


async def test_command_and_text_echo_round_trip(emulator: BotApiEmulator) -> None:
    ann = emulator.user(1001, first_name="Ann <&>", language_code="zh-hans")
    async with running_bot(emulator, rate_limiter=True):
        await emulator.send_text(ann, None, "/start")
        [hello] = await emulator.wait_for_messages(ann.id, 1)
        await emulator.send_text(ann, None, "a < b & c", reply_to=hello)
        replies = await emulator.wait_for_messages(ann.id, 2)

    assert hello.text == "Hello Ann <&>! Send me anything."
    assert hello.raw_text == "Hello <b>Ann &lt;&amp;&gt;</b>! Send me anything."
    assert hello.entities == ({"type": "bold", "offset": 6, "length": 7},)
    assert replies[1].text == "echo: a < b & c"
    assert [a.action for a in emulator.chat_actions] == ["typing"]
    assert emulator.delivery_stats()[ann.id].count == 2


async def test_group_command_addressed_to_the_bot_reaches_the_command_handler(
    emulator: BotApiEmulator,
) -> None:
    bob = emulator.user(1002, first_name="Bob")
    group = emulator.group_chat(-100200, "Flat hunters")
    async with running_bot(emulator):
        await emulator.send_text(bob, group, f"/start@{emulator.bot_username}")
        [hello] = await emulator.wait_for_messages(group.id, 1)
    assert hello.text == "Hello Bob! Send me anything."
    assert hello.chat.type == "group"
    assert hello.reply_to_message is not None  # PTB quotes the command in groups


async def test_button_press_is_answered_and_edits_the_message(emulator: BotApiEmulator) -> None:
    ann = emulator.user(1001, first_name="Ann")
    async with running_bot(emulator):
        await emulator.send_text(ann, None, "/card")
        [message] = await emulator.wait_for_messages(ann.id, 1)
        query_id = await emulator.press(ann, message, "refresh:42")
        answer = await emulator.wait_for_callback_answer(query_id)
        await emulator.wait_for(lambda: message.edits)

    assert answer.text == "refresh ok" and not answer.show_alert
    assert message.text == "Item 42\nPrice: ¥ 2,799 (refresh)"
    assert [version.text for version in message.history] == [
        "Item 42\nPrice: ¥ 2,999",
        "Item 42\nPrice: ¥ 2,799 (refresh)",
    ]
    assert message.edits[0].method == "editMessageText"
    assert [b["text"] for b in message.buttons] == ["Watch price", "Refresh", "Open"]
    assert len(emulator.sent[ann.id]) == 1  # edited in place, not sent again


async def test_an_edit_that_changes_nothing_is_refused_like_telegram(
    emulator: BotApiEmulator,
) -> None:
    ann = emulator.user(1001, first_name="Ann")
    async with running_bot(emulator) as application:
        sent = await application.bot.send_message(ann.id, "<b>same</b>", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await application.bot.edit_message_text(
                "<strong>same</strong>",
                chat_id=ann.id,
                message_id=sent.message_id,
                parse_mode="HTML",
            )


async def test_photos_by_url_by_upload_by_file_id_and_albums(emulator: BotApiEmulator) -> None:
    ann = emulator.user(1001, first_name="Ann")
    async with running_bot(emulator) as application:
        await emulator.send_text(ann, None, "/pics")
        sent = await emulator.wait_for_messages(ann.id, 5)
        by_url, uploaded, album_first, album_second, again = sent
        assert uploaded.photo is not None
        telegram_file = await application.bot.get_file(uploaded.photo.file_id)
        downloaded = bytes(await telegram_file.download_as_bytearray())
        with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
            await application.bot.send_photo(ann.id, "no-such-file-id")

    assert by_url.photo and by_url.photo.url == "https://img.example/42.jpg"
    assert by_url.caption == "by URL & more" and by_url.raw_caption.startswith("<i>")  # type: ignore[union-attr]
    assert uploaded.photo.size == len(PNG) and uploaded.photo.url is None
    # multipart/form-data carries reply_markup as a JSON string, decoded like any other form
    assert [b["text"] for b in uploaded.buttons] == ["Watch price", "Refresh", "Open"]
    assert downloaded == PNG
    assert album_first.media_group_id == album_second.media_group_id is not None
    assert list(emulator.albums(ann.id).values()) == [[album_first, album_second]]
    assert album_first.caption == "album" and album_second.photo.size == len(PNG)  # type: ignore[union-attr]
    assert again.photo and again.photo.file_id == uploaded.photo.file_id


async def test_blocked_user_raises_forbidden_in_ptb(emulator: BotApiEmulator) -> None:
    ann = emulator.user(1001, first_name="Ann")
    emulator.block(ann.id)
    async with running_bot(emulator) as application:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await application.bot.send_message(ann.id, "price dropped!")
    assert emulator.sent[ann.id] == []


async def test_injected_flood_error_reaches_ptb_as_retry_after(
    emulator: BotApiEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # the future-proof RetryAfter, no warning
    ann = emulator.user(1001, first_name="Ann")
    emulator.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    async with running_bot(emulator) as application:
        with pytest.raises(RetryAfter) as flood:
            await application.bot.send_message(ann.id, "first")
        assert flood.value.retry_after == timedelta(seconds=7)
        await application.bot.send_message(ann.id, "second")
    assert [m.text for m in emulator.sent[ann.id]] == ["second"]


async def test_commands_are_stored_per_language(emulator: BotApiEmulator) -> None:
    async with running_bot(emulator) as application:
        await application.bot.set_my_commands([("start", "Start")])
        await application.bot.set_my_commands([("start", "开始")], language_code="zh")
        chinese = await application.bot.get_my_commands(language_code="zh")
    assert [c.description for c in chinese] == ["开始"]
    assert emulator.my_commands() == [{"command": "start", "description": "Start"}]
    assert emulator.my_commands("zh") == [{"command": "start", "description": "开始"}]


async def test_wrong_token_is_unauthorized(emulator: BotApiEmulator) -> None:
    async with httpx.AsyncClient(base_url=emulator.base_url) as client:
        answer = await client.post("/bot999:WRONG/getMe")
    assert answer.status_code == 401
    assert answer.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=f"{emulator.base_url}/bot"):
            pass


async def test_a_client_hanging_up_mid_request_is_no_server_error(
    emulator: BotApiEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """What a bot stopping during a long poll does (tests/test_shutdown.py saw a traceback)."""
    _reader, writer = await asyncio.open_connection(emulator.host, emulator.port)
    writer.write(
        f"POST /bot{emulator.token}/getUpdates HTTP/1.1\r\nHost: {emulator.host}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
        "offset=1".encode()
    )
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    await emulator.wait_for(lambda: emulator.hang_ups == 1)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    async with raw_client(emulator) as client:  # and the emulator serves on
        assert (await bot_api(client, "getMe")).json()["ok"] is True


async def test_parameters_may_come_as_query_string_form_or_json(
    emulator: BotApiEmulator, api: httpx.AsyncClient
) -> None:
    ann = emulator.user(1001, first_name="Ann")
    by_query = await api.get("sendMessage", params={"chat_id": ann.id, "text": "q"})
    by_form = await api.post("sendMessage", data={"chat_id": str(ann.id), "text": "f"})
    by_json = await api.post("sendMessage", json={"chat_id": ann.id, "text": "j"})
    assert [a.json()["result"]["text"] for a in (by_query, by_form, by_json)] == ["q", "f", "j"]
    assert [params["chat_id"] for params in emulator.calls_to("sendMessage")] == [ann.id] * 3


# -- long polling ----------------------------------------------------------------------------


async def test_get_updates_holds_the_request_until_an_update_arrives(
    emulator: BotApiEmulator,
    api: httpx.AsyncClient,
) -> None:
    ann = emulator.user(1001, first_name="Ann")
    poll = asyncio.create_task(bot_api(api, "getUpdates", timeout=5))
    await emulator.wait_for(lambda: emulator.calls_to("getUpdates"))
    assert not poll.done()
    await emulator.send_text(ann, None, "hello")
    answer = (await asyncio.wait_for(poll, 2)).json()
    [update] = answer["result"]
    assert update["message"]["text"] == "hello"

    # The offset confirms it: it is not delivered again.
    again = await bot_api(api, "getUpdates", offset=update["update_id"] + 1, timeout=0)
    assert again.json() == {"ok": True, "result": []}


async def test_get_updates_answers_empty_when_the_timeout_passes(
    emulator: BotApiEmulator, api: httpx.AsyncClient
) -> None:
    answer = await bot_api(api, "getUpdates", timeout=0.05)
    assert answer.json() == {"ok": True, "result": []}


async def test_get_updates_delivers_only_allowed_update_types(
    emulator: BotApiEmulator, api: httpx.AsyncClient
) -> None:
    ann = emulator.user(1001, first_name="Ann")
    sent = (
        await bot_api(
            api,
            "sendMessage",
            chat_id=ann.id,
            text="hi",
            reply_markup={"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]},
        )
    ).json()["result"]
    await emulator.send_text(ann, None, "ignored")
    await emulator.press(ann, sent, 0)
    answer = await bot_api(api, "getUpdates", allowed_updates=["callback_query"])
    [update] = answer.json()["result"]
    assert update["callback_query"]["data"] == "go"
    assert update["callback_query"]["message"]["message_id"] == sent["message_id"]


# -- Telegram's rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "visible"),
    [
        ("<b>bold</b> <i>it</i> <u>u</u> <s>s</s>", "bold it u s"),
        (
            "<strong><em>nested</em></strong> &lt;tag&gt; &amp; &quot;q&quot; &#39;&#x4E2D;",
            'nested <tag> & "q" \'中',
        ),
        ('<a href="https://example.com/?a=1&amp;b=2">link</a>', "link"),
        ('<span class="tg-spoiler">x</span><tg-spoiler>y</tg-spoiler>', "xy"),
        ('<pre><code class="language-python">print(1 > 0)</code></pre>', "print(1 > 0)"),
        ("<blockquote expandable>quote</blockquote><code>c</code>", "quotec"),
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍"),
    ],
)
def test_html_check_accepts_telegram_html(source: str, visible: str) -> None:
    assert parse_telegram_html(source).text == visible


def test_html_entities_use_utf16_offsets() -> None:
    parsed = parse_telegram_html("😀 <b>北京</b>")
    assert parsed.entities == ({"type": "bold", "offset": 3, "length": 2},)
    pre = parse_telegram_html('<pre><code class="language-go">x</code></pre>')
    assert pre.entities == ({"type": "pre", "language": "go", "offset": 0, "length": 1},)


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("<b>unclosed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("a < b & c", 'Unsupported start tag "" at byte offset 2'),
        ("a &lt; b & c", 'Character "&" at byte offset 9 must be escaped'),
        ("<script>alert(1)</script>", 'Unsupported start tag "script" at byte offset 0'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("&nbsp;", 'Unsupported HTML entity "&nbsp;"'),
        ('<span class="red">x</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("<br>", 'Unsupported start tag "br"'),
    ],
)
async def test_html_check_rejects_what_telegram_rejects(
    emulator: BotApiEmulator, api: httpx.AsyncClient, source: str, reason: str
) -> None:
    ann = emulator.user(1001, first_name="Ann")
    answer = await bot_api(api, "sendMessage", chat_id=ann.id, text=source, parse_mode="HTML")
    assert answer.status_code == 400
    body = answer.json()
    assert body["ok"] is False and body["error_code"] == 400
    assert body["description"].startswith("Bad Request: can't parse entities: ")
    assert reason in body["description"]
    assert emulator.sent[ann.id] == []


async def test_length_limits_count_visible_characters(
    emulator: BotApiEmulator, api: httpx.AsyncClient
) -> None:
    ann = emulator.user(1001, first_name="Ann")
    fits = await bot_api(
        api, "sendMessage", chat_id=ann.id, text=f"<b>{'x' * 4096}</b>", parse_mode="HTML"
    )
    too_long = await bot_api(api, "sendMessage", chat_id=ann.id, text="x" * 4097)
    long_caption = await bot_api(
        api, "sendPhoto", chat_id=ann.id, photo="https://img.example/1.jpg", caption="c" * 1025
    )
    empty = await bot_api(api, "sendMessage", chat_id=ann.id, text="<b> </b>", parse_mode="HTML")

    assert fits.json()["ok"] is True
    assert too_long.json()["description"] == "Bad Request: message is too long"
    assert long_caption.json()["description"] == "Bad Request: message caption is too long"
    assert empty.json()["description"] == "Bad Request: message text is empty"


async def test_callback_data_longer_than_64_bytes_is_refused(
    emulator: BotApiEmulator, api: httpx.AsyncClient
) -> None:
    ann = emulator.user(1001, first_name="Ann")
    keyboard = {"inline_keyboard": [[{"text": "Go", "callback_data": "x" * 65}]]}
    answer = await bot_api(api, "sendMessage", chat_id=ann.id, text="hi", reply_markup=keyboard)
    assert answer.json()["description"] == "Bad Request: BUTTON_DATA_INVALID"


async def test_unknown_chat_is_not_found(emulator: BotApiEmulator, api: httpx.AsyncClient) -> None:
    answer = await bot_api(api, "sendMessage", chat_id=424242, text="hi")
    assert answer.json()["description"] == "Bad Request: chat not found"


# -- flood limits ----------------------------------------------------------------------------


async def test_a_chat_takes_one_message_a_second_and_no_burst() -> None:
    """Bots FAQ: "avoid sending more than one message per second" in a chat; the short
    bursts Telegram "may allow" are not promised, so the emulator allows none."""
    clock = FakeClock()
    async with (
        BotApiEmulator(token=TOKEN, clock=clock, enforce_limits=True) as emulator,
        raw_client(emulator) as api,
    ):
        ann = emulator.user(1001, first_name="Ann")
        answers = [
            await bot_api(api, "sendMessage", chat_id=ann.id, text=f"#{n}") for n in range(2)
        ]
        clock.advance(1.0)
        after_a_second = await bot_api(api, "sendMessage", chat_id=ann.id, text="later")
        typing = await bot_api(api, "sendChatAction", chat_id=ann.id, action="typing")

    assert [a.status_code for a in answers] == [200, 429]
    assert answers[1].json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert after_a_second.status_code == 200
    assert typing.status_code == 200  # a chat action is no message


async def test_an_album_leaves_its_chat_owing_a_second_a_photo() -> None:
    clock = FakeClock()
    async with (
        BotApiEmulator(token=TOKEN, clock=clock, enforce_limits=True) as emulator,
        raw_client(emulator) as api,
    ):
        ann = emulator.user(1001, first_name="Ann")
        media = [{"type": "photo", "media": f"https://img.example.test/{n}.jpg"} for n in range(4)]
        album = await bot_api(api, "sendMediaGroup", chat_id=ann.id, media=media)
        clock.advance(3.0)
        early = await bot_api(api, "sendMessage", chat_id=ann.id, text="too soon")
        clock.advance(1.0)
        on_time = await bot_api(api, "sendMessage", chat_id=ann.id, text="now")
    assert album.status_code == 200
    assert early.json()["parameters"] == {"retry_after": 1}
    assert on_time.status_code == 200


async def test_group_limit_is_twenty_messages_a_minute() -> None:
    clock = FakeClock()
    async with (
        BotApiEmulator(token=TOKEN, clock=clock, enforce_limits=True) as emulator,
        raw_client(emulator) as api,
    ):
        group = emulator.group_chat(-100300, "Deals")
        for n in range(20):
            ok = await bot_api(api, "sendMessage", chat_id=group.id, text=f"#{n}")
            assert ok.status_code == 200
            clock.advance(1.0)  # 20 messages in 20 s: within a group's limit
        refused = await bot_api(api, "sendMessage", chat_id=group.id, text="one more")
        clock.advance(40.0)  # the first message leaves the 60 s window
        accepted = await bot_api(api, "sendMessage", chat_id=group.id, text="now")

    assert refused.status_code == 429
    assert refused.json()["parameters"] == {"retry_after": 40}
    assert accepted.status_code == 200


async def group_answers(counting: str, gaps: list[float]) -> list[int]:
    """Send a group one message after each gap; the status of each answer."""
    clock = FakeClock()
    clock.advance(-clock.monotonic())  # so the clock-aligned minutes start at 0
    async with (
        BotApiEmulator(
            token=TOKEN,
            clock=clock,
            enforce_limits=True,
            flood_rules=FloodRules(counting=counting),  # type: ignore[arg-type]
        ) as emulator,
        raw_client(emulator) as api,
    ):
        group = emulator.group_chat(-100300, "Deals")
        statuses = []
        for gap in gaps:
            clock.advance(gap)
            answer = await bot_api(api, "sendMessage", chat_id=group.id, text="x")
            statuses.append(answer.status_code)
        return statuses


async def test_a_groups_twenty_a_minute_can_be_read_three_ways() -> None:
    """20 at 1 s apart from second 40, then one at second 61: two clock minutes, but 21
    in one sliding minute; 3 s apart is the even pace, 2.5 s is not."""
    burst_across_a_minute = [40.0] + [1.0] * 19 + [2.0]
    assert (await group_answers("fixed", burst_across_a_minute)).count(429) == 0
    assert (await group_answers("sliding", burst_across_a_minute))[-1] == 429
    assert (await group_answers("sliding", [1.0] + [3.0] * 25)).count(429) == 0
    assert (await group_answers("even", [1.0] + [3.0] * 25)).count(429) == 0
    assert (await group_answers("even", [1.0, 2.5]))[-1] == 429
    assert (await group_answers("sliding", [1.0, 2.5])).count(429) == 0


async def test_global_limit_is_thirty_messages_a_second() -> None:
    clock = FakeClock()
    async with (
        BotApiEmulator(token=TOKEN, clock=clock, enforce_limits=True) as emulator,
        raw_client(emulator) as api,
    ):
        users = [emulator.user(2000 + n, first_name=f"U{n}") for n in range(31)]
        answers = [await bot_api(api, "sendMessage", chat_id=u.id, text="broadcast") for u in users]
    assert [a.status_code for a in answers].count(200) == 30
    assert answers[-1].json()["parameters"] == {"retry_after": 1}


async def test_limits_are_off_by_default(emulator: BotApiEmulator, api: httpx.AsyncClient) -> None:
    ann = emulator.user(1001, first_name="Ann")
    answers = [await bot_api(api, "sendMessage", chat_id=ann.id, text="x") for _ in range(5)]
    assert {a.status_code for a in answers} == {200}


# -- the terminal chat -----------------------------------------------------------------------


async def test_terminal_chat_transcript_with_numbers_pressing_buttons(
    emulator: BotApiEmulator,
) -> None:
    ann = emulator.user(1001, first_name="Ann")
    read_fd, write_fd = os.pipe()
    out = io.StringIO()
    with os.fdopen(read_fd, "r", encoding="utf-8") as stdin, os.fdopen(write_fd, "w") as typing:

        def type_line(line: str) -> None:
            typing.write(line + "\n")
            typing.flush()

        async with running_bot(emulator):
            chat = asyncio.create_task(
                run_terminal_chat(
                    emulator,
                    user=ann,
                    stdin=stdin,
                    stdout=out,  # type: ignore[arg-type]
                    bot_username=emulator.bot_username,
                    wait_for_replies=False,
                )
            )
            type_line("/card")
            [card_message] = await emulator.wait_for_messages(ann.id, 1)
            type_line("2")  # Refresh
            await emulator.wait_for(lambda: card_message.edits)
            type_line("3")  # a URL button: shown, not pressed
            type_line("9")  # no button 9: sent as text
            await emulator.wait_for_messages(ann.id, 2)
            typing.close()
            await asyncio.wait_for(chat, 2)

    assert out.getvalue().splitlines() == [
        "Chatting with @sandbox_bot as Ann (local emulator). "
        "Type a message; a number presses a button; Ctrl-D or Ctrl-C quits.",
        "you: /card",
        "bot: Item 42",
        "     Price: ¥ 2,999",
        "     [1] Watch price  [2] Refresh  [3] Open ↗",
        "you pressed [2] Refresh",
        "bot (notice): refresh ok",
        "bot (edited): Item 42",
        "              Price: ¥ 2,799 (refresh)",
        "              [1] Watch price  [2] Refresh  [3] Open ↗",
        "you pressed [3] Open",
        "     (opens https://example.com/item/42)",
        "you: 9",
        "bot: echo: 9",
        "(chat ended)",
    ]


async def test_terminal_chat_script_waits_for_each_reply_and_shows_photos(
    emulator: BotApiEmulator,
) -> None:
    ann = emulator.user(1001, first_name="Ann")
    out = io.StringIO()
    async with running_bot(emulator):
        await run_terminal_chat(
            emulator,
            user=ann,
            stdin=io.StringIO("/start\n/pics\n"),
            stdout=out,
            bot_username="sandbox_bot",
            quiet_period=0.3,
        )

    transcript = out.getvalue()
    assert "you: /start\nbot: Hello Ann! Send me anything.\nyou: /pics\n" in transcript
    assert "bot: [photo] https://img.example/42.jpg\n     by URL & more\n" in transcript
    assert f"bot: [photo] {len(PNG)} bytes\n     uploaded\n" in transcript
    assert "bot: [album: 2 photos]\n       1. https://img.example/a.jpg\n" in transcript
    assert transcript.endswith("again by file_id\n(chat ended)\n")


async def test_terminal_chat_ends_cleanly_on_immediate_eof(emulator: BotApiEmulator) -> None:
    ann = emulator.user(1001, first_name="Ann")
    out = io.StringIO()
    await run_terminal_chat(emulator, user=ann, stdin=io.StringIO(""), stdout=out, bot_username="b")
    assert out.getvalue().endswith("(chat ended)\n")
    assert emulator.calls == []
