"""Memory with hostile maximal answers (issue 19, point 4): goal under 300 MB peak RSS.

    python bench/memory.py [--answers 1000] [--runs 3] [--concurrency 4] [--max-rss-mb 1500]

Each run is a fresh process (peak RSS is a property of the whole process). The sandbox
platforms run in a child process on 127.0.0.1, so their memory is not counted; every
request they get is answered with a hostile maximal answer just under the 8 MiB cap
(`sandbox/hostile.py`: Xianyu, Anjuke and Beike in turn, each alternating the `long`
and `many` shapes). The bot's side asks for `--answers` distinct listings through
`Gateway.listing` over real HTTP (`--concurrency` at a time; a fake clock, so no cached
answer expires and only the byte budgets evict), renders each card (`card_for`, the
card cache) and remembers a file_id for its photo (`PhotoIds`, or the old dict).

Printed per run, one JSON line: peak RSS (`ru_maxrss`), RSS after imports, the caches'
entries and bytes (our estimate where the code has one, and a deep `sys.getsizeof`
walk of everything the caches hold, shared objects once), answers and seconds. A run
stops early when RSS passes `--max-rss-mb` (the code before the byte budgets gets there
long before 1,000 answers: it is reported with the answers it took).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import fields, is_dataclass
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MB = 1024 * 1024
PLATFORMS = ("xianyu", "anjuke", "beike")
SHAPES = ("long", "many")
TRACE = bool(os.environ.get("BENCH_MEMORY_TRACE"))
#: `--no-pin`: measure without `bot.allocator.pin_mmap_threshold` (what it is worth)
PIN = True
TIERS = {"anjuke": "enterprise_advanced", "xianyu": "enterprise_advanced"}


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """Resident set size now."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB


# -- the platforms, in a child process ---------------------------------------------------------


def serve_platforms(ready: Any, stop: Any) -> None:
    """The sandbox, every answer a hostile maximal one; sends its settings, runs until `stop`."""
    asyncio.run(_serve(ready, stop))


async def _serve(ready: Any, stop: Any) -> None:
    from sandbox.core import Fault
    from sandbox.hostile import maximal_answer
    from sandbox.server import Sandbox

    bodies = {(p, s): maximal_answer(p, s) for p in PLATFORMS for s in SHAPES}
    served = dict.fromkeys(PLATFORMS, 0)

    def hostile(platform: str) -> Fault | None:
        if platform not in served:
            return None
        shape = SHAPES[served[platform] % len(SHAPES)]
        served[platform] += 1
        return Fault("json", body=bodies[platform, shape])

    async with Sandbox(tiers=TIERS) as sandbox:
        sandbox.state.take_fault = hostile  # type: ignore[method-assign]
        ready.send(sandbox.settings_overrides())
        await asyncio.get_running_loop().run_in_executor(None, stop.recv)


# -- what the caches hold, measured independently of our own estimate ------------------------


def deep_bytes(roots: list[object]) -> int:
    """`sys.getsizeof` of everything reachable from `roots` through containers, dataclasses,
    exceptions and plain objects, each object once (what the caches keep alive)."""
    seen: set[int] = set()
    stack = list(roots)
    total = 0
    while stack:
        obj = stack.pop()
        if obj is None or isinstance(obj, (bool, Enum, type)) or id(obj) in seen:
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, (str, bytes, int, float, Decimal)):
            continue
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        elif is_dataclass(obj):
            stack.extend(getattr(obj, f.name) for f in fields(obj))
        else:
            if isinstance(obj, BaseException):
                stack.extend(obj.args)
            stack.extend(getattr(obj, "__dict__", {}).values())
            for slot in getattr(type(obj), "__slots__", ()):
                stack.append(getattr(obj, slot, None))
    return total


# -- one run -------------------------------------------------------------------------------------


def ref_for(n: int) -> Any:
    from clients.models import ListingRef

    platform = PLATFORMS[n % len(PLATFORMS)]
    if platform == "xianyu":
        return ListingRef(platform, str(700_000_000_000 + n))
    if platform == "anjuke":
        return ListingRef(platform, f"A{1_000_000_000 + n}")
    return ListingRef(platform, str(101_100_000_000 + n), "110000")


async def one_run(answers: int, concurrency: int, max_rss_mb: float) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    ready_here, ready_there = context.Pipe()
    stop_here, stop_there = context.Pipe()
    child = context.Process(target=serve_platforms, args=(ready_there, stop_there), daemon=True)
    child.start()
    try:
        overrides = ready_here.recv()
        return await measure(overrides, answers, concurrency, max_rss_mb)
    finally:
        stop_here.send(True)
        child.join(10)


