"""The one road to every platform: cache, single-flight, rate limit, quota, retries, breaker.

Chat handlers and background jobs both call the `Gateway`; it is the only place
that talks to platform clients. Per call it:

1. answers from the TTL cache when it can (lifetimes come from the platform module;
   `fresh=True` skips the read, as a price-alert check must, and replaces the entry);
2. joins a call already in flight for the same key (single-flight), so 1,000
   concurrent asks for one listing make one upstream call;
3. refuses at once while the platform's circuit breaker is open;
4. waits for the platform's per-second slot and concurrency slot;
5. spends one unit of the platform's daily quota (persisted in SQLite); background
   work may use only the part of the day's quota not reserved for chat;
6. retries transient failures as the platform's seed says (`PlatformClient.RETRY`:
   exponential backoff from 1 s, Anjuke 3 retries, the others 2 and jitter), never bad
   requests, permission errors or 'not found';
7. a platform that bans the key after a rate overshoot (`RATE_BAN_SECONDS`, Anjuke)
   is paused for everyone for the ban, persisted in SQLite, and never retried into it.
8. every request has the platform's deadline (`PlatformClient.send`); a person (chat)
   waits at most one deadline for the whole call, retries included, and is then told
   the platform did not answer in time while the call goes on for the cache.

Every call names who pays (`payer=`, required: a `Payer.user(id)` for whatever a person
asked, `SYSTEM` for the alert poller; anything else is refused with `TypeError`, so no
entry point can reach a platform on nobody's budget): a call that goes upstream is paid
from that user's daily budget (gateway/budget.py; admins and joined or cached answers
are free). When the user's budget or the platform's chat quota is (nearly) spent, an
expired answer kept in a bounded copy of the last good answers is served instead,
marked with the time it was fetched (`as_of`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar, cast

from cachetools import LRUCache

from clients.aihuishou import AihuishouClient
from clients.anjuke import REVIEWS_TTL, AnjukeClient
from clients.anjuke_open import AnjukeOpenClient
from clients.base import Limits, ListingClient, PlatformClient, RetryPolicy
from clients.bounds import approx_bytes
from clients.errors import (
    BudgetExhausted,
    NotFound,
    PlatformDisabled,
    PlatformError,
    QuotaExhausted,
    RateLimited,
    TemporarilyUnavailable,
    Transient,
)
from clients.models import (
    AnjukeUser,
    HouseReviews,
    ItemMarket,
    Listing,
    ListingRef,
    Quote,
    QuoteRequest,
)
from clients.probe import ProbeResult
from clients.xianyu import XianyuClient
from clock import Clock
from gateway.breaker import BREAKER_COOLDOWN, BREAKER_THRESHOLD, CircuitBreaker
from gateway.budget import (
    SHORT_LINKS,
    BudgetHold,
    BudgetLedger,
    BudgetPolicy,
    Payer,
    UserBudgets,
)
from gateway.limits import RATE_WINDOW, RateBan, SlidingWindowLimiter
from gateway.quota import CHAT_RESERVE, Priority, QuotaLedger
from gateway.ttl_lru import TtlLru

log = logging.getLogger(__name__)

T = TypeVar("T")
ClientT = TypeVar("ClientT", bound=PlatformClient)

SHORT_LINK_TTL = 86_400.0
SHORT_LINKS_PER_SECOND = 2
#: a platform's day is nearly spent for chat when at most this share of it is left;
#: expired answers then serve chat instead of the platform's last calls
NEARLY_SPENT = 0.05
MIB = 1024 * 1024
#: bytes of answers the cache keeps (`approx_bytes` of key, answer and bookkeeping): about
#: 20,000 listings of a real answer's size (~3 KB), or 450 hostile ones cut at what a card
#: shows (`clients.bounds`, at most ~140 KB each); least recently used go first
CACHE_BYTES = 64 * MIB
#: bytes of last good answers kept past their lifetime, for when the day is nearly spent
#: (about 5,000 real listings)
LAST_GOOD_BYTES = 16 * MIB
#: a cache's own bookkeeping per key (its dicts' slots, the expiry heap's tuple and slot),
#: measured with tracemalloc on Python 3.11 and rounded up
ENTRY_OVERHEAD = 400


def payer_id(payer: object) -> int | None:
    """The budget a call is paid from; a call without a `Payer` never reaches a platform."""
    if not isinstance(payer, Payer):
        raise TypeError(f"a platform call needs payer=Payer.user(user_id) or SYSTEM, not {payer!r}")
    return payer.user_id


@dataclass
class PlatformStats:
    calls: int = 0  # upstream attempts sent
    cache_hits: int = 0
    cache_misses: int = 0
    joined: int = 0  # callers served by a call already in flight
    retries: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "cache_hits": self.cache_hits,
            "cache_misses": self.cache_misses,
            "joined": self.joined,
            "retries": self.retries,
            "errors": dict(self.errors),
        }


@dataclass(frozen=True, slots=True)
class _Entry:
    #: the answer of the call its cache key names (a key's answers all have one type,
    #: so a reader casts it to the type its call returns)
    value: Any
    ttl: float
    error: PlatformError | None = None
    fetched_at: float = 0.0
    #: what the entry weighs in the caches, estimated once when it is made (`weighed`)
    size: int = 0

    def weighed(self, key: str) -> _Entry:
        """This entry with its `size`: key, answer or error, and the cache's bookkeeping."""
        return replace(self, size=approx_bytes(key) + approx_bytes(self) + ENTRY_OVERHEAD)


