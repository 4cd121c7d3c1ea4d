"""The alert rows of a unit of work: the ingest hot path's statements (see alert_rows) and the review queue."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from bot.db.alert_rows import ALERTS, firing_rows, insert_rows, update_repeats
from bot.db.silence_repo import to_silence
from bot.db.tables import AlertRow, SilenceRow
from bot.domain.alert import AlertStatus
from bot.services.uow import AlertRecord, FiringRow, SilenceRecord

if TYPE_CHECKING:
    from bot.db.uow import Tx


def to_record(row: AlertRow) -> AlertRecord:
    """Map an alert row to what the API shows."""
    return AlertRecord(
        id=row.id, source=row.source, fingerprint=row.fingerprint, status=row.status, alertname=row.alertname,
        labels=dict(row.labels or {}), annotations=dict(row.annotations or {}), severity=row.severity,
        severity_reason=row.severity_reason, count=row.count, incident_id=row.incident_id, silenced_by=row.silenced_by,
        starts_at=row.starts_at, first_seen_at=row.first_seen_at, last_seen_at=row.last_seen_at,
        resolved_at=row.resolved_at, generator_url=row.generator_url,
    )  # fmt: skip


class AlertRepository:
    """Alert rows of one unit of work."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx

    async def first_started(self, incident_id: int) -> datetime | None:
        """When the incident's earliest alert began (its `startsAt`), if it has alerts."""
        q = select(func.min(AlertRow.starts_at)).where(AlertRow.incident_id == incident_id)
        return (await self._tx.session.execute(q)).scalar()

    async def firing(self, keys: list[str]) -> dict[str, FiringRow]:
        """The firing rows with these active keys, by key."""
        return await firing_rows(self._tx, keys)

    async def insert(self, rows: list[dict[str, Any]]) -> None:
        """Insert new alert rows."""
        await insert_rows(self._tx, rows)

    async def count_repeats(self, updates: list[dict[str, Any]]) -> None:
        """Count repeats of firing alerts."""
        await update_repeats(self._tx, updates)

    async def attach(self, ids: list[int], incident_id: int) -> None:
        """Firing alerts join an incident and leave the review queue."""
        stmt = ALERTS.update().where(ALERTS.c.id.in_(ids)).values(incident_id=incident_id, review=False)
        await self._tx.session.execute(stmt)

    async def resolve(self, ids: list[int], at: datetime) -> None:
        """Alerts resolved at `at`; their active key is free for the next firing."""
        stmt = (
            ALERTS.update()
            .where(ALERTS.c.id.in_(ids))
            .values(status=AlertStatus.RESOLVED.value, resolved_at=at, ends_at=at, active_key=None, last_seen_at=at)
        )
        await self._tx.session.execute(stmt)

    async def any_silence(self, now: datetime) -> bool:
        """Whether any API silence has not ended."""
        q = select(SilenceRow.id).where(SilenceRow.ends_at > now, SilenceRow.expired_at.is_(None)).limit(1)
        return (await self._tx.session.execute(q)).first() is not None

    async def silences_in_force(self, now: datetime) -> list[SilenceRecord]:
        """The API silences in force now."""
        q = select(SilenceRow).where(
            SilenceRow.starts_at <= now, SilenceRow.ends_at > now, SilenceRow.expired_at.is_(None)
        )
        return [to_silence(r) for r in (await self._tx.session.execute(q)).scalars()]

    async def review_queue(self, *, limit: int, include_resolved: bool) -> list[AlertRecord]:
        """Alerts below the declare threshold waiting for a human look, newest first."""
        waiting = AlertRow.review == True  # noqa: E712 - renders `review = 1`, the partial index's condition
        q = select(AlertRow).where(waiting, AlertRow.incident_id.is_(None))
        if not include_resolved:
            q = q.where(AlertRow.status == AlertStatus.FIRING.value)
        q = q.order_by(AlertRow.last_seen_at.desc(), AlertRow.id.desc()).limit(limit)
        return [to_record(r) for r in (await self._tx.session.execute(q)).scalars()]

    async def of_incident(self, incident_id: int, *, limit: int) -> list[AlertRecord]:
        """The first alerts of an incident, oldest first (what diagnostics look at)."""
        q = select(AlertRow).where(AlertRow.incident_id == incident_id).order_by(AlertRow.id).limit(limit)
        return [to_record(r) for r in (await self._tx.session.execute(q)).scalars()]
