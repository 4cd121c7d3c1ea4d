"""The one lease-queue implementation, for outbox deliveries and timers alike.

A row is `pending` until it is due, `inflight` while a worker holds its claim (`claimed_by`, until
`claimed_until`: the lease, renewed by the process heartbeat), then done, rescheduled, or dead. An expired
lease makes an in-flight row claimable again, so a dead worker's rows are taken over. On PostgreSQL rows
are claimed with `FOR UPDATE SKIP LOCKED`: replicas never claim the same row. Every write after a claim
is conditional on still holding it.

Every delivery of every event passes through `claim` and `finish`, so their statements are built once, on
the table (not the ORM entity: no identity map, no flush), with the values as bound parameters: building and
cache-keying a statement costs more than running it on SQLite. A claim is one SELECT and one UPDATE
whatever the number of rows. A queue whose order follows an index (timers: `status, due_at, id`) claims with
two SELECTs instead, expired leases then due rows, so each walks the index and stops at the limit: with
one SELECT the `OR` of the two makes the database read and sort every due row for every claim (a backlog of
10,000 due timers cost milliseconds per claim).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import BindParameter, ColumnElement, Table, and_, bindparam, func, or_, select, update

from bot.db.tables import DeliveryRow, TimerRow
from bot.db.uow import DEAD, INFLIGHT, PENDING, Tx

if TYPE_CHECKING:
    from bot.db.store import Store

ERROR_MAX = 2000
Claimed = dict[str, Any]  # a claimed row's columns by name, `attempts` already counting this claim


class LeaseQueue:
    """Claim, renew and finish the rows of one queue table."""

    def __init__(
        self,
        store: Store,
        entity: type[DeliveryRow] | type[TimerRow],
        *,
        done: str,
        done_at: str,
        order_by: Callable[[Table], Sequence[Any]],
        where: Callable[[Table], Sequence[ColumnElement[bool]]] = lambda t: (),
        split: bool = False,
    ) -> None:
        self.store = store
        self.t = t = cast(Table, entity.__table__)
        self.done = done  # the status of a row whose work is done
        self.done_at = done_at  # the column that records when
        c = t.c
        now: BindParameter[datetime] = bindparam("b_now", type_=c.due_at.type)
        claimable = or_(and_(c.status == PENDING, c.due_at <= now), and_(c.status == INFLIGHT, c.claimed_until < now))
        due = and_(c.status == PENDING, c.due_at <= now)
        expired = and_(c.status == INFLIGHT, c.claimed_until < now)
        selects = [expired, due] if split else [or_(due, expired)]
        self._selects = []
        for claimable in selects:
            q = select(t).where(claimable, *where(t)).order_by(*order_by(t)).limit(bindparam("b_limit"))
            if not store.is_sqlite:
                q = q.with_for_update(skip_locked=True, of=t)
            self._selects.append(q)
        self._mark = (
            update(t)
            .where(c.id.in_(bindparam("b_ids", expanding=True)))
            .values(status=INFLIGHT, claimed_by=bindparam("b_worker"), claimed_until=bindparam("b_until"))
            .values(attempts=c.attempts + 1)
        )
        self._done = (
            update(t)
            .where(c.id == bindparam("b_id"), c.claimed_by == bindparam("b_worker"))
            .values({"status": done, done_at: bindparam("b_at"), "claimed_until": None, "last_error": None})
        )
        self._min_due = select(func.min(c.due_at)).where(c.status == PENDING)
        self._min_lease = select(func.min(c.claimed_until)).where(c.status == INFLIGHT)

    async def claim(self, tx: Tx, *, worker: str, now: datetime, lease: timedelta, limit: int) -> list[Claimed]:
        """Claim up to `limit` claimable rows (in the queue's order) for `lease`; attempts counted."""
        rows: list[Any] = []
        for q in self._selects:
            if len(rows) < limit:
                params = {"b_now": now, "b_limit": limit - len(rows)}
                rows += (await tx.session.execute(q, params)).mappings().all()
        if not rows:
            return []
        until = now + lease
        ids = [r["id"] for r in rows]
        await tx.session.execute(self._mark, {"b_ids": ids, "b_worker": worker, "b_until": until})
        claimed = {"status": INFLIGHT, "claimed_by": worker, "claimed_until": until}
        return [{**r, **claimed, "attempts": r["attempts"] + 1} for r in rows]

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
        if error is None and not values:
            stmt, params = self._done, {"b_id": row_id, "b_worker": worker, "b_at": now}
        else:
            stmt, params = self._finish_statement(row_id, worker, now, error, retry_at, values), {}
        async with self.store.transaction() as tx:
            res = await tx.session.execute(stmt, params)
            return bool(getattr(res, "rowcount", 0))

    def _finish_statement(
        self, row_id: int, worker: str, now: datetime | None, error: str | None, retry_at: datetime | None,
        values: dict[str, Any],
    ) -> Any:  # fmt: skip
        changes: dict[str, Any] = {"claimed_until": None}
        if error is None:
            changes.update({"status": self.done, self.done_at: now, "last_error": None})
        elif retry_at is not None:
            changes.update(status=PENDING, due_at=retry_at, last_error=error[:ERROR_MAX])
        else:
            changes.update(status=DEAD, last_error=error[:ERROR_MAX])
        changes.update(values)
        c = self.t.c
        return update(self.t).where(c.id == row_id, c.claimed_by == worker).values(**changes)

    async def renew(self, *, worker: str, ids: list[int], until: datetime) -> set[int]:
        """Extend the lease of rows still claimed by `worker`; the ids that were (the rest are lost)."""
        if not ids:
            return set()
        c = self.t.c
        stmt = (
            update(self.t)
            .where(c.id.in_(ids), c.claimed_by == worker, c.status == INFLIGHT)
            .values(claimed_until=until)
            .returning(c.id)
        )
        async with self.store.transaction() as tx:
            return {int(i) for i in (await tx.session.execute(stmt)).scalars()}

    async def release_inflight(self) -> int:
        """Return every in-flight row to pending (single-process SQLite start-up recovery)."""
        c = self.t.c
        async with self.store.transaction() as tx:
            res = await tx.session.execute(
                update(self.t).where(c.status == INFLIGHT).values(status=PENDING, claimed_until=None)
            )
            return int(getattr(res, "rowcount", 0) or 0)

    async def next_due(self) -> datetime | None:
        """When the earliest pending row or lease falls due."""
        async with self.store.read() as tx:
            a = (await tx.session.execute(self._min_due)).scalar()
            b = (await tx.session.execute(self._min_lease)).scalar()
        due = [d for d in (a, b) if d is not None]
        return min(due) if due else None
