"""Audit verification: recompute every chain of the event log and report the first broken row.

Each chain is walked in sequence order. Tampering shows as: a row whose content was changed (its hash no longer
matches); a row deleted from the middle (the sequence jumps); rows reordered (a row stored, by id, before the one
it follows, or a link that no longer matches); and the newest rows of a chain deleted, which would leave a valid
but shorter chain: `audit_heads`, written in the same transaction as every append, remembers each chain's newest
entry, and the chain must end there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, literal, select, tuple_

from bot.db.store import Store
from bot.db.tables import AuditHeadRow, EventRow
from bot.domain.chain import GENESIS, event_hash


@dataclass(frozen=True, slots=True)
class AuditReport:
    """Result of `warroom audit verify`; `broken_id` is None for a row that is missing altogether."""

    rows: int
    chains: int
    broken_id: int | None = None
    broken_chain: str | None = None
    broken_seq: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        """True when every row verified."""
        return self.reason is None

    def describe(self) -> str:
        """One human line."""
        if self.ok:
            return f"audit OK: {self.rows} events in {self.chains} chains verified"
        row = f"event id {self.broken_id}" if self.broken_id is not None else "a missing event"
        return (
            f"audit FAILED at {row} ({self.broken_chain} #{self.broken_seq}): {self.reason}"
            f" — {self.rows} events checked"
        )


def _link_error(r: EventRow, seq: int, prev: str, prev_id: int) -> str | None:
    """Why the row does not follow its chain's previous row (seq, hash, id), if it does not."""
    if r.seq == seq:
        return f"#{r.seq} appears twice (a row was duplicated)"
    if r.seq != seq + 1:
        missing = f"#{seq + 1}" if r.seq == seq + 2 else f"#{seq + 1}..#{r.seq - 1}"
        return f"sequence jumps from {seq} to {r.seq}: {missing} was deleted"
    if r.id < prev_id:
        return f"out of order: #{r.seq} (id {r.id}) is stored before #{seq} (id {prev_id}): rows were reordered"
    if r.prev_hash != prev:
        return "prev_hash does not match the previous row's hash (a row was reordered, replaced or removed)"
    expected = event_hash(
        prev_hash=r.prev_hash, chain=r.chain, seq=r.seq, at=r.at, actor=r.actor, kind=r.kind, text=r.text,
        payload=dict(r.payload or {}),
    )  # fmt: skip
    if expected != r.hash:
        return "hash does not match the row's content (the row was edited)"
    return None


def _page_after(chain: str, seq: int, batch: int) -> Select[Any]:
    """The next rows in (chain, seq) order, after the given one: keyset pagination with a row-value comparison,
    which SQLite and PostgreSQL answer from the unique index (an OR of the two columns made SQLite scan the index
    from its start for every page: 90 ms against 12 ms per page at row 150,000 of 200,000)."""
    after = tuple_(EventRow.chain, EventRow.seq) > tuple_(literal(chain), literal(seq))
    return select(EventRow).where(after).order_by(EventRow.chain, EventRow.seq).limit(batch)


async def verify(store: Store, batch: int = 2000) -> AuditReport:
    """Walk every chain in order; stop at the first row whose place, link, hash or storage order does not
    match; then check that each chain ends where its head record says."""
    state: dict[str, tuple[int, str, int]] = {}  # chain -> last (seq, hash, id)
    rows = 0
    cursor = ("", 0)
    while True:
        async with store.read() as tx:
            page = list((await tx.session.execute(_page_after(*cursor, batch))).scalars())
        if not page:
            break
        for r in page:
            cursor = (r.chain, r.seq)
            rows += 1
            seq, prev, prev_id = state.get(r.chain, (0, GENESIS, 0))
            reason = _link_error(r, seq, prev, prev_id)
            if reason is not None:
                return AuditReport(rows, len(state), r.id, r.chain, r.seq, reason)
            state[r.chain] = (r.seq, r.hash, r.id)
    async with store.read() as tx:
        heads = {h.chain: (h.seq, h.hash) for h in (await tx.session.execute(select(AuditHeadRow))).scalars()}
    broken = _heads_error({c: (s, h) for c, (s, h, _) in state.items()}, heads)
    if broken is not None:
        chain, seq, reason = broken
        return AuditReport(rows, len(state), None, chain, seq, reason)
    return AuditReport(rows, len(state))


def _heads_error(state: dict[str, tuple[int, str]], heads: dict[str, tuple[int, str]]) -> tuple[str, int, str] | None:
    """The first chain whose end is not its head record: (chain, seq of the first missing row, why)."""
    for chain in sorted(set(state) | set(heads)):
        seq, digest = state.get(chain, (0, GENESIS))
        head = heads.get(chain)
        if head is None:
            return chain, seq, "the chain has no head record (audit_heads row deleted, or rows inserted behind the bot)"
        head_seq, head_hash = head
        if head_seq > seq:
            gone = f"#{seq + 1}" if head_seq == seq + 1 else f"#{seq + 1}..#{head_seq}"
            what = "every row of the chain was deleted" if seq == 0 else "the newest row(s) were deleted"
            return (
                chain,
                seq + 1,
                f"the chain ends at #{seq} but its head record says #{head_seq}: {gone} missing ({what})",
            )
        if head_seq < seq:
            return chain, head_seq + 1, f"rows after the head record (#{head_seq}) were added behind the bot's back"
        if head_hash != digest:
            return chain, seq, "the newest row is not the one the head record names (it was replaced)"
    return None
