"""Adding a platform = its module, one registry line and its texts (docs/architecture.md).

A tiny platform, defined here, is registered like the real ones and served by a tiny
sandbox on 127.0.0.1; its link in a chat gets a card through the real bot, and the card's
Refresh and Watch buttons work.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from aiohttp import web

from bot.config import Settings
from clients import registry
from clients.base import Found, Limits, ListingClient, PlatformConfig, SecretStr
from clients.errors import NotFound
from clients.models import Listing, ListingKind, ListingRef, ListingStatus, PriceUnit
from clock import FakeClock
from handlers.texts import en, zh
from tests.conftest import BotEnv, start_bot_env

TINY_LINK = re.compile(r"https://tiny\.example/item/(\d{4,})")


class TinyClient(ListingClient):
    """The whole platform module: recognition, one call, parsing, limits, cache lifetime."""

    platform = "tiny"
    TIERS: ClassVar[dict[str, Limits]] = {"free": Limits(per_day=100, per_second=5)}
    #: the ID shape its links carry, so button data naming a tiny listing reads back
    LISTING_ID_PATTERNS: ClassVar[tuple[re.Pattern[str], ...]] = (re.compile(r"\d{4,}"),)

    @classmethod
    def find(cls, text: str) -> list[Found]:
        return [
            Found(m.start(), m.group(), ref=ListingRef(cls.platform, m.group(1)))
            for m in TINY_LINK.finditer(text)
        ]

    async def fetch_listing(self, ref: ListingRef, *, fresh: bool = False) -> Listing:
        request = self.http.build_request(
            "GET",
            f"{self.config.api_url}/item/{ref.listing_id}",
            headers={"X-Key": self.config.secret.get_secret_value()},
        )
        response = await self.send(request)
        if response.status_code == 404:
            raise NotFound(self.platform, "no such item")
        item = self.decode_json(response)
        return Listing(
            platform=self.platform,
            listing_id=ref.listing_id,
            url=f"https://tiny.example/item/{ref.listing_id}",
            title=item["title"],
            kind=ListingKind.ITEM,
            price=Decimal(item["price"]),
            price_unit=PriceUnit.YUAN,
            status=ListingStatus.ON_SALE,
        )

    def listing_ttl(self, listing: Listing) -> float:
        return 300.0


#: the tiny sandbox's catalogue: item ID -> price (a test may change a price)
TINY_PRICES: dict[str, str] = {}


@pytest.fixture
async def tiny_sandbox() -> AsyncIterator[str]:
    TINY_PRICES.clear()
    TINY_PRICES["4242"] = "88"

    async def item(request: web.Request) -> web.Response:
        if request.headers.get("X-Key") != "tiny-secret":
            return web.json_response({"error": "bad key"}, status=401)
        price = TINY_PRICES.get(request.match_info["id"])
        if price is None:
            return web.json_response({"error": "no such item"}, status=404)
        return web.json_response({"title": "Tiny <teapot> & cup", "price": price})

    app = web.Application()
    app.router.add_get("/item/{id}", item)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def env_with_tiny(
    tmp_path: Path, tiny_sandbox: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[BotEnv]:
    # the one registry line
    monkeypatch.setattr(registry, "PLATFORMS", (*registry.PLATFORMS, TinyClient))
    # its texts
    monkeypatch.setitem(en.TEXTS, "platform_tiny", "Tiny")
    monkeypatch.setitem(zh.TEXTS, "platform_tiny", "小小")
    # its settings (a real platform adds fields and a line to Settings.platform_configs)
    configs = Settings.platform_configs
    tiny = PlatformConfig(tiny_sandbox, "tiny-key", SecretStr("tiny-secret"), "free")
    monkeypatch.setattr(Settings, "platform_configs", lambda s: {**configs(s), "tiny": tiny})
    async for env in start_bot_env(tmp_path):
        yield env


async def test_a_registered_tiny_platform_gets_a_card_through_the_bot(
    env_with_tiny: BotEnv,
) -> None:
    user = env_with_tiny.user(1, "zh-hans")
    (card,) = await env_with_tiny.say(user, "看看这个 https://tiny.example/item/4242")
    assert "Tiny <teapot> & cup" in card.visible  # escaped in HTML, shown as written
    assert "¥88" in card.visible
    assert "小小" in card.visible
    assert env_with_tiny.services.gateway.stats()["tiny"]["calls"] == 1


async def test_the_tiny_platforms_refresh_and_watch_buttons_work(env_with_tiny: BotEnv) -> None:
    """Buttons are read against the registry at press time, so a platform registered after
    start-up has working Refresh and Watch buttons (not "This button has expired")."""
    env, user = env_with_tiny, env_with_tiny.user(7)
    (card,) = await env.say(user, "https://tiny.example/item/4242")
    data = [button.get("callback_data", "") for button in card.buttons]
    assert {"r|tiny:4242", "w|tiny:4242"} <= set(data)

    TINY_PRICES["4242"] = "66"
    env.clock.advance(400)  # past the card's cache lifetime: Refresh asks the platform
    query = await env.press(user, card, "r|tiny:4242")
    answer = await env.emulator.wait_for_callback_answer(query)
    assert answer.text != en.TEXTS["expired_button"]
    assert card.edits, "Refresh did not edit the card"
    assert "¥66" in card.visible and "¥88" not in card.visible
    assert env.services.gateway.stats()["tiny"]["calls"] == 2

    query = await env.press(user, card, "w|tiny:4242")
    answer = await env.emulator.wait_for_callback_answer(query)
    assert answer.text != en.TEXTS["expired_button"]
    [watch] = await env.services.watches.for_user(user.id)
    assert watch.watch.ref_key == "tiny:4242"


async def test_the_tiny_platform_says_not_found_like_the_others(env_with_tiny: BotEnv) -> None:
    user = env_with_tiny.user(1)
    (reply,) = await env_with_tiny.say(user, "https://tiny.example/item/9999")
    assert reply.photo is None
    assert reply.visible == en.TEXTS["error_not_found"].format(platform="Tiny")


async def test_a_registered_platform_without_settings_is_switched_off() -> None:
    platforms = (*registry.PLATFORMS, TinyClient)
    assert registry.listing_clients(platforms)[-1] is TinyClient
    async with httpx.AsyncClient() as http:
        clients = registry.build_clients({}, http, FakeClock(), platforms)
    assert not clients["tiny"].enabled
