"""Domain events: what can happen to an incident. Each is one row of the event log."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    """Kinds of event-log entries (stable: stored in the database)."""

    DECLARED = "incident.declared"
    ACKNOWLEDGED = "incident.acknowledged"
    SEVERITY_CHANGED = "incident.severity_changed"
    STATUS_CHANGED = "incident.status_changed"
    ROLE_ASSIGNED = "incident.role_assigned"
    NOTE_ADDED = "incident.note_added"
    STATUS_UPDATE = "incident.status_update"
    MESSAGE_PINNED = "incident.message_pinned"
    RESOLVED = "incident.resolved"
    ROOM_OPENED = "room.opened"
    ALERTS_UPDATED = "alerts.updated"
    ALERTS_RESOLVED = "alerts.resolved"
    ALL_ALERTS_RESOLVED = "alerts.all_resolved"
    DIAGNOSIS_REQUESTED = "diagnosis.requested"
    HYPOTHESIS_CONFIRMED = "hypothesis.confirmed"
    HYPOTHESIS_REJECTED = "hypothesis.rejected"
    TICKET_FILED = "incident.ticket_filed"
    ESCALATED = "incident.escalated"
    PAGED = "incident.paged"
    SLA_BREACHED = "sla.breached"
    REMINDER = "incident.reminder"
    CONTROL_RELEASED = "incident.control_released"
    DEPLOY_FROZEN = "deploy.frozen"
    DEPLOY_UNFROZEN = "deploy.unfrozen"
    REMEDIATION_PROPOSED = "remediation.proposed"
    REMEDIATION_APPROVED = "remediation.approved"
    REMEDIATION_REJECTED = "remediation.rejected"
    REMEDIATION_EXPIRED = "remediation.expired"
    REMEDIATION_SUPERSEDED = "remediation.superseded"
    REMEDIATION_REFUSED = "remediation.refused"
    REMEDIATION_STARTED = "remediation.started"
    REMEDIATION_EXECUTED = "remediation.executed"
    REMEDIATION_VERIFIED = "remediation.verified"
    REMEDIATION_ROLLED_BACK = "remediation.rolled_back"
    POSTMORTEM_REQUESTED = "postmortem.requested"
    ACTION_ITEM_ADDED = "action_item.added"


# Events that change what the triage card shows.
CARD_CHANGING: frozenset[EventKind] = frozenset(
    {
        EventKind.ACKNOWLEDGED,
        EventKind.SEVERITY_CHANGED,
        EventKind.STATUS_CHANGED,
        EventKind.ROLE_ASSIGNED,
        EventKind.RESOLVED,
        EventKind.TICKET_FILED,
        EventKind.CONTROL_RELEASED,
        EventKind.DEPLOY_FROZEN,
        EventKind.DEPLOY_UNFROZEN,
    }
)


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event a domain method returns: saved with the aggregate, in one unit of work, as a log entry.

    `dedupe_key` makes it idempotent: an event whose key was already recorded is not stored again.
    """

    kind: EventKind
    actor: str
    at: datetime
    text: str
    payload: dict[str, Any] = field(default_factory=dict)
    dedupe_key: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """A stored event-log entry, as reactors receive it."""

    id: int
    incident_id: int | None
    chain: str
    seq: int
    at: datetime
    actor: str
    kind: str
    text: str
    payload: dict[str, Any] = field(default_factory=dict)
