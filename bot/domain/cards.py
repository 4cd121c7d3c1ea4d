"""Neutral card view-models: what a card shows, not how a platform renders it.

A card is one message that the bot may update in place, with buttons. Every card type derives from `Card`
and goes through the same port method pair (`ChatRoom.post_card` / `update_card`); each chat adapter has a
renderer per card type (Slack: Block Kit). A new card touches this module and the renderers only. Card
fields hold data (titles, reasons, summaries: escaped by the renderer) and ids (user ids become mentions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar

from bot.domain.incident import Incident, Role, Severity, Status
from bot.domain.policy import DEFAULT_SLA as DEFAULT_SLA
from bot.domain.policy import SlaTargets as SlaTargets
from bot.domain.text import Mention, Text


class ActionId(StrEnum):
    """Stable button action ids (a contract: DESIGN.md 5)."""

    ACK = "incident-ack"
    LEAD = "incident-lead"
    SEVERITY = "incident-severity"
    RESOLVE = "incident-resolve"
    HYPOTHESIS_CONFIRM = "hypothesis-confirm"
    HYPOTHESIS_REJECT = "hypothesis-reject"
    ACTION_APPROVE = "action-approve"
    ACTION_REJECT = "action-reject"


@dataclass(frozen=True, slots=True)
class Button:
    """A neutral button: label, stable action id, the object's id as value."""

    label: str
    action: ActionId
    value: str
    style: str | None = None


class Card:
    """Base of the card view models: a dataclass whose `marker` finds its message again in chat history."""

    __slots__ = ()
    identifiers: ClassVar[frozenset[str]] = frozenset()
    """Fields that are ids (the marker is made of them): passed as they are, never redacted."""

    @property
    def marker(self) -> str:
        """An id the adapter attaches to the message (Slack: a block_id), unique per card."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class TriageCard(Card):
    """The pinned card of a war room."""

    identifiers: ClassVar[frozenset[str]] = frozenset({"ref"})

    ref: str
    title: str
    severity: Severity
    severity_reason: str
    severity_confirmed: bool
    status: Status
    declared_at: datetime
    declared_by: str
    services: tuple[str, ...]
    alert_count: int
    regions: tuple[str, ...]
    roles: tuple[tuple[Role, tuple[str, ...]], ...]
    ack_by: datetime | None
    resolve_by: datetime | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    summary: str | None
    runbook: str | None = None
    human_control: bool = False
    deploys_frozen: bool = False
    severities: tuple[Severity, ...] = field(default=tuple(Severity))
    ticket: str | None = None

    @property
    def marker(self) -> str:
        """`card:<ref>`: one triage card per incident."""
        return f"card:{self.ref}"

    @property
    def actionable(self) -> bool:
        """Buttons are offered only while the incident is open."""
        return self.status.is_open

    @property
    def commander(self) -> str | None:
        """The commander's user id, if any."""
        for role, users in self.roles:
            if role is Role.COMMANDER and users:
                return users[0]
        return None


def triage_card(
    incident: Incident,
    sla: dict[Severity, SlaTargets] | None = None,
    *,
    regions: tuple[str, ...] = (),
    runbook: str | None = None,
) -> TriageCard:
    """Build the triage card of an incident from its current state."""
    targets = (sla or DEFAULT_SLA)[incident.severity]
    ack_by = None
    if incident.acknowledged_at is None:
        ack_by = incident.declared_at + timedelta(minutes=targets.ack_minutes)
    resolve_by = None
    if incident.resolved_at is None:
        resolve_by = incident.declared_at + timedelta(minutes=targets.resolve_minutes)
    roles = tuple((role, tuple(incident.roles[role])) for role in Role if incident.roles.get(role))
    return TriageCard(
        ref=incident.ref,
        title=incident.title,
        severity=incident.severity,
        severity_reason=incident.severity_reason,
        severity_confirmed=incident.severity_confirmed,
        status=incident.status,
        declared_at=incident.declared_at,
        declared_by=incident.declared_by,
        services=tuple(incident.services),
        alert_count=incident.alert_count,
        regions=regions or tuple(incident.regions),
        roles=roles,
        ack_by=ack_by,
        resolve_by=resolve_by,
        acknowledged_at=incident.acknowledged_at,
        resolved_at=incident.resolved_at,
        summary=incident.summary,
        runbook=runbook or incident.runbook,
        human_control=incident.human_control,
        deploys_frozen=incident.frozen_since is not None,
        ticket=incident.jira_key,
    )


def topic_line(incident: Incident) -> Text:
    """The channel topic: severity, status, commander, title (the adapter fits it to the platform's cap)."""
    commander = Mention(incident.commander) if incident.commander else "unassigned"
    return Text.of(
        f"{incident.severity.value} · {incident.status.value} · IC ",
        commander,
        f" · {incident.ref}: ",
        incident.title,
    )


# Event kinds after which the channel topic (severity, status, commander) is rewritten.
CARD_CHANGING_TOPIC: frozenset[str] = frozenset(
    {
        "incident.severity_changed",
        "incident.status_changed",
        "incident.role_assigned",
        "incident.resolved",
        "incident.acknowledged",
    }
)
