"""Which platforms exist: adding a platform means adding its module and one line here."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from bot.config import Settings
from clients.aihuishou import AihuishouClient
from clients.anjuke import AnjukeClient
from clients.anjuke_open import AnjukeOpenClient
from clients.base import ListingClient, PlatformClient, PlatformConfig
from clients.beike import BeikeClient
from clients.clock import Clock
from clients.xianyu import XianyuClient

#: platform client class -> the settings view that configures it
PLATFORMS: tuple[tuple[type[PlatformClient], Callable[[Settings], PlatformConfig]], ...] = (
    (AnjukeClient, Settings.anjuke),
    (BeikeClient, Settings.beike),
    (XianyuClient, Settings.xianyu),
    (AihuishouClient, Settings.aihuishou),
    (AnjukeOpenClient, Settings.anjuke_open),
)

#: the platforms whose listings are recognised in messages, in recognition order
LISTING_CLIENTS: tuple[type[ListingClient], ...] = tuple(
    cls for cls, _ in PLATFORMS if issubclass(cls, ListingClient)
)


def build_clients(
    settings: Settings, http: httpx.AsyncClient, clock: Clock
) -> dict[str, PlatformClient]:
    return {cls.platform: cls(http, config_of(settings), clock) for cls, config_of in PLATFORMS}
