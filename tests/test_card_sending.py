"""How a card goes to Telegram (issue 19.6): the cheap road must deliver the same card.

A cached card is sent as the Bot API's own objects (its keyboard serialised once per card,
`Card.markup`), in a JSON body (bot/json_request.py), and the sent message comes back as
the Bot API's dict, read only for the photo's file_id (handlers/sending.py). What the user
gets must not change: the same caption, parse mode, keyboard and photo, the file_id
learned, the buttons working.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message
from telegram.error import NetworkError
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.json_request import JsonRequest, json_body
from clients.models import ListingRef
from gateway.budget import SYSTEM
from handlers.cards import render_card
from sandbox.botapi import BotApiEmulator
from tests.conftest import TOKEN, BotEnv

LINK = "https://www.goofish.com/item?id=712345678901"
REF = ListingRef("xianyu", "712345678901")


def photo_calls(env: BotEnv, chat_id: int) -> list[Any]:
    return [
        call
        for call in env.emulator.calls
        if call.method == "sendPhoto" and call.params.get("chat_id") == chat_id
    ]


async def test_a_cached_card_arrives_as_rendered_with_its_photo_id_learned_and_buttons_working(
    bot_env: BotEnv,
) -> None:
    user = bot_env.user(4101)
    [first] = await bot_env.say(user, LINK)
    [again] = await bot_env.say(user, LINK)  # the same listing, from the gateway's cache

    listing = await bot_env.services.gateway.listing(REF, payer=SYSTEM)
    card = render_card(listing, "en", sandbox=bot_env.settings.demo, now=bot_env.clock.time())
    assert card.markup == card.keyboard.to_dict()
    for sent in (first, again):
        assert sent.raw_caption == card.text
        assert sent.parse_mode == "HTML"
        assert sent.reply_markup == card.keyboard.to_dict()
        assert sent.photo is not None
    # the first photo was uploaded (a sandbox photo Telegram cannot fetch); its file_id was
    # learned from the answer and the second card reuses it
    assert listing.photos
    learned = bot_env.services.photo_ids.get(listing.photos[0])
    assert learned == first.photo.file_id  # type: ignore[union-attr]  # asserted above
    upload, reuse = photo_calls(bot_env, user.id)
    assert upload.content_type == "multipart/form-data"
    assert reuse.content_type == "application/json"
    assert reuse.params["photo"] == learned
    assert again.photo.file_id == learned  # type: ignore[union-attr]  # asserted above

    refresh = next(
        b["callback_data"] for b in again.buttons if b.get("callback_data", "")[:2] == "r|"
    )
    answer = await bot_env.emulator.wait_for_callback_answer(
        await bot_env.press(user, again, refresh)
    )
    assert answer.text == "Nothing changed."
    watch = next(
        b["callback_data"] for b in again.buttons if b.get("callback_data", "")[:2] == "w|"
    )
    await bot_env.emulator.wait_for_callback_answer(await bot_env.press(user, again, watch))
    [sub] = await bot_env.services.watches.for_user(user.id)
    assert sub.watch.ref_key == REF.key


async def test_a_sent_card_is_not_parsed_back_into_library_objects(
    bot_env: BotEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sent photo message is read for its file_id only: python-telegram-bot's parsing
    of it (message, photo sizes, entities, keyboard) was the card's largest extra cost."""
    parsed: list[dict[str, Any]] = []
    original = Message.de_json.__func__  # type: ignore[attr-defined]

    def counting(cls: type[Message], data: Any, bot: Any = None) -> Any:
        if isinstance(data, dict) and data.get("photo"):
            parsed.append(data)
        return original(cls, data, bot)

    monkeypatch.setattr(Message, "de_json", classmethod(counting))
    user = bot_env.user(4102)
    await bot_env.say(user, LINK)
    [card] = await bot_env.say(user, LINK)
    assert card.photo is not None
    assert parsed == []


async def test_requests_without_files_go_as_utf8_json_and_uploads_as_multipart() -> None:
    # Bot API, "Making requests": parameters may be passed as application/json "(except for
    # uploading files)", and multipart/form-data "(use to upload files)"; requests and
    # answers are UTF-8 ("All queries must be made using UTF-8")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("关注 🔔", callback_data="w|x:1")]])
    text = "<b>双裕花园西区</b> 1室1厅 &amp; 63.4㎡"
    bodies: list[bytes] = []

    async def keep(request: httpx.Request) -> None:
        if request.headers.get("content-type") == "application/json":
            bodies.append(request.content)

    async with BotApiEmulator(token=TOKEN) as emulator:
        request = JsonRequest(connection_pool_size=2)
        bot = Bot(TOKEN, base_url=f"{emulator.base_url}/bot", request=request)
        async with bot:
            request._client.event_hooks["request"].append(keep)
            user = emulator.user(4103)
            sent = await bot.send_message(user.id, text, parse_mode="HTML", reply_markup=keyboard)
            await bot.send_photo(
                user.id, InputFile(b"\xff\xd8\xff\xe0 not really a jpeg", filename="p.jpg")
            )
        call, upload = [c for c in emulator.calls if c.method in ("sendMessage", "sendPhoto")]
    assert call.content_type == "application/json"
    assert call.params["text"] == text
    assert call.params["reply_markup"] == keyboard.to_dict()
    assert sent.text == "双裕花园西区 1室1厅 & 63.4㎡"
    assert sent.reply_markup == keyboard
    # the Chinese goes as its UTF-8 bytes, not percent-encoded three characters a byte
    assert "双裕花园西区".encode() in bodies[-1]
    assert upload.content_type == "multipart/form-data"


async def test_an_unreachable_bot_api_is_the_librarys_network_error() -> None:
    async with BotApiEmulator(token=TOKEN) as emulator:
        base_url = emulator.base_url
    request = JsonRequest(connection_pool_size=1, connect_timeout=2)
    bot = Bot(TOKEN, base_url=f"{base_url}/bot", request=request)
    await request.initialize()
    try:
        with pytest.raises(NetworkError, match=r"httpx\.ConnectError"):
            await bot.send_message(1, "hello")
    finally:
        await request.shutdown()


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(value=_JSON)
def test_bodies_and_answers_read_and_write_as_the_standard_librarys_json(value: Any) -> None:
    # orjson writes the bodies and reads the answers (bot/json_request.py): the same values
    body = json_body(RequestData([RequestParameter("p", [value], None)]))
    assert json.loads(body) == {"p": [value]}
    answer = json.dumps({"ok": True, "result": value}, ensure_ascii=False).encode()
    assert JsonRequest.parse_json_payload(answer) == json.loads(answer)


def test_what_orjson_refuses_goes_the_librarys_way() -> None:
    # a key orjson does not encode, and an answer with bytes that are no UTF-8
    body = json_body(RequestData([RequestParameter("p", {1: "a"}, None)]))
    assert json.loads(body) == {"p": {"1": "a"}}
    answer = b'{"ok": true, "result": {"text": "caf\xe9"}}'
    assert JsonRequest.parse_json_payload(answer) == {"ok": True, "result": {"text": "caf\ufffd"}}
