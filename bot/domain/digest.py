"""The daily digest as a neutral view model: what it counts, over which days, and how its figures read.

A digest covers one *report day*: the 24 hours (local days: 23 or 25 around a daylight saving change) up to the
moment it is due, the configured time in the configured zone, and it is named after the local date of that
moment. With the default 23:00 a day runs from 23:00 the evening before to 23:00; with 00:00 it is the calendar
day before the date. Consecutive days touch, so every incident is counted in exactly one day.

What a day counts: incidents declared in it (by severity), incidents resolved in it (by severity), MTTA (mean of
`acknowledged_at - declared_at` over the incidents acknowledged in the day), MTTR (mean of `resolved_at -
declared_at` over the incidents resolved in the day), SLA breaches recorded in it. The trend compares the day
with the day before and with the mean of the 7 days before it (MTTx over those 7 days pooled: total time / number
of incidents). The rest is a picture at the end of the day: incidents open then (with age and commander), the
noisiest alerts seen in the day (repeats counted), the duplicates folded into them, the review queue, overdue
action items.

Rendered per platform: Slack Block Kit (integrations/slack_rooms/blocks_digest.py), Discord notices
(bot/domain/digest_notices.py), plain text for `warroom digest --dry-run`; the chart by a DigestChartRenderer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import ClassVar, Protocol
from zoneinfo import ZoneInfo

from bot.domain.cards import Card
from bot.domain.incident import Severity

CHART_DAYS = 14
TREND_DAYS = 7
LIST_MAX = 10  # open incidents, overdue action items listed at most
NOISY_MAX = 5
REVIEW_MAX = 5


def digest_marker(day: date) -> str:
    """The chat post key of the digest of a day (Slack: the block id that finds it again)."""
    return f"digest:{day.isoformat()}"


def day_window(day: date, *, at: time, tz: str) -> tuple[datetime, datetime]:
    """The report day `day` as [start, end) in UTC: from `at` the local day before to `at` on `day`."""
    zone = ZoneInfo(tz)
    end = datetime.combine(day, at, zone)
    start = datetime.combine(day - timedelta(days=1), at, zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def report_day(moment: datetime, *, tz: str) -> date:
    """The report day named by a moment when a digest is due: its local date in `tz`."""
    return moment.astimezone(ZoneInfo(tz)).date()


def windows(day: date, *, at: time, tz: str, days: int = CHART_DAYS) -> list[tuple[date, datetime, datetime]]:
    """The `days` report days ending with `day`, oldest first, each with its [start, end) in UTC."""
    out = []
    for back in range(days - 1, -1, -1):
        d = day - timedelta(days=back)
        out.append((d, *day_window(d, at=at, tz=tz)))
    return out


# -- what the database says ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DayStats:
    """The counts of one report day (aggregated in SQL)."""

    day: date
    opened: dict[Severity, int] = field(default_factory=dict)
    resolved: dict[Severity, int] = field(default_factory=dict)
    acked: int = 0
    ack_seconds: float = 0.0  # total time to acknowledge of the incidents acknowledged in the day
    resolve_seconds: float = 0.0  # total time to resolve of the incidents resolved in the day
    breaches: dict[str, int] = field(default_factory=dict)  # by SLA (ack, resolve, update, detect)

    @property
    def opened_total(self) -> int:
        """Incidents declared in the day."""
        return sum(self.opened.values())

    @property
    def resolved_total(self) -> int:
        """Incidents resolved in the day."""
        return sum(self.resolved.values())

    @property
    def mtta(self) -> float | None:
        """Mean time to acknowledge in seconds (None: nothing acknowledged)."""
        return self.ack_seconds / self.acked if self.acked else None

    @property
    def mttr(self) -> float | None:
        """Mean time to resolve in seconds (None: nothing resolved)."""
        return self.resolve_seconds / self.resolved_total if self.resolved_total else None


def pooled(days: list[DayStats]) -> DayStats:
    """Several days added up (the 7-day average divides the counts by the number of days)."""
    opened: dict[Severity, int] = {}
    resolved: dict[Severity, int] = {}
    breaches: dict[str, int] = {}
    for d in days:
        for sev, n in d.opened.items():
            opened[sev] = opened.get(sev, 0) + n
        for sev, n in d.resolved.items():
            resolved[sev] = resolved.get(sev, 0) + n
        for sla, n in d.breaches.items():
            breaches[sla] = breaches.get(sla, 0) + n
    return DayStats(
        days[-1].day if days else date.min, opened, resolved, sum(d.acked for d in days),
        sum(d.ack_seconds for d in days), sum(d.resolve_seconds for d in days), breaches,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class OpenLine:
    """An incident open at the end of the day."""

    identifiers: ClassVar[frozenset[str]] = frozenset({"ref", "owner"})

    ref: str
    title: str
    severity: Severity
    declared_at: datetime
    owner: str | None  # the commander's user id


@dataclass(frozen=True, slots=True)
class NoisyAlert:
    """An alert name and how often it fired in the day (each repeat counted)."""

    alertname: str
    received: int  # notifications, repeats included
    alerts: int  # distinct alerts (fingerprints)


@dataclass(frozen=True, slots=True)
class OverdueItem:
    """A post-mortem action item past its due date and not done."""

    identifiers: ClassVar[frozenset[str]] = frozenset({"ref", "owner", "item"})

    ref: str
    item: str
    text: str
    owner: str | None
    due_at: datetime


@dataclass(frozen=True, slots=True)
class DigestData:
    """Everything a digest shows, as read from the database for its day."""

    history: tuple[DayStats, ...]  # CHART_DAYS report days, oldest first, the digest's own day last
    open_total: int = 0
    open_incidents: tuple[OpenLine, ...] = ()
    noisy: tuple[NoisyAlert, ...] = ()
    alerts_received: int = 0  # notifications of the day, repeats included
    duplicates: int = 0  # repeats folded into an alert already firing (deduplicated, not posted again)
    silenced: int = 0  # alerts of the day a silence kept quiet
    review_total: int = 0
    review: tuple[str, ...] = ()  # alert names waiting in the review queue, newest first
    overdue_total: int = 0
    overdue: tuple[OverdueItem, ...] = ()


@dataclass(frozen=True, slots=True)
class DigestReport(Card):
    """The digest of one report day, as every platform shows it."""

    identifiers: ClassVar[frozenset[str]] = frozenset({"day", "tz"})

    day: date
    tz: str
    start: datetime
    end: datetime
    data: DigestData

    @property
    def marker(self) -> str:
        """`digest:YYYY-MM-DD`."""
        return digest_marker(self.day)

    @property
    def today(self) -> DayStats:
        """The digest's own day."""
        return self.data.history[-1]

    @property
    def previous(self) -> DayStats:
        """The day before."""
        return self.data.history[-2] if len(self.data.history) > 1 else DayStats(self.day - timedelta(days=1))

    @property
    def week(self) -> list[DayStats]:
        """The TREND_DAYS days before the digest's day."""
        return list(self.data.history[-1 - TREND_DAYS : -1])

    @property
    def breaches_total(self) -> int:
        """SLA breaches recorded in the day."""
        return sum(self.today.breaches.values())


