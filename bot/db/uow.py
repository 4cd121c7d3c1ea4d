"""The unit of work over one async session: repositories, the event log, locks, and the small tables written
with a use case (inbound keys, chat posts, timers). Implements bot.services.uow.UnitOfWork."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.action_repo import ActionRepository
from bot.db.alert_repo import AlertRepository
from bot.db.hypothesis_repo import HypothesisRepository
from bot.db.incident_repo import IncidentRepository
from bot.db.silence_repo import SilenceRepository
from bot.db.sqlite_inline import InlineConnection
from bot.db.tables import (
    AuditHeadRow,
    ChatPostRow,
    DeliveryRow,
    EventRow,
    InboundSeenRow,
    IncidentRow,
    PageSentRow,
    TimerRow,
)
from bot.domain.chain import GENESIS, event_hash
from bot.domain.events import Event, NewEvent
from bot.domain.incident import Incident

if TYPE_CHECKING:
    from bot.db.store import Store

PENDING, INFLIGHT, DONE, DEAD = "pending", "inflight", "done", "dead"
FIRED, CANCELLED = "fired", "cancelled"

# Statements of every declaration, built once (building and cache-keying a statement costs more than running
# it on SQLite); values arrive as bound parameters.
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
# The chain's newest entry, written with each append (what `warroom audit verify` checks the chain's end against).
_MOVE_HEAD = tuple(
    ins(cast(Table, AuditHeadRow.__table__))
    .values(chain=bindparam("chain"), seq=bindparam("seq"), hash=bindparam("hash"))
    .on_conflict_do_update(index_elements=["chain"], set_={"seq": bindparam("seq"), "hash": bindparam("hash")})
    for ins in (sqlite.insert, postgresql.insert)
)
_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:k)")


def lock_key(name: str) -> int:
    """The 64-bit advisory lock number of a lock name (the same in every process and version)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def to_event(row: EventRow) -> Event:
    """Map an event-log row to the domain Event."""
    return Event(
        id=row.id, incident_id=row.incident_id, chain=row.chain, seq=row.seq, at=row.at, actor=row.actor,
        kind=row.kind, text=row.text, payload=dict(row.payload or {}),
    )  # fmt: skip


