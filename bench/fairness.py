"""Fairness benchmark (issue 9): ordinary users' replies, calm and with one abusive user.

    python bench/fairness.py [--users 20] [--messages 4] [--only NAMES] [--trace]

One process: the sandbox platforms at their smallest tiers (Anjuke personal 50/day,
Xianyu personal 100/day, Aihuishou test 100/day), the Bot API emulator *enforcing*
Telegram's limits (30/s, a chat 1/s with no burst, groups 20/min), and the
real bot (bot.app.build_application, rate limiter on). Every ordinary user pastes links
and asks quotes one message after another (the next when the reply lands); their
listings and quotes are warmed into the cache first, as a busy bot's would be, so what is
measured is what the others cost them, not the platforms.

Scenarios, each run with the same ordinary load: calm, then one abusive user doing one
flood of issue 9 while the ordinary users work (the flood starts first); then another
process holding the database's write lock throughout; "trickling Xianyu": the platform
sends headers and then a byte a second to newcomers' uncached links; "inline flood": one
user sends 300 inline queries naming listings (a third of them uncached); the last, "3,000
alerts delivered": 3,000 people watch one item (set up before the scenario's clock
starts), it drops, and the alerts go out while the ordinary users chat (issue 19.1).
Every scenario
has its own `--users` ordinary users, new to the bot: the same 20 people sending 4
messages a scenario through 7 scenarios back to back would send 28 messages in about 40 s,
faster than the flood guard's sane rate (bot/flood.py: 8 back to back, then 20 a minute),
and from the fourth scenario on the bot rightly told them to slow down and then skipped
their messages (one warning per burst): the lost replies were the bench's, not the
bot's. What else an earlier scenario leaves (a flood's updates still being handled,
hanging Beike lookups still awaited, the platforms' spent quota) stays, as it would in a
deployment. Printed per scenario: ordinary users' reply latency p50/p95, the p95 ratio
abused/calm (goal <= 1.5), ordinary replies that refused for quota (goal 0), ordinary
messages told to slow down or left without a reply within a minute (goal 0), the abusive
user's upstream calls (the sandbox's counters during the scenario; the ordinary users'
lookups are all cached) against their daily budget (the gateway's, all platforms
together), and Telegram 429 answers (goal 0). `--trace` prints to stderr, per scenario,
the tasks still pending at its start, whom the flood guard turned away, the busiest
second at the emulator and, for each 429, the chat and the limit that answered it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telegram import Update

from bench.chat import Replies
from bot.app import build_application
from bot.config import load_settings
from bot.flood import FloodGuard
from bot.services import build_services
from clients.models import ListingRef
from clock import FakeClock
from gateway.budget import SYSTEM
from handlers.alerts import run_poll_cycle
from handlers.texts import t
from sandbox.botapi import BotApiEmulator, User
from sandbox.core import Fault
from sandbox.lock_holder import write_lock_held_elsewhere
from sandbox.server import Sandbox

TOKEN = "123456:BENCH-TOKEN-not-a-secret"
TIERS = {"anjuke": "personal", "xianyu": "personal", "aihuishou": "test"}
QUOTES = [
    "/quote iPhone 14 128G 99新 功能正常",
    "/quote 华为P60 8+256 95新 功能正常",
    "/quote 小米14 12+256 95新 功能正常",
]
REPLY_WAIT = 60.0
NO_REPLY = "(no reply within a minute)"
HANG_SECONDS = 20.0  # a hanging Beike answers after this long (longer than any patience)
TRICKLE_SECONDS = 120.0  # a trickling answer would go on this long, were it read to the end
SLOW_DOWN = t("en", "slow_down")


class Bench:
    def __init__(self, sandbox: Sandbox, emulator: BotApiEmulator, services: Any) -> None:
        self.sandbox = sandbox
        self.emulator = emulator
        self.services = services
        self.replies = Replies(emulator)
        self.next_user = 100_000
        self.bot: Any = None
        self.alert_item: tuple[str, Any] = ("", None)

    def new_user(self) -> User:
        self.next_user += 1
        return self.emulator.user(self.next_user, language_code="en")

    def upstream_calls(self) -> int:
        return sum(c.calls for c in self.sandbox.state.counters.values())

    async def ask(self, user: User, text: str) -> tuple[float, str]:
        """Send `text`, wait for the first reply; (seconds, reply text), NO_REPLY after a minute."""
        future = self.replies.expect(user.id)
        started = time.perf_counter()
        await self.emulator.send_text(user, None, text)
        try:
            landed = await asyncio.wait_for(future, REPLY_WAIT)
        except TimeoutError:
            print(f"no reply to user {user.id}: {text[:60]!r}", file=sys.stderr)
            return REPLY_WAIT, NO_REPLY
        return landed - started, self.emulator.sent[user.id][-1].visible

    async def ordinary(self, users: list[User], texts: list[str], messages: int) -> list[str]:
        """Each user sends `messages` texts one after another; return every reply."""
        self.latencies: list[float] = []
        self.slowest: list[tuple[float, str, str]] = []  # (seconds, asked, first reply)
        replies: list[str] = []

        async def one(n: int, user: User) -> None:
            for k in range(messages):
                text = texts[(n + k) % len(texts)]
                seconds, reply = await self.ask(user, text)
                self.latencies.append(seconds)
                self.slowest.append((seconds, text, reply))
                replies.append(reply)

        await asyncio.gather(*(one(n, u) for n, u in enumerate(users)))
        return replies


def ordinary_texts(sandbox: Sandbox) -> list[str]:
    catalogues = sandbox.state.catalogues
    links = [f"https://www.goofish.com/item?id={i}" for i in catalogues["xianyu"].ids()[:4]]
    links += [f"https://bj.ke.com/ershoufang/{c}.html" for c in catalogues["beike"].ids()[:3]]
    links += [f"https://bj.anjuke.com/prop/view/{h}" for h in catalogues["anjuke"].ids()[:2]]
    return links + QUOTES


# -- the floods of issue 9 ----------------------------------------------------------------


async def short_messages(bench: Bench) -> None:
    user = bench.new_user()
    for n in range(200):
        await bench.emulator.send_text(user, None, f"hi {n}")


async def many_links(bench: Bench) -> None:
    user = bench.new_user()
    ids = bench.sandbox.state.catalogues["xianyu"].ids()
    for n in range(300):
        await bench.emulator.send_text(
            user, None, f"https://www.goofish.com/item?id={ids[n % len(ids)]}"
        )


async def inline_flood(bench: Bench) -> None:
    """One user types `@bot <link>` 300 times as fast as the client sends (issue 18):
    listings already cached and 100 nobody asked for, each an inline query."""
    user = bench.new_user()
    ids = bench.sandbox.state.catalogues["xianyu"].ids()
    rng = random.Random(18_1)
    for n in range(300):
        item = ids[n % len(ids)] if n % 3 else rng.randrange(10**12, 10**13)
        await bench.emulator.send_inline_query(user, f"https://www.goofish.com/item?id={item}")


async def long_texts(bench: Bench) -> None:
    user = bench.new_user()
    for n in range(30):
        await bench.emulator.send_text(user, None, (f"a.{n}" * 1400)[:4096])


async def hanging_beike(bench: Bench) -> None:
    bench.sandbox.state.inject("beike", Fault("timeout", delay=HANG_SECONDS), times=40)
    codes = [f"1011{n:08d}" for n in range(40)]  # not cached: each goes upstream and hangs
    for code in codes:
        await bench.emulator.send_text(
            bench.new_user(), None, f"https://bj.ke.com/ershoufang/{code}.html"
        )


async def trickling_xianyu(bench: Bench) -> None:
    """Xianyu sends its headers, then a byte a second (issue 18): 20 newcomers' uncached
    links each trickle until the platform's deadline (10 s), retries included."""
    trickle = Fault("trickle", delay=TRICKLE_SECONDS, interval=1.0)
    bench.sandbox.state.inject("xianyu", trickle, times=60)
    rng = random.Random(18)
    for _ in range(20):
        link = f"https://www.goofish.com/item?id={rng.randrange(10**12, 10**13)}"
        await bench.emulator.send_text(bench.new_user(), None, link)


