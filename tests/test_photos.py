"""Listing photos are no SSRF path: https only, public addresses only (every address, every
redirect hop), the connection pinned to the checked address, a hard size cap while
streaming, an image content type. Otherwise the card goes without its photo.

Everything runs on 127.0.0.1: an injected resolver maps test host names to 127.0.0.1,
and the sandbox's origin is trusted the way `--demo` trusts it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from clock import FakeClock
from handlers.photos import MAX_PHOTO_BYTES, PhotoFetcher, is_public_address
from sandbox.images import HUGE_PHOTO_BYTES, png_for
from sandbox.server import Sandbox
from tests.conftest import BotEnv, start_bot_env

PUBLIC = "93.184.216.34"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.8.8",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "0.1.2.3",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1%eth0",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:10.0.0.1",
        "not-an-address",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "2001:4860:4860::8888"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public_address(address)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(clock=FakeClock()) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


class Resolver:
    """A DNS that knows a few test names; remembers what it was asked."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.answers:
            raise OSError("no such host")
        return self.answers[host]


def fetcher(http: httpx.AsyncClient, sandbox: Sandbox, **kw: object) -> PhotoFetcher:
    """Trusts `photos.sandbox.test` on the sandbox's port (as --demo trusts its origin)."""
    port = httpx.URL(sandbox.base_url).port
    resolver = Resolver(
        {
            "photos.sandbox.test": ["127.0.0.1"],
            "evil.test": ["127.0.0.1"],
            "mixed.test": [PUBLIC, "10.0.0.1"],
            "mapped.test": ["::ffff:127.0.0.1"],
        }
    )
    return PhotoFetcher(
        http, resolver=resolver, trusted_origins=[f"http://photos.sandbox.test:{port}"], **kw
    )  # type: ignore[arg-type]


def port_of(sandbox: Sandbox) -> int:
    port = httpx.URL(sandbox.base_url).port
    assert port is not None
    return port


async def refused(fetch: PhotoFetcher, url: str, caplog: pytest.LogCaptureFixture) -> str:
    """Fetch `url`, which must give no photo; the reason logged."""
    with caplog.at_level(logging.INFO, logger="handlers.photos"):
        assert await fetch.download(url) is None
    [line] = [r.getMessage() for r in caplog.records if r.name == "handlers.photos"]
    caplog.clear()
    return line


async def test_trusted_origin_is_fetched_through_the_address_the_resolver_gave(
    http: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    # photos.sandbox.test exists in no DNS: the bytes came from the checked, pinned address
    fetch = fetcher(http, sandbox)
    url = f"http://photos.sandbox.test:{port_of(sandbox)}/img/a.png"
    assert await fetch.download(url) == png_for("a")


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("evil.test", "host resolves to a non-public address"),
        ("mixed.test", "host resolves to a non-public address"),  # one bad address of two
        ("mapped.test", "host resolves to a non-public address"),
        ("nowhere.test", "host does not resolve"),
    ],
)
async def test_https_hosts_resolving_to_non_public_addresses_are_refused(
    http: httpx.AsyncClient,
    sandbox: Sandbox,
    caplog: pytest.LogCaptureFixture,
    host: str,
    reason: str,
) -> None:
    fetch = fetcher(http, sandbox)
    url = f"https://{host}:{port_of(sandbox)}/img/a.png"
    assert await refused(fetch, url, caplog) == f"photo refused: {reason}"


@pytest.mark.parametrize(
    "url",
    [
        "http://{public}/img/a.png",  # plain http, even to a public address
        "http://127.0.0.1:{port}/img/a.png",  # the sandbox itself, but not a trusted origin
        "ftp://photos.sandbox.test:{port}/img/a.png",
    ],
)
async def test_only_https_is_fetched_from_untrusted_origins(
    http: httpx.AsyncClient, sandbox: Sandbox, caplog: pytest.LogCaptureFixture, url: str
) -> None:
    fetch = fetcher(http, sandbox)
    line = await refused(fetch, url.format(public=PUBLIC, port=port_of(sandbox)), caplog)
    assert line == "photo refused: not https"


