"""Incident use cases: declare, acknowledge, lead, roles, severity, notes, updates, resolve."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.db.store import Tx
from bot.db.tables import IncidentRow
from bot.domain.events import Event, EventKind
from bot.domain.incident import (
    Incident,
    InvalidTransition,
    Role,
    Severity,
    Status,
    check_transition,
)
from bot.domain.text import Mention, Text
from bot.services.deps import Deps
from bot.services.errors import BadRequest, IncidentNotFound, IncidentNotOpen

TITLE_MAX = 200
NOTE_MAX = 3000


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a use case did: the incident after it, whether anything changed, and a sentence for the user
    (a `str` is data; a Text when it mentions someone)."""

    incident: Incident
    changed: bool
    message: Text | str


def _clean_title(title: str) -> str:
    t = " ".join(title.split())
    if not t:
        raise BadRequest("an incident needs a title, e.g. `/incident declare SEV2 Checkout is failing`")
    return t[:TITLE_MAX]


async def _locked(tx: Tx, ref: str) -> IncidentRow:
    row = await tx.incident_row(ref, lock=True)
    if row is None:
        raise IncidentNotFound(f"no incident {ref.upper()}")
    return row


def _require_open(row: IncidentRow, what: str) -> None:
    if not Status(row.status).is_open:
        raise IncidentNotOpen(f"{row.ref} is {row.status}: cannot {what}. Reopen it with `/incident sev` first.")


async def record_event(
    tx: Tx, row: IncidentRow, *, actor: str, kind: EventKind, at: Any, text: str, **payload: Any
) -> Event | None:
    """Append an event to the incident's chain (the row must be locked or new) and touch updated_at."""
    row.updated_at = at
    return await tx.append_event(
        chain=row.ref, incident_id=row.id, actor=actor, kind=kind.value, at=at, text=text, payload=payload
    )


async def declare(
    deps: Deps,
    *,
    title: str,
    severity: Severity,
    actor: str,
    declare_key: str | None = None,
    severity_reason: str = "",
    severity_confirmed: bool = True,
    services: list[str] | None = None,
    group_key: str | None = None,
    alertnames: list[str] | None = None,
    alert_count: int = 0,
) -> Outcome:
    """Declare an incident. Idempotent per `declare_key`; a same-title redeclare by the same person is folded."""
    title = _clean_title(title)
    try:
        return await _declare(
            deps,
            title=title,
            severity=severity,
            actor=actor,
            declare_key=declare_key,
            severity_reason=severity_reason or f"declared as {severity.value}",
            severity_confirmed=severity_confirmed,
            services=services or [],
            group_key=group_key,
            alertnames=alertnames or [],
            alert_count=alert_count,
        )
    except IntegrityError:
        # Another process committed the same declare_key first: return its incident.
        if declare_key is None:
            raise
        async with deps.store.read() as tx:
            row = await tx.incident_row_by_declare_key(declare_key)
            if row is None:
                raise
            return Outcome(await tx.incident(row), False, f"{row.ref} was already declared")


async def _declare(
    deps: Deps,
    *,
    title: str,
    severity: Severity,
    actor: str,
    declare_key: str | None,
    severity_reason: str,
    severity_confirmed: bool,
    services: list[str],
    group_key: str | None,
    alertnames: list[str],
    alert_count: int,
) -> Outcome:
    now = deps.clock.now()
    async with deps.store.transaction() as tx:
        if not deps.store.is_sqlite:
            # Serialize declares by the same person so a double submit cannot race past the duplicate check.
            key = int.from_bytes(hashlib.sha256(f"declare:{actor}".encode()).digest()[:8], "big", signed=True)
            await tx.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
        if declare_key:
            existing = await tx.incident_row_by_declare_key(declare_key)
            if existing is not None:
                return Outcome(await tx.incident(existing), False, f"{existing.ref} was already declared")
        since = now - timedelta(seconds=deps.duplicate_window_seconds)
        dup = await tx.recent_duplicate(title=title, declared_by=actor, since=since)
        if dup is not None:
            return Outcome(await tx.incident(dup), False, f"{dup.ref} with this title was declared moments ago")
        row = await create_incident(
            tx,
            now=now,
            title=title,
            severity=severity,
            actor=actor,
            declare_key=declare_key,
            severity_reason=severity_reason,
            severity_confirmed=severity_confirmed,
            services=services,
            group_key=group_key,
            alertnames=alertnames,
            alert_count=alert_count,
        )
        return Outcome(await tx.incident(row), True, f"{row.ref} declared")


