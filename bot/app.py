"""Assembly: the python-telegram-bot `Application`, built in one place.

services = build_services(settings)
application = build_application(settings, services)
async with application: ...
"""

from __future__ import annotations

import gc
from typing import cast

from bot import ptb  # noqa: F401  # first: python-telegram-bot without its webhook server (tornado)

# isort: split
from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, Defaults, TypeHandler

import handlers
from bot import health
from bot.config import Settings
from bot.flood import FloodGuard, PerChatUpdateProcessor
from bot.health import HEARTBEAT_SECONDS, HealthFacts, WatchedRequest, heartbeat_path
from bot.persistence import SQLitePersistence
from bot.rate_limiter import FloodSafeRateLimiter
from handlers import quotes
from handlers.alerts import start_alerts
from handlers.common import set_commands
from handlers.context import (
    CONTEXT_TYPES,
    BotApplication,
    BotContext,
    BotJobQueue,
    Services,
    application_of,
)

#: Connections to the Bot API for everything but getUpdates (which has its own). Telegram
#: takes about 30 messages a second, so at a 50-250 ms round trip 2-8 requests are in
#: flight; 8 connections carry 30/s up to a 260 ms round trip, and a request that finds
#: them all busy waits its turn (up to BOT_API_POOL_TIMEOUT) instead of failing. More
#: is not free: httpcore walks its whole pool, pairwise, on every request, which cost
#: 10 % of card throughput with python-telegram-bot's default of 256 (bench/chat.py).
BOT_API_CONNECTIONS = 8
BOT_API_POOL_TIMEOUT = 10.0
#: updates handled at once, across all chats (each chat gets at most bot/flood.py's share)
UPDATE_WORKERS = 32


def build_application(
    settings: Settings,
    services: Services,
    *,
    rate_limiter: bool | FloodSafeRateLimiter = True,
) -> BotApplication:
    """The application; `rate_limiter` False sends unpaced, an instance replaces the default."""
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    api = settings.telegram_api_url.rstrip("/")
    flood_guard = FloodGuard(settings.admin_ids, settings.flood_burst, settings.flood_per_minute)
    facts = HealthFacts.start(services.clock, settings)
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .context_types(CONTEXT_TYPES)
        # cards carry their own photo; a preview of the listing page would repeat it
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .concurrent_updates(PerChatUpdateProcessor(UPDATE_WORKERS, flood_guard))
        # python-telegram-bot's HTTPXRequest, telling the health check of every answer
        .request(
            WatchedRequest(
                facts,
                services.clock,
                connect_timeout=10,
                connection_pool_size=BOT_API_CONNECTIONS,
                pool_timeout=BOT_API_POOL_TIMEOUT,
                read_timeout=20,
            )
        )
        .get_updates_request(
            WatchedRequest(
                facts, services.clock, updates=True, connection_pool_size=1, read_timeout=40
            )
        )
        .persistence(
            SQLitePersistence(
                services.conversations,
                [quotes.STATE_PREFIX],
                chat_data_shapes={
                    f"{quotes.STATE_PREFIX}:": quotes.QuoteDraft,
                    quotes.CARDS_KEY: dict[str, quotes.CardState],
                },
                conversation_states={"quote": quotes.QUESTIONS},
            )
        )
        .job_queue(BotJobQueue())  # the default one, typed with the application's context
        .post_init(lambda application: _post_init(application, facts))
        .post_shutdown(_post_shutdown)
    )
    application: BotApplication
    if rate_limiter:
        # Telegram's limits (CONTRACT 4.2): ~30 msg/s overall, 1/s per chat, 20/min per group;
        # retry_after answers are obeyed by the limiter (see its module and docs/pacing.md).
        limiter = rate_limiter if isinstance(rate_limiter, FloodSafeRateLimiter) else None
        application = builder.rate_limiter(limiter or FloodSafeRateLimiter()).build()
    else:
        # unpaced: ExtBot without a limiter drops `rate_limit_args`, so callers may pass a
        # Lane as to the paced bot; the builder only types the bot by its limiter
        application = cast("BotApplication", builder.build())
    application.bot_data.services = services
    # before every other handler (a group of its own: one handler runs per group): a user
    # sending faster than a sane rate is dropped
    application.add_handler(TypeHandler(Update, flood_guard.stop_dropped), group=-3)
    if settings.webhook:  # a webhook update is a receipt (long polling: getUpdates answers)
        application.add_handler(TypeHandler(Update, facts.update_received), group=-4)
    handlers.register(application)
    return application


async def _post_init(application: BotApplication, facts: HealthFacts) -> None:
    await set_commands(application)
    # the Docker HEALTHCHECK reads the heartbeat (bot/health.py): one now, then on a timer
    await beat(application, facts)
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            _heartbeat,
            interval=HEARTBEAT_SECONDS,
            first=HEARTBEAT_SECONDS,
            name="heartbeat",
            data=facts,
        )
    start_alerts(application)  # the poll job, and alerts a previous run left unsent
    # What is imported and built by now lives as long as the process: frozen, the garbage
    # collector stops walking it on every full collection. Its pauses fell from ~80 ms to
    # ~13 ms (bench/alerts.py), pauses that bunch messages past Telegram's 30 a second.
    gc.freeze()


async def _heartbeat(context: BotContext) -> None:
    assert context.job is not None and isinstance(context.job.data, HealthFacts)
    await beat(application_of(context), context.job.data)


async def beat(application: BotApplication, facts: HealthFacts) -> None:
    """Probe and write the health facts (bot/health.py) beside the database."""
    services = application.bot_data.services
    path = heartbeat_path(services.database.path)
    await health.refresh(facts, services, application.bot, path)


async def _post_shutdown(application: BotApplication) -> None:
    await application.bot_data.services.close()
