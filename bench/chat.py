"""Chat benchmark: listing cards per second on cache hits, against a bare PTB echo bot.

    python bench/chat.py [--runs 5] [--clients 16] [--messages 40] [--per-user 4]
    python bench/chat.py --runs 3 --profile /tmp/chat   # cProfile of both bots, compared


Per run, one sandbox in this process and one local Bot API emulator (sandbox/botapi.py,
limits off) in a child process together with the simulated users, as Telegram and its
users are outside a real bot's process:
1. a bare python-telegram-bot echo bot, configured exactly like the bot (the same request
   class, connection pool, timeouts, defaults and number of concurrent updates; no rate
   limiter)
   answers `--clients` concurrent senders, each sending `--messages` texts one after
   another (the next as soon as the reply lands): replies per second and the time from
   update to reply, both measured on the Telegram side. Each sender is a series of
   ordinary users who send `--per-user` messages each (within the flood guard's burst,
   FLOOD_BURST 8), so the bot's flood control stays on and is never what is measured;
2. the real bot (bot.app.build_application, rate limiter off as for the echo bot, since
   the limiter's 28.3/s is Telegram's cap, not our cost) does the same with links to
   listings already in the gateway's cache: one card per message.
Prints both, the ratio card/echo (goal >= 0.9), p50/p99 update -> card, and the bot
process's CPU per reply for each (all its threads, timed part only: steadier than replies
per second on a shared machine), and the Telegram side's CPU per reply (the emulator's work
differs too: a card is a photo message whose caption is HTML-checked and whose keyboard is
stored; on two cores its process can be what sets the pace). Figures are medians over the
runs. Before each timed part, what exists is frozen for the garbage collector
(`gc.freeze()`), as the bot does once started (bot/app.py `_post_init`, which this bench
does not run), for both bots alike, and unfrozen after. The sandbox clock is fake and never moves, so every lookup after the warm-up is a
cache hit (the warm-up also uploads the photos, whose file_ids are then reused as the bot
does).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import pstats
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from bot.app import BOT_API_CONNECTIONS, BOT_API_POOL_TIMEOUT, UPDATE_WORKERS, build_application
from bot.config import load_settings
from bot.json_request import JsonRequest
from bot.services import build_services
from clock import FakeClock
from sandbox.botapi import BotApiEmulator, BotEvent
from sandbox.server import Sandbox

TOKEN = "123456:BENCH-TOKEN-not-a-secret"
TIERS = {"anjuke": "enterprise_advanced", "xianyu": "enterprise_advanced"}
LINKS = [
    "https://www.goofish.com/item?id={}",
    "https://bj.ke.com/ershoufang/{}.html",
]


class Replies:
    """Resolves a waiting client when the bot's next message lands in its chat."""

    def __init__(self, emulator: BotApiEmulator) -> None:
        self.waiting: dict[int, asyncio.Future[float]] = {}
        self.counts: defaultdict[int, int] = defaultdict(int)
        emulator.add_listener(self.on_event)

    def on_event(self, event: BotEvent) -> None:
        if event.kind not in ("message", "album"):
            return
        self.counts[event.chat_id] += len(event.messages)
        future = self.waiting.pop(event.chat_id, None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    def expect(self, chat_id: int) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[chat_id] = future
        return future


# -- the Telegram side: the emulator and the people typing, in a process of their own ----------


async def drive(
    emulator: BotApiEmulator,
    replies: Replies,
    texts: list[str],
    clients: int,
    messages: int,
    first_user: int,
    per_user: int,
) -> dict[str, Any]:
    """Closed loop: each client sends, waits for the reply, sends again; every
    `per_user` messages the next ordinary user takes over."""
    latencies: list[float] = []
    users_per_client = -(-messages // per_user)

    async def client(n: int) -> None:
        for k in range(messages):
            user_id = first_user + n * users_per_client + k // per_user
            user = emulator.user(user_id, language_code="en")
            done = replies.expect(user.id)
            sent = time.perf_counter()
            await emulator.send_text(user, None, texts[(n + k) % len(texts)])
            latencies.append(await asyncio.wait_for(done, 30) - sent)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(client(n) for n in range(clients)))
    rate = clients * messages / (time.perf_counter() - started)
    cpu_ms = (time.process_time() - cpu) / (clients * messages) * 1000
    users = range(first_user, first_user + clients * users_per_client)
    extra = sum(replies.counts[u] for u in users) - clients * messages
    return {"rate": rate, "latencies": latencies, "extra": extra, "cpu": cpu_ms}


async def warm_up(emulator: BotApiEmulator, replies: Replies, candidates: list[str]) -> list[str]:
    """Ask each listing once, each from a user of its own (an ordinary user asks for a few
    listings, not all of them: the flood guard stays on); keep those answered with exactly
    one message (a card)."""
    kept = []
    for n, text in enumerate(candidates):
        user = emulator.user(900_000 + n, language_code="en")
        before = len(emulator.sent[user.id])
        done = replies.expect(user.id)
        await emulator.send_text(user, None, text)
        await asyncio.wait_for(done, 30)
        await asyncio.sleep(0.05)  # a second message (text after its photo) would land now
        answer = emulator.sent[user.id][before:]
        if len(answer) == 1 and answer[0].buttons:  # a card, not an error
            kept.append(text)
    return kept


async def telegram_side() -> None:
    """The emulator and the benchmark's users, driven by JSON lines on stdin.

    Telegram's servers and the people typing are not in the bot's process: hosting them
    there would charge the emulator's own work (serialising, the HTML check of every
    caption) and its event-loop pauses to the bot being measured.
    """
    loop = asyncio.get_running_loop()
    async with BotApiEmulator(token=TOKEN) as emulator:
        replies = Replies(emulator)
        print(json.dumps({"base_url": emulator.base_url}), flush=True)
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            ask = json.loads(line)
            if ask["do"] == "warm":
                answer: Any = await warm_up(emulator, replies, ask["texts"])
            elif ask["do"] == "drive":
                answer = await drive(
                    emulator,
                    replies,
                    ask["texts"],
                    ask["clients"],
                    ask["messages"],
                    ask["first"],
                    ask["per_user"],
                )
            else:
                return
            print(json.dumps(answer), flush=True)


class TelegramSide:
    """The bot's end of the pipe to `telegram_side` running in a child process."""

    async def __aenter__(self) -> TelegramSide:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--telegram-side",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=16 * 1024 * 1024,
        )
        self.base_url: str = (await self._read())["base_url"]
        return self

    async def ask(self, **request: Any) -> Any:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        await self.process.stdin.drain()
        return await self._read()

    async def _read(self) -> Any:
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError("the Telegram side stopped")
        return json.loads(line)

    async def __aexit__(self, *exc: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        await self.process.wait()


# -- the bot side --------------------------------------------------------------------------------


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(update.message.text)


async def polling(application: Application) -> None:  # type: ignore[type-arg]
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0.0, timeout=1, drop_pending_updates=True)


