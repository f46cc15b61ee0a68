"""What handlers and jobs share, typed: `BotData` is the application's `bot_data`.

The application is built with `ContextTypes(bot_data=BotData)`, so a handler reads
`context.bot_data.services` (typed) instead of digging in a dict. `Services` holds
every store and service, built once by `bot.services.build_services`.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, cast

import httpx
from cachetools import LRUCache
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from clients.base import ListingClient
from clients.models import ListingRef
from clock import Clock
from gateway import Gateway
from handlers.sending import Lane
from storage.accounts import AccountStore
from storage.alerts import AlertStore
from storage.conversations import ConversationStore
from storage.database import Database
from storage.users import UserStore
from storage.watches import WatchStore
from watching.poller import AlertRuntime

if TYPE_CHECKING:
    from handlers.message_forms import MentionMemory

#: quote cards whose buttons still work (token -> request), oldest forgotten first
QUOTE_CARD_MEMORY = 5000
#: bytes of photo URL -> file_id pairs remembered: about 10,000 photos of real listings
#: (a URL of ~150 characters and a file_id of ~80), or 1,000 of the longest URLs a listing
#: keeps (`clients.bounds.URL_CHARS`); least recently used forgotten first
PHOTO_IDS_BYTES = 4 * 1024 * 1024
#: a remembered pair's bookkeeping (the LRU cache's dicts, the pair's tuple), rounded up
PHOTO_ID_OVERHEAD = 300


class PhotoIds:
    """Photo URL -> Telegram file_id, so a photo is uploaded at most once; bounded in bytes
    (URL and file_id both counted), the least recently used forgotten first."""

    def __init__(self, max_bytes: int = PHOTO_IDS_BYTES) -> None:
        # the size travels with the file_id: cachetools weighs a value, not its key
        self._ids: LRUCache[str, tuple[str, int]] = LRUCache(
            maxsize=max_bytes, getsizeof=lambda kept: kept[1]
        )

    def get(self, url: str) -> str | None:
        kept = self._ids.get(url)
        return kept[0] if kept is not None else None

    def remember(self, url: str, file_id: str) -> None:
        size = sys.getsizeof(url) + sys.getsizeof(file_id) + PHOTO_ID_OVERHEAD
        if size <= self._ids.maxsize:
            self._ids[url] = (file_id, size)

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def bytes(self) -> int:
        """What the remembered pairs weigh (estimated)."""
        return int(self._ids.currsize)


class HandlerSettings(Protocol):
    """The settings handlers read (`bot.config.Settings` has them all)."""

    admin_ids: frozenset[int]
    max_watches_per_user: int
    alert_interval_seconds: int
    watch_min_checks_per_day: int
    mortgage_rate_percent: float
    demo: bool
    trusted_photo_origins: tuple[str, ...]


class DemoMarket(Protocol):
    """What `--demo` may change in the sandbox platforms (`sandbox.server.Sandbox`)."""

    def set_listing_price(self, ref: ListingRef, price: Decimal) -> bool:
        """Set a listing's price; False when the sandbox has no such listing."""
        ...


@dataclass
class Services:
    settings: HandlerSettings
    clock: Clock
    database: Database
    users: UserStore
    watches: WatchStore
    alerts: AlertStore
    accounts: AccountStore
    conversations: ConversationStore
    gateway: Gateway
    http: httpx.AsyncClient
    #: the price-alert machinery (planning credit, last cycle, locks)
    watching: AlertRuntime
    listing_clients: tuple[type[ListingClient], ...]
    #: photo URL -> Telegram file_id, so a photo is uploaded at most once (bounded)
    photo_ids: PhotoIds = field(default_factory=PhotoIds)
    #: the sandbox, in `--demo` only (enables /demo_drop)
    demo_market: DemoMarket | None = None

    async def close(self) -> None:
        await self.http.aclose()
        # the last queued writes land first: off the event loop, they may wait for the lock
        await asyncio.to_thread(self.database.close)


class BotData:
    """The application's `bot_data`: `services` is set once, when the application is built."""

    services: Services

    def __init__(self) -> None:
        #: quote card id -> the quote and inputs its buttons act on
        self.quote_cards: LRUCache[str, object] = LRUCache(maxsize=QUOTE_CARD_MEMORY)
        #: the listings answered per message and album (handlers.message_forms.MentionMemory),
        #: made on first use with the services' clock
        self.mentions: MentionMemory | None = None


#: the bot: python-telegram-bot's ExtBot, whose `rate_limit_args` is a `Lane` (bot/rate_limiter.py)
BotBot = ExtBot[Lane]
#: what every handler and job receives (type a handler `context: BotContext`)
BotContext = CallbackContext[BotBot, dict[Any, Any], dict[Any, Any], BotData]
BotJobQueue = JobQueue[BotContext]
BotApplication = Application[
    BotBot, BotContext, dict[Any, Any], dict[Any, Any], BotData, BotJobQueue
]
CONTEXT_TYPES: ContextTypes[BotContext, dict[Any, Any], dict[Any, Any], BotData] = ContextTypes(
    bot_data=BotData
)


def application_of(context: BotContext) -> BotApplication:
    """`context.application`, typed: python-telegram-bot annotates that property with a
    context type it leaves unbound (`Application[BT, ST, ...]`, ST free), so it is cast
    here, once, to the application every context of this bot belongs to."""
    return cast("BotApplication", context.application)
