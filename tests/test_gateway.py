"""The gateway's promises, with a fake clock and a scripted platform client."""

from __future__ import annotations

import asyncio
from collections import deque
from decimal import Decimal
from typing import ClassVar

import httpx
import pytest

from clients.base import Limits, ListingClient, PlatformConfig, SecretStr
from clients.errors import (
    BadRequest,
    NotFound,
    NotPermitted,
    PlatformDisabled,
    PlatformError,
    QuotaExhausted,
    RateLimited,
    TemporarilyUnavailable,
    Transient,
)
from clients.models import Listing, ListingKind, ListingRef, ListingStatus, PriceUnit
from clock import FakeClock
from gateway import BREAKER_COOLDOWN, Gateway, Priority, SlidingWindowLimiter
from gateway.budget import SYSTEM
from storage.database import Database
from storage.quota import QuotaStore


class ScriptedClient(ListingClient):
    """A listing platform whose answers the test scripts; counts upstream calls."""

    platform = "fake"
    TIERS: ClassVar[dict[str, Limits]] = {
        "small": Limits(per_day=10, per_second=2),
        "big": Limits(per_day=1000, per_second=1000),
    }

    def __init__(self, clock: FakeClock, tier: str = "big", enabled: bool = True) -> None:
        config = PlatformConfig("http://127.0.0.1:9", "k", SecretStr("s" if enabled else ""), tier)
        super().__init__(httpx.AsyncClient(), config, clock)
        self.calls: list[tuple[str, float]] = []
        self.script: deque[Exception | Decimal] = deque()
        self.price = Decimal("100")
        self.status = ListingStatus.ON_SALE
        self.gate: asyncio.Event | None = None

    @classmethod
    def find(cls, text: str):  # type: ignore[no-untyped-def]
        return []

    async def fetch_listing(self, ref: ListingRef, *, fresh: bool = False) -> Listing:
        self.calls.append((ref.listing_id, self.clock.monotonic()))
        if self.gate is not None:
            await self.gate.wait()
        if self.script:
            step = self.script.popleft()
            if isinstance(step, Exception):
                raise step
            self.price = step
        return Listing(
            platform="fake",
            listing_id=ref.listing_id,
            url="https://example.invalid/x",
            title="t",
            kind=ListingKind.ITEM,
            price=self.price,
            price_unit=PriceUnit.YUAN,
            status=self.status,
        )

    def listing_ttl(self, listing: Listing) -> float:
        return 300.0 if listing.status is ListingStatus.ON_SALE else 3600.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db(tmp_path, clock) -> Database:
    return Database(tmp_path / "bot.sqlite3", clock)


def make(clock: FakeClock, db: Database, tier: str = "big", **kw) -> tuple[Gateway, ScriptedClient]:
    client = ScriptedClient(clock, tier, **kw)
    gateway = Gateway({"fake": client}, QuotaStore(db), clock, rng=__import__("random").Random(7))
    return gateway, client


REF = ListingRef("fake", "1")


async def test_cache_serves_within_lifetime_and_refetches_after(clock, db):
    gateway, client = make(clock, db)
    first = await gateway.listing(REF, payer=SYSTEM)
    clock.advance(299)
    assert await gateway.listing(REF, payer=SYSTEM) is first
    assert len(client.calls) == 1
    clock.advance(2)
    await gateway.listing(REF, payer=SYSTEM)
    assert len(client.calls) == 2


async def test_lifetime_follows_the_answer_sold_items_are_kept_an_hour(clock, db):
    gateway, client = make(clock, db)
    client.status = ListingStatus.SOLD
    await gateway.listing(REF, payer=SYSTEM)
    clock.advance(3599)
    await gateway.listing(REF, payer=SYSTEM)
    assert len(client.calls) == 1
    clock.advance(2)
    await gateway.listing(REF, payer=SYSTEM)
    assert len(client.calls) == 2


async def test_not_found_is_remembered_ten_minutes(clock, db):
    gateway, client = make(clock, db)
    client.script.append(NotFound("fake", "gone"))
    for _ in range(3):
        with pytest.raises(NotFound):
            await gateway.listing(REF, payer=SYSTEM)
    assert len(client.calls) == 1
    clock.advance(601)
    assert (await gateway.listing(REF, payer=SYSTEM)).price == Decimal("100")
    assert len(client.calls) == 2


