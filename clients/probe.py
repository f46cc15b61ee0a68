"""What one probe call says about a platform's settings (`python -m bot check`).

Each platform client owns its probe (`PlatformClient.probe_call`: the cheapest documented
call, and what answer proves the credentials were accepted) and the documented meaning
of its refusals (`PlatformClient.REFUSALS`, quoting its seed). The gateway makes the call
(`Gateway.probe`: counted in the daily quota like any call, never retried, never cached);
`PlatformClient.probe_result` reads the outcome into a `ProbeResult`.
"""

from __future__ import annotations

from dataclasses import dataclass

from clients.errors import PlatformError


@dataclass(frozen=True, slots=True)
class Refusal:
    """One documented refusal: what it means, the setting to fix, the seed's own words.

    It matches an error of one of `kinds` whose HTTP status is in `statuses` (or its code:
    Aihuishou and the open API repeat the status as their code) and code in `codes` (when
    given) and whose platform message holds one of `words` (when given).
    List the ones with words first: the first that matches decides.
    """

    cause: str
    setting: str
    seed: str
    kinds: tuple[type[PlatformError], ...] = ()
    statuses: tuple[int, ...] = ()
    codes: tuple[int | str, ...] = ()
    words: tuple[str, ...] = ()
    #: the platform refused the credentials themselves (key, secret/signature, timestamp)
    credentials_refused: bool = False

    def matches(self, error: PlatformError) -> bool:
        message = (error.platform_message or "").lower()
        return (
            (not self.kinds or isinstance(error, self.kinds))
            and (
                not self.statuses
                or error.http_status in self.statuses
                or error.code in self.statuses
            )
            and (not self.codes or error.code in self.codes)
            and (not self.words or any(word.lower() in message for word in self.words))
        )


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """The outcome of one probe of one platform.

    `called`: a request left (False: refused before it, by the bot's own quota count, a
    rate ban or the circuit breaker). `reached`: the platform answered over HTTP.
    `accepted`: the credentials (signature, token) passed; None when the answer does not
    say (a quota or permission refusal may come before the signature is checked).
    `answer`: what came back, in a few words (never personal data or a secret).
    """

    platform: str
    called: bool
    reached: bool
    accepted: bool | None
    answer: str
    error: PlatformError | None = None
    refusal: Refusal | None = None

    @property
    def ok(self) -> bool:
        """The bot can use this platform: the credentials passed and nothing was refused."""
        return self.called and self.reached and self.accepted is True and self.refusal is None


def describe_error(error: PlatformError) -> str:
    """The platform's answer as a short line: HTTP status, code and message as it wrote them."""
    parts = []
    if error.http_status is not None:
        parts.append(f"HTTP {error.http_status}")
    if error.code is not None:
        parts.append(f"code {error.code}")
    if error.platform_message:
        parts.append(f'"{error.platform_message[:120]}"')
    return " ".join(parts) if parts else str(error)
