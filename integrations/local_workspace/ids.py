"""Deterministic ids and strictly increasing message timestamps."""

from __future__ import annotations

import hashlib

from .clock import Clock


def format_ts(micros: int) -> str:
    """Format microseconds since the epoch as a Slack ts (`"1763900000.000100"`)."""
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def ts_micros(ts: str) -> int:
    """Parse a Slack ts into microseconds; raise ValueError when it is not one."""
    seconds, _, fraction = ts.partition(".")
    if not seconds.isdigit() or (fraction and not fraction.isdigit()):
        raise ValueError(f"not a Slack ts: {ts!r}")
    return int(seconds) * 1_000_000 + int((fraction + "000000")[:6])


class IdFactory:
    """Hands out ids by counter (same sequence every run) and message ts from the clock."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._counters: dict[str, int] = {}
        self._last_micros = 0

    def count(self, kind: str) -> int:
        """Return the next number in the `kind` sequence, starting at 1."""
        self._counters[kind] = self._counters.get(kind, 0) + 1
        return self._counters[kind]

    def next(self, prefix: str, width: int = 6) -> str:
        """Return `prefix` followed by the next zero-padded number of its own sequence."""
        return f"{prefix}{self.count(prefix):0{width}d}"

    def digest(self, kind: str, length: int = 32) -> str:
        """Return a deterministic hex string that looks random (for trigger ids, url tokens)."""
        n = self.count(f"digest:{kind}")
        return hashlib.sha256(f"{kind}:{n}".encode()).hexdigest()[:length]

    def ts(self) -> str:
        """Return a message ts from the clock, strictly greater than every ts before it."""
        micros = max(round(self._clock() * 1_000_000), self._last_micros + 1)
        self._last_micros = micros
        return format_ts(micros)

    def now(self) -> float:
        """Return the clock's current time."""
        return self._clock()
