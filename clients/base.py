"""What every platform client is, so the gateway and handlers can treat them alike.

A platform module under `clients/` defines one subclass of `PlatformClient`
(and, for listing platforms, of `ListingClient`), owning everything about its
platform: signing, request building, response parsing, error mapping, link
and ID recognition, tier limits and cache lifetimes. Registering the class in
`clients/registry.py` is all it takes to add a platform.
"""

from __future__ import annotations

import asyncio
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from clients.errors import BadRequest, NotFound, NotPermitted, PlatformError, Transient
from clients.models import Listing, ListingRef
from clients.probe import ProbeResult, Refusal, describe_error
from clock import Clock

#: no detail answer comes near this; a larger one is refused as malformed, and reading
#: stops there (`read_bounded`), so a hostile answer never sits in memory whole
MAX_ANSWER_BYTES = 8 * 1024 * 1024
#: seconds one request may take in all (connect, headers, whole body) unless the platform
#: module or the settings say otherwise
DEFAULT_DEADLINE = 15.0
#: headers that described the body on the wire; the body we keep is already decoded
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class SecretStr:
    """A secret (a token, a signing key): its repr and str are masked, so a settings
    object, a config or a traceback that prints one never shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "SecretStr('**********')" if self._value else "SecretStr('')"

    def __str__(self) -> str:
        return "**********" if self._value else ""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True, slots=True)
class PlatformConfig:
    """A platform's settings as its client needs them.

    `key` is the public identifier (Anjuke `key`, Xianyu `app_key`, Aihuishou and
    the open API `app_id`); `secret` the signing secret, or for Beike the token.
    `short_link_base`, when set, is where short links are resolved instead of their
    own host (the sandbox uses it; production leaves it empty).
    """

    api_url: str
    key: str = ""
    secret: SecretStr = field(default_factory=lambda: SecretStr(""))
    tier: str | None = None
    short_link_base: str | None = None
    #: seconds one request may take in all (None: the platform module's `request_timeout`)
    deadline: float | None = None
    #: bytes of an answer body read at most (`read_bounded`)
    max_answer_bytes: int = MAX_ANSWER_BYTES

    @property
    def has_credentials(self) -> bool:
        return bool(self.secret.get_secret_value()) and (bool(self.key) or self.key_optional)

    key_optional: bool = False


@dataclass(frozen=True, slots=True)
class Limits:
    """A platform tier's limits. `None` means the platform sets none we can count."""

    per_day: int | None = None
    per_second: float | None = None
    concurrent: int | None = None


@dataclass(frozen=True, slots=True)
class Found:
    """A listing mention found in a message.

    Exactly one of these holds:
    - `ref` is set: the listing is known (`ref.city_id` may still be missing
      for Beike, then `needs_city` is True);
    - `short_url` is set: a short link that must be resolved (`ListingClient.resolve`)
      before the listing is known;
    - `candidates` has several refs: a bare ID whose platform is ambiguous.
    `start` is the position in the message, so cards follow the message's order.
    """

    start: int
    text: str
    ref: ListingRef | None = None
    short_url: str | None = None
    candidates: tuple[ListingRef, ...] = ()
    needs_city: bool = False
    #: the platform that found it (short links: the one whose `resolve` follows them)
    platform: str = ""


@dataclass(frozen=True, slots=True)
class ErrorRule:
    """One documented answer: the error it means, and the words that must be in the message.

    A rule without words always applies; rules with words are listed before it, so the
    platform's words refine a status or code and never override one.
    """

    error: type[PlatformError]
    meaning: str
    words: tuple[str, ...] = ()

    def applies(self, message: str) -> bool:
        return not self.words or any(word in message for word in self.words)


