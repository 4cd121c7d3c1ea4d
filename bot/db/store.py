"""Repositories and the unit of work over the async session; the outbox and timer queues."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Engine, Table, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.db.checkpoint import WalCheckpointer
from bot.db.engine import make_engine, make_scan_engine, sqlite_file
from bot.db.sqlite_inline import InlineConnection
from bot.db.tables import (
    ChatPostRow,
    DeliveryRow,
    EventRow,
    InboundSeenRow,
    IncidentRow,
    RefCounterRow,
    RoleRow,
    TimerRow,
)
from bot.domain.chain import GENESIS, event_hash
from bot.domain.events import Event
from bot.domain.incident import Incident, Role, Severity, Status, format_ref
from bot.plugins import ReactorRegistry
from bot.worker_threads import WorkerThreads

PENDING, INFLIGHT, DONE, DEAD = "pending", "inflight", "done", "dead"
FIRED, CANCELLED = "fired", "cancelled"

T = TypeVar("T")


def to_incident(row: IncidentRow, roles: dict[Role, list[str]] | None = None) -> Incident:
    """Map a row to the domain Incident."""
    return Incident(
        id=row.id,
        ref=row.ref,
        title=row.title,
        severity=Severity(row.severity),
        status=Status(row.status),
        declared_at=row.declared_at,
        declared_by=row.declared_by,
        severity_reason=row.severity_reason,
        severity_confirmed=row.severity_confirmed,
        acknowledged_at=row.acknowledged_at,
        mitigated_at=row.mitigated_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        channel_id=row.channel_id,
        channel_name=row.channel_name,
        card_ts=row.card_ts,
        summary=row.summary,
        human_control=row.human_control,
        jira_key=row.jira_key,
        group_key=row.group_key,
        services=list(row.services or []),
        alertnames=list(row.alertnames or []),
        regions=list(row.regions or []),
        alert_count=row.alert_count,
        alerts_firing=row.alerts_firing,
        roles=roles or {},
    )


def to_event(row: EventRow) -> Event:
    """Map an event-log row to the domain Event."""
    return Event(
        id=row.id,
        incident_id=row.incident_id,
        chain=row.chain,
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        kind=row.kind,
        text=row.text,
        payload=dict(row.payload or {}),
    )


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


# Statements of every declaration, built once (building and cache-keying a statement costs more than running
# it on SQLite); values arrive as bound parameters.
_NEXT_REF = tuple(
    ins(RefCounterRow)
    .values(day=bindparam("day"), last=1)
    .on_conflict_do_update(index_elements=[RefCounterRow.day], set_={"last": RefCounterRow.last + 1})
    .returning(RefCounterRow.last)
    for ins in (sqlite.insert, postgresql.insert)
)
_SCHEDULE_TIMER = tuple(
    ins(cast(Table, TimerRow.__table__))  # the table, not the entity: a plain INSERT that reports its rowcount
    .values(
        kind=bindparam("kind"), key=bindparam("key"), due_at=bindparam("due_at"),
        incident_id=bindparam("incident_id"), payload=bindparam("payload"), status=PENDING, attempts=0,
    )
    .on_conflict_do_nothing(index_elements=["key"])
    for ins in (sqlite.insert, postgresql.insert)
)  # fmt: skip
_RECORD_CHAT_POST = tuple(
    ins(cast(Table, ChatPostRow.__table__))
    .values(
        key=bindparam("key"), channel_id=bindparam("channel_id"), ts=bindparam("ts"), posted_at=bindparam("posted_at")
    )
    .on_conflict_do_nothing(index_elements=["key"])
    for ins in (sqlite.insert, postgresql.insert)
)
# Core (not ORM) inserts for the log: nothing reads these rows back through the session in the same unit of
# work, and an ORM flush per event cost more than the rest of an append.
_INSERT_EVENT = cast(Table, EventRow.__table__).insert().returning(cast(Table, EventRow.__table__).c.id)
_INSERT_DELIVERY = cast(Table, DeliveryRow.__table__).insert()
_LAST_OF_CHAIN = (
    select(EventRow.seq, EventRow.hash)
    .where(EventRow.chain == bindparam("chain"))
    .order_by(EventRow.seq.desc())
    .limit(1)
)


class Tx:
    """One unit of work: everything done through it commits or rolls back together."""

    def __init__(self, session: AsyncSession, store: Store) -> None:
        self.session = session
        self._store = store
        self.appended = 0
        self._raw: sqlite3.Connection | bool | None = False  # False: not looked up yet

    async def raw_sqlite(self) -> sqlite3.Connection | None:
        """This unit of work's stdlib connection on SQLite's inline driver (for hot paths), else None."""
        if self._raw is False:
            self._raw = None
            if self._store.is_sqlite:
                raw = await (await self.session.connection()).get_raw_connection()
                driver = raw.driver_connection
                if isinstance(driver, InlineConnection):
                    self._raw = driver.sqlite
        return self._raw if isinstance(self._raw, sqlite3.Connection) else None

    # -- incidents -------------------------------------------------------------------------

    async def next_ref(self, day: date) -> str:
        """Hand out the next `INC-YYYYMMDD-NNN` atomically (an upsert on the day's counter)."""
        stmt = _NEXT_REF[self._store.dialect == "postgresql"]
        number = (await self.session.execute(stmt, {"day": f"{day:%Y%m%d}"})).scalar_one()
        return format_ref(day, int(number))

    async def add_incident(self, row: IncidentRow) -> IncidentRow:
        """Insert an incident row and flush it (assigns its id)."""
        self.session.add(row)
        await self.session.flush()
        return row

    async def incident_row(self, ref: str, *, lock: bool = False) -> IncidentRow | None:
        """The incident with this ref; `lock` takes a row lock (serializes changes to it)."""
        q = select(IncidentRow).where(IncidentRow.ref == ref.upper())
        if lock:
            q = q.with_for_update()
        return (await self.session.execute(q)).scalar_one_or_none()

    async def incident_row_by_id(self, incident_id: int, *, lock: bool = False) -> IncidentRow | None:
        """The incident with this id."""
        q = select(IncidentRow).where(IncidentRow.id == incident_id)
        if lock:
            q = q.with_for_update()
        return (await self.session.execute(q)).scalar_one_or_none()

    async def incident_row_by_channel(self, channel_id: str) -> IncidentRow | None:
        """The incident whose war room is this channel."""
        q = select(IncidentRow).where(IncidentRow.channel_id == channel_id)
        return (await self.session.execute(q)).scalar_one_or_none()

    async def incident_row_by_declare_key(self, key: str) -> IncidentRow | None:
        """The incident declared with this idempotency key."""
        q = select(IncidentRow).where(IncidentRow.declare_key == key)
        return (await self.session.execute(q)).scalar_one_or_none()

    async def recent_duplicate(self, *, title: str, declared_by: str, since: datetime) -> IncidentRow | None:
        """An open incident with the same title by the same person declared since `since`."""
        q = (
            select(IncidentRow)
            .where(
                IncidentRow.title == title,
                IncidentRow.declared_by == declared_by,
                IncidentRow.declared_at >= since,
                IncidentRow.status.in_([s.value for s in Status if s.is_open]),
            )
            .order_by(IncidentRow.id)
            .limit(1)
        )
        return (await self.session.execute(q)).scalar_one_or_none()

    async def roles(self, incident_id: int) -> dict[Role, list[str]]:
        """Role -> user ids, in assignment order."""
        q = select(RoleRow).where(RoleRow.incident_id == incident_id).order_by(RoleRow.id)
        out: dict[Role, list[str]] = {}
        for r in (await self.session.execute(q)).scalars():
            out.setdefault(Role(r.role), []).append(r.user_id)
        return out

    async def incident(self, row: IncidentRow) -> Incident:
        """The domain incident of a row, with its roles."""
        return to_incident(row, await self.roles(row.id))

    async def set_role(
        self, incident_id: int, role: Role, user_id: str, *, by: str, at: datetime, exclusive: bool
    ) -> bool:
        """Give `user_id` the role; `exclusive` replaces the holder. False when nothing changed."""
        current = (await self.roles(incident_id)).get(role, [])
        if user_id in current and (not exclusive or current == [user_id]):
            return False
        if exclusive:
            await self.session.execute(
                delete(RoleRow).where(RoleRow.incident_id == incident_id, RoleRow.role == role.value)
            )
        self.session.add(
            RoleRow(incident_id=incident_id, role=role.value, user_id=user_id, assigned_by=by, assigned_at=at)
        )
        await self.session.flush()
        return True

    async def list_incidents(self, *, status: str = "all", limit: int = 50) -> list[Incident]:
        """Incidents, newest first, filtered by open/resolved/all."""
        q = select(IncidentRow).order_by(IncidentRow.declared_at.desc(), IncidentRow.id.desc()).limit(limit)
        if status == "open":
            q = q.where(IncidentRow.status.in_([s.value for s in Status if s.is_open]))
        elif status == "resolved":
            q = q.where(IncidentRow.status.in_([Status.RESOLVED.value, Status.CLOSED.value]))
        rows = list((await self.session.execute(q)).scalars())
        return [await self.incident(r) for r in rows]

    # -- event log -------------------------------------------------------------------------

    async def append_event(
        self,
        *,
        chain: str,
        incident_id: int | None,
        actor: str,
        kind: str,
        at: datetime,
        text: str = "",
        payload: dict[str, Any] | None = None,
        dedupe_key: str | None = None,
    ) -> Event | None:
        """Append to the hash-chained log and queue one delivery per subscribed reactor.

        Callers serialize appends to one chain by locking its incident row first. Returns None when
        `dedupe_key` was already recorded (the same outside fact arriving twice).
        """
        if dedupe_key is not None:
            hit = await self.session.execute(select(EventRow.id).where(EventRow.dedupe_key == dedupe_key))
            if hit.first() is not None:
                return None
        last = (await self.session.execute(_LAST_OF_CHAIN, {"chain": chain})).first()
        seq, prev = (int(last[0]) + 1, str(last[1])) if last else (1, GENESIS)
        payload = payload or {}
        digest = event_hash(
            prev_hash=prev, chain=chain, seq=seq, at=at, actor=actor, kind=kind, text=text, payload=payload
        )
        values = {
            "incident_id": incident_id, "chain": chain, "seq": seq, "at": at, "actor": actor, "kind": kind,
            "text": text, "payload": payload, "dedupe_key": dedupe_key, "prev_hash": prev, "hash": digest,
        }  # fmt: skip
        event_id = int((await self.session.execute(_INSERT_EVENT, values)).scalar_one())
        deliveries = [
            {"event_id": event_id, "reactor": name, "chain": chain, "status": PENDING, "attempts": 0, "due_at": at,
             "created_at": at}
            for name in self._store.reactors.names_for(kind)
        ]  # fmt: skip
        if deliveries:
            await self.session.execute(_INSERT_DELIVERY, deliveries)
        self.appended += 1
        return Event(
            id=event_id, incident_id=incident_id, chain=chain, seq=seq, at=at, actor=actor, kind=kind, text=text,
            payload=dict(payload),
        )  # fmt: skip

    async def timeline(self, incident_id: int) -> list[Event]:
        """The incident's events in order."""
        q = select(EventRow).where(EventRow.incident_id == incident_id).order_by(EventRow.seq)
        return [to_event(r) for r in (await self.session.execute(q)).scalars()]

    # -- inbound idempotency ---------------------------------------------------------------

    async def first_time(self, key: str, at: datetime) -> bool:
        """Record an inbound delivery key; False if it was seen before."""
        exists = await self.session.execute(select(InboundSeenRow.key).where(InboundSeenRow.key == key))
        if exists.first() is not None:
            return False
        self.session.add(InboundSeenRow(key=key, seen_at=at))
        await self.session.flush()
        return True

    # -- messages posted once --------------------------------------------------------------

    async def chat_post(self, key: str) -> str | None:
        """The ts of the message posted under `key`, if one was recorded."""
        row = await self.session.get(ChatPostRow, key)
        return row.ts if row is not None else None

    async def record_chat_post(self, key: str, *, channel_id: str, ts: str, at: datetime) -> str:
        """Record the message posted under `key`; the ts recorded first wins and is returned (when it is
        not `ts`, another attempt posted the same message first)."""
        stmt = _RECORD_CHAT_POST[self._store.dialect == "postgresql"]
        await self.session.execute(stmt, {"key": key, "channel_id": channel_id, "ts": ts, "posted_at": at})
        kept = await self.session.execute(select(ChatPostRow.ts).where(ChatPostRow.key == key))
        return str(kept.scalar_one())

    # -- timers ----------------------------------------------------------------------------

    async def schedule_timer(
        self,
        *,
        kind: str,
        key: str,
        due_at: datetime,
        incident_id: int | None = None,
        payload: dict[str, Any] | None = None,
    ) -> bool:
        """Schedule a timer once per `key` in one statement; False when the key already existed."""
        stmt = _SCHEDULE_TIMER[self._store.dialect == "postgresql"]
        params = {"kind": kind, "key": key, "due_at": due_at, "incident_id": incident_id, "payload": payload or {}}
        res = await self.session.execute(stmt, params)
        return bool(getattr(res, "rowcount", 0))

    async def cancel_timer(self, key: str) -> bool:
        """Cancel a pending timer; False if there was none."""
        res = await self.session.execute(
            update(TimerRow).where(TimerRow.key == key, TimerRow.status == PENDING).values(status=CANCELLED)
        )
        return bool(getattr(res, "rowcount", 0))


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
        """A write unit of work; commits on success, rolls back on error."""
        if self._write_lock is not None:
            await self._write_lock.acquire()
        try:
            async with self.sessions() as session, session.begin():
                tx = Tx(session, self)
                yield tx
            appended = tx.appended
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
