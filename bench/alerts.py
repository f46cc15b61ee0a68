"""Price-alert benchmarks (results in BENCHMARKS.md).

    python -m bench.alerts broadcast [--users 10000] [--runs 3] [--one-chat 50]
    python -m bench.alerts day [--listings 2000] [--watches 20000] [--tiers ...]
    python -m bench.alerts memory [--watches 100000] [--listings 10000] [--runs 3]
    python -m bench.alerts growth [--sizes 1000 10000 100000 1000000] [--cycles 3] [--runs 3]
    python -m bench.alerts growth-run --watches 100000 --per-listing 100000  # one run

- broadcast: one price drop watched by N users, delivered by the bot's own Application
  (started as the bot starts: post_init, the rate limiter of bot/rate_limiter.py) to the
  Bot API emulator enforcing Telegram's limits (30 messages in any second, 1/s per
  private chat), which runs in a process of its own as Telegram would. Real time.
  Reports messages per second at the emulator, 429 answers, messages lost, and the
  longest stalls of each process's event loop and garbage collector. `--one-chat K`:
  the first user also watches K - 1 more listings that drop, so one chat gets K of the
  alerts (the others one each); reports the delivery's wall time against the ideal,
  max(alerts / 28.3 a second, K chat turns of 1.1 s).
- day: N watches over M listings on one platform tier, simulated with a fake
  clock from midnight (UTC+8), a poll cycle every ALERT_INTERVAL_SECONDS (300), real
  HTTP to the sandbox enforcing the tier's quota and rate. Reports checks made, the
  longest gap between two checks of one listing against the best the quota allows
  (`listings * 86400 / polling quota per day`, at least one interval), and quota
  errors. Tiers whose quota cannot check every listing twice in a day are simulated
  for as many days as two rounds take.
- growth: poll cycles where nothing changed over 1k / 10k / 100k / 1M watches (10
  per listing, 5 per user), each size in a fresh process: cost per cycle (wall and CPU
  time, planning queries, recording per check, rule decisions), event-loop stalls (a 1 ms
  sleeper's overshoot), garbage-collector pauses and RSS. The rows are written in bulk
  as /watch writes them, every listing as if checked once a day before.
- memory: peak resident memory (ru_maxrss) of a process holding N watches over M
  listings that checks every listing after every price dropped and delivers the
  N alerts (to an in-process bot that only counts: memory, not Telegram, is measured).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import itertools
import json
import math
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import watching.poller as poller_module
from bot.config import Settings, load_settings
from bot.services import Services, build_services
from clients.models import Listing, ListingRef
from clock import CHINA_TZ, Clock, FakeClock
from gateway import CHAT_RESERVE
from gateway.budget import SYSTEM
from handlers.alerts import run_poll_cycle, send_pending_alerts
from sandbox.server import Sandbox

TOKEN = "100000001:bench-alerts-token"
INTERVAL = 300
#: a Xianyu item and an Anjuke home for sale the sandbox knows; clones get new IDs
TEMPLATES = {"xianyu": "712345678901", "anjuke": "A1234567890"}
TIERS = {
    "anjuke": ("personal", "enterprise_basic", "enterprise_advanced"),
    "xianyu": ("personal", "enterprise_basic", "enterprise_advanced"),
}


class Stalls:
    """How long this process's event loop and garbage collector held everything up."""

    def __init__(self) -> None:
        self.loop_lags: list[float] = []
        self.gc_pauses: list[float] = []
        #: the collecting thread's CPU time per collection (a busy machine's waits left out)
        self.gc_cpu: list[float] = []
        self._gc_started = 0.0
        self._gc_cpu_started = 0.0
        self._task: asyncio.Task[None] | None = None

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
            self._gc_cpu_started = time.thread_time()
        else:
            self.gc_pauses.append(time.perf_counter() - self._gc_started)
            self.gc_cpu.append(time.thread_time() - self._gc_cpu_started)

    async def _watch(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            self.loop_lags.append(time.perf_counter() - started - 0.005)

    def start(self) -> None:
        gc.callbacks.append(self._on_gc)
        self._task = asyncio.get_running_loop().create_task(self._watch())

    def stop(self) -> dict[str, Any]:
        gc.callbacks.remove(self._on_gc)
        if self._task is not None:
            self._task.cancel()
        return {
            "max_loop_lag_ms": round(max(self.loop_lags, default=0) * 1000, 1),
            "loop_lags_over_20ms": sum(1 for lag in self.loop_lags if lag > 0.02),
            "max_gc_pause_ms": round(max(self.gc_pauses, default=0) * 1000, 1),
        }


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def settings_for(sandbox: Sandbox, path: Path, **extra: Any) -> Settings:
    return load_settings(
        require_token=False,
        **{
            **sandbox.settings_overrides(),
            "database_path": path,
            "alert_interval_seconds": INTERVAL,
            **extra,
        },
    )


def clone_ids(platform: str, count: int) -> list[str]:
    if platform == "xianyu":
        return [f"8{n:011d}" for n in range(1, count + 1)]
    return [f"A{2_000_000_000 + n}" for n in range(1, count + 1)]


def add_clones(sandbox: Sandbox, platform: str, ids: list[str]) -> None:
    """Put `ids` into the sandbox catalogue as copies of the template listing."""
    catalogue: Any = sandbox.state.catalogues[platform]
    if platform == "xianyu":
        template = catalogue.items[TEMPLATES[platform]]
        for listing_id in ids:
            catalogue.items[listing_id] = dataclasses.replace(template, item_id=listing_id)
    else:
        template = catalogue.houses[TEMPLATES[platform]]
        for listing_id in ids:
            catalogue.houses[listing_id] = dataclasses.replace(template, house_id=listing_id)


async def watch_all(
    services: Services,
    template: Listing,
    ids: list[str],
    watches: int,
    first_user: int = 1_000_000,
) -> None:
    """`watches` watches spread evenly over `ids`, each user watching several listings.

    Goes through `WatchStore.watch`, the same write /watch makes; the listings
    are built from the template rather than fetched, so setting up costs no quota.
    """
    store = services.watches
    per_listing = watches // len(ids)
    # five watches per user, but never one user twice on a listing (that is one watch)
    users = max(per_listing, watches // 5)
    n = 0
    for index, listing_id in enumerate(ids):
        listing = dataclasses.replace(
            template,
            listing_id=listing_id,
            url=template.url.replace(template.listing_id, listing_id),
        )
        for k in range(per_listing):
            user = first_user + (index * per_listing + k) % users
            await store.add(
                user_id=user,
                chat_id=user,
                listing=listing,
                rule="any_drop",
                rule_value=None,
                base_price=listing.price,
                max_per_user=10**6,
            )
            n += 1
    assert (await store.counts()).active == n == per_listing * len(ids)


def midnight_china(day: str = "2026-03-02") -> float:
    return datetime.fromisoformat(f"{day}T00:00:00").replace(tzinfo=CHINA_TZ).timestamp()


# -- (a) one drop, many users, through the emulator ------------------------------------------------


async def broadcast_run(users: int, one_chat: int = 1) -> dict[str, Any]:
    """One drop, `users` alerts, the emulator in a process of its own (see `emulator_host`);
    with `one_chat` K > 1 the first chat gets K of them (K - 1 more listings drop)."""
    from bot.app import build_application
    from bot.rate_limiter import CHAT_GAP, OVERALL_PER_SECOND

    chats = list(range(50_000_001, 50_000_001 + users - (one_chat - 1)))
    host = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.alerts",
        "emulator-host",
        "--first",
        str(chats[0]),
        "--users",
        str(len(chats)),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=64 * 1024 * 1024,  # the stats line holds every delivery stamp
    )
    assert host.stdin is not None and host.stdout is not None
    base_url = (await host.stdout.readline()).decode().strip()
    with tempfile.TemporaryDirectory() as tmp:
        async with Sandbox(tiers={"xianyu": "enterprise_advanced"}) as sandbox:
            settings = settings_for(
                sandbox,
                Path(tmp) / "bench.sqlite3",
                telegram_api_url=base_url,
                telegram_bot_token=TOKEN,
            )
            services = build_services(settings)
            application = build_application(settings, services)
            catalogue: Any = sandbox.state.catalogues["xianyu"]
            item = TEMPLATES["xianyu"]
            catalogue.set_price(item, Decimal("5000"))
            listing = await services.gateway.listing(ListingRef("xianyu", item), payer=SYSTEM)
            more = clone_ids("xianyu", one_chat - 1)
            add_clones(sandbox, "xianyu", more)
            await watch_all(services, listing, [item], users - len(more), chats[0])
            for listing_id in more:  # the first chat's other watches
                clone = dataclasses.replace(
                    listing, listing_id=listing_id, url=listing.url.replace(item, listing_id)
                )
                await services.watches.add(
                    user_id=chats[0],
                    chat_id=chats[0],
                    listing=clone,
                    rule="any_drop",
                    rule_value=None,
                    base_price=listing.price,
                    max_per_user=10**6,
                )
            for listing_id in [item, *more]:
                catalogue.set_price(listing_id, Decimal("4500"))
            async with application:
                assert application.post_init is not None
                await application.post_init(application)  # as the bot starts (gc.freeze...)
                started = time.perf_counter()
                report = await run_poll_cycle(services, application.bot, deliver=False)
                recorded = time.perf_counter() - started
                stalls = Stalls()
                stalls.start()
                started = time.perf_counter()
                delivery = await send_pending_alerts(services, application.bot)
                wall = time.perf_counter() - started
                bot_stalls = stalls.stop()
            await services.close()
    host.stdin.write(b"stats\n")
    await host.stdin.drain()
    seen = json.loads(await host.stdout.readline())
    await host.wait()
    stamps = sorted(seen["stamps"])
    per_chat = seen["per_chat"]
    expected = [one_chat] + [1] * (len(per_chat) - 1)
    window = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
    ideal = max(users / OVERALL_PER_SECOND, one_chat * CHAT_GAP)
    return {
        "users": users,
        "one_chat": one_chat,
        "wall_over_ideal": round(wall / ideal, 3),
        "alerts_recorded": report.alerts_created,
        "record_seconds": round(recorded, 3),
        "delivered": len(stamps),
        "lost": sum(max(0, e - c) for c, e in zip(per_chat, expected, strict=True)),
        "duplicates": sum(max(0, c - e) for c, e in zip(per_chat, expected, strict=True)),
        "answers_429": seen["answers_429"],
        "rate_limited_seen_by_us": delivery.rate_limited,
        "msgs_per_second": round((len(stamps) - 1) / window, 2) if window else None,
        "msgs_per_second_wall": round(len(stamps) / wall, 2),
        "busiest_second": busiest_second(stamps),
        "wall_seconds": round(wall, 1),
        "bot_stalls": bot_stalls,
        "emulator_stalls": seen["stalls"],
    }


async def emulator_host(first: int, users: int) -> None:
    """The Bot API emulator with Telegram's limits, in this process of its own.

    Telegram is a server of its own: hosting the emulator inside the bot's process would
    let every pause of the bot's event loop (a garbage collection, a database commit)
    hold requests in the socket and stamp them all at the same instant afterwards, a
    bunching no real server sees. Prints the base URL, then on a `stats` line the
    delivery stamps (monotonic: comparable across processes) and exits.
    """
    from sandbox.botapi import BotApiEmulator

    async with BotApiEmulator(token=TOKEN, enforce_limits=True) as emulator:
        chats = range(first, first + users)
        for chat in chats:
            emulator.user(chat, first_name="U")
        # Telegram's servers do not stop for Python's garbage collector (measured here: up
        # to 160 ms pauses once 10,000 messages are recorded); the stand-in must not either,
        # or its pauses would bunch arrivals into one instant and count against the bot.
        gc.collect()
        gc.freeze()
        gc.disable()
        stalls = Stalls()
        stalls.start()
        print(emulator.base_url, flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.readline)
        stamps = [s for chat in chats for s in emulator.delivered.get(chat, [])]
        attempts = sum(1 for call in emulator.calls if call.method == "sendMessage")
        print(
            json.dumps(
                {
                    "stamps": stamps,
                    "per_chat": [len(emulator.delivered.get(chat, [])) for chat in chats],
                    "answers_429": attempts - len(stamps),
                    "stalls": stalls.stop(),
                }
            ),
            flush=True,
        )


def busiest_second(stamps: list[float]) -> int:
    """Most messages that arrived within any one second (sliding)."""
    best, start = 0, 0
    for end, at in enumerate(stamps):
        while at - stamps[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


# -- (b) a simulated day per tier ---------------------------------------------------------------------


@contextlib.asynccontextmanager
async def fake_world(
    platform: str, tier: str, clock: FakeClock, path: Path
) -> AsyncIterator[tuple[Sandbox, Services]]:
    async with Sandbox(clock=clock, tiers={platform: tier}) as sandbox:
        services = build_services(settings_for(sandbox, path), clock)
        try:
            yield sandbox, services
        finally:
            await services.close()


def record_checks(services: Services, clock: Clock) -> dict[str, list[float]]:
    """Instrument the gateway: every alert check (fresh=True) is noted with its time."""
    checks: dict[str, list[float]] = defaultdict(list)
    original = services.gateway.listing

    async def listing(ref: ListingRef, **kwargs: Any) -> Listing:
        if kwargs.get("fresh"):
            checks[ref.key].append(clock.time())
        return await original(ref, **kwargs)

    services.gateway.listing = listing  # type: ignore[method-assign]
    return checks


async def day_run(platform: str, tier: str, listings: int, watches: int) -> dict[str, Any]:
    # A FakeClock jumps forward the moment the gateway's rate limiter sleeps, even while
    # earlier requests are still on their way, and the sandbox would then stamp them with
    # the later time and refuse them for rate. One check at a time keeps fake time
    # faithful: nothing is in flight when it jumps.
    poller_module.CHECK_CONCURRENCY = 1
    clock = FakeClock(midnight_china())
    with tempfile.TemporaryDirectory() as tmp:
        async with fake_world(platform, tier, clock, Path(tmp) / "day.sqlite3") as (sb, s):
            limits = s.gateway.limits(platform)
            assert limits.per_day is not None
            polling_per_day = limits.per_day - math.ceil(limits.per_day * CHAT_RESERVE)
            template = await s.gateway.listing(
                ListingRef(platform, TEMPLATES[platform]), payer=SYSTEM
            )
            ids = clone_ids(platform, listings)
            add_clones(sb, platform, ids)
            await watch_all(s, template, ids, watches)
            clock.advance(midnight_china("2026-03-03") - clock.time())  # a fresh platform day
            days = max(1, math.ceil(2.2 * listings / polling_per_day))
            checks = record_checks(s, clock)
            start = clock.time()
            first_day_checks = quota_errors = errors = cycles = 0
            longest_cycle = 0.0
            while clock.time() < start + days * 86400:
                cycle_start = clock.time()
                report = await run_poll_cycle(s, None)
                cycles += 1
                quota_errors += report.quota_errors
                errors += report.errors
                longest_cycle = max(longest_cycle, clock.time() - cycle_start)
                if cycle_start < start + 86400:
                    first_day_checks += report.checks
                clock.advance(max(0.0, cycle_start + INTERVAL - clock.time()))
            gaps = [b - a for times in checks.values() for a, b in itertools.pairwise(times)]
            best = max(INTERVAL, listings * 86400 / polling_per_day)
            rejected = sb.state.counters[platform].rejected
            return {
                "platform": platform,
                "tier": tier,
                "listings": listings,
                "watches": watches,
                "polling_quota_per_day": polling_per_day,
                "days_simulated": days,
                "cycles": cycles,
                "checks_first_day": first_day_checks,
                "checks_total": sum(len(t) for t in checks.values()),
                "listings_never_checked": listings - len(checks),
                "longest_gap_s": round(max(gaps), 1) if gaps else None,
                "best_gap_s": round(best, 1),
                "gap_over_best_pct": round((max(gaps) / best - 1) * 100, 2) if gaps else None,
                "quota_errors": quota_errors,
                "platform_rejections": rejected,
                "check_errors": errors,
                "longest_cycle_s": round(longest_cycle, 1),
            }


# -- (c) memory -------------------------------------------------------------------------------------


class CountingBot:
    """Accepts every message and keeps only a count: the bot's side of delivery is measured."""

    def __init__(self) -> None:
        self.sent = 0

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> None:
        self.sent += 1

    async def do_api_request(self, endpoint: str, api_kwargs: dict[str, Any], **_: Any) -> None:
        self.sent += 1  # alerts go as the Bot API's objects (handlers/sending.py)


async def memory_run(watches: int, listings: int) -> dict[str, Any]:
    poller_module.CHECK_CONCURRENCY = 1  # see day_run
    gc.collect()
    baseline = rss_mb()
    clock = FakeClock(midnight_china())
    with tempfile.TemporaryDirectory() as tmp:
        async with fake_world(
            "xianyu", "enterprise_advanced", clock, Path(tmp) / "mem.sqlite3"
        ) as (sb, s):
            template = await s.gateway.listing(
                ListingRef("xianyu", TEMPLATES["xianyu"]), payer=SYSTEM
            )
            ids = clone_ids("xianyu", listings)
            add_clones(sb, "xianyu", ids)
            started = time.perf_counter()
            await watch_all(s, template, ids, watches)
            setup_seconds = time.perf_counter() - started
            after_setup = rss_mb()
            catalogue: Any = sb.state.catalogues["xianyu"]
            for listing_id in ids:
                catalogue.set_price(listing_id, template.price * Decimal("0.9"))  # type: ignore[operator]
            # One cycle a day at 23:55 (UTC+8): the day's whole polling quota may go in it,
            # so each cycle checks as many listings as the rate allows.
            five_to_midnight = midnight_china("2026-03-03") - 300
            alerts = checks = cycles = 0
            started = time.perf_counter()
            while checks < listings:
                clock.advance(five_to_midnight + cycles * 86400 - clock.time())
                report = await run_poll_cycle(s, None)
                alerts += report.alerts_created
                checks += report.checks
                cycles += 1
            check_seconds = time.perf_counter() - started
            bot = CountingBot()
            started = time.perf_counter()
            delivery = await send_pending_alerts(s, bot)  # type: ignore[arg-type]
            deliver_seconds = time.perf_counter() - started
            return {
                "watches": watches,
                "listings": listings,
                "alerts_recorded": alerts,
                "alerts_delivered": delivery.sent,
                "cycles": cycles,
                "setup_seconds": round(setup_seconds, 1),
                "check_seconds": round(check_seconds, 1),
                "deliver_seconds": round(deliver_seconds, 1),
                "rss_after_imports_mb": round(baseline, 1),
                "rss_after_setup_mb": round(after_setup, 1),
                "peak_rss_mb": round(rss_mb(), 1),
            }


# -- (d) growth: cost per cycle, stalls and RSS at 1k-1M watches --------------------------------

SUBSCRIPTIONS_PER_LISTING = 10
WATCHES_PER_USER = 5


class LoopLag:
    """A task that sleeps 1 ms in a loop and records how late it wakes: the event loop's
    stalls, whatever their cause (our code on the loop, the GIL held by a thread, the
    garbage collector)."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _probe(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.001)
            self.lags.append(time.perf_counter() - started - 0.001)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._probe())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


def bulk_watch(db: Any, template: Listing, ids: list[str], watches: int, now: float) -> None:
    """The rows `watches` /watch commands leave (the same tables and values as
    `WatchStore.watch`), written in one transaction: a million one by one
    would take minutes. Every listing is as if checked and decided once, a day ago,
    so the cycles measured are steady state: nothing changed."""
    price = str(template.price)
    columns = {c[1] for c in db.execute("PRAGMA table_info(watched_listings)").fetchall()}
    decided = "decided_at" in columns  # migration 12 (the code before it has none)
    yesterday = now - 86_400
    db.execute("BEGIN")
    db.conn.executemany(
        "INSERT INTO watched_listings (ref_key, platform, listing_id, title, url, price_unit, "
        "price, status, lowest_price, first_seen_at, last_checked_at, last_seen_at, errors) "
        "VALUES (?, 'xianyu', ?, ?, ?, ?, ?, 'on_sale', ?, ?, ?, ?, 0)",
        (
            (
                f"xianyu:{i}",
                i,
                template.title,
                template.url.replace(template.listing_id, i),
                template.price_unit.value,
                price,
                price,
                yesterday - 1,
                yesterday + n * 1e-3,  # staggered: a definite stalest order
                yesterday + n * 1e-3,
            )
            for n, i in enumerate(ids)
        ),
    )
    if decided:
        db.execute(
            "UPDATE watched_listings SET decided_price = price, decided_status = status, "
            "decided_at = last_checked_at"
        )
    db.conn.executemany(
        "INSERT INTO price_history (ref_key, price, status, first_observed_at, "
        "last_observed_at) VALUES (?, ?, 'on_sale', ?, ?)",
        ((f"xianyu:{i}", price, yesterday - 1, yesterday) for i in ids),
    )
    per_listing = watches // len(ids)
    users = max(per_listing, watches // WATCHES_PER_USER)
    db.conn.executemany(
        "INSERT INTO watches (user_id, chat_id, ref_key, rule, watched_price, "
        "base_price, base_status, created_at, updated_at) "
        "VALUES (?, ?, ?, 'any_drop', ?, ?, 'on_sale', ?, ?)",
        (
            (u, u, f"xianyu:{i}", price, price, yesterday - 1, yesterday - 1)
            for index, i in enumerate(ids)
            for k in range(per_listing)
            for u in (1_000_000 + (index * per_listing + k) % users,)
        ),
    )
    db.execute("COMMIT")


async def growth_run(
    watches: int, cycles: int, per_listing: int = SUBSCRIPTIONS_PER_LISTING
) -> dict[str, Any]:
    """Poll cycles where nothing changed over `watches` watches (10 per listing)."""
    poller_module.CHECK_CONCURRENCY = 1  # see day_run
    gc.collect()
    baseline = rss_mb()
    listings = max(1, watches // per_listing)
    # 23:55 in China: a fresh day's polling quota may go into one cycle, so each cycle
    # plans as many checks as half the tier's rate allows (3,000), like `memory_run`
    clock = FakeClock(midnight_china("2026-03-03") - 300)
    with tempfile.TemporaryDirectory() as tmp:
        async with fake_world(
            "xianyu", "enterprise_advanced", clock, Path(tmp) / "growth.sqlite3"
        ) as (sb, s):
            template = await s.gateway.listing(
                ListingRef("xianyu", TEMPLATES["xianyu"]), payer=SYSTEM
            )
            ids = clone_ids("xianyu", listings)
            before_clones = rss_mb()
            add_clones(sb, "xianyu", ids)
            catalogue: Any = sb.state.catalogues["xianyu"]
            for listing_id in ids:  # a set price stops the sandbox's drift: nothing changes
                catalogue.set_price(listing_id, template.price)
            sandbox_mb = rss_mb() - before_clones
            started = time.perf_counter()
            await s.database.run(lambda db: bulk_watch(db, template, ids, watches, clock.time()))
            setup_seconds = time.perf_counter() - started
            after_setup = rss_mb()
            gc.collect()
            gc.freeze()  # as the bot does once started (bot/app.py, post_init)

            store = s.watches
            timings: dict[str, float] = defaultdict(float)
            decisions = [0]
            real_decide = poller_module.decide

            def decide(sub: Any, seen: Any) -> Any:
                decisions[0] += 1
                return real_decide(sub, seen)

            poller_module.decide = decide  # type: ignore[assignment]

            def timed(name: str, method: Any) -> Any:
                async def wrapper(*args: Any, **kwargs: Any) -> Any:
                    started = time.perf_counter()
                    try:
                        return await method(*args, **kwargs)
                    finally:
                        timings[name] += time.perf_counter() - started

                return wrapper

            store.watched_counts = timed("planning", store.watched_counts)  # type: ignore[method-assign]
            store.stalest = timed("planning", store.stalest)  # type: ignore[method-assign]
            store.record_check = timed("recording", store.record_check)  # type: ignore[method-assign]
            probe = LoopLag()
            gc_pauses = Stalls()  # only its garbage-collector hook is used here
            gc.callbacks.append(gc_pauses._on_gc)
            probe.start()
            per_cycle = []
            for n in range(cycles):
                clock.advance(midnight_china("2026-03-03") - 300 + n * 86400 - clock.time())
                timings.clear()
                decisions[0] = 0
                wall, cpu = time.perf_counter(), time.process_time()
                report = await run_poll_cycle(s, None)
                per_cycle.append(
                    {
                        "checks": report.checks,
                        "alerts": report.alerts_created,
                        "decisions": decisions[0],
                        "cycle_s": time.perf_counter() - wall,
                        "cycle_cpu_s": time.process_time() - cpu,
                        "planning_ms": timings["planning"] * 1000,
                        "record_ms_per_check": timings["recording"] * 1000 / max(1, report.checks),
                    }
                )
            probe.stop()
            gc.callbacks.remove(gc_pauses._on_gc)
            poller_module.decide = real_decide  # type: ignore[assignment]
            # what a full collection walks now (the bot's start-up objects are frozen), and
            # one full collection timed on its own, after the cycles
            tracked = len(gc.get_objects())
            wall, cpu = time.perf_counter(), time.thread_time()
            gc.collect()
            full_ms, full_cpu_ms = (
                (time.perf_counter() - wall) * 1000,
                (time.thread_time() - cpu) * 1000,
            )
            lags = probe.lags
            return {
                "watches": watches,
                "listings": listings,
                "cycles": cycles,
                "checks_per_cycle": statistics.median(c["checks"] for c in per_cycle),
                "alerts": sum(c["alerts"] for c in per_cycle),
                "decisions_per_cycle": statistics.median(c["decisions"] for c in per_cycle),
                "cycle_s": round(statistics.median(c["cycle_s"] for c in per_cycle), 2),
                "cycle_cpu_s": round(statistics.median(c["cycle_cpu_s"] for c in per_cycle), 2),
                "planning_ms": round(statistics.median(c["planning_ms"] for c in per_cycle), 1),
                "record_ms_per_check": round(
                    statistics.median(c["record_ms_per_check"] for c in per_cycle), 3
                ),
                "max_loop_lag_ms": round(max(lags, default=0) * 1000, 1),
                "loop_lag_p99_ms": round(
                    statistics.quantiles(lags, n=100)[98] * 1000 if len(lags) > 100 else 0, 2
                ),
                "loop_lags_over_20ms": sum(1 for lag in lags if lag > 0.02),
                "max_gc_pause_ms": round(max(gc_pauses.gc_pauses, default=0) * 1000, 1),
                "max_gc_pause_cpu_ms": round(max(gc_pauses.gc_cpu, default=0) * 1000, 1),
                "tracked_objects_after": tracked,
                "full_collection_ms": round(full_ms, 1),
                "full_collection_cpu_ms": round(full_cpu_ms, 1),
                "setup_s": round(setup_seconds, 1),
                "rss_after_imports_mb": round(baseline, 1),
                "rss_sandbox_catalogue_mb": round(sandbox_mb, 1),
                "rss_after_setup_mb": round(after_setup, 1),
                "peak_rss_mb": round(rss_mb(), 1),
            }


# -- command line ---------------------------------------------------------------------------------------


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in runs[0].items():
        values = [r[key] for r in runs]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            out[key] = statistics.median(values)
        else:
            out[key] = value
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.alerts", description=__doc__)
    sub = parser.add_subparsers(dest="what", required=True)
    b = sub.add_parser("broadcast")
    b.add_argument("--users", type=int, default=10_000)
    b.add_argument("--runs", type=int, default=3)
    b.add_argument("--one-chat", type=int, default=1, help="alerts the first chat gets")
    d = sub.add_parser("day")
    d.add_argument("--listings", type=int, default=2_000)
    d.add_argument("--watches", type=int, default=20_000)
    d.add_argument(
        "--tiers", nargs="*", default=[f"{p}:{t}" for p, ts in TIERS.items() for t in ts]
    )
    host = sub.add_parser("emulator-host", help="internal: the emulator for broadcast")
    host.add_argument("--first", type=int, required=True)
    host.add_argument("--users", type=int, required=True)
    mr = sub.add_parser("memory-run", help="internal: one memory run in this process")
    mr.add_argument("--watches", type=int, default=100_000)
    mr.add_argument("--listings", type=int, default=10_000)
    g = sub.add_parser("growth")
    g.add_argument("--sizes", type=int, nargs="*", default=[1_000, 10_000, 100_000, 1_000_000])
    g.add_argument("--cycles", type=int, default=3)
    g.add_argument("--runs", type=int, default=3)
    gr = sub.add_parser("growth-run", help="internal: one growth run in this process")
    gr.add_argument("--watches", type=int, required=True)
    gr.add_argument("--cycles", type=int, default=3)
    gr.add_argument("--per-listing", type=int, default=SUBSCRIPTIONS_PER_LISTING)
    m = sub.add_parser("memory")
    m.add_argument("--watches", type=int, default=100_000)
    m.add_argument("--listings", type=int, default=10_000)
    m.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    if args.what == "emulator-host":
        asyncio.run(emulator_host(args.first, args.users))
    elif args.what == "broadcast":
        runs = []
        for n in range(args.runs):
            result = asyncio.run(broadcast_run(args.users, args.one_chat))
            print(json.dumps({"run": n + 1, **result}), flush=True)
            runs.append(result)
        print(json.dumps({"median": median_of(runs)}), flush=True)
    elif args.what == "day":
        for spec in args.tiers:
            platform, tier = spec.split(":")
            started = time.perf_counter()
            result = asyncio.run(day_run(platform, tier, args.listings, args.watches))
            result["bench_seconds"] = round(time.perf_counter() - started, 1)
            print(json.dumps(result), flush=True)
    elif args.what == "growth-run":
        result = asyncio.run(growth_run(args.watches, args.cycles, args.per_listing))
        print(json.dumps(result), flush=True)
    elif args.what == "growth":
        # each run in a fresh process, sizes interleaved so a noisy minute hits them all
        results: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for n in range(args.runs):
            for size in args.sizes:
                command = [
                    sys.executable,
                    "-m",
                    "bench.alerts",
                    "growth-run",
                    "--watches",
                    str(size),
                    "--cycles",
                    str(args.cycles),
                ]
                result = json.loads(
                    subprocess.run(command, check=True, capture_output=True, text=True)
                    .stdout.strip()
                    .splitlines()[-1]
                )
                print(json.dumps({"run": n + 1, **result}), flush=True)
                results[size].append(result)
        for size in args.sizes:
            print(json.dumps({"median": median_of(results[size])}), flush=True)
    elif args.what == "memory-run":
        print(json.dumps(asyncio.run(memory_run(args.watches, args.listings))), flush=True)
    else:
        # each run in a fresh process: peak memory is a property of the whole process
        runs = []
        for n in range(args.runs):
            command = [
                sys.executable,
                "-m",
                "bench.alerts",
                "memory-run",
                "--watches",
                str(args.watches),
                "--listings",
                str(args.listings),
            ]
            result = json.loads(
                subprocess.run(command, check=True, capture_output=True, text=True)
                .stdout.strip()
                .splitlines()[-1]
            )
            print(json.dumps({"run": n + 1, **result}), flush=True)
            runs.append(result)
        print(json.dumps({"median": median_of(runs)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
