"""Pictures for sandbox listings: `GET /img/{name}.png`, a small solid-colour PNG per name.

The colour comes from a hash of the name, so every listing's photos look the same on
every run and differ from each other. Built with zlib and struct: no imaging library.
"""

from __future__ import annotations

import asyncio
import hashlib
import struct
import zlib
from functools import lru_cache

from aiohttp import web

from sandbox.core import SandboxState

WIDTH = 64
HEIGHT = 48
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def colour_for(name: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(name.encode()).digest()
    return digest[0], digest[1], digest[2]


@lru_cache(maxsize=256)
def png_for(name: str, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """A valid RGB PNG of one colour derived from `name`."""
    row = b"\x00" + bytes(colour_for(name)) * width  # filter byte 0, then RGB pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return (
        _PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(row * height))
        + _chunk(b"IEND", b"")
    )


async def _image(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if not name or len(name) > 200:
        raise web.HTTPNotFound()
    return web.Response(
        body=png_for(name),
        content_type="image/png",
        headers={"Cache-Control": "public, max-age=86400"},
    )


# -- hostile photo hosts: what a platform answer might point the bot at -----------------

HUGE_PHOTO_BYTES = 100 * 1024 * 1024
_HUGE_CHUNK = 64 * 1024


def _hostile_routes(state: SandboxState) -> list[web.RouteDef]:
    async def huge(request: web.Request) -> web.StreamResponse:
        """100 MB of 'image', streamed; `?length=0` leaves out Content-Length."""
        response = web.StreamResponse(headers={"Content-Type": "image/png"})
        if request.query.get("length") != "0":
            response.content_length = HUGE_PHOTO_BYTES
        await response.prepare(request)
        chunk = b"\0" * _HUGE_CHUNK
        try:
            for _ in range(HUGE_PHOTO_BYTES // _HUGE_CHUNK):
                await response.write(chunk)  # raises once the reader hangs up
                state.hostile_photo_bytes += len(chunk)
        except ConnectionError:
            pass  # what the test wants: the reader stopped early
        return response

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query.get("to", "/img/redirected.png"))

    async def loop(_: web.Request) -> web.Response:
        state.hostile_redirects += 1
        raise web.HTTPFound("/hostile/loop")

    async def stall(request: web.Request) -> web.StreamResponse:
        """A byte now and then, for ever (slowloris): only the reader's time limit ends it."""
        response = web.StreamResponse(headers={"Content-Type": "image/png"})
        await response.prepare(request)
        try:
            while True:
                await response.write(b"\0")  # raises once the reader hangs up
                await asyncio.sleep(0.05)
        except ConnectionError:
            return response

    async def html_page(_: web.Request) -> web.Response:
        return web.Response(text="<html>not a photo</html>", content_type="text/html")

    return [
        web.get("/hostile/huge.png", huge),
        web.get("/hostile/redirect", redirect),
        web.get("/hostile/page.png", html_page),
        web.get("/hostile/loop", loop),
        web.get("/hostile/stall.png", stall),
    ]


def register(app: web.Application, state: SandboxState) -> None:
    app.router.add_get("/img/{name}.png", _image)
    app.router.add_routes(_hostile_routes(state))