async def create_incident(
    tx: Tx,
    *,
    now: datetime,
    title: str,
    severity: Severity,
    actor: str,
    severity_reason: str,
    severity_confirmed: bool = True,
    declare_key: str | None = None,
    services: list[str] | None = None,
    group_key: str | None = None,
    alertnames: list[str] | None = None,
    regions: list[str] | None = None,
    alert_count: int = 0,
    alerts_firing: int = 0,
) -> IncidentRow:
    """Insert a new incident and its `declared` event inside an open unit of work."""
    ref = await tx.next_ref(now.date())
    row = await tx.add_incident(
        IncidentRow(
            ref=ref,
            title=title,
            severity=severity.value,
            severity_reason=severity_reason,
            severity_confirmed=severity_confirmed,
            status=Status.DECLARED.value,
            declared_by=actor,
            declare_key=declare_key,
            declared_at=now,
            human_control=severity.is_major(),
            services=services or [],
            alertnames=alertnames or [],
            regions=regions or [],
            alert_count=alert_count,
            alerts_firing=alerts_firing,
            last_alert_at=now if alert_count else None,
            group_key=group_key,
            updated_at=now,
        )
    )
    await record_event(
        tx,
        row,
        actor=actor,
        kind=EventKind.DECLARED,
        at=now,
        text=f"declared {severity.value}: {title}",
        severity=severity.value,
        title=title,
        reason=severity_reason,
        confirmed=severity_confirmed,
    )
    return row


async def _mark_acknowledged(tx: Tx, row: IncidentRow, *, actor: str, now: datetime) -> None:
    """Stop the ack clock; a declared incident becomes acknowledged (a mitigated one stays mitigated)."""
    row.acknowledged_at = now
    if row.status == Status.DECLARED.value:
        row.status = Status.ACKNOWLEDGED.value
    await record_event(tx, row, actor=actor, kind=EventKind.ACKNOWLEDGED, at=now, text="acknowledged the incident")


async def acknowledge(deps: Deps, *, ref: str, actor: str) -> Outcome:
    """Acknowledge; a second acknowledge changes nothing."""
    now = deps.clock.now()
    async with deps.store.transaction() as tx:
        row = await _locked(tx, ref)
        _require_open(row, "acknowledge it")
        if row.acknowledged_at is not None:
            return Outcome(await tx.incident(row), False, f"{row.ref} is already acknowledged")
        await _mark_acknowledged(tx, row, actor=actor, now=now)
        return Outcome(await tx.incident(row), True, f"{row.ref} acknowledged")


async def assign_role(deps: Deps, *, ref: str, role: Role, user_id: str, actor: str) -> Outcome:
    """Give a role to a user; commander, comms and scribe have one holder, sme may have several."""
    now = deps.clock.now()
    async with deps.store.transaction() as tx:
        row = await _locked(tx, ref)
        _require_open(row, "assign roles")
        exclusive = role is not Role.SME
        changed = await tx.set_role(row.id, role, user_id, by=actor, at=now, exclusive=exclusive)
        if not changed:
            already = Text.of(Mention(user_id), f" is already {role.value} of {row.ref}")
            return Outcome(await tx.incident(row), False, already)
        await record_event(
            tx,
            row,
            actor=actor,
            kind=EventKind.ROLE_ASSIGNED,
            at=now,
            text=f"made {user_id} {role.value}",
            role=role.value,
            user=user_id,
        )
        if role is Role.COMMANDER and row.acknowledged_at is None:
            # Taking command is an acknowledgement: the SLA clock for "ack" stops here.
            await _mark_acknowledged(tx, row, actor=actor, now=now)
        return Outcome(await tx.incident(row), True, Text.of(Mention(user_id), f" is now {role.value} of {row.ref}"))


