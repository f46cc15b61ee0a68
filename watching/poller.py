"""Price alerts in the background: plan, check, record, decide (no Telegram here).

`handlers.alerts` runs `poll_cycle(rt, now)` from the JobQueue every
`ALERT_INTERVAL_SECONDS`; tests and benchmarks call it directly with a `FakeClock`:

1. **Plan.** Per platform, the listings with at least one active watch. One
   upstream call per listing however many users watch it. The number of calls this
   cycle comes from the platform's remaining daily quota *after the chat reserve*
   (`Gateway.quota_left(..., Priority.BACKGROUND)`), spread evenly over what is left
   of the platform day (midnight UTC+8): each cycle earns
   `quota_left * interval / seconds_left` calls of credit, and spends it on the
   stalest listings first (never checked, then least recently checked). A cycle
   never plans more than half of what the platform's per-second rate allows in one
   interval (the other half is chat's), nor more than one round of all listings.
2. **Check** with `gateway.listing(ref, fresh=True, priority=BACKGROUND, payer=SYSTEM)`: a check
   that read the cache would be no check. 'Not found' means the listing is gone
   (taken down). A quota or breaker refusal stops the platform for this cycle.
   Each platform is its own task with its own deadline (`AlertRuntime.platform_deadline`,
   by default the interval): a platform that hangs is left at its deadline (its
   unchecked listings stay due) and never holds up the others, and `on_platform_done`
   hears of each platform as soon as its checks are recorded, so delivery of one
   platform's alerts never waits for another platform.
3. **Record and decide** in one transaction per listing (`WatchStore.record_check`):
   the observation, the snapshot, each watch's rule (`watching.rules`), its
   new base and its alert, keyed so the same change is recorded only once. Cost
   follows change: a listing seen as it was last decided decides only the
   watches changed since (none, usually), so a round where nothing changed
   reads and writes nothing per watch.
4. **Retention**: alerts sent or given up more than 30 days ago are deleted at the end
   of each cycle (`AlertStore.prune`); pending ones never.

Delivery (what is sent, in which order, what a failure means) is `watching.delivery`.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from clients.errors import NotFound, PlatformError, QuotaExhausted, TemporarilyUnavailable
from clients.models import ListingRef, ListingStatus
from clock import Clock, seconds_left_in_day
from gateway import Gateway, Priority
from gateway.budget import SYSTEM
from storage.alerts import ALERT_RETENTION_SECONDS, AlertDraft, AlertStore
from storage.database import StorageError
from storage.watches import (
    Decision,
    NewBase,
    Watch,
    WatchedListing,
    WatchStore,
)
from watching.rules import Base, Observation, Rule, RuleKind, evaluate

log = logging.getLogger(__name__)

#: share of a platform's per-second rate one cycle may plan (the rest is for chat)
RATE_SHARE = 0.5
CHECK_CONCURRENCY = 16  # checks in flight per platform; the gateway keeps the rate


# -- the state kept per application -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlatformPlan:
    platform: str
    watched: int  # listings with an active watch
    quota_left: int | None  # background calls left today (None: the platform sets no number)
    planned: int
    checked: int = 0  # checks that got an answer (a listing or 'not found')
    errors: int = 0
    stopped: str | None = None  # why the platform was left early this cycle


@dataclass(frozen=True, slots=True)
class CycleReport:
    started_at: float
    duration: float
    checks: int
    errors: int
    quota_errors: int
    alerts_created: int
    duplicates: int
    plans: tuple[PlatformPlan, ...]
    decisions: int = 0  # watches decided: only where the observation changed for them
    alerts_pruned: int = 0  # sent or given-up alerts past their retention, deleted


@dataclass
class AlertRuntime:
    """What the alert machinery uses and keeps between cycles, one per application."""

    watches: WatchStore
    alerts: AlertStore
    gateway: Gateway
    clock: Clock
    interval: float  # seconds between cycles (ALERT_INTERVAL_SECONDS)
    #: platform -> checks earned but not made yet (fractions carry over between cycles)
    credit: dict[str, float] = field(default_factory=dict)
    last_cycle: CycleReport | None = None
    delivery_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: alerts Telegram took whose "sent" mark the database refused (locked): never sent
    #: again by this process, marked by the next delivery
    sent_unmarked: set[int] = field(default_factory=set)
    cycle_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: seconds one platform's checks may take in a cycle (None: the interval, so a cycle
    #: ends before the next is due however a platform behaves)
    platform_deadline: float | None = None
    #: when the cycle now running started and when the last one finished (the clock's
    #: time), for the health check (bot/health.py)
    cycle_running_since: float | None = None
    cycle_finished_at: float | None = None

    @property
    def cycle_deadline(self) -> float:
        """Seconds a whole cycle may take: every platform runs at once, each to its deadline."""
        return self.platform_deadline if self.platform_deadline is not None else self.interval


#: told each platform's outcome and its alerts as soon as its checks are recorded
PlatformDone = Callable[["PlatformPlan", int], None]


# -- planning ---------------------------------------------------------------------------


def checks_this_cycle(
    *,
    watched: int,
    quota_left: int | None,
    per_second: float | None,
    interval: float,
    seconds_left: float,
    credit: float,
) -> tuple[int, float]:
    """How many listings to check now, and the credit after earning this cycle's share.

    The share spreads the quota left evenly over the rest of the day, so checks of
    one listing come at an even pace; the fraction of a call not spent carries over.
    Credit never exceeds one round of all listings (a burst would only bunch checks),
    the quota left, or the cycle's share of the platform's rate.
    """
    if watched <= 0:
        return 0, 0.0
    if quota_left is None:
        share = float(watched)
    else:
        share = quota_left * min(1.0, interval / max(seconds_left, 1.0))
    credit = min(credit + share, float(watched))
    if quota_left is not None:
        credit = min(credit, float(quota_left))
    if per_second:
        credit = min(credit, float(max(1, math.floor(per_second * interval * RATE_SHARE))))
    return max(0, math.floor(credit + 1e-9)), credit


DAY = 86_400.0


def daily_checks_per_listing(
    *,
    watched: int,
    background_per_day: int | None,
    per_second: float | None,
    interval: float,
) -> float:
    """Checks a day each of `watched` listings of a platform gets from this planner.

    One check per listing a cycle at most, within the cycle's share of the platform's
    rate, and the day's quota after the chat reserve shared evenly by the listings.
    """
    watched = max(1, watched)
    per_cycle = float(watched)
    if per_second:
        per_cycle = min(per_cycle, float(max(1, math.floor(per_second * interval * RATE_SHARE))))
    per_day = per_cycle * DAY / interval
    if background_per_day is not None:
        per_day = min(per_day, float(background_per_day))
    return per_day / watched


def watch_cap(*, max_per_user: int, background_per_day: int | None, min_checks: int) -> int:
    """Watches one user may hold on a platform: no more than the quota after the chat
    reserve can check `min_checks` times a day each, and never more than `max_per_user`."""
    if background_per_day is None:
        return max_per_user
    return max(1, min(max_per_user, background_per_day // min_checks))


# -- deciding ---------------------------------------------------------------------------


def decide(watch: Watch, seen: Observation) -> Decision:
    """What an observation means for one watch (the rules are in `watching.rules`)."""
    rule = Rule(RuleKind(watch.rule), watch.rule_value)
    base = Base(
        watch.base_price,
        ListingStatus(watch.base_status),
        watch.base_version,
    )
    verdict = evaluate(rule, base, seen)
    new_base = NewBase(verdict.base.price, verdict.base.status.value, verdict.base.version)
    if not verdict.alert:
        return Decision(new_base)
    draft = AlertDraft(
        key=verdict.key(watch.id, base),
        changes=tuple(c.value for c in verdict.changes),
        old_price=verdict.old_price,
        new_price=verdict.new_price,
        status=verdict.status.value,
    )
    return Decision(new_base, draft)


# -- the cycle --------------------------------------------------------------------------


async def poll_cycle(
    rt: AlertRuntime, now: float | None = None, *, on_platform_done: PlatformDone | None = None
) -> CycleReport:
    """One poll cycle: plan, check, record, decide. Sending is `watching.delivery`."""
    async with rt.cycle_lock:  # a slow cycle and the next one never overlap
        rt.cycle_running_since = rt.clock.time()
        try:
            report = await _cycle(rt, rt.clock.time() if now is None else now, on_platform_done)
        finally:
            rt.cycle_running_since = None
        rt.cycle_finished_at = rt.clock.time()
    rt.last_cycle = report
    log.info(
        "poll cycle: %d checks, %d errors, %d alerts in %.1fs",
        report.checks,
        report.errors,
        report.alerts_created,
        report.duration,
    )
    return report


async def _cycle(rt: AlertRuntime, now: float, on_done: PlatformDone | None) -> CycleReport:
    gateway = rt.gateway
    started = rt.clock.monotonic()
    interval = rt.interval
    seconds_left = seconds_left_in_day(now)
    counts = await rt.watches.watched_counts()

    jobs = []
    for platform, watched in sorted(counts.items()):
        if platform not in gateway.platforms or not gateway.enabled(platform):
            continue
        quota_left = gateway.quota_left(platform, Priority.BACKGROUND)
        planned, credit = checks_this_cycle(
            watched=watched,
            quota_left=quota_left,
            per_second=gateway.limits(platform).per_second,
            interval=interval,
            seconds_left=seconds_left,
            credit=rt.credit.get(platform, 0.0),
        )
        rt.credit[platform] = credit
        plan = PlatformPlan(platform, watched, quota_left, planned)
        jobs.append(_platform_task(rt, plan, on_done))

    results = await asyncio.gather(*jobs)
    plans = tuple(r.plan for r in results)
    return CycleReport(
        started_at=now,
        duration=rt.clock.monotonic() - started,
        checks=sum(p.checked for p in plans),
        errors=sum(p.errors for p in plans),
        quota_errors=sum(r.tally["quota"] for r in results),
        alerts_created=sum(r.tally["alerts"] for r in results),
        duplicates=sum(r.tally["dups"] for r in results),
        plans=plans,
        decisions=sum(r.tally["decisions"] for r in results),
        alerts_pruned=await _prune_alerts(rt, now),
    )


async def _prune_alerts(rt: AlertRuntime, now: float) -> int:
    """Retention: alerts sent or given up more than `ALERT_RETENTION_SECONDS` ago go."""
    try:
        return await rt.alerts.prune(now - ALERT_RETENTION_SECONDS)
    except StorageError as exc:  # locked or full: the next cycle prunes them
        log.warning("old alerts not pruned: %s", exc)
        return 0


@dataclass(frozen=True, slots=True)
class _PlatformResult:
    plan: PlatformPlan
    tally: dict[str, int]


async def _platform_task(
    rt: AlertRuntime, plan: PlatformPlan, on_done: PlatformDone | None
) -> _PlatformResult:
    """One platform's checks within its deadline; what finished counts, the rest stays due."""
    tally = {
        "checked": 0,
        "errors": 0,
        "quota": 0,
        "alerts": 0,
        "dups": 0,
        "calls": 0,
        "decisions": 0,
    }
    stop: list[str] = []
    try:
        async with asyncio.timeout(rt.cycle_deadline):
            await _check_platform(rt, plan, tally, stop)
    except TimeoutError:
        log.warning(
            "%s: alert checks left at the cycle's deadline (%.0fs); the rest stay due",
            plan.platform,
            rt.cycle_deadline,
        )
        stop.insert(0, "deadline")
    rt.credit[plan.platform] = max(0.0, rt.credit.get(plan.platform, 0.0) - tally["calls"])
    done = replace(
        plan, checked=tally["checked"], errors=tally["errors"], stopped=stop[0] if stop else None
    )
    if on_done is not None:
        try:
            on_done(done, tally["alerts"])
        except Exception:  # the checks are recorded; delivery's next run sends them
            log.exception("%s: could not start the delivery of its alerts", plan.platform)
    return _PlatformResult(done, tally)


