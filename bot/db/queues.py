"""The one lease-queue implementation, for outbox deliveries and timers alike.

A row is `pending` until it is due, `inflight` while a worker holds its claim (`claimed_by`, until
`claimed_until`: the lease, renewed by the process heartbeat), then done, rescheduled, or dead. An expired
lease makes an in-flight row claimable again, so a dead worker's rows are taken over. On PostgreSQL rows
are claimed with `FOR UPDATE SKIP LOCKED`: replicas never claim the same row. Every write after a claim
is conditional on still holding it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from sqlalchemy import ColumnElement, and_, func, or_, select, update

from bot.db.tables import DeliveryRow, TimerRow
from bot.db.uow import DEAD, INFLIGHT, PENDING, Tx

if TYPE_CHECKING:
    from bot.db.store import Store

Row = TypeVar("Row", DeliveryRow, TimerRow)
ERROR_MAX = 2000


class LeaseQueue(Generic[Row]):
    """Claim, renew and finish the rows of one queue table."""

    def __init__(self, store: Store, table: type[Row], *, done: str, done_at: str) -> None:
        self.store = store
        self.table: type[Row] = table
        self.done = done  # the status of a row whose work is done
        self.done_at = done_at  # the column that records when

    def claimable(self, now: datetime) -> ColumnElement[bool]:
        """Due pending rows, and in-flight rows whose lease ran out."""
        t = self.table
        return or_(and_(t.status == PENDING, t.due_at <= now), and_(t.status == INFLIGHT, t.claimed_until < now))

    async def claim(
        self,
        tx: Tx,
        *,
        worker: str,
        now: datetime,
        lease: timedelta,
        limit: int,
        order_by: Sequence[Any],
        where: Sequence[ColumnElement[bool]] = (),
    ) -> list[Row]:
        """Claim up to `limit` claimable rows (and `where`), in `order_by`, for `lease`; attempts counted."""
        q = select(self.table).where(self.claimable(now), *where).order_by(*order_by).limit(limit)
        if not self.store.is_sqlite:
            q = q.with_for_update(skip_locked=True, of=self.table)
        rows = list((await tx.session.execute(q)).scalars())
        for r in rows:
            r.status = INFLIGHT
            r.claimed_by = worker
            r.claimed_until = now + lease
            r.attempts += 1
        return rows

    async def finish(
        self,
        row_id: int,
        *,
        worker: str,
        now: datetime | None = None,
        error: str | None = None,
        retry_at: datetime | None = None,
        **values: Any,
    ) -> bool:
        """Record an attempt: done (no error), rescheduled at `retry_at`, or dead; `values` set besides. False
        when the claim was lost (its lease ran out and another worker holds it now)."""
        changes: dict[str, Any] = {"claimed_until": None}
        if error is None:
            changes.update({"status": self.done, self.done_at: now, "last_error": None})
        elif retry_at is not None:
            changes.update(status=PENDING, due_at=retry_at, last_error=error[:ERROR_MAX])
        else:
            changes.update(status=DEAD, last_error=error[:ERROR_MAX])
        changes.update(values)
        t = self.table
        stmt = update(t).where(t.id == row_id, t.claimed_by == worker).values(**changes)
        async with self.store.transaction() as tx:
            res = await tx.session.execute(stmt)
            return bool(getattr(res, "rowcount", 0))

    async def renew(self, *, worker: str, ids: list[int], until: datetime) -> set[int]:
        """Extend the lease of rows still claimed by `worker`; the ids that were (the rest are lost)."""
        if not ids:
            return set()
        t = self.table
        stmt = (
            update(t)
            .where(t.id.in_(ids), t.claimed_by == worker, t.status == INFLIGHT)
            .values(claimed_until=until)
            .returning(t.id)
        )
        async with self.store.transaction() as tx:
            return {int(i) for i in (await tx.session.execute(stmt)).scalars()}

    async def release_inflight(self) -> int:
        """Return every in-flight row to pending (single-process SQLite start-up recovery)."""
        t = self.table
        async with self.store.transaction() as tx:
            res = await tx.session.execute(
                update(t).where(t.status == INFLIGHT).values(status=PENDING, claimed_until=None)
            )
            return int(getattr(res, "rowcount", 0) or 0)

    async def next_due(self) -> datetime | None:
        """When the earliest pending row or lease falls due."""
        t = self.table
        async with self.store.read() as tx:
            a = (await tx.session.execute(select(func.min(t.due_at)).where(t.status == PENDING))).scalar()
            b = (await tx.session.execute(select(func.min(t.claimed_until)).where(t.status == INFLIGHT))).scalar()
        due = [d for d in (a, b) if d is not None]
        return min(due) if due else None
