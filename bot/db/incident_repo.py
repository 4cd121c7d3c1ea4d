"""The incident repository: loads Incident aggregates from their rows and writes their changes back.

Within one unit of work each incident is one object (an identity map by id), so two loads of it see the
same changes. Saving copies the fields that differ onto the row (SQLAlchemy then updates only those) and
brings the role rows in line with the aggregate's roles.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from bot.db.tables import IncidentRow, RefCounterRow, RoleRow
from bot.domain.events import Event, EventKind, NewEvent
from bot.domain.incident import Incident, Role, Severity, Status, format_ref

if TYPE_CHECKING:
    from bot.db.uow import Tx

RoleSet = frozenset[tuple[str, str]]

# Built once: building and cache-keying a statement costs more than running it on SQLite.
_NEXT_REF = tuple(
    ins(RefCounterRow)
    .values(day=bindparam("day"), last=1)
    .on_conflict_do_update(index_elements=[RefCounterRow.day], set_={"last": RefCounterRow.last + 1})
    .returning(RefCounterRow.last)
    for ins in (sqlite.insert, postgresql.insert)
)
_OPEN_BY_GROUP = (
    select(IncidentRow)
    .where(
        IncidentRow.group_key.in_(bindparam("keys", expanding=True)),
        IncidentRow.status.in_([s.value for s in Status if s.is_open]),
    )
    .order_by(IncidentRow.id)
)
_OPEN_BY_GROUP_LOCKED = _OPEN_BY_GROUP.with_for_update()
CHUNK = 500  # values per IN (...) list: well under every backend's parameter limit
OPEN = [s.value for s in Status if s.is_open]


def to_incident(row: IncidentRow, roles: dict[Role, list[str]] | None = None) -> Incident:
    """Map a row to the domain Incident."""
    return Incident(
        id=row.id, ref=row.ref, title=row.title, severity=Severity(row.severity), status=Status(row.status),
        declared_at=row.declared_at, declared_by=row.declared_by, severity_reason=row.severity_reason,
        severity_confirmed=row.severity_confirmed, acknowledged_at=row.acknowledged_at, mitigated_at=row.mitigated_at,
        resolved_at=row.resolved_at, closed_at=row.closed_at, channel_id=row.channel_id,
        channel_name=row.channel_name, card_ts=row.card_ts, summary=row.summary, human_control=row.human_control,
        frozen_since=row.frozen_since, freeze_kind=row.freeze_kind,
        jira_key=row.jira_key, group_key=row.group_key, services=list(row.services or []),
        alertnames=list(row.alertnames or []), regions=list(row.regions or []), alert_count=row.alert_count,
        alerts_firing=row.alerts_firing, roles=roles or {}, declare_key=row.declare_key,
        alerts_unannounced=row.alerts_unannounced, last_alert_at=row.last_alert_at, updated_at=row.updated_at,
        runbook=row.runbook, root_cause=row.root_cause, root_cause_hypothesis=row.root_cause_hypothesis,
    )  # fmt: skip


def row_values(inc: Incident) -> dict[str, Any]:
    """The row's columns of an aggregate (all but the id)."""
    return {
        "ref": inc.ref, "title": inc.title, "severity": inc.severity.value, "severity_reason": inc.severity_reason,
        "severity_confirmed": inc.severity_confirmed, "status": inc.status.value, "declared_by": inc.declared_by,
        "declare_key": inc.declare_key, "declared_at": inc.declared_at, "acknowledged_at": inc.acknowledged_at,
        "mitigated_at": inc.mitigated_at, "resolved_at": inc.resolved_at, "closed_at": inc.closed_at,
        "summary": inc.summary, "channel_id": inc.channel_id, "channel_name": inc.channel_name,
        "card_ts": inc.card_ts, "human_control": inc.human_control, "jira_key": inc.jira_key,
        "frozen_since": inc.frozen_since, "freeze_kind": inc.freeze_kind,
        "group_key": inc.group_key, "services": list(inc.services), "alertnames": list(inc.alertnames),
        "regions": list(inc.regions), "alert_count": inc.alert_count, "alerts_firing": inc.alerts_firing,
        "alerts_unannounced": inc.alerts_unannounced, "last_alert_at": inc.last_alert_at,
        "updated_at": inc.updated_at, "runbook": inc.runbook, "root_cause": inc.root_cause,
        "root_cause_hypothesis": inc.root_cause_hypothesis,
    }  # fmt: skip


def _order(inc: Incident) -> Any:
    """Sort key of (role, user) pairs: the aggregate's own order (rows are read back in insert order)."""
    pairs = [(r.value, u) for r, users in inc.roles.items() for u in users]
    return pairs.index