# -- the figures as people read them ---------------------------------------------------------------------------


def duration(seconds: float | None) -> str:
    """`45s`, `7m 30s`, `2h 05m`, `3d 04h` (rounded to the second), or a dash."""
    if seconds is None:
        return "—"
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600:02d}h"


def _signed(delta: float, fmt: str) -> str:
    if abs(delta) < 0.05:
        return "±0"
    return ("+" if delta > 0 else "-") + fmt.format(abs(delta))


def count_trend(today: int, previous: int, week_total: int, days: int = TREND_DAYS) -> str:
    """`+2 vs previous day, +1.4 vs 7-day avg 2.6`."""
    avg = week_total / days
    day, week = _signed(today - previous, "{:.0f}"), _signed(today - avg, "{:.1f}")
    return f"{day} vs previous day, {week} vs 7-day avg {avg:.1f}"


def time_trend(today: float | None, previous: float | None, week: float | None) -> str:
    """`-4m 00s vs previous day, +1m 10s vs 7-day avg 12m 00s` (a side with no value says so)."""

    def vs(other: float | None) -> str:
        if today is None or other is None:
            return "n/a"
        delta = today - other
        if round(abs(delta)) == 0:
            return "±0"
        return ("+" if delta > 0 else "-") + duration(abs(delta))

    return f"{vs(previous)} vs previous day, {vs(week)} vs 7-day avg {duration(week)}"