def _detached(error: PlatformError) -> PlatformError:
    """A copy of `error` without its traceback, cause or context, to keep or raise again.

    A raised error holds the frames it passed through and their locals (the response, the
    parsed answer: megabytes for a hostile one); a cached 'not found' would keep them for
    its whole lifetime, and raising one cached object again would attach each caller's.
    """
    clone = type(error).__new__(type(error))  # the class and its attributes, not the raise
    clone.__dict__.update(vars(error))
    clone.args = error.args
    return clone


def _entry_size(entry: _Entry) -> int:
    return entry.size


def _entry_ttl(entry: _Entry) -> float:
    return entry.ttl


def _keep(cache: TtlLru[_Entry] | LRUCache[str, _Entry], key: str, entry: _Entry) -> None:
    """Put `entry` in `cache`, the least recently used going first past its byte budget.

    An entry larger than the whole budget is not kept (and no older one stands in for it).
    """
    try:
        cache[key] = entry
    except ValueError:  # larger than maxsize
        cache.pop(key, None)
        log.warning("an answer of %d bytes is larger than the cache; not kept", entry.size)


class _Platform:
    """Everything the gateway keeps per platform."""

    def __init__(self, client: PlatformClient, store: Any, clock: Clock, reserve: float) -> None:
        self.client = client
        limits: Limits = client.limits
        self.limiter = (
            SlidingWindowLimiter(math.ceil(limits.per_second), RATE_WINDOW, clock)
            if limits.per_second
            else None
        )
        self.concurrency = asyncio.Semaphore(limits.concurrent) if limits.concurrent else None
        self.quota = QuotaLedger(client.platform, limits.per_day, store, clock, reserve)
        self.breaker = CircuitBreaker(client.platform, clock, BREAKER_THRESHOLD, BREAKER_COOLDOWN)
        self.rate_ban = (
            RateBan(client.platform, client.RATE_BAN_SECONDS, store, clock)
            if client.RATE_BAN_SECONDS
            else None
        )
        self.stats = PlatformStats()