@dataclass(frozen=True, slots=True)
class ErrorMap:
    """How one platform's failures map to the error hierarchy, from its documented codes.

    The HTTP status decides first (an error status is never overruled by the body),
    then the platform's documented code (on a 200, or an error status it does not
    document), then the words of the message within the chosen rules. A code or a word
    the platform does not document decides nothing: the status class does
    (401/403 not permitted, other 4xx bad request, 5xx transient).
    """

    statuses: Mapping[int, tuple[ErrorRule, ...]] = field(default_factory=dict)
    codes: Mapping[int | str, tuple[ErrorRule, ...]] = field(default_factory=dict)
    #: an error body on an HTTP 200 with no documented code: only its words can tell
    answer: tuple[ErrorRule, ...] = ()

    def error(
        self, platform: str, *, status: int, code: int | str | None, message: str
    ) -> PlatformError:
        details: dict[str, Any] = {
            "code": code,
            "platform_message": message or None,
            "http_status": status,
        }
        rules = self._rules(status, code)
        text = message.lower()
        rule = next((r for r in rules if r.applies(text)), None) or _fallback(status)
        return rule.error(platform, rule.meaning, **details)

    def _rules(self, status: int, code: int | str | None) -> tuple[ErrorRule, ...]:
        if status != 200 and status in self.statuses:
            return self.statuses[status]
        if code is not None and code in self.codes:
            return self.codes[code]
        return self.answer if status == 200 else ()


def _fallback(status: int) -> ErrorRule:
    if status in (401, 403):
        return ErrorRule(NotPermitted, "access refused")
    if 400 <= status < 500:
        return ErrorRule(BadRequest, "request refused")
    return ErrorRule(Transient, "unexpected answer" if status < 500 else f"HTTP {status}")


