"""Telegram's flood limits as the bot's rate limiter keeps them.

python-telegram-bot's limiter paces in real time (the event loop's clock), so these
tests take a few real seconds: that is what is being measured.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

from bot.rate_limiter import OVERALL_BURST, OVERALL_PER_SECOND, FloodSafeRateLimiter


def busiest(stamps: list[float], window: float) -> int:
    stamps = sorted(stamps)
    return max(sum(1 for t in stamps if s <= t < s + window) for s in stamps)


async def send_all(
    limiter: AIORateLimiter, count: int, *, flood_first: bool = False
) -> tuple[list[float], float]:
    """`count` concurrent sends to different private chats; return when each went out and
    when the flood pause (if any) was answered."""
    stamps: list[float] = []
    flooded_at = 0.0
    first = True

    async def send() -> dict[str, bool]:
        nonlocal first, flooded_at
        if flood_first and first:
            first = False
            flooded_at = time.perf_counter()
            raise RetryAfter(timedelta(seconds=1))
        stamps.append(time.perf_counter())
        return {"ok": True}

    await asyncio.gather(
        *(
            limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 1000 + n}, None)
            for n in range(count)
        )
    )
    return stamps, flooded_at


async def test_no_second_ever_sees_more_than_thirty_messages() -> None:
    limiter = FloodSafeRateLimiter()
    stamps, _ = await send_all(limiter, 60)
    assert busiest(stamps, 1.0) <= 30
    rate = (len(stamps) - 1) / (max(stamps) - min(stamps))
    assert rate == pytest.approx(OVERALL_PER_SECOND, rel=0.05)


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_a_flood_pause_ends_without_a_burst() -> None:
    safe, _ = await send_all(FloodSafeRateLimiter(), 40, flood_first=True)
    assert busiest(safe, 0.1) <= OVERALL_BURST + 3  # 0.1 s holds 2.8 at the steady pace

    # the stock limiter with the same pace lets every request that queued during the
    # pause go at once when it ends: the burst that draws the next 429
    stock = AIORateLimiter(
        overall_max_rate=OVERALL_BURST,
        overall_time_period=OVERALL_BURST / OVERALL_PER_SECOND,
        max_retries=3,
    )
    bursty, _ = await send_all(stock, 40, flood_first=True)
    assert busiest(bursty, 0.1) > 15
