"""The test side of the emulator: simulated people, and what the bot did.

`UserActions` is mixed into `BotApiEmulator`: users and chats (private, group, channel)
write messages, contacts and edits, press buttons (or send any callback data) and send
inline queries; tests read the bot's calls, answers and deliveries and wait for them.
It works on the server's state (declared below) and its `_push_update`,
`_new_message_id`, `_message_id_of` and `_message_api`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from clock import Clock
from sandbox.botapi.models import (
    ApiCall,
    BotEvent,
    CallbackAnswer,
    Chat,
    DeliveryStats,
    InjectedFault,
    InlineAnswer,
    PendingQuery,
    SentMessage,
    User,
)
from sandbox.botapi.params import incoming_entities

Listener = Callable[[BotEvent], None]


class UserActions:
    """Simulated people, and what the bot did (module docstring); mixed into the server."""

    clock: Clock
    bot: dict[str, Any]
    users: dict[int, User]
    chats: dict[int, Chat]
    sent: defaultdict[int, list[SentMessage]]
    calls: list[ApiCall]
    callback_answers: dict[str, CallbackAnswer]
    inline_answers: dict[str, InlineAnswer]
    commands: dict[tuple[str, str], list[dict[str, str]]]
    delivered: defaultdict[int, list[float]]
    blocked: set[int]
    _faults: dict[str, deque[InjectedFault]]
    _incoming: dict[tuple[int, int], dict[str, Any]]
    _by_id: dict[tuple[int, int], SentMessage]
    _next_message_id: defaultdict[int, int]
    _query_ids: itertools.count[int]
    _file_ids: itertools.count[int]
    _queries: dict[str, PendingQuery]
    _listeners: list[Listener]
    _activity: asyncio.Condition

    if TYPE_CHECKING:  # the server's bookkeeping, which the test side writes through

        async def _push_update(self, kind: str, payload: dict[str, Any]) -> None: ...

        def _new_message_id(self, chat_id: int) -> int: ...

        @staticmethod
        def _message_id_of(message: SentMessage | Mapping[str, Any] | int) -> int: ...

        def _message_api(self, chat_id: int, message_id: int) -> dict[str, Any] | None: ...

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
        entities = incoming_entities(text)
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
            found = incoming_entities(text) if entities is None else entities
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
            found = incoming_entities(caption) if caption_entities is None else caption_entities
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
            found = incoming_entities(value) if given is None else given
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
        self._queries[query_id] = PendingQuery(record.chat_id)
        query = {
            "id": query_id,
            "from": user.to_api(),
            "message": record.to_api(),
            "chat_instance": str(-4_000_000_000_000 - abs(record.chat_id)),
            "data": data,
        }
        await self._push_update("callback_query", query)
        return query_id

    async def press_inline(self, user: User, inline_message_id: str, data: str) -> str:
        """A button pressed on a message sent by inline mode (Bot API, CallbackQuery: such a
        query carries `inline_message_id` and no `message`); returns the query id."""
        query_id = f"{self.bot['id']}{next(self._query_ids):08d}"
        self._queries[query_id] = PendingQuery(user.id)
        query = {
            "id": query_id,
            "from": user.to_api(),
            "inline_message_id": inline_message_id,
            "chat_instance": str(-5_000_000_000_000 - user.id),
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
        fault = InjectedFault(error_code, description, params, count, chat_id, body)
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
        self._queries[query_id] = PendingQuery(user.id)
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

    def iter_messages(self, chat_id: int) -> Iterator[SentMessage]:
        """The bot's messages in `chat_id` that were not deleted, oldest first."""
        return (message for message in self.sent[chat_id] if not message.deleted)
