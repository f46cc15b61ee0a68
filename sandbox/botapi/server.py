"""The Bot API server: `BotApiEmulator` answers the bot's HTTP requests as Telegram does.

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
- parse_mode=HTML as Telegram parses it (`html.py`).
- Lengths count visible characters after entity parsing: text 1-4096, caption 0-1024.
- Inline keyboards: every button has text and an action; callback_data 1-64 bytes.
- Edits that change nothing answer "message is not modified", as Telegram does; an
  editMessageText without reply_markup removes the keyboard, as Telegram does.
- `block(user_id)`: the user's private chat answers 403 "bot was blocked by the user".
- Limits only with `enforce_limits=True` (`limits.py`). Time comes from
  `clock.monotonic()`; long-poll waits are real time (PTB waits in real time too).

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
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

import aiohttp
from aiohttp import web

from clock import Clock, SystemClock
from sandbox.botapi.html import ParsedText, TelegramHtmlError, parse_telegram_html
from sandbox.botapi.limits import FloodRules, SendLimits
from sandbox.botapi.models import (
    ApiCall,
    ApiError,
    BotEvent,
    CallbackAnswer,
    Chat,
    ChatAction,
    InjectedFault,
    InlineAnswer,
    LongPoll,
    PendingQuery,
    Photo,
    QueuedUpdate,
    SentMessage,
    StoredFile,
    Upload,
    User,
    bad_request,
)
from sandbox.botapi.params import (
    BUTTON_ACTIONS,
    CHAT_ACTIONS,
    COMMAND_RE,
    coerce,
)
from sandbox.botapi.users import Listener, UserActions

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

UPDATE_TYPES = ("message", "edited_message", "callback_query")


Handler = Callable[[dict[str, Any], dict[str, Upload]], Awaitable[Any]]


class BotApiEmulator(UserActions):
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
        self._limits = SendLimits(self.clock, rules)
        self._faults: dict[str, deque[InjectedFault]] = defaultdict(deque)
        self._incoming: dict[tuple[int, int], dict[str, Any]] = {}
        self._by_id: dict[tuple[int, int], SentMessage] = {}
        self._next_message_id: defaultdict[int, int] = defaultdict(lambda: 1)
        self._updates: list[QueuedUpdate] = []
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._group_ids = itertools.count(1)
        self._queries: dict[str, PendingQuery] = {}
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
        self._long_poll: LongPoll | None = None
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
        body = request.content_type if request.body_exists else ""
        self.calls.append(ApiCall(known[0] if known else name, {**params, **uploads}, body))
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

    def _take_fault(self, name: str, params: dict[str, Any]) -> InjectedFault | None:
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
                    raise bad_request("can't parse JSON request body") from None
                if not isinstance(body, dict):
                    raise bad_request("JSON request body must be an object")
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
        return {key: coerce(key, value) for key, value in raw.items()}, uploads

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
        self._updates.append(QueuedUpdate(update_id, kind, payload))
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

    def _deliverable(self) -> list[QueuedUpdate]:
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
            poll = self._long_poll = LongPoll()
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
            raise bad_request("chat_id is empty")
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None and isinstance(chat_id, int) and chat_id in self.users:
            chat = self.private_chat(self.users[chat_id])
        if chat is None:
            raise bad_request("chat not found")
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
                raise bad_request(f"can't parse entities: {error}") from None
        elif mode in ("", "markdown", "markdownv2"):
            parsed = ParsedText(raw, tuple(entities or ()))
        else:
            raise bad_request("unsupported parse_mode")
        if len(parsed.text) > limit:
            raise bad_request(too_long)
        return parsed

    def _text(self, params: dict[str, Any]) -> ParsedText:
        raw = params.get("text")
        if not isinstance(raw, str) or not raw.strip():
            raise bad_request("message text is empty")
        parsed = self._format(
            raw,
            params.get("parse_mode"),
            params.get("entities"),
            limit=TEXT_LIMIT,
            too_long="message is too long",
        )
        if not parsed.text.strip():
            raise bad_request("message text is empty")
        return parsed

    def _caption(self, raw: Any, parse_mode: str | None, entities: Any) -> ParsedText | None:
        if raw is None or raw == "":
            return None
        if not isinstance(raw, str):
            raise bad_request("caption must be a string")
        return self._format(
            raw, parse_mode, entities, limit=CAPTION_LIMIT, too_long="message caption is too long"
        )

    def _reply_markup(self, markup: Any) -> dict[str, Any] | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return markup  # reply keyboards, ForceReply, ReplyKeyboardRemove: kept as sent
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        for button in (button for row in rows for button in row):
            if not isinstance(button, dict) or not button.get("text"):
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            if not BUTTON_ACTIONS & button.keys():
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode()) <= CALLBACK_DATA_LIMIT:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button:
                url = str(button["url"])
                if not url.startswith(("http://", "https://", "tg://")):
                    raise bad_request(
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
            raise bad_request("message to be replied not found")
        return replied

    def _resolve_photo(self, value: Any, uploads: dict[str, Upload], field_name: str) -> StoredFile:
        if value is None and field_name in uploads:
            return self._store_upload(uploads[field_name])
        if not isinstance(value, str) or not value:
            raise bad_request(f"there is no {field_name} in the request")
        if value.startswith("attach://"):
            upload = uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            return self._store_upload(upload)
        if value.startswith(("http://", "https://")):
            return self._new_file(url=value)
        stored = self.files.get(value)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return stored

    def _store_upload(self, upload: Upload) -> StoredFile:
        if not upload.data:
            raise bad_request("file must be non-empty")
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
            raise bad_request(f"a media group must have {low}-{high} items")
        items: list[tuple[StoredFile, ParsedText | None, dict[str, Any]]] = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") != "photo":
                raise bad_request("the emulator supports only photos in media groups")
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
            raise bad_request("the emulator does not support inline_message_id")
        chat = self._target_chat(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = self._by_id.get((chat.id, message_id))
        if message is None or message.deleted:
            if (chat.id, message_id) in self._incoming:
                raise bad_request("message can't be edited")
            raise bad_request("message to edit not found")
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
            raise bad_request(
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
            raise bad_request("there is no text in the message to edit")
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
            raise bad_request("there is no caption in the message to edit")
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
        raise bad_request("message to delete not found")

    # -- the rest -------------------------------------------------------------------------

    async def _answer_inline_query(self, params: dict[str, Any], _: dict[str, Upload]) -> Any:
        query_id = str(params.get("inline_query_id") or "")
        if query_id not in self._queries or query_id in self.inline_answers:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        results = params.get("results")
        if isinstance(results, str):
            results = json.loads(results)
        if not isinstance(results, list) or len(results) > 50:
            raise bad_request("RESULTS_TOO_MUCH")
        ids = [str(r.get("id", "")) for r in results]
        if len(set(ids)) != len(ids) or not all(0 < len(i.encode()) <= 64 for i in ids):
            raise bad_request("RESULT_ID_INVALID")
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
            raise bad_request("RESULT_TYPE_INVALID")  # the emulator takes articles only
        content = result.get("input_message_content") or {}
        raw = content.get("message_text")
        if not isinstance(raw, str) or not raw.strip():
            raise bad_request("MESSAGE_EMPTY")
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
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get("text") or None
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
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
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.chat_actions.append(ChatAction(chat.id, action, self.clock.monotonic()))
        self._emit(BotEvent("chat_action", chat.id, action=action))
        return True

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if not scope:
            return "default"
        if not isinstance(scope, dict) or "type" not in scope:
            raise bad_request("can't parse BotCommandScope JSON object")
        key = str(scope["type"])
        if "chat_id" in scope:
            key += f":{scope['chat_id']}"
        if "user_id" in scope:
            key += f":{scope['user_id']}"
        return key

    async def _set_my_commands(self, params: dict[str, Any], _: dict[str, Upload]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not COMMAND_RE.fullmatch(
                str(command.get("command", ""))
            ):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
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
            raise bad_request("wrong file_id or the file is temporarily unavailable")
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


def _answer_error(error: ApiError) -> web.Response:
    if error.body is not None:
        return web.Response(text=error.body, status=error.error_code, content_type="text/html")
    return web.json_response(error.envelope(), status=error.error_code)