async def take_lead(deps: Deps, *, ref: str, actor: str) -> Outcome:
    """The actor becomes commander."""
    return await assign_role(deps, ref=ref, role=Role.COMMANDER, user_id=actor, actor=actor)


async def change_severity(deps: Deps, *, ref: str, severity: Severity, actor: str, reason: str = "") -> Outcome:
    """Change severity (confirming it); SEV0/SEV1 put the incident under human control."""
    now = deps.clock.now()
    async with deps.store.transaction() as tx:
        row = await _locked(tx, ref)
        _require_open(row, "change its severity")
        old = Severity(row.severity)
        if old is severity and row.severity_confirmed:
            return Outcome(await tx.incident(row), False, f"{row.ref} is already {severity.value}")
        row.severity = severity.value
        row.severity_confirmed = True
        row.severity_reason = reason.strip() or f"set to {severity.value} by hand"
        if severity.is_major():
            row.human_control = True
        verb = "raised" if severity.rank < old.rank else "lowered" if severity.rank > old.rank else "confirmed"
        await record_event(
            tx,
            row,
            actor=actor,
            kind=EventKind.SEVERITY_CHANGED,
            at=now,
            text=f"{verb} severity {old.value} → {severity.value}" + (f": {reason.strip()}" if reason.strip() else ""),
            old=old.value,
            new=severity.value,
            reason=reason.strip(),
        )
        return Outcome(await tx.incident(row), True, f"{row.ref} is now {severity.value}")


async def set_status(deps: Deps, *, ref: str, status: Status, actor: str, note: str = "") -> Outcome:
    """Move through the state machine (mitigated, reopen...); resolve has its own use case."""
    if status in (Status.RESOLVED, Status.DECLARED):
        raise BadRequest(f"use resolve/declare, not a status change to {status.value}")
    now = deps.clock.now()
    async with deps.store.transaction() as tx:
        row = await _locked(tx, ref)
        current = Status(row.status)
        if current is status:
            return Outcome(await tx.incident(row), False, f"{row.ref} is already {status.value}")
        try:
            check_transition(current, status)
        except InvalidTransition as exc:
            raise IncidentNotOpen(f"{row.ref}: {exc}") from None
        row.status = status.value
        if status is Status.MITIGATED:
            row.mitigated_at = now
        elif status is Status.CLOSED:
            row.closed_at = now
        elif status is Status.ACKNOWLEDGED and current is Status.RESOLVED:
            row.resolved_at = None
            row.acknowledged_at = row.acknowledged_at or now
        await record_event(
            tx,
            row,
            actor=actor,
            kind=EventKind.STATUS_CHANGED,
            at=now,
            text=f"status {current.value} → {status.value}" + (f": {note}" if note else ""),
            old=current.value,
            new=status.value,
            note=note,
        )
        return Outcome(await tx.incident(row), True, f"{row.ref} is now {status.value}")


async def resolve(deps: Deps, *, ref: str, actor: str, summary: str = "") -> Outcome:
    """Resolve; resolving a resolved incident changes nothing."""
    now = deps.clock.now()
    async with deps.store.transaction() as tx:
        row = await _locked(tx, ref)
        current = Status(row.status)
        if not current.is_open:
            return Outcome(await tx.incident(row), False, f"{row.ref} is already {current.value}")
        row.status = Status.RESOLVED.value
        row.resolved_at = now
        row.summary = summary.strip()[:NOTE_MAX] or row.summary
        await record_event(
            tx,
            row,
            actor=actor,
            kind=EventKind.RESOLVED,
            at=now,
            text="resolved the incident" + (f": {summary.strip()}" if summary.strip() else ""),
            old=current.value,
            summary=summary.strip(),
        )
        return Outcome(await tx.incident(row), True, f"{row.ref} resolved")


