"""The remediation actions of a unit of work (bot.domain.remediation.RemediationAction <-> ActionRow).

A change is saved as a conditional UPDATE on the status the action was read with: when another unit of work
moved it first (two approvals at once, an expiry racing a click), nothing is written and `save` says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, select, update

from bot.db.tables import ActionRow
from bot.domain.policy import Decision
from bot.domain.remediation import ActionStatus, RemediationAction
from bot.domain.runbook import Risk

if TYPE_CHECKING:
    from bot.db.uow import Tx

_TABLE = cast(Table, ActionRow.__table__)


def to_action(row: ActionRow) -> RemediationAction:
    """Map a row to the domain's action."""
    return RemediationAction(
        id=row.id, incident_id=row.incident_id, runbook=row.runbook, step=row.step, title=row.title,
        risk=Risk(row.risk), executor=row.executor, argv=tuple(row.argv or ()), values=dict(row.argv_values or {}),
        rollback=tuple(row.rollback) if row.rollback else None, verify=row.verify, hypothesis=row.hypothesis,
        rationale=row.rationale, impact=row.impact, blast_radius=row.blast_radius, requested_by=row.requested_by,
        decision=Decision(row.decision), proposed_at=row.proposed_at, expires_at=row.expires_at,
        status=ActionStatus(row.status), decided_by=row.decided_by, decided_at=row.decided_at,
        started_at=row.started_at, finished_at=row.finished_at, exit_code=row.exit_code, output=row.output,
        rollback_output=row.rollback_output, refusal=row.refusal, verified=row.verified,
    )  # fmt: skip


def row_values(a: RemediationAction) -> dict[str, Any]:
    """The row's columns of an action."""
    return {
        "id": a.id, "incident_id": a.incident_id, "runbook": a.runbook, "step": a.step, "title": a.title[:250],
        "risk": a.risk.value, "executor": a.executor, "argv": list(a.argv), "argv_values": dict(a.values),
        "rollback": list(a.rollback) if a.rollback else None, "verify": a.verify, "hypothesis": a.hypothesis,
        "rationale": a.rationale, "impact": a.impact, "blast_radius": a.blast_radius,
        "requested_by": a.requested_by, "decision": a.decision.value, "status": a.status.value,
        "proposed_at": a.proposed_at, "expires_at": a.expires_at, "decided_by": a.decided_by,
        "decided_at": a.decided_at, "started_at": a.started_at, "finished_at": a.finished_at,
        "exit_code": a.exit_code, "output": a.output,
        "rollback_output": a.rollback_output, "refusal": a.refusal, "verified": a.verified,
    }  # fmt: skip


class ActionRepository:
    """Remediation actions of one unit of work."""

    def __init__(self, tx: Tx) -> None:
        self._session = tx.session
        self._read_as: dict[str, ActionStatus] = {}  # the status each action was read with

    def _track(self, rows: Sequence[ActionRow]) -> list[RemediationAction]:
        out = [to_action(r) for r in rows]
        for a in out:
            self._read_as[a.id] = a.status
        return out

    async def of_incident(self, incident_id: int) -> list[RemediationAction]:
        """Every action of an incident, oldest first."""
        q = select(ActionRow).where(ActionRow.incident_id == incident_id).order_by(ActionRow.proposed_at, ActionRow.id)
        return self._track(list((await self._session.execute(q)).scalars()))

    async def get(self, action_id: str, *, lock: bool = False) -> RemediationAction | None:
        """One action by id; `lock` holds its row until the unit of work ends."""
        q = select(ActionRow).where(ActionRow.id == action_id).execution_options(populate_existing=True)
        row = (await self._session.execute(q.with_for_update() if lock else q)).scalar_one_or_none()
        return None if row is None else self._track([row])[0]

    async def add(self, actions: Sequence[RemediationAction]) -> list[RemediationAction]:
        """Insert new actions; the ones whose id is known already are left as they are. The ones added."""
        if not actions:
            return []
        ids = [a.id for a in actions]
        known = set((await self._session.execute(select(ActionRow.id).where(ActionRow.id.in_(ids)))).scalars())
        new = [a for a in actions if a.id not in known]
        if new:
            await self._session.execute(_TABLE.insert(), [row_values(a) for a in new])
            for a in new:
                self._read_as[a.id] = a.status
        return new

    async def save(self, action: RemediationAction) -> bool:
        """Write the action if it still has the status it was read with; False when another unit of work
        changed it first (nothing written)."""
        read_as = self._read_as.get(action.id)
        if read_as is None:
            raise LookupError(f"action {action.id} was not read in this unit of work")
        values = row_values(action)
        del values["id"]
        stmt = update(_TABLE).where(_TABLE.c.id == action.id, _TABLE.c.status == read_as.value).values(**values)
        res = await self._session.execute(stmt)
        if not getattr(res, "rowcount", 0):
            return False
        self._read_as[action.id] = action.status
        return True
