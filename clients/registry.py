"""Which platforms exist: adding a platform means adding its module and one line here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import httpx

from clients.aihuishou import AihuishouClient
from clients.anjuke import AnjukeClient
from clients.anjuke_open import AnjukeOpenClient
from clients.base import ListingClient, PlatformClient, PlatformConfig
from clients.beike import BeikeClient
from clients.xianyu import XianyuClient
from clock import Clock

#: every platform client, listing platforms in recognition order
PLATFORMS: tuple[type[PlatformClient], ...] = (
    AnjukeClient,
    BeikeClient,
    XianyuClient,
    AihuishouClient,
    AnjukeOpenClient,
)


def listing_clients(
    platforms: Sequence[type[PlatformClient]] = PLATFORMS,
) -> tuple[type[ListingClient], ...]:
    """The platforms whose listings are recognised in messages, in recognition order."""
    return tuple(cls for cls in platforms if issubclass(cls, ListingClient))


LISTING_CLIENTS: tuple[type[ListingClient], ...] = listing_clients()


def listing_client(platform: str) -> type[ListingClient] | None:
    """The listing platform of that name in the registry as it is at this call (so a
    platform registered after import is found), or None."""
    return next((cls for cls in listing_clients(PLATFORMS) if cls.platform == platform), None)


def build_clients(
    configs: Mapping[str, PlatformConfig],
    http: httpx.AsyncClient,
    clock: Clock,
    platforms: Sequence[type[PlatformClient]] = PLATFORMS,
) -> dict[str, PlatformClient]:
    """One client per platform; a platform without settings is built switched off."""
    return {
        cls.platform: cls(http, configs.get(cls.platform, PlatformConfig("")), clock)
        for cls in platforms
    }
