"""Clocks: the emulator reads time only through an injectable callable."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]
"""A callable returning the current time in seconds since the epoch."""

DEFAULT_START = 1763900000.0


def system_clock() -> float:
    """Return the wall-clock time (the default clock)."""
    return time.time()


class ManualClock:
    """A clock that only moves when told to, for deterministic rate-limit and ts tests."""

    def __init__(self, start: float = DEFAULT_START) -> None:
        self._now = float(start)

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward by `seconds` and return the new time."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._now += seconds
        return self._now

    def set(self, now: float) -> None:
        """Jump to an absolute time."""
        self._now = float(now)