class Tx:
    """One unit of work: everything done through it commits or rolls back together."""

    def __init__(self, session: AsyncSession, store: Store) -> None:
        self.session = session
        self._store = store
        self.store_is_sqlite = store.is_sqlite
        self.appended = 0
        self.scheduled = 0
        self._raw: sqlite3.Connection | bool | None = False  # False: not looked up yet
        self._incidents: IncidentRepository | None = None
        self._alerts: AlertRepository | None = None
        self._silences: SilenceRepository | None = None
        self._hypotheses: HypothesisRepository | None = None
        self._actions: ActionRepository | None = None

    @property
    def incidents(self) -> IncidentRepository:
        """The incident aggregates of this unit of work."""
        if self._incidents is None:
            self._incidents = IncidentRepository(self)
        return self._incidents

    @property
    def alerts(self) -> AlertRepository:
        """The alert rows (the ingest hot path)."""
        if self._alerts is None:
            self._alerts = AlertRepository(self)
        return self._alerts

    @property
    def silences(self) -> SilenceRepository:
        """The API silences."""
        if self._silences is None:
            self._silences = SilenceRepository(self)
        return self._silences

    @property
    def hypotheses(self) -> HypothesisRepository:
        """The kept hypotheses of incidents."""
        if self._hypotheses is None:
            self._hypotheses = HypothesisRepository(self)
        return self._hypotheses

    @property
    def actions(self) -> ActionRepository:
        """The remediation actions of incidents."""
        if self._actions is None:
            self._actions = ActionRepository(self)
        return self._actions

    async def save(self, incident: Incident, events: Sequence[NewEvent] = ()) -> list[Event]:
        """Write the aggregate's changes and append its events; the events stored."""
        return await self.incidents.save(incident, events)

    async def lock(self, name: str) -> None:
        """A named lock held until the unit of work ends (PostgreSQL advisory lock; SQLite writers are
        serialized by the store already)."""
        if not self.store_is_sqlite:
            await self.session.execute(_ADVISORY_LOCK, {"k": lock_key(name)})

    async def lock_group(self, key: str) -> None:
        """The lock of one alert group."""
        await self.lock(f"group:{key}")

    async def raw_sqlite(self) -> sqlite3.Connection | None:
        """This unit of work's stdlib connection on SQLite's inline driver (for hot paths), else None."""
        if self._raw is False:
            self._raw = None
            if self.store_is_sqlite:
                raw = await (await self.session.connection()).get_raw_connection()
                driver = raw.driver_connection
                if isinstance(driver, InlineConnection):
                    self._raw = driver.sqlite
        return self._raw if isinstance(self._raw, sqlite3.Connection) else None

    # -- rows, for the workers and tests ---------------------------------------------------------

    async def incident_row(self, ref: str, *, lock: bool = False) -> IncidentRow | None:
        """The incident row with this ref; `lock` takes a row lock."""
        q = select(IncidentRow).where(IncidentRow.ref == ref.upper())
        if lock:
            q = q.with_for_update()
        return (await self.session.execute(q)).scalar_one_or_none()

    async def next_ref(self, day: Any) -> str:
        """Hand out the next incident reference of the day."""
        return await self.incidents.next_ref(day)

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
        await self.session.execute(_MOVE_HEAD[not self.store_is_sqlite], {"chain": chain, "seq": seq, "hash": digest})
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

    async def timeline(
        self, incident_id: int, *, kinds: Collection[str] | None = None, before_seq: int | None = None
    ) -> list[Event]:
        """The incident's events in order (only of `kinds`, only before `before_seq`, when given)."""
        q = select(EventRow).where(EventRow.incident_id == incident_id).order_by(EventRow.seq)
        if kinds is not None:
            q = q.where(EventRow.kind.in_(list(kinds)))
        if before_seq is not None:
            q = q.where(EventRow.seq < before_seq)
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
        stmt = _RECORD_CHAT_POST[not self.store_is_sqlite]
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
        stmt = _SCHEDULE_TIMER[not self.store_is_sqlite]
        params = {"kind": kind, "key": key, "due_at": due_at, "incident_id": incident_id, "payload": payload or {}}
        res = await self.session.execute(stmt, params)
        added = bool(getattr(res, "rowcount", 0))
        self.scheduled += added
        return added

    async def cancel_timer(self, key: str) -> bool:
        """Cancel a pending timer; False if there was none."""
        res = await self.session.execute(
            update(TimerRow).where(TimerRow.key == key, TimerRow.status == PENDING).values(status=CANCELLED)
        )
        return bool(getattr(res, "rowcount", 0))

    async def cancel_timers(self, *, incident_id: int, kinds: Collection[str]) -> int:
        """Cancel an incident's pending timers of these kinds; how many."""
        stmt = (
            update(TimerRow)
            .where(TimerRow.incident_id == incident_id, TimerRow.kind.in_(list(kinds)), TimerRow.status == PENDING)
            .values(status=CANCELLED)
        )
        return int(getattr(await self.session.execute(stmt), "rowcount", 0) or 0)

    # -- pages sent once -------------------------------------------------------------------

    async def page_sent(self, key: str) -> bool:
        """Whether the pager accepted the event recorded under `key`."""
        return await self.session.get(PageSentRow, key) is not None

    async def record_page(self, key: str, *, dedup_key: str, service: str, action: str, at: datetime) -> None:
        """Record an event the pager accepted (a second record of the same key changes nothing)."""
        if await self.session.get(PageSentRow, key) is None:
            self.session.add(PageSentRow(key=key, dedup_key=dedup_key, service=service, action=action, sent_at=at))
            await self.session.flush()