def int_code(code: object) -> int | str | None:
    """A platform code as an int when it is one (`"301"` -> 301), else its text or None."""
    if code is None or isinstance(code, bool):
        return None
    text = str(code).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    return text or None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to wait before trying a transient failure again.

    Wait n (1-based) is `first_delay * 2**(n-1)`, capped; `jitter` takes up to that
    share off each wait, so callers that failed together do not retry together.
    """

    retries: int = 2
    first_delay: float = 1.0
    cap: float = 20.0
    jitter: float = 0.5

    @property
    def tries(self) -> int:
        return self.retries + 1

    def step(self, retry: int) -> float:
        return min(self.cap, self.first_delay * 2.0 ** (retry - 1))


class PlatformClient(ABC):
    """Base of every platform client: holds the HTTP client, config and clock."""

    platform: ClassVar[str]
    #: tier name -> limits; the tier comes from the settings
    TIERS: ClassVar[dict[str, Limits]] = {}
    #: how long a 'not found' answer is remembered (seconds)
    NOT_FOUND_TTL: ClassVar[float] = 600.0
    #: the platform's documented error statuses and codes
    ERRORS: ClassVar[ErrorMap] = ErrorMap()
    #: retries of transient failures; platforms whose seed says otherwise override it
    RETRY: ClassVar[RetryPolicy] = RetryPolicy()
    #: seconds the platform bans the key after a rate refusal (0: a refusal is retried)
    RATE_BAN_SECONDS: ClassVar[float] = 0.0
    #: the documented meaning of each refusal a probe may get, quoting the seed
    REFUSALS: ClassVar[tuple[Refusal, ...]] = ()
    #: errors whose answer proves the credentials passed: the platform got to the request
    #: itself and refused or could not find the sample (the seeds answer a bad key,
    #: secret or signature with 401 / their own code before looking at the request)
    PROBE_ACCEPTING: ClassVar[tuple[type[PlatformError], ...]] = (NotFound, BadRequest)
    #: the deadline of one request: connect, headers and the whole body (`send`); platform
    #: modules set their seed's number, `PlatformConfig.deadline` (the settings) overrides
    request_timeout: float = DEFAULT_DEADLINE

    def __init__(self, http: httpx.AsyncClient, config: PlatformConfig, clock: Clock) -> None:
        self.http = http
        self.config = config
        self.clock = clock
        if config.deadline is not None:
            self.request_timeout = config.deadline

    @property
    def enabled(self) -> bool:
        """True when credentials are configured; the gateway answers PlatformDisabled otherwise."""
        return self.config.has_credentials

    @property
    def limits(self) -> Limits:
        tier = self.config.tier
        if tier is None or not self.TIERS:
            return Limits()
        return self.TIERS[tier]

    def error_ttl(self, error: PlatformError) -> float | None:
        """How long an error answer may be cached; only 'not found' by default."""
        from clients.errors import NotFound

        return self.NOT_FOUND_TTL if isinstance(error, NotFound) else None

    # -- `python -m bot check` ------------------------------------------------------

    async def probe_call(self) -> str:
        """One call, the cheapest the seed documents, with the configured credentials.

        Returns what came back in a few words (never personal data); raises the
        `PlatformError` the answer means. `Gateway.probe` makes it and `probe_result`
        reads it.
        """
        raise NotImplementedError(f"{self.platform} has no probe")

    def probe_result(
        self, error: PlatformError | None, answer: str = "", *, called: bool = True
    ) -> ProbeResult:
        """What a probe's outcome says: reached, credentials accepted, the refusal's meaning."""
        if error is None:
            return ProbeResult(self.platform, True, True, True, answer)
        refusal = next((r for r in self.REFUSALS if r.matches(error)), None)
        if not called:
            answer = f"not called: {error}"
            return ProbeResult(self.platform, False, False, None, answer, error, refusal)
        # a timeout or a dropped connection carries neither an HTTP status nor a code
        reached = error.http_status is not None or error.code is not None
        accepted: bool | None = None
        if refusal is not None and refusal.credentials_refused:
            accepted = False
        elif refusal is None and isinstance(error, self.PROBE_ACCEPTING):
            accepted = True
        text = describe_error(error) if reached else str(error)
        if accepted:
            text = f"answered {error.kind.replace('_', ' ')}: {text}"
        return ProbeResult(self.platform, True, reached, accepted, text, error, refusal)

    # -- helpers shared by the platform modules -------------------------------------

    def error_for(self, status: int, code: object, message: str) -> PlatformError:
        """The error an answer means, by the platform's `ERRORS` map."""
        return self.ERRORS.error(self.platform, status=status, code=int_code(code), message=message)

    #: the seed gives a 5xx answer a meaning of its own (read from its body by `ERRORS`);
    #: otherwise a 5xx is `Transient` before its body is read
    READS_SERVER_ERRORS: ClassVar[bool] = False

    def read_answer(self, response: httpx.Response) -> tuple[int, dict[str, Any]]:
        """The opening every platform's answer reading shares: `(status, body)`.

        A 5xx is `Transient` (unless the platform `READS_SERVER_ERRORS`); a 200 must be a
        JSON object (`decode_json`); an error status without a JSON body gives `{}`, so the
        status alone decides. What the body then means is the platform module's."""
        status = response.status_code
        if status >= 500 and not self.READS_SERVER_ERRORS:
            raise Transient(self.platform, f"HTTP {status}", http_status=status)
        try:
            return status, self.decode_json(response)
        except Transient:
            if status == 200:
                raise
            return status, {}

    def decode_json(self, response: httpx.Response) -> dict[str, Any]:
        """The JSON object of a response, or `Transient` when it is not one.

        A hostile answer may be huge or nested past Python's recursion limit: both are
        malformed answers here, never a RecursionError past the error mapping.
        """
        if len(response.content) > self.config.max_answer_bytes:
            raise Transient(self.platform, "answer too large", http_status=response.status_code)
        try:
            data = json.loads(response.content)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise Transient(
                self.platform, "malformed JSON answer", http_status=response.status_code
            ) from exc
        if not isinstance(data, dict):
            raise Transient(self.platform, "unexpected answer", http_status=response.status_code)
        return data

    async def send(
        self,
        request: httpx.Request,
        *,
        timeout: float | None = None,
        follow_redirects: bool | None = None,
    ) -> httpx.Response:
        """Send and read the whole answer within one deadline; failures are `Transient`.

        `timeout` (default `request_timeout`) bounds everything together: connecting, the
        headers and the whole body, so a platform that trickles a byte a second is given
        up at the deadline (httpx's own timeouts are per read and never fire on it). The
        body is streamed and reading stops past `PlatformConfig.max_answer_bytes`
        ("answer too large"). No URL in any message: it may carry a token.
        """
        if timeout is not None:  # else the shared client's own per-phase timeouts apply
            request.extensions["timeout"] = httpx.Timeout(timeout).as_dict()
        deadline = self.request_timeout if timeout is None else timeout
        try:
            async with asyncio.timeout(deadline):
                return await read_bounded(
                    self.http,
                    request,
                    self.config.max_answer_bytes,
                    follow_redirects=follow_redirects,
                )
        except TimeoutError:
            raise Transient(
                self.platform, f"timed out (no whole answer in {deadline:g}s)"
            ) from None
        except AnswerTooLarge as exc:
            raise Transient(
                self.platform, "answer too large", http_status=exc.status_code
            ) from None
        except httpx.TimeoutException as exc:
            raise _strip(exc, self.platform, "timed out") from None
        except httpx.HTTPError as exc:
            raise _strip(exc, self.platform, "connection failed") from None


