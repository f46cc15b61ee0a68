"""Per-user budgets of upstream calls, so one user can never spend a platform's day for all.

A user may make at most `limit` upstream calls per budget (one per platform, one for
short links) and platform day (midnight UTC+8, when the platforms' quotas reset). The
limit comes from the tier: a share of the chat part of the platform's daily quota, never
below a floor (see `BudgetPolicy`). Admins and background work have no budget.

A call is paid for only when it really goes upstream: the gateway takes a `BudgetHold`
when it starts a call (refusing at once when nothing is left), spends it when the call
is sent and gives it back when it never was. Cache hits and joined calls cost nothing.

Every gateway call names its `Payer`: `Payer.user(id)` for anything a person asked
(a message, a button, an inline query, ...), or `SYSTEM` for the bot's own work (the
alert poller). There is no default, so a new entry point cannot forget to pay.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from clients.errors import BudgetExhausted
from clock import Clock, china_day, seconds_left_in_day

#: the budget of following short links (m.tb.cn), which cost no platform quota
SHORT_LINKS = "short_links"


@dataclass(frozen=True, slots=True)
class Payer:
    """Who pays for a gateway call: one user's budget, or `SYSTEM` (background work).

    Build one with `Payer.user(user_id)`; `user_id` is None only for `SYSTEM`.
    """

    user_id: int | None

    def __post_init__(self) -> None:
        if self.user_id is None and _SYSTEM_MADE:
            raise ValueError("a payer needs a user id; background work uses SYSTEM")
        if self.user_id is not None and (
            not isinstance(self.user_id, int) or isinstance(self.user_id, bool)
        ):
            raise TypeError(f"a payer's user id is an int, not {type(self.user_id).__name__}")

    @classmethod
    def user(cls, user_id: int) -> Payer:
        return cls(user_id)

    @property
    def is_system(self) -> bool:
        return self.user_id is None


_SYSTEM_MADE = False
#: the bot's own work (the alert poller): no user's budget, the platform's quota only
SYSTEM = Payer(None)
_SYSTEM_MADE = True


class BudgetLedger(Protocol):
    """What the budgets need from storage (storage/budgets.py)."""

    def used(self, user_id: int, budget: str, day: str) -> int: ...

    def take(self, user_id: int, budget: str, day: str, limit: int) -> bool: ...

    def give_back(self, user_id: int, budget: str, day: str) -> None: ...

    def users_at(self, budget: str, day: str, limit: int) -> int:
        """How many users have spent `limit` or more of `budget` on `day`."""
        ...

    async def forget_user(self, user_id: int) -> int:
        """Delete every count of `user_id` (/forget); return how many there were."""
        ...


@dataclass(frozen=True, slots=True)
class BudgetPolicy:
    """How big each user's daily budget is (settings USER_DAILY_*, see docs/gateway.md)."""

    #: share of the chat part of a platform's daily quota one user may spend
    share: float = 0.2
    #: but never fewer calls than this (capped by the platform's whole day)
    floor: int = 5
    #: calls a day on a platform that sets no daily number (Beike counts until code 303)
    unmetered: int = 100
    #: short links a user may have followed a day
    short_links: int = 30
    admin_ids: frozenset[int] = frozenset()

    def limit(self, per_day: int | None, chat_reserve: float) -> int:
        if per_day is None:
            return self.unmetered
        chat_part = math.ceil(per_day * chat_reserve)
        return min(per_day, max(self.floor, math.ceil(chat_part * self.share - 1e-9)))


class UserBudgets:
    def __init__(
        self,
        ledger: BudgetLedger,
        clock: Clock,
        policy: BudgetPolicy,
        limits: Mapping[str, int],
    ) -> None:
        self.ledger = ledger
        self.clock = clock
        self.policy = policy
        self.limits = {**limits, SHORT_LINKS: policy.short_links}

    def exempt(self, user_id: int | None) -> bool:
        return user_id is None or user_id in self.policy.admin_ids

    def limit(self, budget: str) -> int:
        return self.limits[budget]

    def left(self, user_id: int | None, budget: str) -> int | None:
        """Calls the user may still make today; None when they have no budget (admins)."""
        if user_id is None or self.exempt(user_id):
            return None
        used = self.ledger.used(user_id, budget, china_day(self.clock))
        return max(0, self.limit(budget) - used)

    def users_spent(self, budget: str) -> int:
        """How many users have spent all of `budget` today (for the operators' /stats)."""
        return self.ledger.users_at(budget, china_day(self.clock), self.limit(budget))

    async def forget_user(self, user_id: int) -> int:
        """/forget: the user's counts go, in memory and in the file."""
        return await self.ledger.forget_user(user_id)

    def resets_in(self) -> float:
        """Seconds until the platform day ends and every budget is whole again."""
        return seconds_left_in_day(self.clock.time())

    def hold(self, user_id: int | None, budget: str, platform: str) -> BudgetHold | None:
        """Set one call aside, or raise `BudgetExhausted`; None for users without a budget."""
        if user_id is None or self.exempt(user_id):
            return None
        hold = BudgetHold(self, user_id, budget, platform, china_day(self.clock))
        hold.take()
        return hold

    def refusal(self, budget: str, platform: str) -> BudgetExhausted:
        return BudgetExhausted(
            platform, limit=self.limit(budget), resets_in=self.resets_in(), budget=budget
        )


@dataclass(slots=True)
class BudgetHold:
    """One call set aside from a user's budget for one gateway call (and its retries).

    The first try spends what was set aside; each further try takes one more call, and
    is refused when the budget has none. `release` gives back a call set aside but
    never sent (breaker open, platform quota used up, the caller gone).
    """

    budgets: UserBudgets
    user_id: int
    budget: str
    platform: str
    day: str
    _set_aside: bool = False

    def take(self) -> None:
        ok = self.budgets.ledger.take(
            self.user_id, self.budget, self.day, self.budgets.limit(self.budget)
        )
        if not ok:
            raise self.budgets.refusal(self.budget, self.platform)
        self._set_aside = True

    def check(self) -> None:
        """Raise `BudgetExhausted` when the next try could not be paid for."""
        if not self._set_aside and self.budgets.left(self.user_id, self.budget) == 0:
            raise self.budgets.refusal(self.budget, self.platform)

    def spend(self) -> None:
        """A try goes upstream now: use what was set aside, else take one more call."""
        if self._set_aside:
            self._set_aside = False
        else:
            self.take()
            self._set_aside = False

    def release(self) -> None:
        if self._set_aside:
            self.budgets.ledger.give_back(self.user_id, self.budget, self.day)
            self._set_aside = False