async def test_every_redirect_hop_is_checked(
    http: httpx.AsyncClient, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    fetch = fetcher(http, sandbox)
    base = f"http://photos.sandbox.test:{port_of(sandbox)}"
    # a hop inside the trusted origin is followed
    assert await fetch.download(f"{base}/hostile/redirect") == png_for("redirected")
    # a hop to the loopback address by another name, or to plain http, is not
    to_evil = f"{base}/hostile/redirect?to=https://evil.test/img/a.png"
    assert await refused(fetch, to_evil, caplog) == (
        "photo refused: host resolves to a non-public address"
    )
    to_local = f"{base}/hostile/redirect?to=http://127.0.0.1:{port_of(sandbox)}/img/a.png"
    assert await refused(fetch, to_local, caplog) == "photo refused: not https"


@pytest.mark.parametrize(
    ("path", "reason", "redirects"),
    [
        ("/hostile/loop", "too many redirects", 4),  # the first request and three hops
        ("/hostile/page.png", "not an image content type", 0),
    ],
)
async def test_endless_redirects_and_pages_that_are_no_image_are_refused(
    http: httpx.AsyncClient,
    sandbox: Sandbox,
    caplog: pytest.LogCaptureFixture,
    path: str,
    reason: str,
    redirects: int,
) -> None:
    url = f"http://photos.sandbox.test:{port_of(sandbox)}{path}"
    assert await refused(fetcher(http, sandbox), url, caplog) == f"photo refused: {reason}"
    assert sandbox.state.hostile_redirects == redirects


async def test_a_photo_host_that_stalls_is_given_up_after_the_time_limit(
    http: httpx.AsyncClient, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    fetch = fetcher(http, sandbox, timeout=0.2)
    url = f"http://photos.sandbox.test:{port_of(sandbox)}/hostile/stall.png"
    assert await refused(fetch, url, caplog) == "photo download timed out"


@pytest.mark.parametrize("length", ["", "0"])
async def test_a_huge_photo_is_cut_off_at_the_cap_not_read_whole(
    http: httpx.AsyncClient, sandbox: Sandbox, caplog: pytest.LogCaptureFixture, length: str
) -> None:
    fetch = fetcher(http, sandbox)
    url = f"http://photos.sandbox.test:{port_of(sandbox)}/hostile/huge.png?length={length}"
    assert await refused(fetch, url, caplog) == "photo refused: photo larger than the limit"
    # the sender stopped long before its 100 MB: only socket buffers past the cap went out
    assert sandbox.state.hostile_photo_bytes < MAX_PHOTO_BYTES + 16 * 1024 * 1024
    assert sandbox.state.hostile_photo_bytes < HUGE_PHOTO_BYTES // 4


async def test_without_the_demo_trust_a_sandbox_photo_is_left_out_of_the_card(
    tmp_path: Path,
) -> None:
    """Production trusts no origin: the sandbox photo (on 127.0.0.1) is refused and the card
    still arrives, as text with its buttons."""
    env: BotEnv
    async for env in start_bot_env(tmp_path, demo=False):
        user = env.user(3001)
        [card] = await env.say(user, "https://bj.ke.com/ershoufang/101127449675.html")
        assert card.photo is None
        assert "双裕花园西区" in card.visible
        assert card.buttons
        assert not env.emulator.calls_to("sendPhoto")


async def test_https_goes_to_the_checked_address_and_still_checks_the_hosts_certificate(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The connection is made to the resolved address, yet TLS (SNI and certificate check)
    and the Host header name the URL's host: pinning loses no TLS safety."""
    import ssl

    import trustme
    from aiohttp import web

    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("photos.example").configure_cert(server_tls)
    client_tls = ssl.create_default_context()
    ca.configure_trust(client_tls)
    hosts: list[str] = []

    async def photo(request: web.Request) -> web.Response:
        hosts.append(request.host)
        return web.Response(body=png_for("tls"), content_type="image/png")

    app = web.Application()
    app.router.add_get("/p.png", photo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_tls)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with httpx.AsyncClient(verify=client_tls) as tls_http:
            fetch = PhotoFetcher(
                tls_http,
                resolver=Resolver(
                    {"photos.example": ["127.0.0.1"], "other.example": ["127.0.0.1"]}
                ),
                trusted_origins=[f"https://photos.example:{port}", f"https://other.example:{port}"],
            )
            assert await fetch.download(f"https://photos.example:{port}/p.png") == png_for("tls")
            assert hosts == [f"photos.example:{port}"]
            # same address, another name: the certificate does not fit, so no photo
            assert await fetch.download(f"https://other.example:{port}/p.png") is None
            assert hosts == [f"photos.example:{port}"]
    finally:
        await runner.cleanup()


NOT_WEB_PHOTOS = (
    "file:///etc/passwd",
    "FILE:///var/lib/telegram-bot-api/x.jpg",
    "ftp://example.com/a.png",
    "data:image/png;base64,iVBORw0KGgo=",
    "javascript:alert(1)",
    "gopher://example.com/",
)


@pytest.mark.parametrize("url", NOT_WEB_PHOTOS)
async def test_a_photo_url_that_is_not_http_is_skipped_and_the_card_still_arrives(
    tmp_path: Path, url: str
) -> None:
    """A local Bot API server would read a `file://` photo from its own disk: a platform's
    non-web URL never reaches Telegram, and the card goes without it."""
    env: BotEnv
    async for env in start_bot_env(tmp_path):
        item_id = "712345678901"
        items = env.catalogue("xianyu").items
        items[item_id] = replace(items[item_id], photo_urls=(url, url))
        user = env.user(3002)
        [card] = await env.say(user, f"https://www.goofish.com/item?id={item_id}")
        assert card.photo is None and "iPhone 14 Pro" in card.visible and card.buttons
        assert not env.emulator.calls_to("sendPhoto")
        assert not env.emulator.calls_to("sendMediaGroup")