async def new_xianyu_ids(bench: Bench) -> None:
    user = bench.new_user()
    rng = random.Random(9)
    for _ in range(10):
        links = [
            f"https://www.goofish.com/item?id={rng.randrange(10**12, 10**13)}" for _ in range(10)
        ]
        await bench.emulator.send_text(user, None, "\n".join(links))


async def quote_lines(bench: Bench) -> None:
    user = bench.new_user()
    models = ["iPhone 12", "iPhone 13", "iPhone 15", "iPhone 15 Pro", "小米14"]
    conditions = ["95新", "九成新", "99新", "八成新"]
    lines = [f"{m} 256G {c} 功能正常" for m in models for c in conditions]
    for _ in range(5):
        await bench.emulator.send_text(user, None, "/quote " + "\n".join(lines))


async def locked_database(bench: Bench) -> None:
    """Another process holds the bot's write lock for the whole scenario, while newcomers
    paste listings nobody asked for before (quota and budget counted, written behind)."""
    path = bench.services.settings.database_path
    async with write_lock_held_elsewhere(path):
        rng = random.Random(11)
        seconds = []
        for _ in range(20):
            link = f"https://www.goofish.com/item?id={rng.randrange(10**12, 10**13)}"
            seconds.append((await bench.ask(bench.new_user(), link))[0])
        print(
            f"  (newcomers' uncached cards under the lock: p50 {percentile(seconds, 0.5):.3f} s, "
            f"max {max(seconds):.3f} s)",
            flush=True,
        )
        await asyncio.Event().wait()  # held until the ordinary users are done