async def measure(
    overrides: dict[str, Any], answers: int, concurrency: int, max_rss_mb: float
) -> dict[str, Any]:
    import httpx

    from bot.config import load_settings
    from clients.errors import PlatformError

    try:  # the layout before and after the gateway moved out of clients/
        from clock import FakeClock
        from gateway import Gateway
        from gateway.budget import SYSTEM
    except ImportError:
        from clock import FakeClock  # type: ignore[no-redef]  # the newer layout
        from gateway import Gateway  # type: ignore[no-redef]  # the newer layout
        from gateway.budget import SYSTEM  # type: ignore[no-redef]  # the newer layout
    from clients.registry import build_clients
    from handlers import cards, context
    from storage.database import Database
    from storage.quota import QuotaStore

    try:  # what `python -m bot` does first (the code before issue 19 did not)
        from bot.allocator import pin_mmap_threshold
    except ImportError:
        pinned = False
    else:
        pinned = pin_mmap_threshold() if PIN else False
    photo_ids: Any = context.PhotoIds() if hasattr(context, "PhotoIds") else {}
    gc.collect()
    after_imports = rss_mb()
    clock = FakeClock()
    done = 0
    failed: list[str] = []
    cards_failed: list[int] = []
    stopped_at: float | None = None
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(require_token=False, **overrides)
        async with httpx.AsyncClient() as http:
            clients: dict[str, Any] = build_clients(settings.platform_configs(), http, clock)
            gateway = Gateway(clients, QuotaStore(Database(Path(tmp) / "q.db", clock)), clock)
            started = time.perf_counter()
            queue = list(range(answers))
            queue.reverse()

            async def worker() -> None:
                nonlocal done, stopped_at
                while queue and stopped_at is None:
                    n = queue.pop()
                    try:
                        listing = await gateway.listing(ref_for(n), payer=SYSTEM)
                    except PlatformError as exc:  # counted in the gateway's stats
                        failed.append(type(exc).__name__)
                        continue
                    try:
                        cards.card_for(listing, "en")
                    except ValueError:  # before issue 19 a hostile ID broke the buttons
                        cards_failed.append(n)
                    if listing.photos:
                        file_id = f"AgACAgIAAxkBAAI{n:020d}"
                        if isinstance(photo_ids, dict):
                            photo_ids[listing.photos[0]] = file_id
                        else:
                            photo_ids.remember(listing.photos[0], file_id)
                    done += 1
                    if TRACE:
                        print(n, ref_for(n).platform, round(rss_mb()), file=sys.stderr)
                    if rss_mb() > max_rss_mb and stopped_at is None:
                        stopped_at = rss_mb()

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            seconds = time.perf_counter() - started
            errors = {p: dict(s["errors"]) for p, s in gateway.stats().items() if s["errors"]}
            gc.collect()
            kept: dict[str, Any] = {}
            estimate = getattr(gateway, "cache_sizes", None)
            if estimate is not None:
                for name, (entries, size, budget) in estimate().items():
                    kept[name] = {
                        "entries": entries,
                        "estimate_mb": round(size / MB, 1),
                        "budget_mb": round(budget / MB, 1),
                    }
            else:
                kept["cache"] = {"entries": len(gateway._cache)}
                kept["last_good"] = {"entries": len(gateway._last_good)}
            rendered = cards._RENDERED
            kept["cards"] = {"entries": len(rendered)}
            if hasattr(cards, "remembered_cards"):
                kept["cards"]["estimate_mb"] = round(cards.remembered_cards()[1] / MB, 1)
            kept["photo_ids"] = {"entries": len(photo_ids)}
            # what the caches really keep alive: values of both gateway caches (shared
            # entries once), the cards with their listings, the photo ids
            gateway_mb = deep_bytes(
                [list(gateway._cache.values()), list(gateway._last_good.values())]
            )
            kept["gateway_walked_mb"] = round(gateway_mb / MB, 1)
            kept["cards_walked_mb"] = round(deep_bytes([list(rendered.values())]) / MB, 1)
            ids = photo_ids if isinstance(photo_ids, dict) else photo_ids._ids
            kept["photo_ids_walked_mb"] = round(deep_bytes([dict(ids)]) / MB, 1)
    return {
        "answers": done,
        "mmap_threshold_pinned": pinned,
        "stopped_at_rss_mb": round(stopped_at, 1) if stopped_at else None,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_after_imports_mb": round(after_imports, 1),
        "rss_at_end_mb": round(rss_mb(), 1),
        "seconds": round(seconds, 1),
        "failed": len(failed),
        "cards_failed": len(cards_failed),
        "errors": errors,
        "kept": kept,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", nargs="?", default="runs", choices=["runs", "run"])
    parser.add_argument("--answers", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--max-rss-mb", type=float, default=1500.0)
    parser.add_argument("--no-pin", action="store_true", help="leave glibc's mmap threshold")
    args = parser.parse_args()
    global PIN
    PIN = not args.no_pin
    if args.mode == "run":
        result = asyncio.run(one_run(args.answers, args.concurrency, args.max_rss_mb))
        print(json.dumps(result), flush=True)
        return 0
    runs = []
    for n in range(args.runs):
        command = [sys.executable, __file__, "run", "--answers", str(args.answers)]
        command += ["--concurrency", str(args.concurrency), "--max-rss-mb", str(args.max_rss_mb)]
        command += ["--no-pin"] if args.no_pin else []
        out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
        print(json.dumps({"run": n + 1, **result}, ensure_ascii=False), flush=True)
        runs.append(result)
    median = {
        key: statistics.median(r[key] for r in runs)
        for key in ("answers", "peak_rss_mb", "rss_after_imports_mb", "rss_at_end_mb", "seconds")
    }
    print(json.dumps({"median": median}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
