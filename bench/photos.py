"""Memory and time to refuse a 100 MB listing photo (issue 10): the old download read the
whole body before its 5 MB check; the streaming fetcher stops at the cap.

    python bench/photos.py --runs 5

Each run fetches the sandbox's 100 MB 'photo' (with and without Content-Length) through
`handlers.photos.PhotoFetcher` (the sandbox origin trusted, as in --demo) and through a
plain whole-body `httpx` GET (what the old code did), and prints the peak Python memory
(tracemalloc) and the bytes the server got to send before the reader hung up.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import tracemalloc
from collections.abc import Awaitable, Callable

import httpx

from clock import FakeClock
from handlers.photos import PhotoFetcher
from sandbox.server import Sandbox

MB = 1024 * 1024


async def measure(
    sandbox: Sandbox, fetch: Callable[[], Awaitable[object]]
) -> tuple[float, float, float]:
    """Peak traced memory (MB), seconds, and MB the server sent, for one fetch."""
    sandbox.state.hostile_photo_bytes = 0
    tracemalloc.start()
    started = time.perf_counter()
    await fetch()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / MB, elapsed, sandbox.state.hostile_photo_bytes / MB


async def main(runs: int) -> None:
    async with Sandbox(clock=FakeClock()) as sandbox, httpx.AsyncClient(timeout=60) as http:
        fetcher = PhotoFetcher(http, trusted_origins=[sandbox.base_url])
        cases: dict[str, Callable[[], Awaitable[object]]] = {
            "streaming fetcher, Content-Length": lambda: fetcher.download(
                f"{sandbox.base_url}/hostile/huge.png"
            ),
            "streaming fetcher, no Content-Length": lambda: fetcher.download(
                f"{sandbox.base_url}/hostile/huge.png?length=0"
            ),
            "whole-body GET (the old way)": lambda: http.get(
                f"{sandbox.base_url}/hostile/huge.png?length=0"
            ),
        }
        print(f"{'case':40} {'peak MB':>8} {'seconds':>8} {'MB sent':>8}")
        for name, fetch in cases.items():
            results = [await measure(sandbox, fetch) for _ in range(runs)]
            peak, seconds, sent = (statistics.median(r[i] for r in results) for i in range(3))
            print(f"{name:40} {peak:8.1f} {seconds:8.3f} {sent:8.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main(parser.parse_args().runs))
