"""The daily digest's reads: every figure counted and summed in SQL, on indexes (migration 0012), so a digest
over 100,000 past incidents renders in well under a second on SQLite and PostgreSQL.

Per-day figures come from one statement per measure over the whole chart range: each row is put in its report
day by a CASE over the days' boundaries (computed in Python from the time zone, so SQL needs no zone support),
then grouped. Durations are summed in SQL in seconds (julianday on SQLite, epoch on PostgreSQL). The scan runs
off the event loop (Store.scan).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, case, func, literal, or_, select

from bot.db.store import CANCELLED, Store
from bot.db.tables import AlertRow, EventRow, IncidentRow, RoleRow, TimerRow
from bot.domain.digest import (
    LIST_MAX,
    NOISY_MAX,
    REVIEW_MAX,
    DayStats,
    DigestData,
    NoisyAlert,
    OpenLine,
    OverdueItem,
)
from bot.domain.events import EventKind
from bot.domain.incident import Role, Severity

Day = tuple[date, datetime, datetime]


def _seconds(dialect: str, later: Any, earlier: Any) -> ColumnElement[Any]:
    """`later - earlier` in seconds, in the dialect's own terms."""
    if dialect == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def _bucket(col: Any, days: Sequence[Day]) -> ColumnElement[Any]:
    """The index of the report day a time falls in (rows are already limited to the chart's range)."""
    return case(*[(col < end, literal(i)) for i, (_, _, end) in enumerate(days)], else_=literal(-1))


def _in_range(col: Any, days: Sequence[Day]) -> ColumnElement[bool]:
    return and_(col >= days[0][1], col < days[-1][2])


def _per_day(
    conn: Connection, days: Sequence[Day], at: Any, key: Any, seconds: Any = None, *, where: Any = None
) -> list[tuple[int, Any, int, float]]:
    """(day index, key, count, total seconds) of the rows whose `at` falls in the days: the range read on the
    index of `at`, each row's day computed once in a subquery, then grouped."""
    cols = [_bucket(at, days).label("b"), key.label("k"), (seconds if seconds is not None else literal(0)).label("s")]
    sub = select(*cols).where(_in_range(at, days), *([] if where is None else [where])).subquery()
    q = select(sub.c.b, sub.c.k, func.count(), func.sum(sub.c.s)).group_by(sub.c.b, sub.c.k)
    out = []
    for i, k, n, s in conn.execute(q):
        if i is not None and int(i) >= 0:
            out.append((int(i), k, int(n), round(float(s or 0.0), 3)))  # julianday is exact to ~10 µs
    return out


