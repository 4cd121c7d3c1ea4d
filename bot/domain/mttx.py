"""MTTD / MTTA / MTTI / MTTR of one incident, computed from its event log (pure).

The figures are read from the log entries, never from the incident's columns (those change: a reopen clears
the resolve time, a later acknowledgement keeps the first). The definitions, which the post-mortem states too:

- **MTTD** (detect): the first alert's `startsAt` -> the declaration. Only for incidents declared from alerts
  (the declaration records the earliest `startsAt` of its alerts); n/a for an incident declared by hand.
- **MTTA** (acknowledge): the declaration -> the first acknowledgement (taking command counts).
- **MTTI** (identify): the declaration -> the confirmation of the root cause: the earliest confirmation of a
  hypothesis that still stands (a hypothesis rejected after its confirmation does not count). n/a when none.
- **MTTR** (resolve): the declaration -> the last resolution. n/a while the incident is open (reopened).

A negative span (an alert's `startsAt` ahead of the bot's clock) counts as zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.events import Event, EventKind

STARTED_AT = "started_at"
"""The key of the declaration's payload holding the earliest `startsAt` of the alerts that declared it."""


def parse_time(value: object) -> datetime | None:
    """An aware datetime from an ISO 8601 string (a payload value), else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def span(start: datetime | None, end: datetime | None) -> timedelta | None:
    """`end - start`, at least zero; None when either is unknown."""
    if start is None or end is None:
        return None
    return max(end - start, timedelta(0))


def human(d: timedelta | None) -> str:
    """`1h 02m 05s`, `4m 30s`, `45s`, `2d 03h 00m`; `n/a` when unknown."""
    if d is None:
        return "n/a"
    total = int(d.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h {minutes:02d}m"
    if hours:
        return f"{hours}h {minutes:02d}m {seconds:02d}s"
    if minutes:
        return f"{minutes}m {seconds:02d}s"
    return f"{seconds}s"


@dataclass(frozen=True, slots=True)
class Milestones:
    """The moments the figures are measured between (None: not reached, or unknown)."""

    first_alert_at: datetime | None
    declared_at: datetime | None
    acknowledged_at: datetime | None
    identified_at: datetime | None
    resolved_at: datetime | None

    @property
    def mttd(self) -> timedelta | None:
        """First alert -> declared."""
        return span(self.first_alert_at, self.declared_at)

    @property
    def mtta(self) -> timedelta | None:
        """Declared -> first acknowledged."""
        return span(self.declared_at, self.acknowledged_at)

    @property
    def mtti(self) -> timedelta | None:
        """Declared -> root cause confirmed."""
        return span(self.declared_at, self.identified_at)

    @property
    def mttr(self) -> timedelta | None:
        """Declared -> resolved."""
        return span(self.declared_at, self.resolved_at)

    @property
    def impact(self) -> timedelta | None:
        """First alert (else the declaration) -> resolved: how long the trouble lasted as far as the bot knows."""
        return span(self.first_alert_at or self.declared_at, self.resolved_at)


def _identified(events: Iterable[Event]) -> datetime | None:
    """The earliest confirmation among the hypotheses whose latest decision is a confirmation."""
    standing: dict[str, datetime] = {}
    for e in events:
        hid = str(e.payload.get("hypothesis") or "")
        if e.kind == EventKind.HYPOTHESIS_CONFIRMED.value:
            standing[hid] = e.at
        elif e.kind == EventKind.HYPOTHESIS_REJECTED.value:
            standing.pop(hid, None)
    return min(standing.values(), default=None)


def _reopens(e: Event) -> bool:
    return e.payload.get("old") in ("resolved", "closed") and e.payload.get("new") not in ("resolved", "closed")


def _resolved(events: list[Event]) -> datetime | None:
    """The last resolution, unless the incident was reopened after it."""
    resolved: datetime | None = None
    for e in events:
        if e.kind == EventKind.RESOLVED.value:
            resolved = e.at
        elif e.kind == EventKind.STATUS_CHANGED.value and _reopens(e):
            resolved = None
    return resolved


def milestones(events: Iterable[Event], *, first_alert_at: datetime | None = None) -> Milestones:
    """The milestones of an incident from its log entries in order. `first_alert_at` is used only when the
    declaration does not record its alerts' start (incidents declared before it did)."""
    ordered = sorted(events, key=lambda e: (e.seq, e.id))
    declared = next((e for e in ordered if e.kind == EventKind.DECLARED.value), None)
    started = parse_time(declared.payload.get(STARTED_AT)) if declared is not None else None
    acknowledged = next((e.at for e in ordered if e.kind == EventKind.ACKNOWLEDGED.value), None)
    return Milestones(
        first_alert_at=started or first_alert_at,
        declared_at=declared.at if declared is not None else None,
        acknowledged_at=acknowledged,
        identified_at=_identified(ordered),
        resolved_at=_resolved(ordered),
    )
