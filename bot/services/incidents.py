"""Incident use cases: declare, acknowledge, lead, roles, severity, notes, updates, resolve.

Each loads the incident from a unit of work (locked), calls the domain method, which checks the rule and
returns the events, and saves both together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.domain.authority import Approvers, Refused, check_lower_or_resolve
from bot.domain.events import Event, EventKind, NewEvent
from bot.domain.incident import TEXT_MAX, Incident, IncidentClosed, InvalidTransition, Role, Severity, Status
from bot.domain.text import Mention, Text
from bot.services.deps import Deps
from bot.services.errors import BadRequest, IncidentNotFound, IncidentNotOpen, NotAllowed
from bot.services.uow import Conflict, UnitOfWork

TITLE_MAX = 200
NOTE_MAX = TEXT_MAX


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


async def _locked(uow: UnitOfWork, ref: str) -> Incident:
    incident = await uow.incidents.get(ref, lock=True)
    if incident is None:
        raise IncidentNotFound(f"no incident {ref.upper()}")
    return incident


Message = Callable[[Incident], Text | str]


def check_major_change(deps: Deps, incident: Incident, *, actor: str, approvers: Approvers, what: str) -> None:
    """NotAllowed, naming the rule, when `actor` may not `what` this SEV0/SEV1 (warroom.yml `permissions`)."""
    try:
        check_lower_or_resolve(
            actor=actor, severity=incident.severity, commander=incident.commander, approvers=approvers,
            who=deps.authority.major_changes, what=what,
        )  # fmt: skip
    except Refused as exc:
        raise NotAllowed(exc.rule) from None


async def change_incident(
    deps: Deps, ref: str, change: Callable[[Incident], list[NewEvent]], done: Message, unchanged: Message
) -> Outcome:
    """Load the incident locked, apply a domain change and save it with its events: the common use case."""
    async with deps.store.transaction() as uow:
        incident = await _locked(uow, ref)
        try:
            events = change(incident)
        except IncidentClosed as exc:
            raise IncidentNotOpen(f"{exc}. Reopen it with `/incident sev` first.") from None
        if not events:
            return Outcome(incident, False, unchanged(incident))
        await uow.save(incident, events)
        return Outcome(incident, True, done(incident))


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
    now = deps.clock.now()
    try:
        async with deps.store.transaction() as uow:
            # Declares by one person are serialized, so a double submit cannot race past the duplicate check.
            await uow.lock(f"declare:{actor}")
            if declare_key and (existing := await uow.incidents.by_declare_key(declare_key)) is not None:
                return Outcome(existing, False, f"{existing.ref} was already declared")
            since = now - timedelta(seconds=deps.duplicate_window_seconds)
            dup = await uow.incidents.recent_duplicate(title=title, declared_by=actor, since=since)
            if dup is not None:
                return Outcome(dup, False, f"{dup.ref} with this title was declared moments ago")
            incident, events = Incident.declare(
                ref=await uow.incidents.next_ref(now.date()), title=title, severity=severity, actor=actor, at=now,
                reason=severity_reason or f"declared as {severity.value}", confirmed=severity_confirmed,
                declare_key=declare_key, services=services, group_key=group_key, alertnames=alertnames,
                alert_count=alert_count,
            )  # fmt: skip
            await uow.incidents.add(incident)
            await uow.save(incident, events)
            return Outcome(incident, True, f"{incident.ref} declared")
    except Conflict:
        # Another process committed the same declare_key first: return its incident.
        if declare_key is None:
            raise
        async with deps.store.read() as uow:
            found = await uow.incidents.by_declare_key(declare_key)
            if found is None:
                raise
            return Outcome(found, False, f"{found.ref} was already declared")


async def acknowledge(deps: Deps, *, ref: str, actor: str) -> Outcome:
    """Acknowledge; a second acknowledge changes nothing."""
    now = deps.clock.now()
    return await change_incident(
        deps,
        ref,
        lambda i: i.acknowledge(actor=actor, at=now),
        lambda i: f"{i.ref} acknowledged",
        lambda i: f"{i.ref} is already acknowledged",
    )


async def assign_role(deps: Deps, *, ref: str, role: Role, user_id: str, actor: str) -> Outcome:
    """Give a role to a user; commander, comms and scribe have one holder, sme may have several."""
    now = deps.clock.now()
    return await change_incident(
        deps,
        ref,
        lambda i: i.assign_role(role, user_id, actor=actor, at=now),
        lambda i: Text.of(Mention(user_id), f" is now {role.value} of {i.ref}"),
        lambda i: Text.of(Mention(user_id), f" is already {role.value} of {i.ref}"),
    )


async def take_lead(deps: Deps, *, ref: str, actor: str) -> Outcome:
    """The actor becomes commander."""
    return await assign_role(deps, ref=ref, role=Role.COMMANDER, user_id=actor, actor=actor)


async def change_severity(deps: Deps, *, ref: str, severity: Severity, actor: str, reason: str = "") -> Outcome:
    """Change severity (confirming it); raising to SEV0/SEV1 takes human control and freezes deploys, lowering a
    SEV0/SEV1 is for the commander or an approver (by default)."""
    now = deps.clock.now()
    approvers = await deps.authority.current(now)

    def change(i: Incident) -> list[NewEvent]:
        if severity.rank > i.severity.rank and i.is_open:
            check_major_change(deps, i, actor=actor, approvers=approvers, what="lower the severity of")
        return i.change_severity(severity, actor=actor, at=now, reason=reason)

    return await change_incident(
        deps,
        ref,
        change,
        lambda i: f"{i.ref} is now {severity.value}",
        lambda i: f"{i.ref} is already {severity.value}",
    )


async def set_status(deps: Deps, *, ref: str, status: Status, actor: str, note: str = "") -> Outcome:
    """Move through the state machine (mitigated, reopen...); resolve has its own use case."""
    if status in (Status.RESOLVED, Status.DECLARED):
        raise BadRequest(f"use resolve/declare, not a status change to {status.value}")
    now = deps.clock.now()

    def move(i: Incident) -> list[NewEvent]:
        try:
            return i.set_status(status, actor=actor, at=now, note=note)
        except InvalidTransition as exc:
            raise IncidentNotOpen(f"{i.ref}: {exc}") from None

    return await change_incident(
        deps, ref, move, lambda i: f"{i.ref} is now {status.value}", lambda i: f"{i.ref} is already {status.value}"
    )


async def resolve(deps: Deps, *, ref: str, actor: str, summary: str = "") -> Outcome:
    """Resolve (a SEV0/SEV1: the commander or an approver, by default); resolving a resolved incident changes
    nothing."""
    now = deps.clock.now()
    approvers = await deps.authority.current(now)

    def change(i: Incident) -> list[NewEvent]:
        if i.is_open:
            check_major_change(deps, i, actor=actor, approvers=approvers, what="resolve")
        return i.resolve(actor=actor, at=now, summary=summary)

    return await change_incident(
        deps, ref, change, lambda i: f"{i.ref} resolved", lambda i: f"{i.ref} is already {i.status.value}"
    )


async def _append_text(
    deps: Deps, *, ref: str, actor: str, kind: EventKind, body: str, what: str, request_key: str | None
) -> Outcome:
    body = body.strip()
    if not body:
        raise BadRequest(f"the {what} is empty: write it after the subcommand")
    if len(body) > NOTE_MAX:
        raise BadRequest(f"the {what} is {len(body)} characters; keep it under {NOTE_MAX}")
    now = deps.clock.now()
    key = f"{kind.value}:{request_key}" if request_key else None
    async with deps.store.transaction() as uow:
        incident = await _locked(uow, ref)
        if not await uow.save(incident, incident.add_text(kind, body, actor=actor, at=now, key=key)):
            return Outcome(incident, False, f"{what} already added to {incident.ref}")
        return Outcome(incident, True, f"{what} added to {incident.ref}")


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
    async with deps.store.transaction() as uow:
        found = await uow.incidents.by_channel(channel_id)
        if found is None:
            return None
        incident = await _locked(uow, found.ref)
        events = incident.pin_message(
            channel_id=channel_id, ts=ts, text=text, author=author, via=via, actor=actor, at=now
        )
        stored = await uow.save(incident, events)
        return Outcome(incident, bool(stored), "added to the timeline" if stored else "already there")


async def get(deps: Deps, *, ref: str) -> Incident:
    """One incident by ref."""
    async with deps.store.read() as uow:
        incident = await uow.incidents.get(ref)
        if incident is None:
            raise IncidentNotFound(f"no incident {ref.upper()}")
        return incident


async def for_channel(deps: Deps, *, channel_id: str) -> Incident | None:
    """The incident whose war room is this channel."""
    async with deps.store.read() as uow:
        return await uow.incidents.by_channel(channel_id)


async def timeline(deps: Deps, *, ref: str) -> tuple[Incident, list[Event]]:
    """An incident and its events in order."""
    async with deps.store.read() as uow:
        incident = await uow.incidents.get(ref)
        if incident is None:
            raise IncidentNotFound(f"no incident {ref.upper()}")
        return incident, await uow.incidents.timeline(incident.id)


async def list_incidents(deps: Deps, *, status: str = "all", limit: int = 50) -> list[Incident]:
    """Incidents newest first (`status` open, resolved or all)."""
    if status not in {"open", "resolved", "all"}:
        raise BadRequest("status must be open, resolved or all")
    limit = max(1, min(limit, 500))
    async with deps.store.read() as uow:
        return await uow.incidents.newest(status=status, limit=limit)
