"""Sending listing photos so that they arrive whatever the photo's host, and safely.

Telegram fetches a photo URL itself, which fails for hosts it cannot reach (the
sandbox on 127.0.0.1) or that refuse hot-linking. Those photos are downloaded by
the bot and uploaded; every photo's Telegram `file_id` is remembered, so the same
photo is never uploaded twice.

A photo URL comes from a platform answer, so downloading it is a request the bot
makes on a stranger's behalf (SSRF). `PhotoFetcher` fetches only https URLs whose host
resolves to public addresses only (every address of every redirect hop is checked),
connects to the very address it checked (so a second DNS answer cannot slip in),
streams with a hard size cap, wants an image content type and gives up after a
time limit. Anything else: no photo, and the card goes as text. The sandbox's photo
origin is trusted only in `--demo` and the tests (`Settings.trusted_photo_origins`).

Only http and https URLs are ever handed to Telegram: a local Bot API server reads
`file://` URIs from its own disk (Bot API, "Using a Local Bot API Server"), and
`ftp://`, `data:` and the like are no photo a platform may send; they are skipped
(`PhotoSender.source` answers None) and the card goes without them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from telegram import InputFile, Message
from telegram.error import BadRequest

from handlers.context import PhotoIds, Services

log = logging.getLogger(__name__)

MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 3
PHOTO_TIMEOUT = 10.0  # seconds for the whole download, redirects included
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
_REDIRECTS = {301, 302, 303, 307, 308}
#: the only URL schemes a photo may have (anything else is skipped, never sent to Telegram)
WEB_SCHEMES = frozenset({"http", "https"})

#: host, port -> every address the host resolves to
Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """getaddrinfo, off the event loop (the loop runs it in its thread pool)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_public_address(address: str) -> bool:
    """True only for a globally routable unicast address (IPv4-mapped IPv6 unwrapped)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
    )


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def must_upload(url: str) -> bool:
    return (urlsplit(url).hostname or "") in _LOCAL_HOSTS


class PhotoRefused(Exception):
    """A photo the bot will not fetch; the message says why (no URL in it)."""


class PhotoFetcher:
    """Downloads photos under the rules of the module docstring."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        resolver: Resolver = system_resolver,
        trusted_origins: Collection[str] = (),
        max_bytes: int = MAX_PHOTO_BYTES,
        timeout: float = PHOTO_TIMEOUT,
    ) -> None:
        self.http = http
        self.resolver = resolver
        self.trusted_origins = {o.rstrip("/").lower() for o in trusted_origins}
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def download(self, url: str) -> bytes | None:
        """The photo's bytes, or None when it is refused or fails (logged, URL left out)."""
        try:
            async with asyncio.timeout(self.timeout):
                return await self._follow(url)
        except PhotoRefused as exc:
            log.info("photo refused: %s", exc)
        except TimeoutError:
            log.info("photo download timed out")
        except httpx.HTTPError as exc:
            log.info("photo download failed (%s)", type(exc).__name__)
        return None

    async def _follow(self, url: str) -> bytes:
        for _hop in range(MAX_REDIRECTS + 1):
            result = await self._get(url)
            if isinstance(result, bytes):
                return result
            url = result
        raise PhotoRefused("too many redirects")

    async def _get(self, url: str) -> bytes | str:
        """One hop: the body, or the next URL of a redirect."""
        request = await self._pinned_request(url)
        response = await self.http.send(request, stream=True, follow_redirects=False)
        try:
            if response.status_code in _REDIRECTS and "location" in response.headers:
                return urljoin(url, response.headers["location"])
            if response.status_code != 200:
                raise PhotoRefused(f"HTTP {response.status_code}")
            content_type = response.headers.get("content-type", "").lower()
            if not content_type.startswith("image/"):
                raise PhotoRefused("not an image content type")
            return await self._read_capped(response)
        finally:
            await response.aclose()

    async def _read_capped(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > self.max_bytes:
            raise PhotoRefused("photo larger than the limit")
        body = bytearray()
        async for chunk in response.aiter_raw():
            body += chunk
            if len(body) > self.max_bytes:
                raise PhotoRefused("photo larger than the limit")
        return bytes(body)

    async def _pinned_request(self, url: str) -> httpx.Request:
        """A request to the address just checked, with the URL's host in Host and TLS SNI."""
        parts = urlsplit(url)
        host, trusted = parts.hostname, origin_of(url) in self.trusted_origins
        if not host or parts.username or parts.password:
            raise PhotoRefused("no usable host")
        if parts.scheme != "https" and not trusted:
            raise PhotoRefused("not https")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise PhotoRefused("bad port") from None
        try:
            addresses = await self.resolver(host, port)
        except OSError:
            raise PhotoRefused("host does not resolve") from None
        if not addresses:
            raise PhotoRefused("host does not resolve")
        if not trusted and not all(is_public_address(a) for a in addresses):
            raise PhotoRefused("host resolves to a non-public address")
        pinned = httpx.URL(url).copy_with(host=addresses[0])
        return self.http.build_request(
            "GET",
            pinned,
            # the pool knows the connection by address only: closing it after the answer
            # keeps a TLS session verified for one host from serving another
            headers={"Host": parts.netloc.rsplit("@", 1)[-1], "Connection": "close"},
            extensions={"sni_hostname": host},
        )


def photo_sender(services: Services) -> PhotoSender:
    """The sender for one answer; the sandbox's photo origin is trusted only in --demo/tests."""
    settings = services.settings
    trusted = settings.trusted_photo_origins if settings.demo else ()
    fetcher = PhotoFetcher(services.http, trusted_origins=trusted)
    return PhotoSender(fetcher, services.photo_ids)


class PhotoSender:
    def __init__(self, fetcher: PhotoFetcher, file_ids: PhotoIds) -> None:
        self.fetcher = fetcher
        self.file_ids = file_ids
        #: the file_id `source` last answered from memory (nothing new to remember then)
        self.known: str | None = None

    async def source(self, url: str) -> str | InputFile | None:
        """What to pass as `photo`: a known file_id, the URL, or downloaded bytes."""
        file_id = self.file_ids.get(url)
        if file_id is not None:
            self.known = file_id
            return file_id
        if urlsplit(url).scheme.lower() not in WEB_SCHEMES:
            log.info("photo skipped: not an http(s) URL")
            return None
        if must_upload(url):
            return await self.upload(url)
        return url

    async def upload(self, url: str) -> InputFile | None:
        data = await self.fetcher.download(url)
        return InputFile(data, filename="photo.jpg") if data else None

    def remember(self, url: str, message: Message | None) -> None:
        if message is not None and message.photo:
            self.file_ids.remember(url, message.photo[-1].file_id)

    def remember_answer(self, url: str, answer: Mapping[str, Any]) -> None:
        """`remember` for a sent message as the Bot API answered it (a Message object, raw)."""
        sizes = answer.get("photo")
        if isinstance(sizes, list) and sizes and isinstance(sizes[-1], dict):
            file_id = sizes[-1].get("file_id")
            if isinstance(file_id, str) and file_id:
                self.file_ids.remember(url, file_id)

    async def fallback(self, url: str, error: BadRequest) -> InputFile | None:
        """Telegram could not fetch the URL: try uploading the bytes ourselves."""
        log.info("Telegram could not use a photo URL (%s); uploading instead", error.message)
        return await self.upload(url)