async def _append_text(
    deps: Deps, *, ref: str, actor: str, kind: EventKind, body: str, what: str, request_key: str | None
) -> Outcome:
    body = body.strip()
    if not body:
        raise BadRequest(f"the {what} is empty: write it after the subcommand")
    if len(body) > NOTE_MAX:
        raise BadRequest(f"the {what} is {len(body)} characters; keep it under {NOTE_MAX}")
    now = deps.clock.now()
    async with deps.store.transaction() as tx:
        row = await _locked(tx, ref)
        ev = await tx.append_event(
            chain=row.ref,
            incident_id=row.id,
            actor=actor,
            kind=kind.value,
            at=now,
            text=body,
            dedupe_key=f"{kind.value}:{request_key}" if request_key else None,
        )
        if ev is None:
            return Outcome(await tx.incident(row), False, f"{what} already added to {row.ref}")
        row.updated_at = now
        return Outcome(await tx.incident(row), True, f"{what} added to {row.ref}")


async def add_note(deps: Deps, *, ref: str, actor: str, text: str, request_key: str | None = None) -> Outcome:
    """Add a note to the timeline (once per `request_key`: a retried request adds nothing)."""
    return await _append_text(
        deps, ref=ref, actor=actor, kind=EventKind.NOTE_ADDED, body=text, what="note", request_key=request_key
    )


async def post_update(deps: Deps, *, ref: str, actor: str, text: str, request_key: str | None = None) -> Outcome:
    """Post a status update (shown in the room and the timeline), once per `request_key`."""
    return await _append_text(
        deps,
        ref=ref,
        actor=actor,
        kind=EventKind.STATUS_UPDATE,
        body=text,
        what="status update",
        request_key=request_key,
    )


async def record_pin(
    deps: Deps, *, channel_id: str, ts: str, actor: str, text: str, author: str | None, via: str
) -> Outcome | None:
    """Put a chat message into the timeline (📌 reaction or pin); once per message, however often."""
    now = deps.clock.now()
    async with deps.store.transaction() as tx:
        found = await tx.incident_row_by_channel(channel_id)
        if found is None:
            return None
        row = await _locked(tx, found.ref)
        ev = await tx.append_event(
            chain=row.ref,
            incident_id=row.id,
            actor=actor,
            kind=EventKind.MESSAGE_PINNED.value,
            at=now,
            text=text.strip()[:NOTE_MAX] or "(message without text)",
            payload={"channel": channel_id, "ts": ts, "author": author, "via": via},
            dedupe_key=f"pin:{channel_id}:{ts}",
        )
        if ev is not None:
            row.updated_at = now
        return Outcome(await tx.incident(row), ev is not None, "added to the timeline" if ev else "already there")


async def get(deps: Deps, *, ref: str) -> Incident:
    """One incident by ref."""
    async with deps.store.read() as tx:
        row = await tx.incident_row(ref)
        if row is None:
            raise IncidentNotFound(f"no incident {ref.upper()}")
        return await tx.incident(row)


async def for_channel(deps: Deps, *, channel_id: str) -> Incident | None:
    """The incident whose war room is this channel."""
    async with deps.store.read() as tx:
        row = await tx.incident_row_by_channel(channel_id)
        return await tx.incident(row) if row else None


async def timeline(deps: Deps, *, ref: str) -> tuple[Incident, list[Event]]:
    """An incident and its events in order."""
    async with deps.store.read() as tx:
        row = await tx.incident_row(ref)
        if row is None:
            raise IncidentNotFound(f"no incident {ref.upper()}")
        return await tx.incident(row), await tx.timeline(row.id)


async def list_incidents(deps: Deps, *, status: str = "all", limit: int = 50) -> list[Incident]:
    """Incidents newest first (`status` open, resolved or all)."""
    if status not in {"open", "resolved", "all"}:
        raise BadRequest("status must be open, resolved or all")
    limit = max(1, min(limit, 500))
    async with deps.store.read() as tx:
        return await tx.list_incidents(status=status, limit=limit)
