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

from sqlalchemy import ColumnElement, Connection, Engine, Table, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.db.checkpoint import WalCheckpointer
from bot.db.engine import make_engine, make_scan_engine, sqlite_file
from bot.db.incident_repo import to_incident
from bot.db.queues import LeaseQueue
from bot.db.tables import DeliveryRow, EventRow, IncidentRow, TimerRow
from bot.db.uow import CANCELLED, DEAD, DONE, FIRED, INFLIGHT, PENDING, Tx, to_event
from bot.domain.events import Event, EventKind
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
        self.deliveries = LeaseQueue(
            self, DeliveryRow, done=DONE, done_at="delivered_at", order_by=lambda t: [t.c.id], where=_in_chain_order
        )
        self.timers = LeaseQueue(
            self, TimerRow, done=FIRED, done_at="fired_at", order_by=lambda t: [t.c.due_at, t.c.id], split=True
        )
        self.reactors = ReactorRegistry()  # who gets a delivery of each appended event (bootstrap fills it)
        self.cache: dict[str, object] = {}  # small per-process caches of services (e.g. "no silences")
        self._commit_listeners: list[Callable[[], None]] = []
        self._timer_listeners: list[Callable[[], None]] = []
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

    def on_timers_committed(self, listener: Callable[[], None]) -> None:
        """Call `listener` after every commit that scheduled timers (wakes the scheduler, so a timer due
        sooner than its next poll fires on time)."""
        self._timer_listeners.append(listener)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """A write unit of work; commits on success, rolls back on error (Conflict for a broken uniqueness)."""
        if self._write_lock is not None:
            await self._write_lock.acquire()
        try:
            async with self.sessions() as session, session.begin():
                tx = Tx(session, self)
                yield tx
            appended, scheduled = tx.appended, tx.scheduled
        except IntegrityError as exc:
            raise Conflict(str(exc.orig)) from exc
        finally:
            if self._write_lock is not None:
                self._write_lock.release()
        if appended:
            for listener in self._commit_listeners:
                listener()
        if scheduled:
            for listener in self._timer_listeners:
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
        reactors see each incident's events in order.
        """
        async with self.transaction() as tx:
            rows = await self.deliveries.claim(tx, worker=worker, now=now, lease=lease, limit=limit)
            if not rows:
                return []
            q = select(EventRow).where(EventRow.id.in_([r["event_id"] for r in rows]))
            events = {e.id: e for e in (await tx.session.execute(q)).scalars()}
            return [
                ClaimedDelivery(r["id"], r["reactor"], r["attempts"], to_event(events[r["event_id"]])) for r in rows
            ]

    async def complete_delivery(self, delivery_id: int, *, worker: str, now: datetime) -> bool:
        """Mark delivered; False when the claim was lost (lease expired and taken over)."""
        return await self.deliveries.finish(delivery_id, worker=worker, now=now)

    async def fail_delivery(
        self, delivery_id: int, *, worker: str, error: str, retry_at: datetime | None, attempts: int | None = None
    ) -> None:
        """Reschedule at `retry_at`, or dead-letter the row when `retry_at` is None; `attempts` rewrites the
        count (a postponed delivery)."""
        values = {} if attempts is None else {"attempts": max(attempts, 0)}
        await self.deliveries.finish(
            delivery_id, worker=worker, now=retry_at or datetime.now(), error=error, retry_at=retry_at, **values
        )

    async def renew_deliveries(self, *, worker: str, ids: list[int], until: datetime) -> set[int]:
        """Extend the lease of deliveries still claimed by `worker`; the ids that were (the rest are lost)."""
        return await self.deliveries.renew(worker=worker, ids=ids, until=until)

    async def release_inflight(self) -> int:
        """Return every in-flight delivery to pending (single-process SQLite start-up recovery)."""
        return await self.deliveries.release_inflight()

    async def next_delivery_due(self) -> datetime | None:
        """When the earliest pending delivery or lease falls due."""
        return await self.deliveries.next_due()

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

    async def breach_counts(self) -> dict[tuple[str, str], int]:
        """SLA breaches recorded, by (sla, severity at the breach) (a read over the breach entries only)."""

        def count(conn: Connection) -> dict[tuple[str, str], int]:
            rows = conn.execute(select(EventRow.payload).where(EventRow.kind == EventKind.SLA_BREACHED.value))
            out: dict[tuple[str, str], int] = {}
            for (payload,) in rows.all():
                key = (str((payload or {}).get("sla", "")), str((payload or {}).get("severity", "")))
                out[key] = out.get(key, 0) + 1
            return out

        return await self.scan(count)

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
        async with self.transaction() as tx:
            rows = await self.timers.claim(tx, worker=worker, now=now, lease=lease, limit=limit)
            return [
                ClaimedTimer(
                    r["id"], r["kind"], r["key"], r["incident_id"], r["due_at"], dict(r["payload"] or {}), r["attempts"]
                )
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
        next_due: datetime | None = None,
    ) -> None:
        """Mark a timer fired, or reschedule it after an error. A recurring timer's occurrence that is over
        (fired, or dead) makes the row pending again at `next_due`, its next occurrence."""
        if next_due is not None and (error is None or retry_at is None):
            await self.timers.finish(
                timer_id, worker=worker, now=now, error=error, status=PENDING, due_at=next_due, fired_at=now,
                attempts=0, last_error=None if error is None else error[:2000],
            )  # fmt: skip
            return
        await self.timers.finish(timer_id, worker=worker, now=now, error=error, retry_at=retry_at)

    async def ensure_recurring(self, *, kind: str, key: str, payload: dict[str, Any], due_at: datetime) -> bool:
        """Put a recurring timer in the table unless it is there with this schedule; True when written."""
        async with self.transaction() as tx:
            row = (await tx.session.execute(select(TimerRow).where(TimerRow.key == key))).scalar_one_or_none()
            if row is None:
                return await tx.schedule_timer(kind=kind, key=key, due_at=due_at, payload=payload)
            if dict(row.payload or {}) == payload and row.kind == kind:
                return False
            row.kind, row.payload = kind, dict(payload)
            if row.status != INFLIGHT:  # an occurrence firing now keeps the time it had; the next follows the new
                row.status, row.due_at, row.attempts = PENDING, due_at, 0
                tx.scheduled += 1
            return True

    async def renew_timers(self, *, worker: str, ids: list[int], until: datetime) -> set[int]:
        """Extend the lease of timers still claimed by `worker`; the ids that were."""
        return await self.timers.renew(worker=worker, ids=ids, until=until)

    async def next_timer_due(self) -> datetime | None:
        """When the earliest pending timer or lease falls due."""
        return await self.timers.next_due()


def _in_chain_order(t: Table) -> list[ColumnElement[bool]]:
    """A delivery whose earlier sibling (same reactor and chain) is still pending or in flight waits, so
    reactors see each incident's events in order."""
    d2 = t.alias("d2")
    earlier = select(d2.c.id).where(
        d2.c.reactor == t.c.reactor, d2.c.chain == t.c.chain, d2.c.id < t.c.id, d2.c.status.in_([PENDING, INFLIGHT])
    )
    return [~earlier.exists()]


def new_worker_id(prefix: str = "worker") -> str:
    """A unique claim owner id for this process and worker."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"
