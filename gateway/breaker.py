"""The circuit breaker: a platform that keeps failing is paused, then tried once."""

from __future__ import annotations

import logging

from clients.errors import TemporarilyUnavailable
from clock import Clock

log = logging.getLogger(__name__)

BREAKER_THRESHOLD = 5  # consecutive failed upstream attempts
BREAKER_COOLDOWN = 300.0  # seconds the platform is paused


class CircuitBreaker:
    """Opens after `threshold` consecutive failures; lets one trial through after `cooldown`."""

    def __init__(self, platform: str, clock: Clock, threshold: int, cooldown: float) -> None:
        self.platform = platform
        self.clock = clock
        self.threshold = threshold
        self.cooldown = cooldown
        self.failures = 0
        self.opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        if self.clock.monotonic() - self.opened_at >= self.cooldown:
            return "half_open"
        return "open"

    def before_call(self) -> None:
        state = self.state
        if state == "open" or (state == "half_open" and self._trial_running):
            raise TemporarilyUnavailable(self.platform, "paused after repeated failures")
        if state == "half_open":
            self._trial_running = True

    def success(self) -> None:
        if self.opened_at is not None:
            log.info("%s: circuit closed", self.platform)
        self.failures = 0
        self.opened_at = None
        self._trial_running = False

    def failure(self) -> None:
        self.failures += 1
        trial = self._trial_running
        self._trial_running = False
        if trial or self.failures >= self.threshold:
            if self.opened_at is None or trial:
                log.warning(
                    "%s: circuit opened for %ds after %d consecutive failures",
                    self.platform,
                    self.cooldown,
                    self.failures,
                )
            self.opened_at = self.clock.monotonic()

    def neutral(self) -> None:
        """An attempt ended with an answer that says nothing about the platform's health."""
        self._trial_running = False
