"""Telegram's ceiling (issue 19 point 7): one bot process's CPU and memory at 28-30 msg/s.

    python -m bench.ceiling [--watches 100000] [--listings 10000] [--chatters 50]
                            [--seconds 60]

The bot process (this one) holds `--watches` watches over `--listings` Xianyu
listings (enterprise_advanced tier), every listing's price dropped and a backlog of alerts
already recorded, so the bot sends at Telegram's ceiling (its limiter's 28.3 msg/s) for the
whole window. Meanwhile its poll job goes on checking the watched listings as in
production, and `--chatters` people chat with it: each pastes a listing link, waits for
the card, reads it for 2-6 s and pastes the next. The Bot API emulator (enforcing
Telegram's limits: 30/s, a private chat 1/s) and the people run in a child process, as
Telegram and its users do. The sandbox platforms stay in this process, so their work
counts against the bot: the figures are an upper bound.

Reported over the window: messages per second at the emulator (all chats), the bot
process's CPU (user+system seconds per wall second: 1.00 = one core saturated), its
resident memory (now and peak), chat replies' p50/p95, polling checks made, 429s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.alerts import TEMPLATES, add_clones, clone_ids, settings_for, watch_all
from bench.chat import Replies
from bot.app import build_application
from bot.services import build_services
from clients.models import ListingRef
from gateway.budget import SYSTEM
from handlers.alerts import run_poll_cycle
from sandbox.server import Sandbox

TOKEN = "100000001:bench-ceiling-token"
FIRST_WATCHER = 1_000_000
FIRST_CHATTER = 9_000_000
THINK = (2.0, 6.0)


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- Telegram and the people, in a child process ------------------------------------------------


async def telegram_side(watchers: int) -> None:
    from sandbox.botapi import BotApiEmulator

    loop = asyncio.get_running_loop()
    async with BotApiEmulator(token=TOKEN, enforce_limits=True) as emulator:
        for chat in range(FIRST_WATCHER, FIRST_WATCHER + watchers):
            emulator.user(chat, first_name="W")
        replies = Replies(emulator)
        print(json.dumps({"base_url": emulator.base_url}), flush=True)
        ask = json.loads(await loop.run_in_executor(None, sys.stdin.readline))
        texts, chatters, seconds = ask["texts"], ask["chatters"], ask["seconds"]
        latencies: list[float] = []
        rng = random.Random(7)
        stop_at = time.perf_counter() + seconds
        calls_before = len(emulator.calls)
        delivered_before = sum(len(v) for v in emulator.delivered.values())

        async def person(n: int) -> None:
            user = emulator.user(FIRST_CHATTER + n, language_code="en")
            await asyncio.sleep(rng.uniform(0, THINK[1]))  # not all at once
            k = n
            while time.perf_counter() < stop_at:
                done = replies.expect(user.id)
                sent = time.perf_counter()
                await emulator.send_text(user, None, texts[k % len(texts)])
                try:
                    latencies.append(await asyncio.wait_for(done, 30) - sent)
                except TimeoutError:
                    latencies.append(30.0)
                k += 1
                await asyncio.sleep(rng.uniform(*THINK))

        started = time.perf_counter()
        await asyncio.gather(*(person(n) for n in range(chatters)))
        wall = time.perf_counter() - started
        delivered = sum(len(v) for v in emulator.delivered.values()) - delivered_before
        sends = sum(
            1
            for call in emulator.calls[calls_before:]
            if call.method in ("sendMessage", "sendPhoto", "sendMediaGroup")
        )
        print(
            json.dumps(
                {
                    "wall": wall,
                    "delivered": delivered,
                    "answers_429": len(emulator.flood_answers),
                    "sends": sends,
                    "latencies": latencies,
                }
            ),
            flush=True,
        )
        await loop.run_in_executor(None, sys.stdin.readline)


# -- the bot ------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def one_run(watches: int, listings: int, chatters: int, seconds: float) -> None:
    watchers = max(watches // listings, watches // 5)  # as watch_all makes them
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.ceiling",
        "--telegram-side",
        "--watchers",
        str(watchers),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=64 * 1024 * 1024,
    )
    assert child.stdin is not None and child.stdout is not None
    base_url = json.loads(await child.stdout.readline())["base_url"]
    with tempfile.TemporaryDirectory() as tmp:
        async with Sandbox(tiers={"xianyu": "enterprise_advanced"}) as sandbox:
            settings = settings_for(
                sandbox,
                Path(tmp) / "ceiling.sqlite3",
                telegram_api_url=base_url,
                telegram_bot_token=TOKEN,
                alert_interval_seconds=60,
            )
            services = build_services(settings)
            template = await services.gateway.listing(
                ListingRef("xianyu", TEMPLATES["xianyu"]), payer=SYSTEM
            )
            ids = clone_ids("xianyu", listings)
            add_clones(sandbox, "xianyu", ids)
            t0 = time.perf_counter()
            await watch_all(services, template, ids, watches, FIRST_WATCHER)
            setup = time.perf_counter() - t0
            catalogue: Any = sandbox.state.catalogues["xianyu"]
            for listing_id in ids:
                catalogue.set_price(listing_id, template.price * Decimal("0.9"))  # type: ignore[operator]
            # a backlog larger than the window can send, so the bot stays at the ceiling
            backlog = 0
            while backlog < 32 * seconds:
                services.watching.credit["xianyu"] = 300.0  # checks this cycle
                report = await run_poll_cycle(services, None, deliver=False)
                backlog += report.alerts_created
            links = [f"https://www.goofish.com/item?id={i}" for i in ids[:20]]
            for ref in links:  # chat users' listings in the cache, as a busy bot's are
                await services.gateway.listing(
                    ListingRef("xianyu", ref.rsplit("=", 1)[1]), payer=SYSTEM
                )
            checks_before = sandbox.state.counters["xianyu"].calls
            application = build_application(settings, services)
            async with application:
                assert application.post_init is not None
                await application.post_init(application)  # as the bot starts: alerts, gc.freeze
                await application.start()
                assert application.updater is not None
                await application.updater.start_polling(poll_interval=0.0, timeout=1)
                await asyncio.sleep(3)  # delivery under way
                cpu0, wall0 = time.process_time(), time.perf_counter()
                child.stdin.write(
                    json.dumps({"texts": links, "chatters": chatters, "seconds": seconds}).encode()
                    + b"\n"
                )
                await child.stdin.drain()
                seen = json.loads(await child.stdout.readline())
                cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
                checks = sandbox.state.counters["xianyu"].calls - checks_before
                result = report_of(seen, watches, setup, backlog, cpu, wall, checks)
                print(f"result: {json.dumps(result)}", flush=True)
                # the rest of the backlog (minutes of alerts) is not measured: stop here
                child.kill()
                shutil.rmtree(tmp, ignore_errors=True)
                os._exit(0)
    raise AssertionError("not reached")


def report_of(
    seen: dict[str, Any],
    watches: int,
    setup: float,
    backlog: int,
    cpu: float,
    wall: float,
    checks: int,
) -> dict[str, Any]:
    lat = seen["latencies"]
    return {
        "watches": watches,
        "setup_s": round(setup, 1),
        "backlog_alerts": backlog,
        "msgs_per_s": round(seen["delivered"] / seen["wall"], 1),
        "cpu_cores": round(cpu / wall, 2),
        "rss_mb": round(rss_mb(), 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "chat_replies": len(lat),
        "chat_p50_s": round(percentile(lat, 0.5), 3),
        "chat_p95_s": round(percentile(lat, 0.95), 3),
        "poll_checks": checks,
        "answers_429": seen["answers_429"],
        "window_s": round(wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watches", type=int, default=100_000)
    parser.add_argument("--listings", type=int, default=10_000)
    parser.add_argument("--chatters", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--telegram-side", action="store_true", help="internal")
    parser.add_argument("--watchers", type=int, default=0, help="internal")
    args = parser.parse_args()
    if args.telegram_side:
        asyncio.run(telegram_side(args.watchers))
        return
    # one run per process: it ends the process when measured (the backlog left is minutes)
    asyncio.run(one_run(args.watches, args.listings, args.chatters, args.seconds))


if __name__ == "__main__":
    main()