def by_severity(counts: dict[Severity, int]) -> str:
    """`SEV1 1 · SEV2 3` (severities with none left out), or `none`."""
    parts = [f"{sev.value} {counts[sev]}" for sev in Severity if counts.get(sev)]
    return " · ".join(parts) or "none"


@dataclass(frozen=True, slots=True)
class Figure:
    """One headline figure of the digest: label, value, trend."""

    label: str
    value: str
    trend: str


def figures(report: DigestReport) -> list[Figure]:
    """Opened, resolved, MTTA, MTTR and SLA breaches with their trends (what every renderer shows)."""
    t, p, w = report.today, report.previous, pooled(report.week)
    return [
        Figure("Opened", f"{t.opened_total} ({by_severity(t.opened)})",
               count_trend(t.opened_total, p.opened_total, w.opened_total)),
        Figure("Resolved", f"{t.resolved_total} ({by_severity(t.resolved)})",
               count_trend(t.resolved_total, p.resolved_total, w.resolved_total)),
        Figure("MTTA", duration(t.mtta), time_trend(t.mtta, p.mtta, w.mtta)),
        Figure("MTTR", duration(t.mttr), time_trend(t.mttr, p.mttr, w.mttr)),
        Figure("SLA breaches", f"{report.breaches_total} ({breach_split(t.breaches)})",
               count_trend(report.breaches_total, sum(p.breaches.values()), sum(w.breaches.values()))),
    ]  # fmt: skip


def breach_split(breaches: dict[str, int]) -> str:
    """`ack 2 · resolve 1`, or `none`."""
    return " · ".join(f"{k} {n}" for k, n in sorted(breaches.items()) if n) or "none"


def age(since: datetime, at: datetime) -> str:
    """How long something has been open at `at`."""
    return duration(max((at - since).total_seconds(), 0.0))


# -- the chart -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DigestChart:
    """The digest's picture: incidents declared per day by severity (stacked), and the MTTR per day."""

    title: str
    days: tuple[date, ...]
    opened: dict[Severity, tuple[int, ...]]  # one count per day
    mttr_minutes: tuple[float | None, ...]  # one per day (None: nothing resolved)


def chart_of(report: DigestReport) -> DigestChart:
    """The chart of a digest over its CHART_DAYS days."""
    h = report.data.history
    opened = {sev: tuple(d.opened.get(sev, 0) for d in h) for sev in Severity}
    mttr = tuple(None if d.mttr is None else d.mttr / 60 for d in h)
    title = f"Incidents per day by severity and MTTR, {h[0].day.isoformat()} to {report.day.isoformat()}"
    return DigestChart(title, tuple(d.day for d in h), opened, mttr)


def chart_filename(day: date) -> str:
    """The chart's file name (Slack upload, Discord attachment)."""
    return f"digest-{day.isoformat()}.png"


class DigestChartRenderer(Protocol):
    """Draws a digest chart as an image."""

    def render(self, chart: DigestChart) -> bytes:
        """The chart as PNG bytes (CPU-bound: callers run it in a worker thread)."""
        ...
