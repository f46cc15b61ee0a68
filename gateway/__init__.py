"""The one road to every platform, split by policy.

`core.Gateway` is what callers use: cache, single-flight, retries and the order of the
policies below, per call. Each policy is a room of its own:

- `limits`: the per-second window a platform counts, and a platform's own rate ban;
- `breaker`: the circuit breaker;
- `quota`: the daily quota, with the share kept for chat (`Priority`);
- `budget`: each user's daily budget, and who pays (`Payer`, `SYSTEM`).
"""

from gateway.breaker import BREAKER_COOLDOWN, BREAKER_THRESHOLD, CircuitBreaker
from gateway.core import Gateway, PlatformStats, payer_id
from gateway.limits import RATE_WINDOW, RateBan, SlidingWindowLimiter
from gateway.quota import CHAT_RESERVE, Priority, QuotaLedger

__all__ = [
    "BREAKER_COOLDOWN",
    "BREAKER_THRESHOLD",
    "CHAT_RESERVE",
    "RATE_WINDOW",
    "CircuitBreaker",
    "Gateway",
    "PlatformStats",
    "Priority",
    "QuotaLedger",
    "RateBan",
    "SlidingWindowLimiter",
    "payer_id",
]
