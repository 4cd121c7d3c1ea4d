"""The database: units of work (bot.db.uow) on an engine, the outbox and timer queues, whole-table counts."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, and_, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.db.checkpoint import WalCheckpointer
from bot.db.engine import make_engine, make_scan_engine, sqlite_file
from bot.db.incident_repo import to_incident
from bot.db.tables import DeliveryRow, EventRow, IncidentRow, TimerRow
from bot.db.uow import CANCELLED, DEAD, DONE, FIRED, INFLIGHT, PENDING, Tx, to_event
from bot.domain.events import Event
from bot.plugins import ReactorRegistry
from bot.services.uow import Conflict
from bot.worker_threads import WorkerThreads

__all__ = [
    "CANCELLED", "DEAD", "DONE", "FIRED", "INFLIGHT", "PENDING", "ClaimedDelivery", "ClaimedTimer", "Store", "Tx",
    "new_worker_id", "to_event", "to_incident",
]  # fmt: skip

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery claimed by a worker, with its event."""

    id: int
    reactor: str
    attempts: int
    event: Event


@dataclass(frozen=True, slots=True)
class ClaimedTimer:
    """A due timer claimed by a worker."""

    id: int
    kind: str
    key: str
    incident_id: int | None
    due_at: datetime
    payload: dict[str, Any]
    attempts: int


