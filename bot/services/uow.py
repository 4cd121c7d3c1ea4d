"""The persistence boundary the use cases see (Cosmic Python's repository and unit of work), as protocols.

A use case opens a unit of work (`deps.store.transaction()`, or `read()` for a look), loads aggregates from
its repositories, calls the domain methods, which return events, and saves the aggregate with its events
(`uow.save`): the row changes, the hash-chained log entries and their deliveries commit together or not at
all. Locks are the unit of work's business too (`uow.lock_group`). bot/db implements these; nothing here or
in the use cases knows SQL (import-linter forbids sqlalchemy in bot.services).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from bot.domain.events import Event, NewEvent
from bot.domain.incident import Incident
from bot.domain.remediation import RemediationAction
from bot.domain.root_cause import StoredHypothesis


class Conflict(Exception):
    """A write broke a uniqueness rule: another request or process wrote the same thing first."""


@dataclass(slots=True)
class FiringRow:
    """What ingest reads of a firing alert (id -1: first seen in the batch being ingested)."""

    id: int
    severity: str
    incident_id: int | None
    count: int
    review: bool


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """A stored alert, as the API shows it."""

    id: int
    source: str
    fingerprint: str
    status: str
    alertname: str
    labels: dict[str, Any]
    annotations: dict[str, Any]
    severity: str
    severity_reason: str
    count: int
    incident_id: int | None
    silenced_by: str | None
    starts_at: datetime | None
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None
    generator_url: str | None


@dataclass(slots=True)
class SilenceRecord:
    """A silence made through the API."""

    id: str
    matchers: dict[str, str]
    starts_at: datetime
    ends_at: datetime
    comment: str
    created_by: str
    created_at: datetime
    expired_at: datetime | None = None


class IncidentsByGroup(Protocol):
    """Incidents by alert group key."""

    def get(self, key: str) -> Incident | None:
        """The group's incident, if any."""
        ...

    def __setitem__(self, key: str, incident: Incident) -> None:
        """The group's incident from now on."""
        ...


class Incidents(Protocol):
    """The incident aggregates of a unit of work (one object per incident within it)."""

    async def next_ref(self, day: date) -> str:
        """The next free `INC-YYYYMMDD-NNN` of the day."""
        ...

    async def add(self, incident: Incident) -> Incident:
        """Store a new incident (gives it its id)."""
        ...

    async def get(self, ref: str, *, lock: bool = False, roles: bool = True) -> Incident | None:
        """By ref; `lock` serializes every change to it until the unit of work ends (`roles=False`: without
        its roles, when the caller never looks at them)."""
        ...

    async def get_by_id(self, incident_id: int, *, lock: bool = False, roles: bool = True) -> Incident | None:
        """By id (`roles=False`: without its roles, for the ingest path, which never changes them)."""
        ...

    async def by_channel(self, channel_id: str) -> Incident | None:
        """The incident whose war room is this channel."""
        ...

    async def by_declare_key(self, key: str) -> Incident | None:
        """The incident declared with this idempotency key."""
        ...

    async def recent_duplicate(self, *, title: str, declared_by: str, since: datetime) -> Incident | None:
        """An open incident with this title declared by this person since `since`."""
        ...

    async def open_for_groups(self, keys: list[str]) -> IncidentsByGroup:
        """The newest open incident of each alert group (locked on PostgreSQL; without roles)."""
        ...

    async def newest(self, *, status: str, limit: int) -> list[Incident]:
        """Newest first, `open`, `resolved` or `all`."""
        ...

    async def frozen(self) -> list[Incident]:
        """The open incidents that freeze deploys, frozen longest first."""
        ...

    async def timeline(
        self, incident_id: int, *, kinds: Collection[str] | None = None, before_seq: int | None = None
    ) -> list[Event]:
        """The incident's log entries in order (only of `kinds`, only before `before_seq`, when given)."""
        ...


class Alerts(Protocol):
    """The alert rows of the ingest hot path (a storm is mostly these statements), and the review queue."""

    async def first_started(self, incident_id: int) -> datetime | None:
        """When the incident's earliest alert began (its `startsAt`), if it has alerts."""
        ...

    async def firing(self, keys: list[str]) -> dict[str, FiringRow]:
        """The firing rows with these active keys, by key."""
        ...

    async def insert(self, rows: list[dict[str, Any]]) -> None:
        """New alert rows."""
        ...

    async def count_repeats(self, updates: list[dict[str, Any]]) -> None:
        """Repeats of firing alerts (each dict has `_id` and the changed columns)."""
        ...

    async def attach(self, ids: list[int], incident_id: int) -> None:
        """Firing alerts join an incident (and leave the review queue)."""
        ...

    async def resolve(self, ids: list[int], at: datetime) -> None:
        """Alerts resolved at `at` (their active key freed for a next firing)."""
        ...

    async def any_silence(self, now: datetime) -> bool:
        """Whether any API silence has not ended."""
        ...

    async def silences_in_force(self, now: datetime) -> list[SilenceRecord]:
        """The API silences in force now."""
        ...

    async def review_queue(self, *, limit: int, include_resolved: bool) -> list[AlertRecord]:
        """Alerts below the declare threshold waiting for a human look, newest first."""
        ...

    async def of_incident(self, incident_id: int, *, limit: int) -> list[AlertRecord]:
        """The first alerts of an incident, oldest first."""
        ...