async def test_fresh_check_asks_the_platform_and_replaces_the_cached_entry(clock, db):
    gateway, client = make(clock, db)
    await gateway.listing(REF, payer=SYSTEM)
    client.script.append(Decimal("90"))
    fresh = await gateway.listing(REF, fresh=True, priority=Priority.BACKGROUND, payer=SYSTEM)
    assert fresh.price == Decimal("90")
    assert (await gateway.listing(REF, payer=SYSTEM)).price == Decimal("90")
    assert len(client.calls) == 2


async def test_concurrent_asks_for_one_key_share_one_upstream_call(clock, db):
    gateway, client = make(clock, db)
    client.gate = asyncio.Event()
    tasks = [asyncio.create_task(gateway.listing(REF, payer=SYSTEM)) for _ in range(100)]
    await asyncio.sleep(0)
    client.gate.set()
    results = await asyncio.gather(*tasks)
    assert len(client.calls) == 1
    assert all(r is results[0] for r in results)
    assert gateway.stats()["fake"]["joined"] == 99


async def test_a_cancelled_waiter_does_not_cancel_the_shared_call(clock, db):
    gateway, client = make(clock, db)
    client.gate = asyncio.Event()
    first = asyncio.create_task(gateway.listing(REF, payer=SYSTEM))
    second = asyncio.create_task(gateway.listing(REF, payer=SYSTEM))
    await asyncio.sleep(0)
    first.cancel()
    client.gate.set()
    assert (await second).price == Decimal("100")
    assert len(client.calls) == 1


async def test_rate_limit_spaces_calls_to_the_tier(clock, db):
    gateway, client = make(clock, db, tier="small")  # 2 per second
    await asyncio.gather(
        *(gateway.listing(ListingRef("fake", str(i)), payer=SYSTEM) for i in range(6))
    )
    times = [t for _, t in client.calls]
    assert len(times) == 6
    for i in range(2, 6):  # never more than 2 starts within a second
        assert times[i] - times[i - 2] >= 1.0


async def test_daily_quota_is_kept_and_survives_a_restart(tmp_path, clock):
    path = tmp_path / "q.sqlite3"
    gateway, _client = make(clock, Database(path, clock), tier="small")  # 10 per day
    for i in range(10):
        await gateway.listing(ListingRef("fake", str(i)), payer=SYSTEM)
    with pytest.raises(QuotaExhausted):
        await gateway.listing(ListingRef("fake", "10"), payer=SYSTEM)
    # a new process, the same file: still used up
    gateway2, client2 = make(clock, Database(path, clock), tier="small")
    with pytest.raises(QuotaExhausted):
        await gateway2.listing(ListingRef("fake", "11"), payer=SYSTEM)
    assert client2.calls == []
    assert gateway2.stats()["fake"]["quota_used"] == 10
    # the platform's day starts at midnight UTC+8
    clock.advance(24 * 3600)
    await gateway2.listing(ListingRef("fake", "12"), payer=SYSTEM)
    assert len(client2.calls) == 1


async def test_background_work_cannot_touch_the_chat_reserve(clock, db):
    gateway, _client = make(clock, db, tier="small")  # 10 per day, 3 reserved for chat
    assert gateway.quota_left("fake", Priority.BACKGROUND) == 7
    for i in range(7):
        await gateway.listing(
            ListingRef("fake", str(i)), priority=Priority.BACKGROUND, payer=SYSTEM
        )
    with pytest.raises(QuotaExhausted):
        await gateway.listing(ListingRef("fake", "x"), priority=Priority.BACKGROUND, payer=SYSTEM)
    for i in range(3):
        await gateway.listing(ListingRef("fake", f"chat{i}"), priority=Priority.CHAT, payer=SYSTEM)
    with pytest.raises(QuotaExhausted):
        await gateway.listing(ListingRef("fake", "chat-late"), priority=Priority.CHAT, payer=SYSTEM)


async def test_platform_saying_quota_exhausted_stops_calls_for_the_day(clock, db):
    gateway, client = make(clock, db)
    client.script.append(QuotaExhausted("fake", platform_message="daily", code=303))
    with pytest.raises(QuotaExhausted):
        await gateway.listing(REF, payer=SYSTEM)
    with pytest.raises(QuotaExhausted):
        await gateway.listing(ListingRef("fake", "2"), payer=SYSTEM)
    assert len(client.calls) == 1