async def stopping(application: Application) -> None:  # type: ignore[type-arg]
    assert application.updater is not None
    await application.updater.stop()
    await application.stop()


def echo_application(api: str) -> Application:  # type: ignore[type-arg]
    """The echo bot, built with the bot's own PTB settings (bot/app.py): its request class
    (JSON bodies, bot/json_request.py; the bot's subclass only adds health receipts) with
    the same pool and timeouts, the same defaults and number of concurrent updates."""
    builder = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .concurrent_updates(UPDATE_WORKERS)
        .request(
            JsonRequest(
                connect_timeout=10,
                connection_pool_size=BOT_API_CONNECTIONS,
                pool_timeout=BOT_API_POOL_TIMEOUT,
                read_timeout=20,
            )
        )
        .get_updates_request(JsonRequest(connection_pool_size=1, read_timeout=40))
    )
    return builder.build()


async def one_run(
    tmp: Path,
    clients: int,
    messages: int,
    per_user: int,
    card_first: bool,
    profiles: dict[str, cProfile.Profile] | None = None,
) -> dict[str, Any]:
    clock = FakeClock()
    async with Sandbox(clock=clock, tiers=TIERS) as sandbox, TelegramSide() as telegram:
        api = telegram.base_url
        result: dict[str, Any] = {}

        async def echo_phase() -> None:
            echo_app = echo_application(api)
            echo_app.add_handler(MessageHandler(filters.TEXT, echo))
            async with echo_app:
                await polling(echo_app)
                gc.freeze()  # as the bot does once it has started (bot/app.py `_post_init`)
                if profiles is not None:
                    profiles["echo"].enable()
                cpu = time.process_time()
                done = await telegram.ask(
                    do="drive",
                    texts=["hello"],
                    clients=clients,
                    messages=messages,
                    first=10_000,
                    per_user=per_user,
                )
                if profiles is not None:
                    profiles["echo"].disable()
                result["echo_cpu"] = (time.process_time() - cpu) / (clients * messages) * 1000
                result["echo_tg_cpu"] = done["cpu"]
                result["echo"], result["echo_lat"] = done["rate"], done["latencies"]
                gc.unfreeze()  # each phase starts from the same collector state
                await stopping(echo_app)

        async def card_phase() -> None:
            settings = load_settings(
                **sandbox.settings_overrides(),
                telegram_api_url=api,
                telegram_bot_token=TOKEN,
                database_path=tmp / f"bench-{time.monotonic_ns()}.sqlite3",
            )
            services = build_services(settings, clock)
            bot_app = build_application(settings, services, rate_limiter=False)
            async with bot_app:
                await polling(bot_app)
                texts = await telegram.ask(do="warm", texts=candidates(sandbox))
                before = sum(c.calls for c in sandbox.state.counters.values())
                gc.freeze()  # what the bot's `_post_init` does at start (not run by this bench)
                if profiles is not None:
                    profiles["card"].enable()
                cpu = time.process_time()
                done = await telegram.ask(
                    do="drive",
                    texts=texts,
                    clients=clients,
                    messages=messages,
                    first=200_000,
                    per_user=per_user,
                )
                if profiles is not None:
                    profiles["card"].disable()
                result["card_cpu"] = (time.process_time() - cpu) / (clients * messages) * 1000
                result["card_tg_cpu"] = done["cpu"]
                result["card"], result["card_lat"] = done["rate"], done["latencies"]
                result["upstream"] = sum(c.calls for c in sandbox.state.counters.values()) - before
                result["extra"] = done["extra"]
                result["listings"] = len(texts)
                gc.unfreeze()
                await stopping(bot_app)

        # alternate the order between runs, so neither bot always gets the warmer process
        for phase in (card_phase, echo_phase) if card_first else (echo_phase, card_phase):
            await phase()
    return result