class Hypotheses(Protocol):
    """The kept hypotheses of incidents (bot.domain.root_cause)."""

    async def of_incident(self, incident_id: int) -> list[StoredHypothesis]:
        """Every hypothesis kept for an incident (in no particular order)."""
        ...

    async def get(self, hypothesis_id: str, *, lock: bool = False) -> StoredHypothesis | None:
        """One hypothesis by id."""
        ...

    async def save(self, hypotheses: Sequence[StoredHypothesis]) -> None:
        """Insert new hypotheses and write the changes of known ones."""
        ...


class Actions(Protocol):
    """The remediation actions of incidents (bot.domain.remediation)."""

    async def of_incident(self, incident_id: int) -> list[RemediationAction]:
        """Every action of an incident, oldest first."""
        ...

    async def get(self, action_id: str, *, lock: bool = False) -> RemediationAction | None:
        """One action by id."""
        ...

    async def add(self, actions: Sequence[RemediationAction]) -> list[RemediationAction]:
        """Insert new actions (known ids are left as they are); the ones added."""
        ...

    async def save(self, action: RemediationAction) -> bool:
        """Write the action if its status is still the one it was read with; False when another unit of work
        changed it first (nothing written)."""
        ...


class Silences(Protocol):
    """API silences."""

    async def add(self, silence: SilenceRecord) -> None:
        """Store a new silence."""
        ...

    async def get(self, silence_id: str) -> SilenceRecord | None:
        """One silence by id (changes to it are saved with the unit of work)."""
        ...

    async def newest(self, *, now: datetime, include_expired: bool) -> list[SilenceRecord]:
        """Newest first; without the expired ones unless asked."""
        ...

    async def expire(self, silence_id: str, at: datetime) -> None:
        """End a silence at `at`."""
        ...


class UnitOfWork(Protocol):
    """Everything done through one unit of work commits or rolls back together."""

    @property
    def incidents(self) -> Incidents:
        """The incident repository."""
        ...

    @property
    def alerts(self) -> Alerts:
        """The alert rows."""
        ...

    @property
    def silences(self) -> Silences:
        """The API silences."""
        ...

    @property
    def hypotheses(self) -> Hypotheses:
        """The kept hypotheses."""
        ...

    @property
    def actions(self) -> Actions:
        """The remediation actions."""
        ...

    async def save(self, incident: Incident, events: Sequence[NewEvent] = ()) -> list[Event]:
        """Write the aggregate's changes and append its events (hash chain, deliveries); the events stored
        (one whose dedupe key was recorded before is not)."""
        ...

    async def lock(self, name: str) -> None:
        """Serialize units of work that take the same named lock (held to their end; PostgreSQL only:
        SQLite writers are serialized anyway)."""
        ...

    async def lock_group(self, key: str) -> None:
        """The lock of one alert group: requests about it are ingested one after the other."""
        ...

    async def first_time(self, key: str, at: datetime) -> bool:
        """Record an inbound delivery key; False if it was seen before."""
        ...

    async def chat_post(self, key: str) -> str | None:
        """The ts of the message posted under `key`, if recorded."""
        ...

    async def record_chat_post(self, key: str, *, channel_id: str, ts: str, at: datetime) -> str:
        """Record a posted message; the ts recorded first wins and is returned."""
        ...

    async def schedule_timer(
        self,
        *,
        kind: str,
        key: str,
        due_at: datetime,
        incident_id: int | None = None,
        payload: dict[str, Any] | None = None,
    ) -> bool:
        """Schedule a timer once per `key`; False when the key already existed."""
        ...

    async def cancel_timer(self, key: str) -> bool:
        """Cancel a pending timer; False if there was none."""
        ...

    async def cancel_timers(self, *, incident_id: int, kinds: Collection[str]) -> int:
        """Cancel an incident's pending timers of these kinds; how many."""
        ...

    async def page_sent(self, key: str) -> bool:
        """Whether the pager accepted the event recorded under `key`."""
        ...

    async def record_page(self, key: str, *, dedup_key: str, service: str, action: str, at: datetime) -> None:
        """Record an event the pager accepted."""
        ...


class Database(Protocol):
    """Units of work, and the few numbers read over whole tables."""

    @property
    def is_sqlite(self) -> bool:
        """True on SQLite (one writer at a time; no advisory locks)."""
        ...

    @property
    def cache(self) -> dict[str, object]:
        """Small per-process caches of the use cases."""
        ...

    def transaction(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """A unit of work that writes (raises Conflict when a uniqueness rule is broken)."""
        ...

    def read(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """A unit of work that only reads."""
        ...

    async def incident_counts(self) -> dict[tuple[str, str], int]:
        """Incidents by (severity, status)."""
        ...

    async def delivery_counts(self) -> dict[str, int]:
        """Deliveries by status."""
        ...

    async def breach_counts(self) -> dict[tuple[str, str], int]:
        """SLA breaches recorded, by (sla, severity at the breach)."""
        ...

    async def schema_revision(self) -> str | None:
        """The database's migration revision (raises when the database does not answer)."""
        ...

    def schema_head(self) -> str | None:
        """The newest migration this code knows."""
        ...
