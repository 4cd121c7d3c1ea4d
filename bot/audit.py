"""Audit verification: recompute every chain of the event log and report the first broken row."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.db.store import Store
from bot.db.tables import EventRow
from bot.domain.chain import GENESIS, event_hash


@dataclass(frozen=True, slots=True)
class AuditReport:
    """Result of `warroom audit verify`."""

    rows: int
    chains: int
    broken_id: int | None = None
    broken_chain: str | None = None
    broken_seq: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        """True when every row verified."""
        return self.broken_id is None

    def describe(self) -> str:
        """One human line."""
        if self.ok:
            return f"audit OK: {self.rows} events in {self.chains} chains verified"
        return (
            f"audit FAILED at event id {self.broken_id} ({self.broken_chain} #{self.broken_seq}): {self.reason}"
            f" — {self.rows} events checked"
        )


async def verify(store: Store, batch: int = 2000) -> AuditReport:
    """Walk every chain in order; stop at the first row whose link or hash does not match."""
    state: dict[str, tuple[int, str]] = {}
    rows = 0
    last_id = 0
    while True:
        async with store.read() as tx:
            page = list(
                (
                    await tx.session.execute(
                        select(EventRow).where(EventRow.id > last_id).order_by(EventRow.id).limit(batch)
                    )
                ).scalars()
            )
        if not page:
            break
        for r in page:
            last_id = r.id
            rows += 1
            seq, prev = state.get(r.chain, (0, GENESIS))

            reason: str | None = None
            if r.seq != seq + 1:
                reason = f"sequence jumps from {seq} to {r.seq} (a row was removed or inserted)"
            elif r.prev_hash != prev:
                reason = "prev_hash does not match the previous row's hash"
            if reason is not None:
                return AuditReport(rows, len(state), r.id, r.chain, r.seq, reason)
            expected = event_hash(
                prev_hash=r.prev_hash,
                chain=r.chain,
                seq=r.seq,
                at=r.at,
                actor=r.actor,
                kind=r.kind,
                text=r.text,
                payload=dict(r.payload or {}),
            )
            if expected != r.hash:
                reason = "hash does not match the row's content (the row was edited)"
                return AuditReport(rows, len(state), r.id, r.chain, r.seq, reason)
            state[r.chain] = (r.seq, r.hash)
    return AuditReport(rows, len(state))
