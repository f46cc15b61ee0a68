"""The shared services handlers and jobs use, built once and kept in `bot_data`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.config import Settings
from clients.base import ListingClient
from clients.clock import Clock, SystemClock
from clients.gateway import Gateway
from clients.registry import LISTING_CLIENTS, build_clients
from storage.budgets import BudgetStore
from storage.database import Database
from storage.quota import QuotaStore
from storage.users import UserStore

#: platform timeouts: Beike asks for up to 60 s per request, the others answer fast
HTTP_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


@dataclass
class Services:
    settings: Settings
    clock: Clock
    database: Database
    users: UserStore
    gateway: Gateway
    http: httpx.AsyncClient
    listing_clients: tuple[type[ListingClient], ...] = LISTING_CLIENTS
    #: photo URL -> Telegram file_id, so a photo is uploaded at most once
    photo_ids: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    async def close(self) -> None:
        await self.http.aclose()
        self.database.close()


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    clock = clock or SystemClock()
    database = Database(settings.database_path, clock)
    http = httpx.AsyncClient(
        timeout=HTTP_TIMEOUT,
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        headers={"User-Agent": "listing-assistant-bot/0.1"},
    )
    clients = build_clients(settings, http, clock)
    gateway = Gateway(
        clients,
        QuotaStore(database),
        clock,
        budget_ledger=BudgetStore(database),
        budget_policy=settings.budget_policy(),
    )
    return Services(
        settings=settings,
        clock=clock,
        database=database,
        users=UserStore(database),
        gateway=gateway,
        http=http,
    )