class AnswerTooLarge(Exception):
    """An answer body went past the cap; reading stopped there."""

    def __init__(self, status_code: int) -> None:
        super().__init__(f"answer over the size limit (HTTP {status_code})")
        self.status_code = status_code


async def read_bounded(
    http: httpx.AsyncClient,
    request: httpx.Request,
    max_bytes: int,
    *,
    follow_redirects: bool | None = None,
) -> httpx.Response:
    """The response with its body read, streaming, and never more than `max_bytes` of it.

    A declared Content-Length over the cap is refused before reading; an undeclared or
    false one is cut off as the (decoded) bytes pass the cap: `AnswerTooLarge`. The
    caller bounds the time (`asyncio.timeout`); the connection is closed either way.
    """
    if follow_redirects is None:
        response = await http.send(request, stream=True)
    else:
        response = await http.send(request, stream=True, follow_redirects=follow_redirects)
    try:
        declared = response.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
            raise AnswerTooLarge(response.status_code)
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise AnswerTooLarge(response.status_code)
    finally:
        await response.aclose()
    headers = [
        (name, value)
        for name, value in response.headers.multi_items()
        if name.lower() not in _WIRE_HEADERS
    ]
    return httpx.Response(
        response.status_code, headers=headers, content=bytes(body), request=request
    )


def _strip(exc: Exception, platform: str, what: str) -> Transient:
    # httpx error messages may contain the request URL, which may carry a token.
    return Transient(platform, f"{what} ({type(exc).__name__})")


class ListingClient(PlatformClient):
    """A platform that serves listings (homes or items)."""

    @classmethod
    @abstractmethod
    def find(cls, text: str) -> list[Found]:
        """Every mention of this platform's listings in `text`: links, share texts, short links.

        Bare IDs are not returned here; see `bare_id_patterns`.
        """

    #: the platform's IDs only name a listing together with a city (asked for when missing)
    NEEDS_CITY: ClassVar[bool] = False
    #: the kinds of listing a link may name beside the ID (`ListingRef.kind`)
    LINK_KINDS: ClassVar[frozenset[str]] = frozenset()

    #: regexes a whole bare token must match to be taken as this platform's ID
    BARE_ID_PATTERNS: ClassVar[tuple[re.Pattern[str], ...]] = ()

    #: every listing ID shape the client sends (bare, or read from a link); defaults to the
    #: bare shapes. Refs that come back from outside (button data) are checked against it.
    LISTING_ID_PATTERNS: ClassVar[tuple[re.Pattern[str], ...]] = ()

    @classmethod
    def is_listing_id(cls, listing_id: str) -> bool:
        patterns = cls.LISTING_ID_PATTERNS or cls.BARE_ID_PATTERNS
        return any(p.fullmatch(listing_id) for p in patterns)

    @classmethod
    def bare_ref(cls, token: str) -> ListingRef | None:
        """A ref for a bare ID token of this platform's shape, else None."""
        if any(p.fullmatch(token) for p in cls.BARE_ID_PATTERNS):
            return ListingRef(cls.platform, token)
        return None

    @abstractmethod
    async def fetch_listing(self, ref: ListingRef, *, fresh: bool = False) -> Listing:
        """One upstream call for one listing; raises a `PlatformError` subclass.

        `fresh` marks a price-alert check: a platform with a cache of its own is asked to
        bypass it.
        """

    @abstractmethod
    def listing_ttl(self, listing: Listing) -> float:
        """How long this answer may serve chat (CONTRACT 4.1), in seconds."""

    async def resolve(self, short_url: str) -> ListingRef | None:
        """Follow a short link to the listing it names (platforms with short links override)."""
        return None

    def listing_url(self, ref: ListingRef) -> str:
        """The public page of a listing, for the 'open' button."""
        raise NotImplementedError
