"""Gateway benchmark (issue 2): single-flight and the cost of a cache hit.

    python bench/gateway.py [--runs 5]

1. 1,000 concurrent requests over 50 distinct Xianyu listings against the sandbox
   (real HTTP on 127.0.0.1, enterprise_advanced tier): how many upstream calls were made
   (goal: exactly 50), counted by the sandbox itself.
2. Added latency of a cache hit (`await gateway.listing(ref, payer=SYSTEM)` on a cached entry), p50/p99
   over 100,000 calls (goal: p99 under 1 ms).
3. Cache hits per second on one core (one event loop, back to back).
Figures are medians over the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import load_settings
from bot.services import build_services
from clients.models import ListingRef
from clock import SystemClock
from gateway.budget import SYSTEM
from sandbox.server import Sandbox


async def one_run(tmp: Path) -> dict[str, float]:
    clock = SystemClock()
    async with Sandbox(clock=clock, tiers={"xianyu": "enterprise_advanced"}) as sandbox:
        ids = sandbox.state.catalogues["xianyu"].add_copies(50)
        settings = load_settings(
            require_token=False,
            **sandbox.settings_overrides(),
            database_path=tmp / f"bench-{time.monotonic_ns()}.sqlite3",
        )
        services = build_services(settings, clock)
        gateway = services.gateway
        refs = [ListingRef("xianyu", i) for i in ids]
        before = sandbox.state.counters["xianyu"].calls
        started = time.perf_counter()
        await asyncio.gather(*(gateway.listing(refs[n % 50], payer=SYSTEM) for n in range(1000)))
        burst_seconds = time.perf_counter() - started
        upstream = sandbox.state.counters["xianyu"].calls - before
        errors = dict(gateway.stats()["xianyu"]["errors"])
        if errors:
            print(f"  errors during the burst: {errors}")

        ref = refs[0]
        samples = []
        perf = time.perf_counter_ns
        for _ in range(100_000):
            t0 = perf()
            await gateway.listing(ref, payer=SYSTEM)
            samples.append(perf() - t0)
        samples.sort()
        p50 = samples[len(samples) // 2] / 1e6
        p99 = samples[int(len(samples) * 0.99)] / 1e6

        n = 200_000
        t0 = time.perf_counter()
        for i in range(n):
            await gateway.listing(refs[i % 50], payer=SYSTEM)
        hits_per_second = n / (time.perf_counter() - t0)
        await services.close()
        return {
            "upstream": upstream,
            "burst_s": burst_seconds,
            "p50_ms": p50,
            "p99_ms": p99,
            "hits_per_s": hits_per_second,
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            r = asyncio.run(one_run(Path(tmp)))
            results.append(r)
            print(
                f"run {run + 1}: upstream calls {r['upstream']:.0f}, burst {r['burst_s']:.2f}s, "
                f"hit p50 {r['p50_ms'] * 1000:.1f}us p99 {r['p99_ms'] * 1000:.1f}us, "
                f"{r['hits_per_s']:,.0f} hits/s"
            )
    med = {k: statistics.median(r[k] for r in results) for k in results[0]}
    print(
        f"median of {args.runs}: upstream calls for 1,000 requests over 50 listings: "
        f"{med['upstream']:.0f} (goal 50); cache-hit latency p50 {med['p50_ms'] * 1000:.1f} us, "
        f"p99 {med['p99_ms'] * 1000:.1f} us (goal p99 < 1000 us); "
        f"{med['hits_per_s']:,.0f} cache hits/s on one core"
    )


if __name__ == "__main__":
    main()