def role_set(roles: dict[Role, list[str]]) -> RoleSet:
    """The (role, user) pairs of an aggregate's roles."""
    return frozenset((r.value, u) for r, users in roles.items() for u in users)


@dataclass(slots=True)
class Tracked:
    """An aggregate of this unit of work, its row, and its roles as stored (None: not loaded)."""

    incident: Incident
    row: IncidentRow
    roles: RoleSet | None


class OpenByGroup:
    """Open incidents by alert group, each made an aggregate only when asked for: a storm of repeats (alerts
    already in their incident) never asks, and pays for no mapping."""

    def __init__(self, repo: IncidentRepository, rows: dict[str, IncidentRow]) -> None:
        self._repo = repo
        self._rows = rows
        self._made: dict[str, Incident] = {}

    def get(self, key: str) -> Incident | None:
        """The group's open incident, if any."""
        made = self._made.get(key)
        if made is None and key in self._rows:
            made = self._made[key] = self._repo._adopt(self._rows[key]).incident
        return made

    def __setitem__(self, key: str, incident: Incident) -> None:
        self._made[key] = incident
        self._rows.pop(key, None)


class IncidentRepository:
    """Incident aggregates of one unit of work."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx
        self._session = tx.session
        self._seen: dict[int, Tracked] = {}

    # -- loading -----------------------------------------------------------------------------------

    async def _roles_of(self, ids: Sequence[int]) -> dict[int, dict[Role, list[str]]]:
        out: dict[int, dict[Role, list[str]]] = {i: {} for i in ids}
        for i in range(0, len(ids), CHUNK):
            q = select(RoleRow).where(RoleRow.incident_id.in_(ids[i : i + CHUNK])).order_by(RoleRow.id)
            for r in (await self._session.execute(q)).scalars():
                out[r.incident_id].setdefault(Role(r.role), []).append(r.user_id)
        return out

    def _adopt(self, row: IncidentRow) -> Tracked:
        """The aggregate of a row, without loading its roles (the same object for a row seen before)."""
        seen = self._seen.get(row.id)
        if seen is None:
            seen = self._seen[row.id] = Tracked(to_incident(row), row, None)
        return seen

    async def _track(self, rows: Sequence[IncidentRow], *, roles: bool) -> list[Incident]:
        """The aggregates of rows (the same object for a row seen before in this unit of work)."""
        missing = [r.id for r in rows if roles and (r.id not in self._seen or self._seen[r.id].roles is None)]
        loaded = await self._roles_of(missing) if missing else {}
        out = []
        for row in rows:
            seen = self._adopt(row)
            if row.id in loaded:
                seen.incident.roles = loaded[row.id]
                seen.roles = role_set(loaded[row.id])
            out.append(seen.incident)
        return out

    async def _one(self, q: Any, *, roles: bool = True) -> Incident | None:
        row = (await self._session.execute(q)).scalar_one_or_none()
        return None if row is None else (await self._track([row], roles=roles))[0]

    async def get(self, ref: str, *, lock: bool = False, roles: bool = True) -> Incident | None:
        """By ref; `lock` takes the row lock that serializes changes to the incident; `roles=False` when the
        caller never looks at them (saving it then leaves its role rows alone)."""
        q = select(IncidentRow).where(IncidentRow.ref == ref.upper())
        return await self._one(q.with_for_update() if lock else q, roles=roles)

    async def get_by_id(self, incident_id: int, *, lock: bool = False, roles: bool = True) -> Incident | None:
        """By id; without its roles when the caller never looks at them."""
        q = select(IncidentRow).where(IncidentRow.id == incident_id)
        return await self._one(q.with_for_update() if lock else q, roles=roles)

    async def by_channel(self, channel_id: str) -> Incident | None:
        """The incident whose war room is this channel."""
        return await self._one(select(IncidentRow).where(IncidentRow.channel_id == channel_id))

    async def by_declare_key(self, key: str) -> Incident | None:
        """The incident declared with this idempotency key."""
        return await self._one(select(IncidentRow).where(IncidentRow.declare_key == key))

    async def recent_duplicate(self, *, title: str, declared_by: str, since: datetime) -> Incident | None:
        """An open incident with the same title by the same person declared since `since`."""
        q = (
            select(IncidentRow)
            .where(
                IncidentRow.title == title,
                IncidentRow.declared_by == declared_by,
                IncidentRow.declared_at >= since,
                IncidentRow.status.in_(OPEN),
            )
            .order_by(IncidentRow.id)
            .limit(1)
        )
        return await self._one(q)

    async def open_for_groups(self, keys: list[str]) -> OpenByGroup:
        """The newest open incident of each group, locked against concurrent ingest (PostgreSQL), no roles."""
        stmt = _OPEN_BY_GROUP if self._tx.store_is_sqlite else _OPEN_BY_GROUP_LOCKED
        rows: dict[str, IncidentRow] = {}
        for i in range(0, len(keys), CHUNK):
            for row in (await self._session.execute(stmt, {"keys": keys[i : i + CHUNK]})).scalars():
                rows[str(row.group_key)] = row  # the newest open incident of the group wins
        return OpenByGroup(self, rows)

    async def newest(self, *, status: str, limit: int) -> list[Incident]:
        """Incidents, newest first, filtered by open/resolved/all."""
        q = select(IncidentRow).order_by(IncidentRow.declared_at.desc(), IncidentRow.id.desc()).limit(limit)
        if status == "open":
            q = q.where(IncidentRow.status.in_(OPEN))
        elif status == "resolved":
            q = q.where(IncidentRow.status.in_([Status.RESOLVED.value, Status.CLOSED.value]))
        return await self._track(list((await self._session.execute(q)).scalars()), roles=True)

    async def frozen(self) -> list[Incident]:
        """The open incidents that freeze deploys, frozen longest first."""
        q = select(IncidentRow).where(IncidentRow.frozen_since.is_not(None), IncidentRow.status.in_(OPEN))
        rows = (await self._session.execute(q.order_by(IncidentRow.frozen_since, IncidentRow.id))).scalars()
        return await self._track(list(rows), roles=False)

    async def timeline(
        self, incident_id: int, *, kinds: Collection[str] | None = None, before_seq: int | None = None
    ) -> list[Event]:
        """The incident's events in order (only of `kinds`, only before `before_seq`, when given)."""
        return await self._tx.timeline(incident_id, kinds=kinds, before_seq=before_seq)

    # -- writing -----------------------------------------------------------------------------------

    async def next_ref(self, day: date) -> str:
        """Hand out the next `INC-YYYYMMDD-NNN` atomically (an upsert on the day's counter)."""
        stmt = _NEXT_REF[not self._tx.store_is_sqlite]
        number = (await self._session.execute(stmt, {"day": f"{day:%Y%m%d}"})).scalar_one()
        return format_ref(day, int(number))

    async def add(self, incident: Incident) -> Incident:
        """Insert a new incident and flush it (assigns its id)."""
        row = IncidentRow(**row_values(incident))
        self._session.add(row)
        await self._session.flush()
        incident.id = row.id
        self._seen[row.id] = Tracked(incident, row, frozenset())
        await self._save_roles(self._seen[row.id], [])
        return incident

    async def save(self, incident: Incident, events: Sequence[NewEvent]) -> list[Event]:
        """Append the events to the incident's chain, then write what changed on the aggregate."""
        tracked = self._seen.get(incident.id)
        if tracked is None or tracked.incident is not incident:
            raise ValueError(f"{incident.ref} was not loaded or added in this unit of work")
        stored = []
        for e in events:
            ev = await self._tx.append_event(
                chain=incident.ref, incident_id=incident.id, actor=e.actor, kind=e.kind.value, at=e.at, text=e.text,
                payload=e.payload, dedupe_key=e.dedupe_key,
            )  # fmt: skip
            if ev is not None:
                stored.append(ev)
        if stored:
            incident.updated_at = stored[-1].at
        row = tracked.row
        for name, value in row_values(incident).items():
            if getattr(row, name) != value:
                setattr(row, name, value)
        if tracked.roles is not None:
            await self._save_roles(tracked, events)
        return stored

    async def _save_roles(self, tracked: Tracked, events: Sequence[NewEvent]) -> None:
        assert tracked.roles is not None
        wanted = role_set(tracked.incident.roles)
        if wanted == tracked.roles:
            return
        inc = tracked.incident
        by = next((e for e in events if e.kind is EventKind.ROLE_ASSIGNED), events[0] if events else None)
        actor, at = (by.actor, by.at) if by else ("warroom", inc.updated_at or inc.declared_at)
        incident_id = inc.id
        for role, user in tracked.roles - wanted:
            await self._session.execute(
                delete(RoleRow).where(RoleRow.incident_id == incident_id, RoleRow.role == role, RoleRow.user_id == user)
            )
        for role_, users in inc.roles.items():
            for user in users:
                if (role_.value, user) not in tracked.roles:
                    row = RoleRow(
                        incident_id=incident_id, role=role_.value, user_id=user, assigned_by=actor, assigned_at=at
                    )
                    self._session.add(row)
        await self._session.flush()
        tracked.roles = wanted