def candidates(sandbox: Sandbox) -> list[str]:
    xianyu = sandbox.state.catalogues["xianyu"]
    beike = sandbox.state.catalogues["beike"]
    return [LINKS[0].format(i) for i in xianyu.ids()] + [LINKS[1].format(c) for c in beike.ids()]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--messages", type=int, default=40)
    parser.add_argument("--per-user", type=int, default=4, help="messages each user sends")
    parser.add_argument(
        "--profile",
        metavar="PREFIX",
        help="cProfile the bot process over each phase's timed part (the event loop's thread), "
        "write PREFIX.echo and PREFIX.card and print where the card's extra time goes; the "
        "CPU figures are then the profiler's, not the bot's",
    )
    parser.add_argument("--telegram-side", action="store_true", help="internal: the emulator")
    args = parser.parse_args()
    profiles = {"echo": cProfile.Profile(), "card": cProfile.Profile()} if args.profile else None
    if args.telegram_side:
        asyncio.run(telegram_side())
        return
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(1, args.runs + 1):
            r = asyncio.run(
                one_run(
                    Path(tmp), args.clients, args.messages, args.per_user, run % 2 == 0, profiles
                )
            )
            r["ratio"] = r["card"] / r["echo"]
            r["cpu_ratio"] = r["echo_cpu"] / r["card_cpu"]
            for name in ("echo", "card"):
                r[f"{name}_p50"] = percentile(r[f"{name}_lat"], 0.50) * 1000
                r[f"{name}_p99"] = percentile(r[f"{name}_lat"], 0.99) * 1000
            results.append(r)
            print(
                f"run {run}: echo {r['echo']:.0f}/s (p50 {r['echo_p50']:.1f} ms, p99 "
                f"{r['echo_p99']:.1f} ms); cards {r['card']:.0f}/s (p50 {r['card_p50']:.1f} ms, "
                f"p99 {r['card_p99']:.1f} ms); ratio {r['ratio']:.2f}; upstream calls "
                f"{r['upstream']}, extra messages {r['extra']}, {r['listings']} listings; bot CPU per "
                f"reply echo {r['echo_cpu']:.2f} ms, card {r['card_cpu']:.2f} ms; Telegram side's "
                f"CPU per reply echo {r['echo_tg_cpu']:.2f} ms, card {r['card_tg_cpu']:.2f} ms"
            )

    def median(key: str) -> float:
        return statistics.median(r[key] for r in results)

    n = args.clients * args.messages
    print()
    print(
        f"{args.clients} clients x {args.messages} messages = {n} per bot per run; medians of {args.runs}"
    )
    print(f"echo bot replies per second:        {median('echo'):.0f}")
    print(f"card replies per second (cache hit): {median('card'):.0f}")
    print(f"ratio cards / echo:                  {median('ratio'):.2f} (goal >= 0.9)")
    print(
        f"update -> card p50 / p99:            {median('card_p50'):.1f} ms / {median('card_p99'):.1f} ms"
    )
    print(
        f"update -> echo p50 / p99:            {median('echo_p50'):.1f} ms / {median('echo_p99'):.1f} ms"
    )
    print(
        f"bot process CPU per reply:           echo {median('echo_cpu'):.2f} ms, card "
        f"{median('card_cpu'):.2f} ms; echo/card {median('cpu_ratio'):.2f}"
    )
    print(
        f"Telegram side's CPU per reply:       echo {median('echo_tg_cpu'):.2f} ms, card "
        f"{median('card_tg_cpu'):.2f} ms (the emulator and the users, in their own process)"
    )
    print(f"upstream calls during the timed part: {median('upstream'):.0f} (all cache hits if 0)")
    if profiles is not None:
        compare_profiles(profiles, args.profile, n * args.runs)


