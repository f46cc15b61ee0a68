"""Fair-price benchmark (issue 21): 100 users press "💡 Fair price?" on 20 items.

    python bench/fair_price.py [--users 100] [--items 20]

One sandbox (Xianyu enterprise_advanced, so `same_items` and `trade_record` are
answered), the local Bot API emulator and the real bot (bot.app.build_application,
rate limiter off: Telegram's pace is not our cost; flood control roomy, since each
user presses 20 buttons back to back), all in this process on 127.0.0.1, on a fake
clock that never moves (every answer stays within its 5-minute lifetime):

1. the 20 items' cards are posted in a group (20 calls: the cards themselves);
2. all 100 users press "💡 Fair price?" on every card at once: 2,000 callback
   queries, answered as 2,000 messages.

Counts the upstream calls the presses cost, by the sandbox's own count (goal: at most
20, one per item: the gateway's cache and single-flight), the answers, the charts drawn
(one per item, then sent by file_id) and the time from the first press to the last
answer.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.__main__ import start_updates
from bot.app import build_application
from bot.config import load_settings
from bot.rate_limiter import FloodSafeRateLimiter
from bot.services import build_services
from clients.models import ListingRef
from clock import FakeClock
from handlers import callbacks as cb
from handlers import deals
from sandbox.botapi import BotApiEmulator
from sandbox.server import Sandbox

TOKEN = "123456:BENCH-TOKEN-not-a-secret"
GROUP = -100777


async def run(users: int, items: int, tmp: Path) -> dict[str, float]:
    clock = FakeClock()
    async with (
        Sandbox(clock=clock, tiers={"xianyu": "enterprise_advanced"}) as sandbox,
        BotApiEmulator(token=TOKEN) as emulator,
    ):
        ids = sandbox.state.catalogues["xianyu"].add_copies(items, first_id=880_000_000_000)
        settings = load_settings(
            **sandbox.settings_overrides(),
            telegram_api_url=emulator.base_url,
            telegram_bot_token=TOKEN,
            database_path=tmp / "bench.sqlite3",
            flood_burst=1000,
        )
        services = build_services(settings, clock)
        application = build_application(
            settings,
            services,
            rate_limiter=FloodSafeRateLimiter(
                private_burst=10_000, private_per_second=1e6, group_burst=10_000, group_period=1.0
            ),
        )
        await application.initialize()
        await application.start()
        await application.post_init(application)
        stop = await start_updates(application, settings, poll_timeout=1)
        try:
            group = emulator.group_chat(GROUP, "bench")
            poster = emulator.user(1, language_code="en")
            for n, item_id in enumerate(ids, 1):
                await emulator.send_text(
                    poster, group, f"https://www.goofish.com/item?id={item_id}"
                )
                await emulator.wait_for_messages(GROUP, n, timeout=30)
            cards = list(emulator.sent[GROUP])
            calls_before = sandbox.state.counters["xianyu"].calls
            drawn_before = deals.charts_drawn
            pressers = [emulator.user(1000 + u, language_code="en") for u in range(users)]
            started = time.perf_counter()
            await asyncio.gather(
                *(
                    emulator.press_data(
                        user, card, cb.encode(cb.FairPrice(ListingRef("xianyu", item_id)))
                    )
                    for user in pressers
                    for card, item_id in zip(cards, ids, strict=True)
                )
            )
            await emulator.wait_for_messages(GROUP, items + users * items, timeout=600)
            seconds = time.perf_counter() - started
            answers = list(emulator.sent[GROUP])[items:]
            charts = len({a.photo.file_id for a in answers if a.photo is not None})
            return {
                "presses": users * items,
                "answers": len(answers),
                "fair_price_answers": sum(a.visible.startswith("💡") for a in answers),
                "upstream_calls": sandbox.state.counters["xianyu"].calls - calls_before,
                "charts": charts,
                "drawn": deals.charts_drawn - drawn_before,
                "seconds": seconds,
            }
        finally:
            await stop()
            await application.stop()
            await application.shutdown()
            await services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--items", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(run(args.users, args.items, Path(tmp)))
    print(
        f"{result['presses']} presses ({args.users} users x {args.items} items): "
        f"{result['answers']} answers ({result['fair_price_answers']} fair-price), "
        f"{result['upstream_calls']} upstream Xianyu calls (goal <= {args.items}), "
        f"{result['drawn']} charts drawn ({result['charts']} file_ids), {result['seconds']:.1f} s"
    )
    if result["upstream_calls"] > args.items or result["fair_price_answers"] != result["presses"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