class Gateway:
    def __init__(
        self,
        clients: Mapping[str, PlatformClient],
        quota_store: Any,
        clock: Clock,
        *,
        cache_bytes: int = CACHE_BYTES,
        last_good_bytes: int = LAST_GOOD_BYTES,
        chat_reserve: float = CHAT_RESERVE,
        rng: random.Random | None = None,
        budget_ledger: BudgetLedger | None = None,
        budget_policy: BudgetPolicy | None = None,
    ) -> None:
        self.clock = clock
        self.rng = rng or random.Random()
        #: the daily counts (kept in memory, written behind): spend quota through it
        self.quota_store = quota_store
        self._platforms = {
            name: _Platform(client, quota_store, clock, chat_reserve)
            for name, client in clients.items()
        }
        # both bounded in bytes: an entry's `size` is estimated once, when it is made
        # both keep no object per entry beside the entry (each would be walked by every
        # full garbage collection): see gateway/ttl_lru.py
        self._cache: TtlLru[_Entry] = TtlLru(
            maxsize=cache_bytes,
            ttl_of=_entry_ttl,
            timer=clock.monotonic,
            getsizeof=_entry_size,
        )
        self._last_good: LRUCache[str, _Entry] = LRUCache(
            maxsize=last_good_bytes, getsizeof=_entry_size
        )
        self.budgets: UserBudgets | None = None
        if budget_ledger is not None:
            policy = budget_policy or BudgetPolicy()
            limits = {
                name: policy.limit(client.limits.per_day, chat_reserve)
                for name, client in clients.items()
            }
            self.budgets = UserBudgets(budget_ledger, clock, policy, limits)
        self._inflight: dict[str, asyncio.Task[Any]] = {}
        self._short_limiter = SlidingWindowLimiter(SHORT_LINKS_PER_SECOND, RATE_WINDOW, clock)

    # -- what callers use ------------------------------------------------------------

    def client(self, platform: str) -> PlatformClient:
        try:
            return self._platforms[platform].client
        except KeyError:
            raise PlatformDisabled(platform, "unknown platform") from None

    def client_of(self, kind: type[ClientT]) -> ClientT:
        """The registered client of this kind (the platform module's class)."""
        client = self.client(kind.platform)
        assert isinstance(client, kind)
        return client

    def listing_client(self, platform: str) -> ListingClient:
        client = self.client(platform)
        assert isinstance(client, ListingClient)
        return client

    @property
    def platforms(self) -> list[str]:
        return list(self._platforms)

    def enabled(self, platform: str) -> bool:
        p = self._platforms.get(platform)
        return bool(p and p.client.enabled)

    async def listing(
        self,
        ref: ListingRef,
        *,
        priority: Priority = Priority.CHAT,
        fresh: bool = False,
        max_age: float | None = None,
        payer: Payer,
    ) -> Listing:
        """The listing, from cache when allowed.

        `fresh=True` asks the platform (alert checks); `max_age` accepts a cached answer
        only when it is at most that many seconds old (a user's 'refresh'). `payer`
        pays for an upstream call (a user's budget, or `SYSTEM`).
        """
        user_id = payer_id(payer)
        client = self.listing_client(ref.platform)
        return await self._cached_call(
            ref.platform,
            f"listing:{ref.key}",
            lambda: client.fetch_listing(ref, fresh=fresh),
            client.listing_ttl,
            priority=priority,
            fresh=fresh,
            max_age=max_age,
            user_id=user_id,
        )

    async def quote(
        self,
        request: QuoteRequest,
        *,
        priority: Priority = Priority.CHAT,
        payer: Payer,
    ) -> Quote:
        user_id = payer_id(payer)
        client = self.client_of(AihuishouClient)
        return await self._cached_call(
            client.platform,
            f"quote:{request.key}",
            lambda: client.fetch_quote(request),
            lambda _q: float(client.QUOTE_TTL),
            priority=priority,
            user_id=user_id,
        )

    async def xianyu_market(self, ref: ListingRef, *, payer: Payer) -> ItemMarket:
        """An item beside the same items on sale and its past sales (the tier's `fields`).

        Cached per item as long as the item's own answer (on sale 5 min, sold 1 h, offline
        1 day), single-flighted and paid like any call: 100 users asking for one item
        within its lifetime cost one upstream call.
        """
        user_id = payer_id(payer)
        client = self.client_of(XianyuClient)
        return await self._cached_call(
            client.platform,
            f"market:{ref.key}",
            lambda: client.fetch_market(ref),
            client.market_ttl,
            priority=Priority.CHAT,
            user_id=user_id,
        )

    async def anjuke_reviews(self, ref: ListingRef, *, payer: Payer) -> HouseReviews:
        """A house's reviews (`need_evaluate=true`), asked for only when someone wants them."""
        user_id = payer_id(payer)
        client = self.client_of(AnjukeClient)
        return await self._cached_call(
            client.platform,
            f"reviews:{ref.key}",
            lambda: client.fetch_reviews(ref),
            lambda _r: REVIEWS_TTL,
            priority=Priority.CHAT,
            user_id=user_id,
        )

    def cached_quote(self, request: QuoteRequest) -> Quote | None:
        """The quote for `request` while it is cached; never a call, never a charge."""
        entry = self._cache.get(f"quote:{request.key}")
        if entry is None or entry.error is not None:
            return None
        return entry.value  # type: ignore[no-any-return]

    async def resolve_short_link(
        self, platform: str, url: str, *, payer: Payer
    ) -> ListingRef | None:
        """Follow a short link once; the answer is remembered for a day.

        Costs no API quota, but one call of the user's short-link budget.
        """
        user_id = payer_id(payer)
        client = self.listing_client(platform)
        key = f"short:{url}"
        entry = self._cache.get(key)
        if entry is not None:
            return cast("ListingRef | None", entry.value)

        async def resolve(hold: BudgetHold | None) -> ListingRef | None:
            await self._short_limiter.acquire()
            try:
                if hold is not None:
                    hold.spend()
            except BaseException:
                self._short_limiter.cancel()
                raise
            try:
                ref = await client.resolve(url)
            finally:
                self._short_limiter.release()
            _keep(self._cache, key, _Entry(ref, SHORT_LINK_TTL).weighed(key))
            return ref

        return await self._single_flight(
            platform, key, resolve, lambda: self._hold(user_id, SHORT_LINKS, platform)
        )

    async def anjuke_user(self, account: str, account_type: str, *, payer: Payer) -> AnjukeUser:
        """Look an account up; personal data, so never cached. Paid from `payer`'s budget."""
        user_id = payer_id(payer)
        client = self.client_of(AnjukeOpenClient)
        # a person waits one request deadline, retries included, as for every chat call;
        # joined only by the same user's same look-up (another user pays for their own)
        return await self._single_flight(
            client.platform,
            f"anjuke_user:{user_id}:{account_type}:{account}",
            lambda hold: self._upstream(
                client.platform,
                lambda: client.get_info(account, account_type),
                Priority.CHAT,
                retry=True,
                hold=hold,
            ),
            lambda: self._hold(user_id, client.platform, client.platform),
            patience=client.request_timeout,
        )

    async def anjuke_register(self, *, payer: Payer, **fields: str | None) -> str:
        """Create an account. Not retried: a retry after a lost answer could register twice."""
        user_id = payer_id(payer)
        client = self.client_of(AnjukeOpenClient)
        return await self._paid(
            lambda hold: self._upstream(
                client.platform,
                lambda: client.register(**fields),
                Priority.CHAT,
                retry=False,
                hold=hold,
            ),
            self._hold(user_id, client.platform, client.platform),
        )

    async def probe(self, platform: str) -> ProbeResult:
        """One probe call of `platform` (`python -m bot check`): its client's `probe_call`.

        Like any chat call it waits for a rate slot and spends one unit of the daily quota
        (the platform counts it too); it is never retried nor cached, and it is not made
        while the platform is paused (a rate ban, the breaker) or the day's quota is spent
        by our own count: calling then could only extend a ban or overshoot the quota.
        """
        p = self._platforms[platform]
        client = p.client
        calls = p.stats.calls
        try:
            answer = await self._upstream(platform, client.probe_call, Priority.CHAT, retry=False)
        except PlatformError as exc:
            return client.probe_result(exc, called=p.stats.calls > calls)
        return client.probe_result(None, answer)

    def quota_left(self, platform: str, priority: Priority = Priority.BACKGROUND) -> int | None:
        """Calls still allowed today at this priority; None when the platform sets no number."""
        return self._platforms[platform].quota.left(priority)

    def limits(self, platform: str) -> Limits:
        return self._platforms[platform].client.limits

    def daily_allowance(self, platform: str, priority: Priority) -> int | None:
        """A whole day's calls at this priority (background: after the chat reserve)."""
        return self._platforms[platform].quota.allowance(priority)

    def budget_left(self, user_id: int | None, platform: str) -> int | None:
        """Upstream calls `user_id` may still make today on `platform` (or `SHORT_LINKS`);
        None when they have no budget (admins, or budgets switched off)."""
        return None if self.budgets is None else self.budgets.left(user_id, platform)

    async def forget_user_budgets(self, user_id: int) -> int:
        """/forget: delete `user_id`'s spend counts; return how many there were."""
        return 0 if self.budgets is None else await self.budgets.forget_user(user_id)

    def budget_limit(self, platform: str) -> int | None:
        """A user's daily budget on `platform`; None when budgets are switched off."""
        return None if self.budgets is None else self.budgets.limit(platform)

    def cache_sizes(self) -> dict[str, tuple[int, int, int]]:
        """Per cache: entries, bytes kept (estimated) and the byte budget."""
        return {
            name: (len(cache), int(cache.currsize), int(cache.maxsize))
            for name, cache in (("cache", self._cache), ("last_good", self._last_good))
        }

    def stats(self) -> dict[str, dict[str, Any]]:
        """Counters per platform, for the admin's /stats."""
        out: dict[str, dict[str, Any]] = {}
        for name, p in self._platforms.items():
            d = p.stats.as_dict()
            d["enabled"] = p.client.enabled
            d["quota_used"] = p.quota.used()
            d["quota_per_day"] = p.quota.per_day
            d["quota_left_chat"] = p.quota.left(Priority.CHAT)
            d["quota_left_background"] = p.quota.left(Priority.BACKGROUND)
            d["breaker"] = p.breaker.state
            if self.budgets is not None:
                d["budget_per_user"] = self.budgets.limit(name)
                d["users_at_budget"] = self.budgets.users_spent(name)
            out[name] = d
        return out

    # -- machinery -------------------------------------------------------------------

    async def _cached_call(
        self,
        platform: str,
        key: str,
        op: Callable[[], Awaitable[T]],
        ttl_of: Callable[[T], float],
        *,
        priority: Priority,
        fresh: bool = False,
        max_age: float | None = None,
        user_id: int | None = None,
    ) -> T:
        p = self._platforms.get(platform)
        if p is None or not p.client.enabled:
            raise PlatformDisabled(platform, "no credentials configured")
        if not fresh:
            entry = self._cache.get(key)
            if entry is not None and (
                max_age is None or self.clock.monotonic() - entry.fetched_at <= max_age
            ):
                p.stats.cache_hits += 1
                if entry.error is not None:
                    raise _detached(entry.error)
                return cast(T, entry.value)
        p.stats.cache_misses += 1
        # an alert check must ask the platform; only chat may be served a kept answer
        keeps_stale = priority is Priority.CHAT and not fresh
        if keeps_stale and self._nearly_spent(p, user_id):
            kept = self._kept_answer(key)
            if kept is not None:
                return cast(T, kept)

        async def fetch_and_remember(hold: BudgetHold | None) -> T:
            try:
                value = await self._upstream(platform, op, priority, retry=True, hold=hold)
            except PlatformError as exc:
                ttl = p.client.error_ttl(exc)
                if isinstance(exc, NotFound):  # gone: no older answer may stand in for it
                    self._last_good.pop(key, None)
                if ttl:
                    _keep(
                        self._cache,
                        key,
                        _Entry(None, ttl, _detached(exc), self.clock.monotonic()).weighed(key),
                    )
                elif isinstance(exc, NotFound):
                    self._cache.pop(key, None)
                raise
            entry = _Entry(value, ttl_of(value), None, self.clock.monotonic()).weighed(key)
            _keep(self._cache, key, entry)
            _keep(self._last_good, key, entry)
            return value

        try:
            return await self._single_flight(
                platform,
                key,
                fetch_and_remember,
                lambda: self._hold(user_id, platform, platform),
                # a person waits at most one request's deadline, retries included; the
                # call goes on for the cache (and for anyone else waiting on it)
                patience=p.client.request_timeout if priority is Priority.CHAT else None,
            )
        except (QuotaExhausted, BudgetExhausted):
            kept = self._kept_answer(key) if keeps_stale else None
            if kept is None:
                raise
            return cast(T, kept)

    def _hold(self, user_id: int | None, budget: str, platform: str) -> BudgetHold | None:
        return None if self.budgets is None else self.budgets.hold(user_id, budget, platform)

    def _nearly_spent(self, p: _Platform, user_id: int | None) -> bool:
        """Whether chat should rather get a kept answer than spend one of the last calls."""
        if self.budget_left(user_id, p.client.platform) == 0:
            return True
        left = p.quota.left(Priority.CHAT)
        if left is None:
            return False
        return left <= math.ceil((p.quota.per_day or 0) * NEARLY_SPENT)

    def _kept_answer(self, key: str) -> Any:
        """The last good answer for `key`, however old, marked with when it was fetched."""
        entry = self._last_good.get(key)
        if entry is None:
            return None
        age = self.clock.monotonic() - entry.fetched_at
        return replace(entry.value, as_of=self.clock.time() - age)

    async def _single_flight(
        self,
        platform: str,
        key: str,
        factory: Callable[[BudgetHold | None], Awaitable[T]],
        hold_budget: Callable[[], BudgetHold | None],
        *,
        patience: float | None = None,
    ) -> T:
        """Join the call in flight for `key` (free), or start one paid for by `hold_budget`.

        With `patience`, the caller gets `Transient` ("timed out") after that many seconds
        while the call itself goes on.
        """
        task = self._inflight.get(key)
        if task is not None:
            self._platforms[platform].stats.joined += 1
        else:
            hold = hold_budget()  # raises BudgetExhausted before anything starts
            task = asyncio.ensure_future(self._paid(factory, hold))
            self._inflight[key] = task
            task.add_done_callback(lambda _t: self._inflight.pop(key, None))
            # whoever stopped waiting (patience) left the outcome unread: read it here
            task.add_done_callback(lambda t: None if t.cancelled() else t.exception())
        # shield: a caller that gives up must not cancel the call others are waiting for
        if patience is None:
            return await asyncio.shield(task)
        try:
            async with asyncio.timeout(patience):
                return await asyncio.shield(task)
        except TimeoutError:
            raise Transient(platform, f"timed out (no answer in {patience:g}s)") from None

    @staticmethod
    async def _paid(
        factory: Callable[[BudgetHold | None], Awaitable[T]], hold: BudgetHold | None
    ) -> T:
        try:
            return await factory(hold)
        finally:
            if hold is not None:
                hold.release()  # set aside but never sent: given back

    async def _upstream(
        self,
        platform: str,
        op: Callable[[], Awaitable[T]],
        priority: Priority,
        *,
        retry: bool,
        hold: BudgetHold | None = None,
    ) -> T:
        p = self._platforms.get(platform)
        if p is None or not p.client.enabled:
            raise PlatformDisabled(platform, "no credentials configured")
        policy = p.client.RETRY
        tries = policy.tries if retry else 1
        for attempt in range(1, tries + 1):
            try:
                return await self._attempt(p, op, priority, hold)
            except PlatformError as exc:
                p.stats.errors[exc.kind] += 1
                banned = isinstance(exc, RateLimited) and p.rate_ban is not None
                if not exc.retryable or banned or attempt == tries:
                    raise
                if p.breaker.state == "open":  # no point waiting to be refused
                    raise TemporarilyUnavailable(
                        platform, "paused after repeated failures"
                    ) from exc
                p.stats.retries += 1
                delay = self._backoff(policy, attempt, exc)
                log.info(
                    "%s: %s, try %d of %d in %.1fs", platform, exc.kind, attempt + 1, tries, delay
                )
                await self.clock.sleep(delay)
        raise AssertionError("unreachable")

    async def _attempt(
        self,
        p: _Platform,
        op: Callable[[], Awaitable[T]],
        priority: Priority,
        hold: BudgetHold | None = None,
    ) -> T:
        if p.rate_ban is not None:
            p.rate_ban.check()
        p.breaker.before_call()
        slot = False  # a rate slot taken: given back when the answer comes (or at once)
        try:
            if p.limiter is not None:
                await p.limiter.acquire()
                slot = True
            if hold is not None:
                hold.check()
            p.quota.spend(priority)
            if hold is not None:
                hold.spend()
        except BaseException:
            if slot and p.limiter is not None:
                p.limiter.cancel()
            p.breaker.neutral()
            raise
        p.stats.calls += 1
        try:
            try:
                if p.concurrency is not None:
                    async with p.concurrency:
                        result = await op()
                else:
                    result = await op()
            finally:
                if p.limiter is not None:
                    p.limiter.release()
        except PlatformError as exc:
            if exc.unhealthy:
                p.breaker.failure()
            else:
                p.breaker.neutral()
            if isinstance(exc, QuotaExhausted):  # the platform's own word: stop for today
                p.quota.platform_says_exhausted()
            if isinstance(exc, RateLimited) and p.rate_ban is not None:
                p.rate_ban.start()
            raise
        except BaseException:
            p.breaker.neutral()
            raise
        p.breaker.success()
        return result

    def _backoff(self, policy: RetryPolicy, attempt: int, exc: PlatformError) -> float:
        step = policy.step(attempt)
        if isinstance(exc, RateLimited):
            step = max(step, RATE_WINDOW)
        # jitter takes at most `policy.jitter` of the step off, so retries stay spaced
        return step - self.rng.uniform(0, step * policy.jitter)
