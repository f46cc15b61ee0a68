"""The webhook server (`WEBHOOK_URL` set): Telegram POSTs each update here.

    stop = await start_webhook(application, settings, allowed_updates, conflicts)
    ...
    await stop()

Our own small tornado application, fed into python-telegram-bot the public way
(`Update.de_json`, `application.update_queue`, as PTB's custom-webhook examples do),
rather than PTB's built-in server (`Updater.start_webhook`), whose handler reads the
whole body (up to tornado's 100 MB default) before it looks at the secret: one
unauthenticated 90 MiB POST raised the bot's peak memory by 181 MiB. PTB offers no hook
for its handler, and this server reaches into none of PTB's internals. Here:

- the secret (`X-Telegram-Bot-Api-Secret-Token`, compared in constant time) is checked
  when the headers arrive (`prepare` of a `stream_request_body` handler), so a request
  without it is answered 403 and its connection closed before a byte of body is read;
- a body is at most `MAX_UPDATE_BYTES` (413 when Content-Length says more; a chunked
  body is cut at the cap) and must arrive within `BODY_SECONDS`; headers within
  `HEADER_SECONDS`;
- a body that is no JSON object with an integer `update_id`, or no update PTB can read,
  is answered 400 (not 500), and nothing is queued;
- an `update_id` seen lately is answered 200 and not queued again: Telegram redelivers an
  update whose answer timed out, and it must not be handled twice.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus
from urllib.parse import urlsplit

import tornado.web
from cachetools import LRUCache
from telegram import Update
from telegram.ext import ExtBot
from tornado.httpserver import HTTPServer

from bot.config import Settings
from bot.instance import WEBHOOK_CHECK_SECONDS, ConflictWatch, WebhookCheck, check_webhook
from handlers.context import BotApplication

log = logging.getLogger(__name__)

#: Telegram sends one update per request. An update is small: a message's text is at
#: most 4,096 characters (16 KB of UTF-8) with its entities, a caption 1,024, callback
#: data 64 bytes, an inline query 256 characters; with the replied-to message, quotes
#: and the sender and chat objects, a few tens of KB at the very most. 1 MiB is a wide
#: margin over any update and a small cost to anyone who sends one.
MAX_UPDATE_BYTES = 1024 * 1024
#: a body that takes longer is a stalled or hostile client (Telegram sends within ms)
BODY_SECONDS = 10.0
#: headers (and idle keep-alive connections) are given this long
HEADER_SECONDS = 30.0
#: recent update ids remembered to drop redeliveries (Telegram retries an update it got no
#: answer for; 10,000 ids are hours of a busy bot's traffic, and ~1 MB)
SEEN_UPDATES = 10_000
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def start_webhook(
    application: BotApplication,
    settings: Settings,
    allowed_updates: Sequence[str],
    conflicts: ConflictWatch | None = None,
) -> Callable[[], Awaitable[None]]:
    """Listen, then setWebhook (Telegram's first POST finds us up); returns the stop.

    With `conflicts`, a JobQueue job checks every minute that the webhook is still ours.
    """
    secret = settings.webhook_secret_token.get_secret_value()
    receiver = WebhookReceiver(
        application, secret_token=secret, path=urlsplit(settings.webhook_url).path
    )
    await receiver.start(settings.webhook_listen, settings.webhook_port)
    try:
        await application.bot.set_webhook(
            url=settings.webhook_url,
            secret_token=secret,
            allowed_updates=allowed_updates,
            drop_pending_updates=False,
        )
    except BaseException:
        await receiver.stop()
        raise
    if conflicts is not None and application.job_queue is not None:
        application.job_queue.run_repeating(
            check_webhook,
            interval=WEBHOOK_CHECK_SECONDS,
            data=WebhookCheck(settings.webhook_url, conflicts),
            name="webhook-check",
        )
    return receiver.stop


class WebhookReceiver:
    """Serves the webhook path; every good update goes to `application.update_queue`."""

    def __init__(
        self,
        application: BotApplication,
        *,
        secret_token: str,
        path: str,
        body_seconds: float = BODY_SECONDS,
    ) -> None:
        self.application = application
        self.body_seconds = body_seconds
        self.secret = secret_token.encode()
        self.path = "/" + path.strip("/")
        self.seen: LRUCache[int, bool] = LRUCache(maxsize=SEEN_UPDATES)
        self._server: HTTPServer | None = None

    async def start(self, listen: str, port: int) -> None:
        app = tornado.web.Application(
            [(rf"{self.path}/?", UpdateHandler, {"receiver": self})], log_function=_no_access_log
        )
        self._server = HTTPServer(
            app,
            max_body_size=MAX_UPDATE_BYTES,
            body_timeout=self.body_seconds,
            idle_connection_timeout=HEADER_SECONDS,
            max_header_size=64 * 1024,
            max_buffer_size=2 * MAX_UPDATE_BYTES,
        )
        self._server.listen(port, address=listen)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()
            self._server = None

    def authentic(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.secret)

    async def receive(self, body: bytes) -> HTTPStatus:
        """Queue the update in `body`; the status to answer Telegram with."""
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return HTTPStatus.BAD_REQUEST
        if not isinstance(data, dict):
            return HTTPStatus.BAD_REQUEST
        update_id = data.get("update_id")
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return HTTPStatus.BAD_REQUEST
        if update_id in self.seen:
            log.info("update %d delivered again: already handled, not queued", update_id)
            return HTTPStatus.OK
        bot = self.application.bot
        try:
            update = Update.de_json(data, bot)
        except Exception:  # PTB raises anything on an odd update: a 400, never a 500
            log.warning("update %d could not be read; answered 400", update_id)
            return HTTPStatus.BAD_REQUEST
        self.seen[update_id] = True
        if isinstance(bot, ExtBot):
            bot.insert_callback_data(update)
        await self.application.update_queue.put(update)
        return HTTPStatus.OK


@tornado.web.stream_request_body
class UpdateHandler(tornado.web.RequestHandler):
    """POST only; decided on the headers first, the body read only when they pass."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, receiver: WebhookReceiver) -> None:
        self.receiver = receiver
        self.chunks: list[bytes] = []
        self.size = 0

    def prepare(self) -> None:
        # headers only so far: refusing here closes the connection unread (tornado diverts
        # and drops the body of a request answered before its body was read)
        if not self.receiver.authentic(self.request.headers.get(SECRET_HEADER)):
            self._refuse(HTTPStatus.FORBIDDEN)
            return
        if self.request.headers.get("Content-Type", "").split(";")[0].strip() != (
            "application/json"
        ):
            self._refuse(HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
            return
        length = self.request.headers.get("Content-Length")
        if length is not None and (not length.isdigit() or int(length) > MAX_UPDATE_BYTES):
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)

    def data_received(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size <= MAX_UPDATE_BYTES:  # the server cuts at the cap; this is a second line
            self.chunks.append(chunk)

    async def post(self) -> None:
        if self.size > MAX_UPDATE_BYTES:
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        status = await self.receiver.receive(b"".join(self.chunks))
        self.set_status(status)
        self.finish()

    def _refuse(self, status: HTTPStatus) -> None:
        log.debug("webhook request refused: %d %s", status.value, status.phrase)
        self.set_status(status)
        self.finish()

    def on_connection_close(self) -> None:
        self.chunks.clear()


def _no_access_log(handler: tornado.web.RequestHandler) -> None:
    """No access log: it would name every caller, and a flood of refusals would flood it."""
