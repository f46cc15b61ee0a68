"""The one place the bot goes past python-telegram-bot's public hooks, pinned loudly.

`bot.flood.PerChatUpdateProcessor` overrides `BaseUpdateProcessor.process_update`, which
PTB marks `@final` (its hook is `do_process_update`), because that hook runs inside the
shared worker semaphore and a chat's queued updates must wait for their chat's turn
*outside* it. This works only while PTB (a) hands every update to the processor's
`process_update` and (b) takes a worker in `BaseUpdateProcessor.process_update` before it
calls `do_process_update`. If a PTB release changes either, these tests fail and name it.
Everything else reaches PTB through public API only: the rate limiter is a
`BaseRateLimiter` (bot/rate_limiter.py) and reads no private attribute.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from telegram import Chat, Message, Update
from telegram.ext import BaseUpdateProcessor

from bot.flood import FloodGuard, PerChatUpdateProcessor
from tests.conftest import BotEnv

ROOT = Path(__file__).resolve().parent.parent
CHANGED = "python-telegram-bot changed its update processor seam: see bot/flood.py"


async def test_the_application_hands_every_update_to_the_processors_process_update(
    bot_env: BotEnv,
) -> None:
    processor = bot_env.application.update_processor
    assert isinstance(processor, PerChatUpdateProcessor)
    guard = processor.guard
    before = guard.admitted + guard.dropped
    user = bot_env.user(9301)
    for n in range(3):
        await bot_env.emulator.send_text(user, None, f"hello {n}")
    # FloodGuard.screen runs only in PerChatUpdateProcessor.process_update
    await bot_env.emulator.wait_for(lambda: guard.admitted + guard.dropped >= before + 3)
    assert guard.admitted + guard.dropped == before + 3, CHANGED


async def test_ptbs_process_update_takes_a_worker_around_do_process_update() -> None:
    # (b): super().process_update is "take one of the shared workers, then run"
    assert getattr(BaseUpdateProcessor.process_update, "__final__", False), CHANGED
    processor = PerChatUpdateProcessor(2, FloodGuard(burst=100), per_chat=1)
    release, two_running = asyncio.Event(), asyncio.Event()
    started: list[int] = []

    async def work(n: int) -> None:
        started.append(n)
        if len(started) == 2:
            two_running.set()
        await release.wait()

    def update(chat_id: int, n: int) -> Update:
        return Update(n, message=Message(n, None, Chat(chat_id, "private")))  # type: ignore[arg-type]

    tasks = [
        asyncio.create_task(processor.process_update(update(chat, n), work(n)))
        for chat, n in ((1, 1), (1, 2), (2, 3))
    ]
    # update 2 waits for its chat's turn without a worker, so 3 gets the second worker (had 2
    # held one while it waited, 3 would never start and this would time out)
    await asyncio.wait_for(two_running.wait(), timeout=5)
    assert sorted(started) == [1, 3]
    assert processor.current_concurrent_updates == 2, CHANGED
    release.set()
    await asyncio.gather(*tasks)
    assert sorted(started) == [1, 2, 3]
    assert processor.current_concurrent_updates == 0


def test_no_private_attribute_of_python_telegram_bot_is_read_in_bot_or_handlers() -> None:
    # a private name of a PTB object, or an import from PTB's private modules
    private = re.compile(
        r"(?:\b(?:bot|application|app|update|message|query|request|job_queue|context)"
        r"\._[a-z]\w*)|(?:from telegram[\w.]*\._)|(?:import telegram[\w.]*\._)"
    )
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for package in ("bot", "handlers")
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if private.search(line)
    ]
    assert found == []
