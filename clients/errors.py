"""The small hierarchy every platform failure is mapped to.

Handlers explain each class to the user; the gateway decides from the class
whether a retry can help. The platform's own code and message stay on the
exception for logs and admin views (never secrets: clients must not put
request URLs or credentials into them).
"""

from __future__ import annotations

from typing import ClassVar

from clients.bounds import clip

#: a platform's own message (and a code in words) as an error keeps it, for logs, `check`
#: and the error cache: a hostile answer's megabytes of message are cut here
MESSAGE_CHARS = 300
CODE_CHARS = 64


class PlatformError(Exception):
    """A platform call did not give a usable answer."""

    kind: ClassVar[str] = "error"
    #: whether trying the same call again later can help
    retryable: ClassVar[bool] = False
    #: whether the failure says the platform itself is unhealthy (feeds the breaker)
    unhealthy: ClassVar[bool] = False

    def __init__(
        self,
        platform: str,
        message: str = "",
        *,
        code: int | str | None = None,
        platform_message: str | None = None,
        http_status: int | None = None,
    ) -> None:
        if isinstance(code, str):
            code = clip(code, CODE_CHARS)
        if platform_message:
            platform_message = clip(platform_message, MESSAGE_CHARS)
        message = clip(message, MESSAGE_CHARS)
        self.platform = platform
        self.code = code
        self.platform_message = platform_message
        self.http_status = http_status
        detail = message or platform_message or self.kind
        super().__init__(f"{platform}: {detail}" + (f" (code {code})" if code is not None else ""))


class NotFound(PlatformError):
    """No such listing / model / user, or it is no longer published."""

    kind = "not_found"


class BadRequest(PlatformError):
    """The platform rejected the parameters (malformed ID, missing field...)."""

    kind = "bad_request"


class NotPermitted(PlatformError):
    """Authentication, signature, permission or IP whitelist failure."""

    kind = "not_permitted"


class RateLimited(PlatformError):
    """The platform's per-second limit was hit; waiting helps."""

    kind = "rate_limited"
    retryable = True


class QuotaExhausted(PlatformError):
    """Today's quota is used up (told by the platform or counted by us)."""

    kind = "quota_exhausted"


class BudgetExhausted(PlatformError):
    """This user's own share of the platform's day is used up (ours: no platform said so)."""

    kind = "budget_exhausted"

    def __init__(
        self,
        platform: str,
        message: str = "the user's daily budget is used up",
        *,
        limit: int = 0,
        resets_in: float = 0.0,
        budget: str | None = None,
        **details: object,
    ) -> None:
        super().__init__(platform, message, **details)  # type: ignore[arg-type]  # details: PlatformError's own keywords
        #: which budget: the platform's, or 'short_links'
        self.budget = budget or platform
        self.limit = limit
        #: seconds until the platform day ends and the budget is whole again
        self.resets_in = resets_in


class InsufficientBalance(PlatformError):
    """The paid account has no balance left."""

    kind = "insufficient_balance"


class Transient(PlatformError):
    """Timeout, connection error, 5xx, malformed answer, 'collection failed'."""

    kind = "transient"
    retryable = True
    unhealthy = True


class PlatformDisabled(PlatformError):
    """The platform has no credentials configured on this bot."""

    kind = "disabled"


class TemporarilyUnavailable(PlatformError):
    """The circuit breaker is open: the platform failed repeatedly and is paused."""

    kind = "unavailable"


class AccountExists(BadRequest):
    """Anjuke open API: registration refused, the phone (1001) or email (1002) is taken."""

    kind = "account_exists"
    #: which field is taken: "phone" or "email" (set by the client that raises it)
    field: str | None = None


# -- the words a refusal's message is read by -------------------------------------------
#
# A message is read only after the HTTP status and a documented code have chosen the rules
# (`clients.base.ErrorMap`), and then the most specific meaning first: a window of a second
# names a rate refusal whatever else the message says ("每秒调用次数超限" is no daily quota),
# the day names the daily quota, and a bare count (次数) means what the platform's seed lists
# first for that status (see each platform's ERRORS and docs/assumptions.md, "Error words").

#: words naming a window of a second or less, or calls too close together: a rate refusal
RATE_WORDS: tuple[str, ...] = (
    "每秒",
    "/秒",
    "秒",
    "频率",
    "频繁",
    "并发",
    "qps",
    "per second",
    "frequency",
    "too many",
    "too frequent",
    "rate limit",
    "concurren",
)
#: words naming the platform day: only these make a refusal "the day's quota is used up"
DAY_WORDS: tuple[str, ...] = (
    "日调用",
    "每日",
    "今日",
    "当日",
    "当天",
    "每天",
    "/天",
    "明日",
    "配额",
    "quota",
    "daily",
    "access-count",
)
#: a count or limit with no window (调用次数超限, the Taobao gateway's bare "App Call Limited"):
#: its meaning is what the platform's seed lists for that status
COUNT_WORDS: tuple[str, ...] = ("次数", "call count", "call limited")


ERROR_KINDS: tuple[type[PlatformError], ...] = (
    NotFound,
    BadRequest,
    NotPermitted,
    RateLimited,
    QuotaExhausted,
    BudgetExhausted,
    InsufficientBalance,
    Transient,
    PlatformDisabled,
    TemporarilyUnavailable,
    AccountExists,
)