ALERTS = 3_000


async def watched_by_thousands(bench: Bench) -> None:
    """Before its scenario: 3,000 people (chats of their own) watch one Xianyu item.

    Xianyu has recovered by now: an earlier scenario's faults are cleared and its
    circuit closed (the fake clock never reaches the breaker's cooldown), or the set-up's
    one lookup and the scenario's check would be refused."""
    bench.sandbox.state.clear_faults()
    bench.services.gateway._platforms["xianyu"].breaker.success()
    catalogue = bench.sandbox.state.catalogues["xianyu"]
    [item] = catalogue.add_copies(1, first_id=880_000_000_000)
    listing = await bench.services.gateway.listing(ListingRef("xianyu", item), payer=SYSTEM)
    for _ in range(ALERTS):
        user = bench.new_user()
        await bench.services.watches.add(
            user_id=user.id,
            chat_id=user.id,
            listing=listing,
            rule="any_drop",
            rule_value=None,
            base_price=listing.price,
            max_per_user=10**6,
        )
    bench.alert_item = (item, listing.price)


async def alerts_delivered(bench: Bench) -> None:
    """The watched item drops: one check, then 3,000 alerts go out (issue 19.1) while the
    ordinary users chat; chat replies take the limiter's lane before alerts."""
    item, price = bench.alert_item
    bench.sandbox.state.catalogues["xianyu"].set_price(item, price * Decimal("0.9"))
    bench.services.watching.credit["xianyu"] = 1.0  # the poll plan's share for one check
    started = time.perf_counter()
    report = await run_poll_cycle(bench.services, bench.bot)
    print(f"  ({report.alerts_created} alerts, delivered in {time.perf_counter() - started:.1f} s)")


#: what a scenario needs done before its clock starts
PREPARE: dict[str, Callable[[Bench], Awaitable[None]]] = {
    "3,000 alerts delivered": watched_by_thousands,
}