class Store:
    """The database: units of work, outbox and timer queues."""

    def __init__(
        self, engine: AsyncEngine, *, checkpointer: WalCheckpointer | None = None, scan_engine: Engine | None = None
    ) -> None:
        self.engine = engine
        self.checkpointer = checkpointer  # SQLite file databases: WAL checkpoints off the event loop
        self._scan_engine = scan_engine  # SQLite file databases: long reads in a worker thread (see scan)
        self._scan_threads = WorkerThreads("sqlite-scan", size=2) if scan_engine is not None else None
        self.dialect = engine.dialect.name
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.reactors = ReactorRegistry()  # who gets a delivery of each appended event (bootstrap fills it)
        self.cache: dict[str, object] = {}  # small per-process caches of services (e.g. "no silences")
        self._commit_listeners: list[Callable[[], None]] = []
        # SQLite has one writer at a time: serialize our own writers instead of failing with SQLITE_BUSY.
        self._write_lock: asyncio.Lock | None = asyncio.Lock() if self.dialect == "sqlite" else None

    @classmethod
    def from_url(cls, url: str, *, sqlite_synchronous: str = "NORMAL") -> Store:
        """A store on a new engine for `url`."""
        path = sqlite_file(url)
        engine = make_engine(url, sqlite_synchronous=sqlite_synchronous)
        if path is None:
            return cls(engine)
        return cls(engine, checkpointer=WalCheckpointer(path), scan_engine=make_scan_engine(url))

    @property
    def is_sqlite(self) -> bool:
        """True on SQLite."""
        return self.dialect == "sqlite"

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Call `listener` after every commit that appended events (wakes the outbox worker)."""
        self._commit_listeners.append(listener)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """A write unit of work; commits on success, rolls back on error (Conflict for a broken uniqueness)."""
        if self._write_lock is not None:
            await self._write_lock.acquire()
        try:
            async with self.sessions() as session, session.begin():
                tx = Tx(session, self)
                yield tx
            appended = tx.appended
        except IntegrityError as exc:
            raise Conflict(str(exc.orig)) from exc
        finally:
            if self._write_lock is not None:
                self._write_lock.release()
        if appended:
            for listener in self._commit_listeners:
                listener()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Tx]:
        """A read-only unit of work (no write lock)."""
        async with self.sessions() as session, session.begin():
            yield Tx(session, self)

    def start_background(self) -> None:
        """Start the store's own background work (SQLite WAL checkpoints)."""
        if self.checkpointer is not None:
            self.checkpointer.start()

    async def scan(self, read: Callable[[Connection], T]) -> T:
        """Run `read(connection)`, a read that may go over many rows, without holding up the event loop.

        On a SQLite file it runs in a worker thread on a read-only connection of its own (the main driver
        runs on the loop); elsewhere on a connection of the async engine.
        """
        if self._scan_threads is not None:
            return await self._scan_threads.run(functools.partial(self._scan_in_thread, read))
        async with self.engine.connect() as conn:
            return await conn.run_sync(read)

    def _scan_in_thread(self, read: Callable[[Connection], T]) -> T:
        assert self._scan_engine is not None
        with self._scan_engine.connect() as conn:
            return read(conn)

    async def dispose(self) -> None:
        """Stop background work and close every connection."""
        if self.checkpointer is not None:
            await self.checkpointer.stop()
        if self._scan_threads is not None and self._scan_engine is not None:
            # Only once every scan still running in its thread (its caller may have been cancelled) is done.
            await self._scan_threads.close(self._scan_engine.dispose)
        await self.engine.dispose()

    # -- outbox ----------------------------------------------------------------------------

    async def claim_deliveries(
        self, *, worker: str, now: datetime, lease: timedelta, limit: int = 50
    ) -> list[ClaimedDelivery]:
        """Claim due deliveries: at most one per (reactor, chain) at a time, in log order.

        A row whose earlier sibling (same reactor and chain) is still pending or in flight waits, so
        reactors see each incident's events in order. On PostgreSQL rows are claimed with
        `FOR UPDATE SKIP LOCKED`; an expired lease makes an in-flight row claimable again.
        """
        d2 = aliased(DeliveryRow)
        earlier = (
            select(d2.id)
            .where(
                d2.reactor == DeliveryRow.reactor,
                d2.chain == DeliveryRow.chain,
                d2.id < DeliveryRow.id,
                d2.status.in_([PENDING, INFLIGHT]),
            )
            .exists()
        )
        claimable = or_(
            and_(DeliveryRow.status == PENDING, DeliveryRow.due_at <= now),
            and_(DeliveryRow.status == INFLIGHT, DeliveryRow.claimed_until < now),
        )
        q = select(DeliveryRow).where(claimable, ~earlier).order_by(DeliveryRow.id).limit(limit)
        if not self.is_sqlite:
            q = q.with_for_update(skip_locked=True, of=DeliveryRow)
        async with self.transaction() as tx:
            rows = list((await tx.session.execute(q)).scalars())
            if not rows:
                return []
            for r in rows:
                r.status = INFLIGHT
                r.claimed_by = worker
                r.claimed_until = now + lease
                r.attempts += 1
            events = {
                e.id: e
                for e in (
                    await tx.session.execute(select(EventRow).where(EventRow.id.in_([r.event_id for r in rows])))
                ).scalars()
            }
            return [ClaimedDelivery(r.id, r.reactor, r.attempts, to_event(events[r.event_id])) for r in rows]

    async def complete_delivery(self, delivery_id: int, *, worker: str, now: datetime) -> bool:
        """Mark delivered; False when the claim was lost (lease expired and taken over)."""
        async with self.transaction() as tx:
            res = await tx.session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id == delivery_id, DeliveryRow.claimed_by == worker)
                .values(status=DONE, delivered_at=now, claimed_until=None, last_error=None)
            )
            return bool(getattr(res, "rowcount", 0))

    async def fail_delivery(self, delivery_id: int, *, worker: str, error: str, retry_at: datetime | None) -> None:
        """Reschedule at `retry_at`, or dead-letter the row when `retry_at` is None."""
        values: dict[str, Any] = {"last_error": error[:2000], "claimed_until": None}
        if retry_at is None:
            values["status"] = DEAD
        else:
            values.update(status=PENDING, due_at=retry_at)
        async with self.transaction() as tx:
            await tx.session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id == delivery_id, DeliveryRow.claimed_by == worker)
                .values(**values)
            )

    async def renew_deliveries(self, *, worker: str, ids: list[int], until: datetime) -> set[int]:
        """Extend the lease of deliveries still claimed by `worker`; the ids that were (the rest are lost)."""
        return await self._renew(DeliveryRow, worker=worker, ids=ids, until=until)

    async def _renew(
        self, row: type[DeliveryRow] | type[TimerRow], *, worker: str, ids: list[int], until: datetime
    ) -> set[int]:
        if not ids:
            return set()
        stmt = (
            update(row)
            .where(row.id.in_(ids), row.claimed_by == worker, row.status == INFLIGHT)
            .values(claimed_until=until)
            .returning(row.id)
        )
        async with self.transaction() as tx:
            return {int(i) for i in (await tx.session.execute(stmt)).scalars()}

    async def release_inflight(self) -> int:
        """Return every in-flight delivery to pending (single-process SQLite start-up recovery)."""
        async with self.transaction() as tx:
            res = await tx.session.execute(
                update(DeliveryRow).where(DeliveryRow.status == INFLIGHT).values(status=PENDING, claimed_until=None)
            )
            return int(getattr(res, "rowcount", 0) or 0)

    async def next_delivery_due(self) -> datetime | None:
        """When the earliest pending delivery or lease falls due."""
        async with self.read() as tx:
            a = (
                await tx.session.execute(select(func.min(DeliveryRow.due_at)).where(DeliveryRow.status == PENDING))
            ).scalar()
            b = (
                await tx.session.execute(
                    select(func.min(DeliveryRow.claimed_until)).where(DeliveryRow.status == INFLIGHT)
                )
            ).scalar()
        due = [d for d in (a, b) if d is not None]
        return min(due) if due else None

    async def incident_counts(self) -> dict[tuple[str, str], int]:
        """Incidents by (severity, status) (a count over the whole table: run as a scan)."""

        def count(conn: Connection) -> dict[tuple[str, str], int]:
            by = (IncidentRow.severity, IncidentRow.status)
            rows = conn.execute(select(*by, func.count()).group_by(*by))
            return {(str(s), str(st)): int(n) for s, st, n in rows.all()}

        return await self.scan(count)

    async def schema_revision(self) -> str | None:
        """The migration the database is at (raises when it does not answer)."""
        async with self.read() as tx:
            return (await tx.session.execute(text("SELECT version_num FROM alembic_version"))).scalar()

    def schema_head(self) -> str | None:
        """The newest migration of this code."""
        from bot.db.migrate import head_revision  # alembic is only loaded when asked

        return head_revision()

    async def delivery_counts(self) -> dict[str, int]:
        """Number of deliveries per status (a count over the whole table: run as a scan)."""

        def count(conn: Connection) -> dict[str, int]:
            rows = conn.execute(select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status))
            return {str(s): int(n) for s, n in rows.all()}

        return await self.scan(count)

    # -- timers ----------------------------------------------------------------------------

    async def claim_timers(
        self, *, worker: str, now: datetime, lease: timedelta, limit: int = 50
    ) -> list[ClaimedTimer]:
        """Claim due timers (each fires once across replicas; expired leases are re-claimed)."""
        claimable = or_(
            and_(TimerRow.status == PENDING, TimerRow.due_at <= now),
            and_(TimerRow.status == INFLIGHT, TimerRow.claimed_until < now),
        )
        q = select(TimerRow).where(claimable).order_by(TimerRow.due_at, TimerRow.id).limit(limit)
        if not self.is_sqlite:
            q = q.with_for_update(skip_locked=True)
        async with self.transaction() as tx:
            rows = list((await tx.session.execute(q)).scalars())
            for r in rows:
                r.status = INFLIGHT
                r.claimed_by = worker
                r.claimed_until = now + lease
                r.attempts += 1
            return [
                ClaimedTimer(r.id, r.kind, r.key, r.incident_id, r.due_at, dict(r.payload or {}), r.attempts)
                for r in rows
            ]

    async def finish_timer(
        self,
        timer_id: int,
        *,
        worker: str,
        now: datetime,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> None:
        """Mark a timer fired, or reschedule it after an error."""
        values: dict[str, Any] = {"claimed_until": None}
        if error is None:
            values.update(status=FIRED, fired_at=now, last_error=None)
        elif retry_at is not None:
            values.update(status=PENDING, due_at=retry_at, last_error=error[:2000])
        else:
            values.update(status=DEAD, last_error=error[:2000])
        async with self.transaction() as tx:
            await tx.session.execute(
                update(TimerRow).where(TimerRow.id == timer_id, TimerRow.claimed_by == worker).values(**values)
            )

    async def renew_timers(self, *, worker: str, ids: list[int], until: datetime) -> set[int]:
        """Extend the lease of timers still claimed by `worker`; the ids that were."""
        return await self._renew(TimerRow, worker=worker, ids=ids, until=until)

    async def next_timer_due(self) -> datetime | None:
        """When the earliest pending timer falls due."""
        async with self.read() as tx:
            return (
                await tx.session.execute(select(func.min(TimerRow.due_at)).where(TimerRow.status == PENDING))
            ).scalar()


def new_worker_id(prefix: str = "worker") -> str:
    """A unique claim owner id for this process and worker."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
