"""Sending listing photos so that they arrive whatever the photo's host.

Telegram fetches a photo URL itself, which fails for hosts it cannot reach (the
sandbox on 127.0.0.1) or that refuse hot-linking. Those photos are downloaded by
the bot and uploaded; every photo's Telegram `file_id` is remembered, so the same
photo is never uploaded twice.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import httpx
from telegram import InputFile, Message
from telegram.error import BadRequest

log = logging.getLogger(__name__)

MAX_PHOTO_BYTES = 5 * 1024 * 1024
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def must_upload(url: str) -> bool:
    return (urlsplit(url).hostname or "") in _LOCAL_HOSTS


async def download(http: httpx.AsyncClient, url: str) -> bytes | None:
    try:
        response = await http.get(url, timeout=10.0)
    except httpx.HTTPError as exc:
        log.info("photo download failed (%s)", type(exc).__name__)
        return None
    if response.status_code != 200 or len(response.content) > MAX_PHOTO_BYTES:
        return None
    return response.content


class PhotoSender:
    def __init__(self, http: httpx.AsyncClient, file_ids: dict[str, str]) -> None:
        self.http = http
        self.file_ids = file_ids

    async def source(self, url: str) -> str | InputFile | None:
        """What to pass as `photo`: a known file_id, the URL, or downloaded bytes."""
        if url in self.file_ids:
            return self.file_ids[url]
        if must_upload(url):
            data = await download(self.http, url)
            return InputFile(data, filename="photo.jpg") if data else None
        return url

    def remember(self, url: str, message: Message | None) -> None:
        if message is not None and message.photo:
            self.file_ids[url] = message.photo[-1].file_id

    async def fallback(self, url: str, error: BadRequest) -> InputFile | None:
        """Telegram could not fetch the URL: try uploading the bytes ourselves."""
        log.info("Telegram could not use a photo URL (%s); uploading instead", error.message)
        data = await download(self.http, url)
        return InputFile(data, filename="photo.jpg") if data else None