async def _check_platform(
    rt: AlertRuntime, plan: PlatformPlan, tally: dict[str, int], stop: list[str]
) -> None:
    """Check the planned listings of one platform, counting each outcome into `tally`."""
    listings = await rt.watches.stalest(plan.platform, plan.planned)

    async def check(listing: WatchedListing) -> None:
        if stop:
            return
        try:
            outcome = await check_listing(rt, listing)
        except StorageError as exc:
            # the file is locked or full: nothing was recorded, so the listing stays
            # due and the next round checks it again; this round stops here
            log.warning("alert check of %s not recorded: %s", listing.ref_key, exc)
            outcome = CheckOutcome(error="database", stop="database")
        except Exception:  # a bug in one check must not cost every other listing its turn
            log.exception("alert check of %s failed", listing.ref_key)
            # counted as checked, so a listing that always fails cannot take every turn
            await rt.watches.record_failure(listing.ref_key, "internal", rt.clock.time())
            outcome = CheckOutcome(error="internal")
        tally["calls"] += outcome.calls
        if outcome.stop:
            stop.append(outcome.stop)
        if outcome.quota_error:
            tally["quota"] += 1
        if outcome.error:
            tally["errors"] += 1
        else:
            tally["checked"] += 1
            tally["alerts"] += outcome.alerts
            tally["dups"] += outcome.duplicates
            tally["decisions"] += outcome.decisions

    # `CHECK_CONCURRENCY` workers take the listings in turn: one task per listing (3,000
    # in a cycle) made and first run all at once held the event loop 10-20 ms
    queue = iter(listings)

    async def worker() -> None:
        for listing in queue:
            await check(listing)

    await asyncio.gather(*(worker() for _ in range(min(CHECK_CONCURRENCY, len(listings)))))


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    calls: int = 1  # quota spent (0 when refused before any upstream call)
    error: str | None = None
    quota_error: bool = False
    stop: str | None = None
    alerts: int = 0
    duplicates: int = 0
    decisions: int = 0