class DigestQueries:
    """The digest's reads on a Store (implements the DigestSource of bot.services.reports)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def digest_data(self, *, days: Sequence[Day], action_item_kind: str) -> DigestData:
        """Everything the digest of `days[-1]` shows (`days`: the chart's report days, oldest first)."""
        return await self.store.scan(lambda conn: self._read(conn, days, action_item_kind))

    def _read(self, conn: Connection, days: Sequence[Day], action_item_kind: str) -> DigestData:
        history = self._history(conn, days)
        start, end = days[-1][1], days[-1][2]
        open_total, open_lines = self._open(conn, end)
        noisy, received, duplicates, silenced = self._alerts(conn, start, end)
        review_total, review = self._review(conn)
        overdue_total, overdue = self._overdue(conn, end, action_item_kind)
        return DigestData(
            history, open_total, open_lines, noisy, received, duplicates, silenced, review_total, review,
            overdue_total, overdue,
        )  # fmt: skip

    def _history(self, conn: Connection, days: Sequence[Day]) -> tuple[DayStats, ...]:
        dialect = conn.dialect.name
        inc = IncidentRow
        opened: list[dict[Severity, int]] = [{} for _ in days]
        resolved: list[dict[Severity, int]] = [{} for _ in days]
        resolve_s = [0.0] * len(days)
        acked = [0] * len(days)
        ack_s = [0.0] * len(days)
        breaches: list[dict[str, int]] = [{} for _ in days]
        for i, sev, n, _ in _per_day(conn, days, inc.declared_at, inc.severity):
            opened[i][Severity(sev)] = n
        took = _seconds(dialect, inc.resolved_at, inc.declared_at)
        for i, sev, n, s in _per_day(conn, days, inc.resolved_at, inc.severity, took):
            resolved[i][Severity(sev)] = n
            resolve_s[i] += s
        took = _seconds(dialect, inc.acknowledged_at, inc.declared_at)
        for i, _, n, s in _per_day(conn, days, inc.acknowledged_at, literal(""), took):
            acked[i], ack_s[i] = n, s
        sla = EventRow.payload["sla"].as_string()
        breached = EventRow.kind == EventKind.SLA_BREACHED.value
        for i, name, n, _ in _per_day(conn, days, EventRow.at, sla, where=breached):
            breaches[i][str(name or "")] = n
        return tuple(
            DayStats(d, opened[i], resolved[i], acked[i], ack_s[i], resolve_s[i], breaches[i])
            for i, (d, _, _) in enumerate(days)
        )

    def _open(self, conn: Connection, end: datetime) -> tuple[int, tuple[OpenLine, ...]]:
        """Incidents open at `end`: declared before it, neither resolved nor closed by then. Two reads, each on
        the resolved_at index: never resolved, and resolved only after `end` (both few)."""
        inc = IncidentRow
        before = and_(inc.declared_at < end, or_(inc.closed_at.is_(None), inc.closed_at >= end))
        cols = (inc.id, inc.ref, inc.title, inc.severity, inc.declared_at)
        # An expression, not the column: SQLite would otherwise walk the whole severity index to skip a sort.
        order = (inc.severity.concat(""), inc.declared_at, inc.id)
        total, rows = 0, list[Any]()
        for still in (inc.resolved_at.is_(None), inc.resolved_at >= end):
            where = and_(still, before)
            total += int(conn.execute(select(func.count()).select_from(inc).where(where)).scalar_one())
            rows += conn.execute(select(*cols).where(where).order_by(*order).limit(LIST_MAX)).all()
        rows = sorted(rows, key=lambda r: (r[3], r[4], r[0]))[:LIST_MAX]
        owners: dict[int, str] = {}
        if rows:
            q = (
                select(RoleRow.incident_id, RoleRow.user_id)
                .where(RoleRow.incident_id.in_([r[0] for r in rows]), RoleRow.role == Role.COMMANDER.value)
                .order_by(RoleRow.id)
            )
            for incident_id, user_id in conn.execute(q):
                owners.setdefault(int(incident_id), str(user_id))
        lines = tuple(
            OpenLine(str(ref), str(title), Severity(sev), _utc(at), owners.get(int(i)))
            for i, ref, title, sev, at in rows
        )
        return total, lines

    def _alerts(self, conn: Connection, start: datetime, end: datetime) -> tuple[tuple[NoisyAlert, ...], int, int, int]:
        """Alerts seen in the day by name: notifications (repeats included), distinct alerts, silenced ones.

        An alert seen in the day is firing now (its unique active_key is set) or resolved since (resolving moves
        last_seen_at to resolved_at): two index ranges. last_seen_at itself has no index: every repeat of an alert
        moves it, and an index there would cost the ingest hot path on each one.
        """
        a = AlertRow
        silenced = func.sum(case((a.silenced_by.is_not(None), 1), else_=0))
        seen = or_(a.active_key >= "", a.resolved_at >= start)  # `>= ''`: NOT NULL as an index range
        q = (
            select(a.alertname, func.sum(a.count), func.count(), silenced)
            .where(seen, a.last_seen_at >= start, a.last_seen_at < end)
            .group_by(a.alertname)
        )
        rows = [(str(name), int(total or 0), int(n), int(s or 0)) for name, total, n, s in conn.execute(q)]
        received = sum(r[1] for r in rows)
        distinct = sum(r[2] for r in rows)
        rows.sort(key=lambda r: (-r[1], r[0]))
        noisy = tuple(NoisyAlert(name, total, n) for name, total, n, _ in rows[:NOISY_MAX])
        return noisy, received, received - distinct, sum(r[3] for r in rows)

    def _review(self, conn: Connection) -> tuple[int, tuple[str, ...]]:
        """The review queue now: firing alerts below the declare threshold waiting for a look (partial index)."""
        a = AlertRow
        waiting = and_(a.review == True, a.incident_id.is_(None), a.status == "firing")  # noqa: E712 - the index
        total = int(conn.execute(select(func.count()).select_from(a).where(waiting)).scalar_one())
        q = select(a.alertname).where(waiting).order_by(a.last_seen_at.desc(), a.id.desc()).limit(10 * REVIEW_MAX)
        names = dict.fromkeys(str(n) for (n,) in conn.execute(q))  # each name once, newest first
        return total, tuple(names)[:REVIEW_MAX]

    def _overdue(self, conn: Connection, end: datetime, kind: str) -> tuple[int, tuple[OverdueItem, ...]]:
        """Action items due before `end` and not done (their reminder timer was not cancelled), oldest first."""
        t = TimerRow
        due = and_(t.kind == kind, t.due_at < end, t.status != CANCELLED)
        total = int(conn.execute(select(func.count()).select_from(t).where(due)).scalar_one())
        q = (
            select(IncidentRow.ref, t.payload, t.due_at)
            .join(IncidentRow, IncidentRow.id == t.incident_id)
            .where(due)
            .order_by(t.due_at, t.id)
            .limit(LIST_MAX)
        )
        items = []
        for ref, payload, due_at in conn.execute(q):
            p = dict(payload or {})
            owner = str(p.get("owner") or "") or None
            items.append(OverdueItem(str(ref), str(p.get("item") or ""), str(p.get("text") or ""), owner, _utc(due_at)))
        return total, tuple(items)


def _utc(value: Any) -> datetime:
    """A time read through Core (the column type made it aware UTC)."""
    assert isinstance(value, datetime)
    return value
