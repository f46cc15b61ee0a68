"""The shared services handlers and jobs use, built once and kept in `bot_data`."""

from __future__ import annotations

import httpx

from bot.config import Settings
from clients import registry
from clock import Clock, SystemClock
from gateway import Gateway
from handlers.context import Services
from storage.accounts import AccountStore
from storage.alerts import AlertStore
from storage.budgets import BudgetStore
from storage.conversations import ConversationStore
from storage.database import Database
from storage.quota import QuotaStore
from storage.users import UserStore
from storage.watches import WatchStore
from watching.poller import AlertRuntime

__all__ = ["Services", "build_services"]

#: platform timeouts: Beike asks for up to 60 s per request, the others answer fast
HTTP_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    clock = clock or SystemClock()
    database = Database(settings.database_path, clock)
    http = httpx.AsyncClient(
        timeout=HTTP_TIMEOUT,
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        headers={"User-Agent": "listing-assistant-bot/0.1"},
    )
    # read at call time: the registry's list is the one place a platform is added
    platforms = registry.PLATFORMS
    clients = registry.build_clients(settings.platform_configs(), http, clock, platforms)
    gateway = Gateway(
        clients,
        QuotaStore(database),
        clock,
        budget_ledger=BudgetStore(database),
        budget_policy=settings.budget_policy(),
    )
    watches = WatchStore(database)
    alerts = AlertStore(database)
    return Services(
        settings=settings,
        clock=clock,
        database=database,
        users=UserStore(database),
        watches=watches,
        alerts=alerts,
        accounts=AccountStore(database),
        conversations=ConversationStore(database),
        gateway=gateway,
        http=http,
        watching=AlertRuntime(
            watches, alerts, gateway, clock, float(settings.alert_interval_seconds)
        ),
        listing_clients=registry.listing_clients(platforms),
    )
