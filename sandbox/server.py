"""The sandbox platforms on one local HTTP server (127.0.0.1, a free port).

    sandbox = Sandbox(clock=clock)
    await sandbox.start()
    settings = load_settings(require_token=False, **sandbox.settings_overrides())
    ...
    await sandbox.stop()

Paths mirror the real endpoints, so only the base URL differs:
`/anjuke/item_get`, `/api/beike/ershoufang/detail/v1`, `/router/rest`,
`/api/v2/item_get_inquir`, `/site/v1/user/...`, short links under `/short/`,
pictures under `/img/`.
"""

from __future__ import annotations

import importlib
from decimal import Decimal
from typing import Any

from aiohttp import web

from clients.models import ListingRef
from clock import Clock
from sandbox.core import SANDBOX_CREDENTIALS, SandboxState

PLATFORM_MODULES = (
    "sandbox.anjuke",
    "sandbox.anjuke_open",
    "sandbox.beike",
    "sandbox.xianyu",
    "sandbox.aihuishou",
    "sandbox.images",
)


class Sandbox:
    def __init__(
        self,
        clock: Clock | None = None,
        tiers: dict[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.state = SandboxState(clock, tiers)
        self.host = host
        self.port = port
        self.app = web.Application()
        self.modules: dict[str, Any] = {}
        for name in PLATFORM_MODULES:
            module = importlib.import_module(name)
            module.register(self.app, self.state)
            self.modules[name.rsplit(".", 1)[1]] = module
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        addresses = self._runner.addresses  # aiohttp's public record of the bound sockets
        if addresses:
            self.port = addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def set_listing_price(self, ref: ListingRef, price: Decimal) -> bool:
        """What `/demo_drop` does: one listing's new price (False: no such listing)."""
        catalogue = self.state.catalogues.get(ref.platform)
        if catalogue is None or ref.listing_id not in catalogue.ids():
            return False
        catalogue.set_price(ref.listing_id, price)
        return True

    def settings_overrides(self) -> dict[str, Any]:
        """Settings (lower-case field names) that point every platform at this sandbox."""
        c = SANDBOX_CREDENTIALS
        base = self.base_url
        return {
            "anjuke_api_url": f"{base}/anjuke/item_get",
            "anjuke_key": c["anjuke"]["key"],
            "anjuke_secret": c["anjuke"]["secret"],
            "anjuke_tier": self.state.tiers["anjuke"],
            "anjuke_open_api_url": f"{base}/site/",
            "anjuke_open_app_id": c["anjuke_open"]["app_id"],
            "anjuke_open_secret": c["anjuke_open"]["secret"],
            "beike_api_url": base,
            "beike_token": c["beike"]["token"],
            "xianyu_api_url": f"{base}/router/rest",
            "xianyu_app_key": c["xianyu"]["app_key"],
            "xianyu_app_secret": c["xianyu"]["secret"],
            "xianyu_tier": self.state.tiers["xianyu"],
            "aihuishou_api_url": f"{base}/api/v2/item_get_inquir",
            "aihuishou_app_id": c["aihuishou"]["app_id"],
            "aihuishou_app_secret": c["aihuishou"]["secret"],
            "aihuishou_tier": self.state.tiers["aihuishou"],
            "short_link_base": f"{base}/short",
            "trusted_photo_origins": (base,),
            "demo": True,
        }