def compare_profiles(profiles: dict[str, cProfile.Profile], prefix: str, replies: int) -> None:
    """Own time per reply of each function, echo and card, the biggest differences first."""
    own: dict[str, dict[str, float]] = {}
    for name, profile in profiles.items():
        profile.dump_stats(f"{prefix}.{name}")
        stats: Any = pstats.Stats(profile).stats  # (file, line, name) -> (cc, nc, tt, ct, ...)
        own[name] = {
            f"{Path(file).name}:{line}({func})": tt * 1e6 / replies
            for (file, line, func), (_, _, tt, _, _) in stats.items()
        }
    echo, card = own["echo"], own["card"]
    total_echo, total_card = sum(echo.values()), sum(card.values())
    print(
        f"\nprofiled own time per reply (profiler-inflated): echo {total_echo:.0f} us, card "
        f"{total_card:.0f} us; stats in {prefix}.echo and {prefix}.card. Biggest differences:"
    )
    keys = sorted(set(echo) | set(card), key=lambda k: echo.get(k, 0) - card.get(k, 0))
    print(f"{'card-echo us':>12} {'card us':>8} {'echo us':>8}  function")
    for key in keys[:40]:
        a, b = echo.get(key, 0.0), card.get(key, 0.0)
        print(f"{b - a:12.1f} {b:8.1f} {a:8.1f}  {key}")


if __name__ == "__main__":
    main()
