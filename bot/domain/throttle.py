"""Outbound throttles, pure: a sliding-window rate limit and a circuit breaker. Each method takes the time
from the caller (its injected clock), so tests step through hours without sleeping."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


@dataclass(slots=True)
class SlidingWindow:
    """At most `limit` uses in any `period`: a use is allowed when fewer than `limit` fell in the last `period`."""

    limit: int
    period: timedelta
    _uses: deque[datetime] = field(default_factory=deque)

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"a rate limit needs at least 1 use per period, not {self.limit}")

    def _forget(self, now: datetime) -> None:
        while self._uses and self._uses[0] <= now - self.period:
            self._uses.popleft()

    def try_acquire(self, now: datetime) -> bool:
        """Take a use now if the window has room (True), else take nothing (False)."""
        self._forget(now)
        if len(self._uses) >= self.limit:
            return False
        self._uses.append(now)
        return True

    def wait(self, now: datetime) -> float:
        """Seconds until a use is allowed (0 when it is now)."""
        self._forget(now)
        if len(self._uses) < self.limit:
            return 0.0
        return max(0.0, (self._uses[0] + self.period - now).total_seconds())

    def used(self, now: datetime) -> int:
        """Uses within the last `period`."""
        self._forget(now)
        return len(self._uses)


class BreakerState(StrEnum):
    """Closed: calls go through. Open: calls are refused until the cool-down is over. Half-open: one trial."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


TRIAL_WAIT = timedelta(seconds=30)
"""While the half-open trial is out, other callers are told to come back this much later (a trial that never
reports back, its caller cancelled, frees the way after this too)."""


@dataclass(slots=True)
class CircuitBreaker:
    """Opens after `failures` consecutive failures; after `cool_down` one trial call goes through (half-open):
    its success closes the breaker, its failure opens it for another `cool_down`."""

    failures: int = 3
    cool_down: timedelta = timedelta(minutes=15)
    _count: int = 0
    _opened_at: datetime | None = None
    _trial_at: datetime | None = None

    def state(self, now: datetime) -> BreakerState:
        """The state at `now`."""
        if self._opened_at is None:
            return BreakerState.CLOSED
        if now - self._opened_at >= self.cool_down:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def _trial_out(self, now: datetime) -> bool:
        return self._trial_at is not None and now - self._trial_at < TRIAL_WAIT

    def allow(self, now: datetime) -> bool:
        """Whether a call may go out now (half-open: only the one trial, until it reports back)."""
        state = self.state(now)
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._trial_out(now):
            self._trial_at = now
            return True
        return False

    def retry_in(self, now: datetime) -> float:
        """Seconds until a call may go out (0 when one may now)."""
        state = self.state(now)
        if state is BreakerState.CLOSED:
            return 0.0
        if state is BreakerState.OPEN:
            assert self._opened_at is not None
            return (self._opened_at + self.cool_down - now).total_seconds()
        if self._trial_out(now):
            assert self._trial_at is not None
            return (self._trial_at + TRIAL_WAIT - now).total_seconds()
        return 0.0

    def is_closed(self, now: datetime) -> bool:
        """Whether the breaker is closed (calls go out as they come)."""
        return self.state(now) is BreakerState.CLOSED

    def succeeded(self) -> None:
        """A call went through: the far side answers."""
        self._count, self._opened_at, self._trial_at = 0, None, None

    def failed(self, now: datetime) -> None:
        """A call failed because the far side is unavailable."""
        self._count += 1
        if self._opened_at is not None or self._count >= self.failures:
            self._opened_at, self._trial_at = now, None