async def test_transient_errors_are_retried_with_growing_jittered_backoff(clock, db):
    gateway, client = make(clock, db)
    client.script.extend([Transient("fake", "503"), Transient("fake", "timeout")])
    listing = await gateway.listing(REF, payer=SYSTEM)
    assert listing.price == Decimal("100")
    assert len(client.calls) == 3
    first, second = clock.slept[-2:]
    assert 0.5 <= first <= 1.0 and 1.0 <= second <= 2.0


async def test_transient_errors_give_up_after_three_tries(clock, db):
    gateway, client = make(clock, db)
    client.script.extend([Transient("fake", "503")] * 3)
    with pytest.raises(Transient):
        await gateway.listing(REF, payer=SYSTEM)
    assert len(client.calls) == 3


async def test_rate_limited_answers_are_retried_after_waiting_a_window(clock, db):
    gateway, client = make(clock, db)
    client.script.append(RateLimited("fake", code=302))
    await gateway.listing(REF, payer=SYSTEM)
    assert len(client.calls) == 2
    assert clock.slept[-1] >= 0.55


@pytest.mark.parametrize(
    "error",
    [BadRequest("fake", code=400), NotPermitted("fake", code=401), NotFound("fake")],
    ids=lambda e: e.kind,
)
async def test_permanent_errors_are_never_retried(clock, db, error: PlatformError):
    gateway, client = make(clock, db)
    client.script.append(error)
    with pytest.raises(type(error)):
        await gateway.listing(REF, payer=SYSTEM)
    assert len(client.calls) == 1
    assert gateway.stats()["fake"]["errors"] == {error.kind: 1}


async def test_breaker_opens_after_five_failures_and_closes_after_a_good_trial(clock, db):
    gateway, client = make(clock, db)
    client.script.extend([Transient("fake", "503")] * 5)
    with pytest.raises(Transient):
        await gateway.listing(ListingRef("fake", "a"), payer=SYSTEM)  # 3 failed attempts
    with pytest.raises(TemporarilyUnavailable):
        await gateway.listing(
            ListingRef("fake", "b"), payer=SYSTEM
        )  # 2 more: opens, the 3rd try is refused
    assert len(client.calls) == 5
    assert gateway.stats()["fake"]["breaker"] == "open"
    with pytest.raises(TemporarilyUnavailable):
        await gateway.listing(ListingRef("fake", "c"), payer=SYSTEM)
    assert len(client.calls) == 5  # refused without calling
    clock.advance(BREAKER_COOLDOWN - 1)
    with pytest.raises(TemporarilyUnavailable):
        await gateway.listing(ListingRef("fake", "c"), payer=SYSTEM)
    clock.advance(2)
    assert gateway.stats()["fake"]["breaker"] == "half_open"
    await gateway.listing(ListingRef("fake", "c"), payer=SYSTEM)
    assert gateway.stats()["fake"]["breaker"] == "closed"


async def test_a_failed_trial_reopens_the_breaker(clock, db):
    gateway, client = make(clock, db)
    client.script.extend([Transient("fake", "503")] * 6)
    for key in "ab":
        with pytest.raises((Transient, TemporarilyUnavailable)):
            await gateway.listing(ListingRef("fake", key), payer=SYSTEM)
    clock.advance(BREAKER_COOLDOWN + 1)
    with pytest.raises(TemporarilyUnavailable):  # trial fails, breaker reopens, retry refused
        await gateway.listing(ListingRef("fake", "c"), payer=SYSTEM)
    assert len(client.calls) == 6
    assert gateway.stats()["fake"]["breaker"] == "open"


async def test_not_found_does_not_count_against_the_breaker(clock, db):
    gateway, client = make(clock, db)
    client.script.extend([NotFound("fake")] * 6)
    for i in range(6):
        with pytest.raises(NotFound):
            await gateway.listing(ListingRef("fake", str(i)), payer=SYSTEM)
    assert gateway.stats()["fake"]["breaker"] == "closed"


async def test_platform_without_credentials_is_disabled_and_never_called(clock, db):
    gateway, client = make(clock, db, enabled=False)
    with pytest.raises(PlatformDisabled):
        await gateway.listing(REF, payer=SYSTEM)
    assert client.calls == []


