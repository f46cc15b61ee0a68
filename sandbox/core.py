"""Shared machinery of the simulated platforms: clock, accounts, limits, faults.

Each platform module (`sandbox/anjuke.py`, ...) registers its routes with
`register(app, state)` and uses `SandboxState` for everything that is not the
platform's own protocol.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

from aiohttp import web

from clients.models import ListingStatus
from clock import Clock, SystemClock, china_day

# The sandbox's own credentials. Not secrets of anyone: they only open the sandbox.
SANDBOX_CREDENTIALS: dict[str, dict[str, str]] = {
    "anjuke": {"key": "sandbox-anjuke-key", "secret": "sandbox-anjuke-secret"},
    "anjuke_open": {"app_id": "10001", "secret": "sandbox-open-secret"},
    "beike": {"token": "sandbox-beike-token"},
    "xianyu": {"app_key": "sandbox-xianyu-key", "secret": "sandbox-xianyu-secret"},
    "aihuishou": {"app_id": "AHS2026SANDBOX", "secret": "sandbox-aihuishou-secret"},
}


@dataclass
class Fault:
    """One injected failure: the next matching request gets it instead of an answer.

    kind: `http` (answer `status` with an empty or error body), `timeout` (hold the
    request for `delay` seconds of real time, longer than the client waits),
    `disconnect` (drop the connection), `malformed` (HTTP 200, body that is not
    JSON), `code` (the platform's own error form with `code`, and `status`), `json`
    (HTTP `status` with `body` as the JSON answer: hostile answers for fuzz tests),
    `trickle` (HTTP 200 headers at once, then one byte every `interval` seconds for
    `delay` seconds of real time: a platform that never finishes its answer), `huge`
    (HTTP 200, then a body written as fast as the client reads it, `size` bytes or,
    with `size` 0, until the client goes away). `written` counts the body bytes a
    `trickle` or `huge` fault wrote, so a test can tell where the client stopped.
    """

    kind: str
    status: int = 200
    code: int | str | None = None
    msg: str = "injected fault"
    delay: float = 5.0
    body: str = ""
    interval: float = 1.0
    size: int = 0
    written: int = 0


STREAM_FAULTS = frozenset({"trickle", "huge"})
HUGE_CHUNK = b" " * 65536


async def stream_fault(request: web.Request, fault: Fault) -> web.StreamResponse:
    """A `trickle` or `huge` fault's answer: headers at once, then the body it describes.

    Whitespace is valid JSON padding, so nothing but the length and the pace is hostile.
    Writing stops when the client closes the connection (the write fails).
    """
    response = web.StreamResponse(status=fault.status, headers={"Content-Type": "application/json"})
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    end = loop.time() + fault.delay
    try:
        if fault.kind == "trickle":
            while loop.time() < end:
                await response.write(b" ")
                fault.written += 1
                await asyncio.sleep(fault.interval)  # real time: the client's deadline fires first
        else:
            while not fault.size or fault.written < fault.size:
                await response.write(HUGE_CHUNK)
                fault.written += len(HUGE_CHUNK)
        await response.write_eof()
    except ConnectionError:
        pass  # the client gave up, as it should
    return response


async def fault_answer(
    request: web.Request,
    fault: Fault,
    platform_error: Callable[[Fault], web.StreamResponse],
    *,
    malformed_body: str,
) -> web.StreamResponse | None:
    """The answer an injected fault gives instead of the real one (None: answer normally after it).

    `platform_error` builds the platform's own error form for kind `code`;
    `malformed_body` is the HTML page a `malformed` fault answers with.
    """
    if fault.kind == "timeout":
        await asyncio.sleep(fault.delay)  # real time: the client's own timeout must fire first
        return None
    if fault.kind in STREAM_FAULTS:
        return await stream_fault(request, fault)
    if fault.kind == "disconnect":
        if request.transport is not None:
            request.transport.abort()
        return web.Response()
    if fault.kind == "json":
        return web.Response(text=fault.body, content_type="application/json", status=fault.status)
    if fault.kind == "malformed":
        return web.Response(text=malformed_body, content_type="text/html")
    if fault.kind == "http":
        return web.Response(status=fault.status, text="")
    if fault.kind == "code":
        return platform_error(fault)
    raise ValueError(f"unknown fault kind {fault.kind!r}")


@dataclass
class PlatformCounters:
    calls: int = 0  # requests that reached the platform handler
    ok: int = 0
    rejected: int = 0  # refused for signature, rate, quota, params...
    by_day: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    recent: deque[float] = field(default_factory=deque)  # monotonic times of recent calls


class SandboxState:
    """Clock, tiers, counters and injected faults shared by the simulated platforms."""

    def __init__(self, clock: Clock | None = None, tiers: dict[str, str] | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        #: platform -> tier name as in CONTRACT 4.1 (the sandbox account's tier)
        self.tiers: dict[str, str] = {
            "anjuke": "personal",
            "xianyu": "personal",
            "aihuishou": "test",
            **(tiers or {}),
        }
        self.counters: dict[str, PlatformCounters] = defaultdict(PlatformCounters)
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        #: Beike has no published numbers: the sandbox account's own daily/second limits
        self.beike_per_day = 1000
        self.beike_per_second = 5
        #: set False to switch off per-second checks (benchmarks of our own overhead)
        self.enforce_rate = True
        #: answer Aihuishou watch quotes as a platform that quotes no watches (400)
        self.aihuishou_refuses_watches = False
        #: kinds of device (相机, 耳机, 智能手表) Aihuishou answers as not quoted (400)
        self.aihuishou_refuses: set[str] = set()
        #: Aihuishou accepts only seed 003's literal words for the value fields (400 naming
        #: the field for any other): the platform read as strictly as the seed allows
        self.aihuishou_strict = False
        #: Aihuishou requests the sandbox holds now, and the most it held at once (limit 5)
        self.aihuishou_in_flight = 0
        self.aihuishou_peak_in_flight = 0
        self.lock = asyncio.Lock()
        #: platform -> its catalogue object (see `SandboxCatalogue`), set by the platform module
        self.catalogues: dict[str, SandboxCatalogue] = {}
        #: bytes the hostile photo routes have written (sandbox/images.py)
        self.hostile_photo_bytes = 0
        self.hostile_redirects = 0
        #: when the sandbox started, for price drift
        self.epoch = self.clock.time()
        #: the parameters of each platform's last requests, as received (tests read them)
        self.requests: dict[str, deque[dict[str, str]]] = defaultdict(lambda: deque(maxlen=50))

    def elapsed(self) -> float:
        return self.clock.time() - self.epoch

    # -- faults ------------------------------------------------------------------------

    def inject(self, platform: str, fault: Fault, times: int = 1) -> None:
        for _ in range(times):
            self._faults[platform].append(fault)

    def take_fault(self, platform: str) -> Fault | None:
        queue = self._faults.get(platform)
        return queue.popleft() if queue else None

    def clear_faults(self) -> None:
        self._faults.clear()

    # -- limits ------------------------------------------------------------------------

    def day(self) -> str:
        return china_day(self.clock)

    def note_call(self, platform: str) -> PlatformCounters:
        c = self.counters[platform]
        c.calls += 1
        return c

    def over_rate(self, platform: str, per_second: float) -> bool:
        """Record a call and tell whether it exceeds `per_second` in the last second."""
        c = self.counters[platform]
        now = self.clock.monotonic()
        while c.recent and now - c.recent[0] >= 1.0:
            c.recent.popleft()
        if self.enforce_rate and len(c.recent) >= per_second:
            return True
        c.recent.append(now)
        return False

    def over_quota(self, platform: str, per_day: int) -> bool:
        """Count a call against today's quota and tell whether it is over it."""
        c = self.counters[platform]
        day = self.day()
        if c.by_day[day] >= per_day:
            return True
        c.by_day[day] += 1
        return False

    def used_today(self, platform: str) -> int:
        return self.counters[platform].by_day[self.day()]


class SandboxCatalogue(Protocol):
    """What tests and the demo may change in a listing platform's catalogue.

    Prices are in the unit of our `Listing` model: 万元 for homes for sale and new
    homes, 元/月 for rent, 元 for items. A listing whose price was set stops drifting.
    """

    def ids(self) -> list[str]:
        """The IDs of every listing, as they appear in the platform's links."""

    def set_price(self, listing_id: str, price: Decimal) -> None: ...

    def set_status(self, listing_id: str, status: ListingStatus) -> None: ...

    def remove(self, listing_id: str) -> None:
        """The listing disappears: the platform answers 'not found' from now on."""


DRIFT_PERIOD_SECONDS = 6 * 3600


def drifted_price(base: Decimal, listing_id: str, elapsed: float, places: int = 0) -> Decimal:
    """`base` after the deterministic drift of `elapsed` seconds.

    Every 6 hours each listing moves by a step between -3 % and +1 % chosen by a hash
    of its ID and the period number, so prices mostly fall, slowly, the same way on
    every run.
    """
    price = base
    periods = max(0, int(elapsed // DRIFT_PERIOD_SECONDS))
    for n in range(1, min(periods, 400) + 1):
        digest = hashlib.sha256(f"{listing_id}:{n}".encode()).digest()
        step = Decimal(digest[0] % 41 - 30) / Decimal(1000)  # -3.0 % .. +1.0 %
        price = price * (1 + step)
    quantum = Decimal(1).scaleb(-places)
    return price.quantize(quantum, rounding=ROUND_HALF_UP)