async def check_listing(rt: AlertRuntime, listing: WatchedListing) -> CheckOutcome:
    """Ask the platform about one watched listing and record what it says."""
    ref = ListingRef.from_key(listing.ref_key)
    try:
        fetched = await rt.gateway.listing(
            ref, fresh=True, priority=Priority.BACKGROUND, payer=SYSTEM
        )
        status = fetched.status
    except NotFound:
        fetched, status = None, ListingStatus.TAKEN_DOWN
    except QuotaExhausted as exc:
        log.warning("%s: quota refused an alert check (%s)", ref.platform, exc.kind)
        return CheckOutcome(calls=0, error=exc.kind, quota_error=True, stop="quota")
    except TemporarilyUnavailable as exc:
        return CheckOutcome(calls=0, error=exc.kind, stop="unavailable")
    except PlatformError as exc:
        log.info("%s: alert check failed (%s)", ref.platform, exc.kind)
        await rt.watches.record_failure(listing.ref_key, exc.kind, rt.clock.time())
        return CheckOutcome(error=exc.kind)
    seen = Observation(fetched.price if fetched else listing.price, status)
    try:
        result = await rt.watches.record_check(
            listing.ref_key,
            fetched,
            status.value,
            rt.clock.time(),
            lambda sub: decide(sub, seen),
        )
    except LookupError:  # the last watcher left while we were asking
        return CheckOutcome()
    return CheckOutcome(
        alerts=result.alerts_created, duplicates=result.duplicates, decisions=result.decisions
    )
