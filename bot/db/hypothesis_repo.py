"""The kept hypotheses of a unit of work (bot.domain.root_cause.StoredHypothesis <-> HypothesisRow)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from bot.db.tables import HypothesisRow
from bot.domain.causes import Cause
from bot.domain.hypotheses import Status
from bot.domain.root_cause import StoredHypothesis, evidence_json, evidence_of

if TYPE_CHECKING:
    from bot.db.uow import Tx


def to_hypothesis(row: HypothesisRow) -> StoredHypothesis:
    """Map a row to the domain's kept hypothesis."""
    return StoredHypothesis(
        id=row.id, incident_id=row.incident_id, title=row.title, service=row.service, cause=Cause(row.cause),
        prior=row.prior, posterior=row.posterior, evidence=tuple(evidence_of(e) for e in row.evidence or []),
        scored_at=row.scored_at, rank=row.rank, runbook=row.runbook, origin=row.origin, status=Status(row.status),
        decided_by=row.decided_by, decided_at=row.decided_at,
    )  # fmt: skip


def row_values(h: StoredHypothesis) -> dict[str, Any]:
    """The row's columns of a kept hypothesis."""
    return {
        "id": h.id, "incident_id": h.incident_id, "title": h.title[:250], "service": h.service, "cause": h.cause.value,
        "runbook": h.runbook, "origin": h.origin, "prior": h.prior, "posterior": h.posterior, "rank": h.rank,
        "status": h.status.value, "evidence": [evidence_json(e) for e in h.evidence], "decided_by": h.decided_by,
        "decided_at": h.decided_at, "scored_at": h.scored_at,
    }  # fmt: skip


class HypothesisRepository:
    """Kept hypotheses of one unit of work (rows tracked by the session: saving writes what changed)."""

    def __init__(self, tx: Tx) -> None:
        self._session = tx.session
        self._rows: dict[str, HypothesisRow] = {}

    def _track(self, rows: Sequence[HypothesisRow]) -> list[StoredHypothesis]:
        for row in rows:
            self._rows[row.id] = row
        return [to_hypothesis(r) for r in rows]

    async def of_incident(self, incident_id: int) -> list[StoredHypothesis]:
        """Every hypothesis kept for an incident."""
        q = select(HypothesisRow).where(HypothesisRow.incident_id == incident_id).order_by(HypothesisRow.id)
        return self._track(list((await self._session.execute(q)).scalars()))

    async def get(self, hypothesis_id: str, *, lock: bool = False) -> StoredHypothesis | None:
        """One hypothesis by id; `lock` holds its row until the unit of work ends."""
        q = select(HypothesisRow).where(HypothesisRow.id == hypothesis_id)
        row = (await self._session.execute(q.with_for_update() if lock else q)).scalar_one_or_none()
        return None if row is None else self._track([row])[0]

    async def save(self, hypotheses: Sequence[StoredHypothesis]) -> None:
        """Insert the new ones, update the fields that changed on the known ones."""
        for h in hypotheses:
            values = row_values(h)
            row = self._rows.get(h.id) or await self._session.get(HypothesisRow, h.id)
            if row is None:
                row = HypothesisRow(**values)
                self._session.add(row)
                self._rows[h.id] = row
                continue
            for name, value in values.items():
                if getattr(row, name) != value:
                    setattr(row, name, value)
        await self._session.flush()