FLOODS: dict[str, Callable[[Bench], Awaitable[None]]] = {
    "200 short messages": short_messages,
    "300 links": many_links,
    "30 texts of 4,096 chars": long_texts,
    "inline flood, 300 queries": inline_flood,
    "hanging Beike, 40 users": hanging_beike,
    "trickling Xianyu, 20 users": trickling_xianyu,
    "100 new Xianyu IDs": new_xianyu_ids,
    "100 quote lines": quote_lines,
    "write lock held elsewhere": locked_database,
    "3,000 alerts delivered": alerts_delivered,
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Trace:
    """`--trace`: why an ordinary message got no reply, and what sent a 429 (to stderr)."""

    def __init__(self, emulator: BotApiEmulator, guard: FloodGuard) -> None:
        self.emulator = emulator
        self.ordinary: set[int] = set()
        self.turned_away: list[int] = []  # users whose update the flood guard dropped
        self.since = 0.0
        screen, limits = guard.screen, emulator._limits  # probed here
        take = limits.acquire

        async def traced_screen(update: object) -> bool:
            admitted = await screen(update)
            if not admitted and isinstance(update, Update) and update.effective_user:
                self.turned_away.append(update.effective_user.id)
            return admitted

        def traced_take(chat: Any, count: int = 1) -> None:
            try:
                take(chat, count)
            except Exception:  # a refused message is not recorded: the second is as it was
                busiest = self.last_second(self.emulator.clock.monotonic())
                who = "ordinary" if chat.id in self.ordinary else "other"
                limit = "all chats' 30/s" if busiest + count > 30 else "the chat's own"
                print(
                    f"  429: {who} chat {chat.id}, {limit} ({busiest} sent in the last second)",
                    file=sys.stderr,
                )
                raise

        guard.screen = traced_screen  # type: ignore[method-assign]
        limits.acquire = traced_take  # type: ignore[method-assign]

    def last_second(self, now: float) -> int:
        return sum(now - 1.0 < at for sent in self.emulator.delivered.values() for at in sent)

    def start(self, name: str, people: list[User]) -> None:
        self.ordinary = {user.id for user in people}
        self.turned_away.clear()
        self.since = self.emulator.clock.monotonic()
        tasks = Counter(task.get_coro().__qualname__ for task in asyncio.all_tasks())
        print(
            f"{name}: {tasks.total()} tasks pending at the start, most: {tasks.most_common(3)}",
            file=sys.stderr,
        )

    def end(self) -> None:
        ordinary = [u for u in self.turned_away if u in self.ordinary]
        print(
            f"  flood guard turned away {len(ordinary)} ordinary messages "
            f"({len(set(ordinary))} users), {len(self.turned_away) - len(ordinary)} others; "
            f"busiest second: {self.busiest_second()} messages",
            file=sys.stderr,
        )

    def busiest_second(self) -> int:
        times = sorted(
            at for sent in self.emulator.delivered.values() for at in sent if at >= self.since
        )
        first = 0
        busiest = 0
        for last, at in enumerate(times):
            while times[first] <= at - 1.0:
                first += 1
            busiest = max(busiest, last - first + 1)
        return busiest


def budget_text(services: Any) -> str:
    """What one user may spend upstream in a day, all platforms together (issue 9.1)."""
    gateway = services.gateway
    limits = [gateway.budget_limit(platform) for platform in gateway.platforms]
    return str(sum(limit for limit in limits if limit is not None))


async def run(users: int, messages: int, only: str | None = None, trace: bool = False) -> None:
    clock = FakeClock()
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            Sandbox(clock=clock, tiers=TIERS) as sandbox,
            BotApiEmulator(token=TOKEN, enforce_limits=True) as emulator,
        ):
            settings = load_settings(
                **sandbox.settings_overrides(),
                telegram_api_url=emulator.base_url,
                telegram_bot_token=TOKEN,
                database_path=Path(tmp) / "fairness.sqlite3",
            )
            services = build_services(settings, clock)
            application = build_application(settings, services)
            async with application:
                await application.start()
                await application.updater.start_polling(poll_interval=0.0, timeout=1)
                bench = Bench(sandbox, emulator, services)
                bench.bot = application.bot
                texts = ordinary_texts(sandbox)
                warm = bench.new_user()
                for text in texts:  # into the cache (and the photos uploaded once)
                    await bench.ask(warm, text)
                quota_text = t("en", "error_quota_exhausted", platform="")[:20]
                tracer = Trace(emulator, application.update_processor.guard) if trace else None

                async def scenario(
                    name: str, flood: Callable[[Bench], Awaitable[None]] | None
                ) -> dict[str, Any]:
                    if name in PREPARE:
                        await PREPARE[name](bench)
                    people = [bench.new_user() for _ in range(users)]  # see the docstring
                    if tracer:
                        tracer.start(name, people)
                    floods_before = len(emulator.flood_answers)
                    calls_before = bench.upstream_calls()
                    abuse = asyncio.create_task(flood(bench)) if flood else None
                    await asyncio.sleep(0)  # the flood starts first
                    replies = await bench.ordinary(people, texts, messages)
                    if abuse is not None:
                        abuse.cancel()  # a flood still being typed stops with the scenario
                        await asyncio.gather(abuse, return_exceptions=True)  # (a lock given back)
                    if tracer:
                        tracer.end()
                        for seconds, asked, reply in sorted(bench.slowest, reverse=True)[:5]:
                            print(
                                f"  slow: {seconds:.3f} s for {asked[:48]!r} -> {reply[:48]!r}",
                                file=sys.stderr,
                            )
                    return {
                        "p50": percentile(bench.latencies, 0.5),
                        "p95": percentile(bench.latencies, 0.95),
                        "refused": sum(quota_text in r for r in replies),
                        "slowed": sum(r in (SLOW_DOWN, NO_REPLY) for r in replies),
                        "abuser_calls": bench.upstream_calls() - calls_before,
                        "429": len(emulator.flood_answers) - floods_before,
                    }

                calm = await scenario("calm", None)
                print(
                    f"{'scenario':26} {'p50 s':>7} {'p95 s':>7} {'p95 x':>6} {'refused':>8} "
                    f"{'slowed/lost':>11} {'abuser upstream/budget':>23} {'429s':>5}"
                )
                print(
                    f"{'calm':26} {calm['p50']:7.3f} {calm['p95']:7.3f} {1.0:6.2f} "
                    f"{calm['refused']:8d} {calm['slowed']:11d} {'-':>23} {calm['429']:5d}"
                )
                for name, flood in FLOODS.items():
                    if only and not any(part in name for part in only.split(",")):
                        continue
                    abused = await scenario(name, flood)
                    ratio = abused["p95"] / calm["p95"]
                    upstream = f"{abused['abuser_calls']}/{budget_text(services)}"
                    print(
                        f"{name:26} {abused['p50']:7.3f} {abused['p95']:7.3f} {ratio:6.2f} "
                        f"{abused['refused']:8d} {abused['slowed']:11d} {upstream:>23} "
                        f"{abused['429']:5d}",
                        flush=True,
                    )
                sandbox.state.clear_faults()
                await application.updater.stop()
                await application.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--messages", type=int, default=4)
    parser.add_argument("--only", help="run the calm scenario and the floods named so")
    parser.add_argument("--trace", action="store_true", help="why replies were late (stderr)")
    args = parser.parse_args()
    asyncio.run(run(args.users, args.messages, args.only, args.trace))


if __name__ == "__main__":
    main()