async def test_stats_count_calls_hits_and_quota(clock, db):
    gateway, _client = make(clock, db, tier="small")
    await gateway.listing(REF, payer=SYSTEM)
    await gateway.listing(REF, payer=SYSTEM)
    stats = gateway.stats()["fake"]
    assert stats["calls"] == 1
    assert stats["cache_hits"] == 1
    assert stats["cache_misses"] == 1
    assert stats["quota_used"] == 1
    assert stats["quota_left_chat"] == 9
    assert stats["quota_left_background"] == 6


async def test_refresh_with_max_age_reuses_only_a_recent_answer(clock, db):
    gateway, client = make(clock, db)
    await gateway.listing(REF, payer=SYSTEM)
    clock.advance(30)
    await gateway.listing(REF, max_age=60, payer=SYSTEM)
    assert len(client.calls) == 1
    clock.advance(31)
    await gateway.listing(REF, max_age=60, payer=SYSTEM)
    assert len(client.calls) == 2


@pytest.mark.parametrize("start", [1000.0, 260_200.0, 346_600.0])
async def test_the_rate_window_never_stalls_on_rounding(start: float) -> None:
    """Each wait for a rate slot lands on the slot, days into a run as on the first second.

    Found by bench/alerts.py: a window recomputed as start + 1.1 after sleeping could fall
    a rounding error short of it, and the limiter then slept 0 s forever.
    """
    clock = FakeClock()
    clock.advance(start - clock.monotonic())
    limiter = SlidingWindowLimiter(1, 1.1, clock)
    # the guard only stops a hang from hanging the suite; a pass takes milliseconds
    await asyncio.wait_for(_acquire_many(limiter, 2_000), timeout=30)
    assert len(clock.slept) == 1_999
    assert clock.slept[-1] == pytest.approx(1.1)
    assert clock.monotonic() == pytest.approx(start + 1_999 * 1.1)


async def _acquire_many(limiter: SlidingWindowLimiter, n: int) -> None:
    for _ in range(n):
        await limiter.acquire()
        limiter.release()  # answered at once


async def test_a_rate_slot_comes_back_a_window_after_the_answer_not_the_start() -> None:
    """The platform counts arrivals, which fall between a request's start and its answer:
    a slot reopens `window` after the answer, so two requests of one slot always arrive
    a window apart (bench/gateway.py saw rate refusals from a window counted from starts)."""
    clock = FakeClock()
    limiter = SlidingWindowLimiter(2, 1.1, clock)
    t0 = clock.monotonic()
    await limiter.acquire()
    await limiter.acquire()
    clock.advance(0.8)  # both requests take 0.8 s to answer
    limiter.release()
    limiter.release()
    third = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    await asyncio.wait_for(third, timeout=5)
    assert clock.monotonic() == pytest.approx(t0 + 0.8 + 1.1)  # not t0 + 1.1


async def test_while_every_slot_is_in_flight_the_next_waits_for_an_answer() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(1, 1.1, clock)
    await limiter.acquire()
    waiting = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    assert not waiting.done()
    clock.advance(5.0)  # however long the first takes, the second waits for its answer
    await asyncio.sleep(0)
    assert not waiting.done()
    answered = clock.monotonic()
    limiter.release()
    await asyncio.wait_for(waiting, timeout=5)
    assert clock.monotonic() == pytest.approx(answered + 1.1)


async def test_a_slot_taken_for_a_request_never_sent_comes_back_at_once() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(1, 1.1, clock)
    await limiter.acquire()
    limiter.cancel()  # e.g. the user's budget was spent: nothing went upstream
    before = clock.monotonic()
    await asyncio.wait_for(limiter.acquire(), timeout=5)
    assert clock.monotonic() == before


async def test_a_call_that_names_no_payer_is_refused_before_cache_or_platform(clock, db):
    gateway, client = make(clock, db)
    await gateway.listing(REF, payer=SYSTEM)  # cached now: even a cache hit needs a payer
    for payer in (None, 5001, "user"):
        with pytest.raises(TypeError, match="payer"):
            await gateway.listing(REF, payer=payer)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await gateway.listing(REF)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="payer"):
        await gateway.resolve_short_link("fake", "https://m.tb.cn/h.x", payer=None)  # type: ignore[arg-type]
    assert len(client.calls) == 1
