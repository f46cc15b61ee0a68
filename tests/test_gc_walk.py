"""What a full garbage collection walks: the gateway's cached answers, not their parts.

Every object the collector tracks is walked by every full collection, and a full collection
stops every thread, the event loop's too (BENCHMARKS.md "Cost follows change" (f)). A
cached listing's facts are tuples of strings (which the collector stops tracking), and the
caches keep no object of their own per entry, so caching N listings adds N listings and N
cache entries to what it walks, and almost nothing else.

Real HTTP to the sandbox on 127.0.0.1 (a real Xianyu answer, parsed as the bot parses it).

Also here: a poll cycle's checks are not made all at once (one task per listing, 3,000 in a
cycle, made and first run in one go held the event loop 10-20 ms).
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import random
import weakref
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cachetools import TLRUCache

import watching.poller as poller_module
from clients.models import Listing, ListingKind, ListingRef, ListingStatus, PriceUnit
from gateway.budget import SYSTEM
from gateway.ttl_lru import TtlLru
from handlers import cards
from handlers.alerts import run_poll_cycle
from handlers.context import PhotoIds
from tests.alert_helpers import alert_env

ITEM = "712345678901"  # Xianyu iPhone: 12 facts, photos, tags


def _new_tracked(before: list[object]) -> Counter[str]:
    """Objects the collector tracks now that it did not before, by type name.

    Dead weak references are left out: the event loop's bookkeeping of finished tasks and
    requests, a few hundred at most however many calls were made (the bench's figures), not
    the caches'.
    """
    known = {id(o) for o in before}
    known.add(id(before))
    return Counter(
        type(o).__name__
        for o in gc.get_objects()
        if id(o) not in known and not (isinstance(o, weakref.ref) and o() is None)
    )


async def test_a_cached_listing_adds_only_itself_and_its_entry_to_a_full_collection(
    tmp_path: Path,
) -> None:
    async with alert_env(tmp_path) as env:
        items = env.catalogue("xianyu").items
        ids = [f"8{n:011d}" for n in range(1, 121)]
        for listing_id in ids:  # copies of a real item under other IDs
            items[listing_id] = dataclasses.replace(items[ITEM], item_id=listing_id)
        gateway = env.services.gateway
        # the first call opens the connection and fills what is made once
        first = await gateway.listing(ListingRef("xianyu", ITEM), payer=SYSTEM)
        assert len(first.facts) >= 8 and first.photos

        async def cache(batch: list[str]) -> Counter[str]:
            """What caching `batch` adds to what a full collection walks."""
            gc.collect()
            before = gc.get_objects()  # kept alive, so no new object reuses an old one's id
            for listing_id in batch:
                await gateway.listing(ListingRef("xianyu", listing_id), payer=SYSTEM)
            gc.collect()
            return _new_tracked(before)

        small, large = await cache(ids[:40]), await cache(ids[40:])
        assert gateway.cache_sizes()["cache"][0] == 121 == gateway.cache_sizes()["last_good"][0]
        # one listing and one entry per answer (the entry is in both caches)
        assert (small["Listing"], small["_Entry"]) == (40, 40), small
        assert (large["Listing"], large["_Entry"]) == (80, 80), large
        # and besides them only what one call leaves in flight, however many were cached:
        # no facts, no per-entry bookkeeping of the caches
        small.subtract({"Listing": 40, "_Entry": 40})
        large.subtract({"Listing": 80, "_Entry": 80})
        assert large.total() - small.total() < 20, (small, large)
        cached = await gateway.listing(ListingRef("xianyu", ids[0]), payer=SYSTEM)
        assert not gc.is_tracked(cached.facts)
        assert not any(gc.is_tracked(fact) for fact in cached.facts)
        assert not gc.is_tracked(cached.photos)


async def test_a_poll_cycle_runs_as_many_checks_at_once_as_its_concurrency(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(poller_module, "CHECK_CONCURRENCY", 3)
    tasks: list[int] = []
    real_check = poller_module.check_listing

    async def check_listing(rt: Any, listing: Any) -> Any:
        tasks.append(len(asyncio.all_tasks()))
        return await real_check(rt, listing)

    monkeypatch.setattr(poller_module, "check_listing", check_listing)
    async with alert_env(tmp_path) as env:
        items = env.catalogue("xianyu").items
        ids = [f"8{n:011d}" for n in range(1, 31)]
        for listing_id in ids:
            items[listing_id] = dataclasses.replace(items[ITEM], item_id=listing_id)
            await env.watch(1, "xianyu", listing_id)
        idle = len(asyncio.all_tasks())
        env.clock.advance(300)
        report = await run_poll_cycle(env.services, env.bot)
    assert report.checks == 30 and len(tasks) == 30
    # the cycle's own tasks (a platform's, its 3 workers) and the sandbox's request
    # handlers (9 more than idle); not a task per listing (a task each: 33 more)
    assert max(tasks) - idle <= 15, (idle, tasks)


def test_a_remembered_card_is_rendered_once_and_walked_as_one_tuple(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    renders: list[Listing] = []
    real_render = cards.render_card

    def render_card(listing: Listing, *args: Any, **kwargs: Any) -> cards.Card:
        renders.append(listing)
        return real_render(listing, *args, **kwargs)

    monkeypatch.setattr(cards, "render_card", render_card)
    listing = Listing(
        platform="xianyu",
        listing_id="712345678901",
        url="https://www.goofish.com/item?id=712345678901",
        title="iPhone 14 Pro 256G",
        kind=ListingKind.ITEM,
        price=Decimal("5000"),
        price_unit=PriceUnit.YUAN,
        status=ListingStatus.ON_SALE,
        photos=("https://img.example.com/1.jpg", "https://img.example.com/2.jpg"),
        facts=(("condition", "成色", "九成新"), ("param", "内存", "256GB")),
    )
    cards._RENDERED.clear()
    first = cards.card_for(listing, "en")
    again = cards.card_for(listing, "en")
    assert len(renders) == 1  # the second came from memory
    assert again == first and again.keyboard.inline_keyboard == first.keyboard.inline_keyboard
    assert len([b for row in again.keyboard.inline_keyboard for b in row]) >= 4
    # a collection stops tracking a tuple whose items it has stopped tracking already: at
    # worst one level of nesting per collection (buttons in rows in a keyboard: 3)
    for _ in range(3):
        gc.collect()
    kept = cards._RENDERED[(listing.ref.key, "en", False)]
    # the listing (shared with the gateway's cache) is all the collector walks from it
    assert [part for part in gc.get_referents(kept) if gc.is_tracked(part)] == [listing]
    cards._RENDERED.clear()
    ids = PhotoIds()
    ids.remember("https://img.example.com/1.jpg", "AgACAgIAAxkBAAI")
    gc.collect()
    assert not [v for v in ids._ids.values() if gc.is_tracked(v)]


# -- the cache itself: what cachetools.TLRUCache did, without an object per entry ----------------


class Timer:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _pair(maxsize: int) -> tuple[Timer, TtlLru[tuple[int, float]], TLRUCache[str, object]]:
    timer = Timer()

    def size(value: tuple[int, float]) -> int:
        return value[0]

    def ttl(value: tuple[int, float]) -> float:
        return value[1]

    ours: TtlLru[tuple[int, float]] = TtlLru(maxsize, ttl, timer, size)
    theirs: TLRUCache[str, object] = TLRUCache(
        maxsize, ttu=lambda _k, v, now: now + v[1], timer=timer, getsizeof=size
    )
    return timer, ours, theirs


def test_the_cache_keeps_what_tlru_kept_for_as_long() -> None:
    """Random sets, reads, pops and time steps: the same answers, entries and bytes."""
    rng = random.Random(19)
    timer, ours, theirs = _pair(maxsize=100)
    keys = [f"k{n}" for n in range(30)]
    for _ in range(20_000):
        key = rng.choice(keys)
        step = rng.random()
        if step < 0.45:
            # sizes 1-40 (a few larger than the whole budget), lifetimes 0-60 s
            value = (rng.choice([*range(1, 41), 150]), float(rng.randrange(0, 60)))
            outcomes = []
            for cache in (ours, theirs):
                try:
                    cache[key] = value
                    outcomes.append("kept")
                except ValueError:
                    outcomes.append("too large")
            assert outcomes[0] == outcomes[1]
            assert len(ours) == len(theirs) and ours.currsize == theirs.currsize
        elif step < 0.85:
            assert ours.get(key) == theirs.get(key)
        elif step < 0.9:
            ours.pop(key, None)
            theirs.pop(key, None)
        else:
            timer.now += rng.choice([0.5, 1, 5, 20])
        assert [k for k in keys if k in ours] == [k for k in keys if k in theirs]


def test_the_cache_drops_expired_then_least_recently_used_entries() -> None:
    timer, cache, _ = _pair(maxsize=10)
    cache["a"] = (4, 10.0)
    cache["b"] = (4, 100.0)
    assert cache.get("a") == (4, 10.0)  # now "b" is the least recently used
    cache["c"] = (4, 100.0)  # 12 > 10: "b" goes
    assert "b" not in cache and cache.get("a") and cache.get("c")
    timer.now += 10  # "a" has lived its 10 s
    assert cache.get("a") is None and len(cache) == 1 and cache.currsize == 4
    cache["c"] = (1, 0.0)  # born expired: replaces nothing, and the old one goes
    assert "c" not in cache and len(cache) == 0 and cache.currsize == 0


def test_the_cache_bookkeeping_is_invisible_to_the_collector() -> None:
    timer, cache, _ = _pair(maxsize=10_000)
    for n in range(100):
        cache[f"key{n}"] = (1, float(n % 7 + 1))
    for n in range(100):  # replaced: the heap holds stale times too
        cache[f"key{n}"] = (1, float(n % 5 + 10))
    gc.collect()
    containers = [cache._values, cache._expires, cache._sizes, cache._heap]
    parts = [obj for c in containers for obj in gc.get_referents(c)]
    assert parts and not [p for p in parts if gc.is_tracked(p)]
    timer.now += 12
    cache.expire()
    assert len(cache) == 40 and len(cache._heap) <= 2 * len(cache)
