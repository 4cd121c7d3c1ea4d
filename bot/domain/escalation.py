"""Escalation: the tiers an unacknowledged incident climbs, who each tier reaches, and the events that say so.

An incident's escalation is a ladder of tiers (default: on-call, senior + lead, manager + director, VP). It
starts when the incident is not acknowledged within its severity's ack SLA, or earlier by hand
(`/incident escalate`), when its severity is raised, or when a remediation fails; every trigger moves it one
tier up. While the incident stays unacknowledged the ladder climbs by itself: tier n+1 follows tier n after
the difference of their `after_minutes` (so with the defaults 0, 15, 30, 60 the tiers come 15, 15 and 30
minutes apart, counted from the start of the escalation). Acknowledging stops the climb; resolving ends it.

The current tier is read from the incident's own log (its `incident.escalated` entries), so there is no
state besides the timeline to keep in step.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.events import Event, EventKind, NewEvent
from bot.domain.incident import Incident


class Trigger(StrEnum):
    """Why an incident was escalated."""

    ACK_SLA = "ack_sla"
    SEVERITY_RAISED = "severity_raised"
    REMEDIATION_FAILED = "remediation_failed"
    MANUAL = "manual"
    LADDER = "ladder"  # the next tier of a running escalation, its time come


ONCALL = "oncall"
"""The notify target (and PagerDuty service name) meaning whoever is on call now."""


@dataclass(frozen=True, slots=True)
class Tier:
    """One rung: reached `after_minutes` after the escalation started; notifies Slack users and user groups
    (`notify`: user ids, group ids, `oncall`, `team:<name>`) and pages PagerDuty services (`pagerduty`:
    `oncall` is PAGERDUTY_ROUTING_KEY's service, other names come from the rules file)."""

    after_minutes: int
    name: str
    notify: tuple[str, ...] = ()
    pagerduty: tuple[str, ...] = ()


DEFAULT_TIERS: tuple[Tier, ...] = (
    Tier(0, "on-call", (ONCALL,), (ONCALL,)),
    Tier(15, "senior + lead"),
    Tier(30, "manager + director"),
    Tier(60, "VP"),
)


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """The tiers, in increasing `after_minutes` order."""

    tiers: tuple[Tier, ...] = DEFAULT_TIERS

    def __post_init__(self) -> None:
        if not self.tiers:
            raise ValueError("an escalation policy needs at least one tier")

    @property
    def top(self) -> int:
        """The index of the last tier."""
        return len(self.tiers) - 1

    def wait_before(self, level: int) -> timedelta:
        """How long the tier before `level` has to answer before `level` is reached by itself."""
        if level <= 0:
            return timedelta(minutes=self.tiers[0].after_minutes)
        return timedelta(minutes=self.tiers[level].after_minutes - self.tiers[level - 1].after_minutes)

    def label(self, level: int) -> str:
        """`tier 2 (senior + lead)`: 1-based for people."""
        name = self.tiers[level].name
        return f"tier {level + 1}" + (f" ({name})" if name else "")


@dataclass(frozen=True, slots=True)
class Audience:
    """Who a tier or a page reaches, resolved at the moment it fires: Slack users (invited and mentioned),
    Slack user groups (mentioned) and PagerDuty services (paged)."""

    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    pagerduty: tuple[str, ...] = ()

    @property
    def mentions(self) -> tuple[str, ...]:
        """Users then groups, as mention ids."""
        return (*self.users, *self.groups)

    def __bool__(self) -> bool:
        return bool(self.users or self.groups or self.pagerduty)


@dataclass(frozen=True, slots=True)
class EscalationState:
    """Where an incident's escalation stands: its current tier (-1: not escalated) and when it started."""

    level: int = -1
    started_at: datetime | None = None

    @classmethod
    def of(cls, events: Iterable[Event]) -> EscalationState:
        """Read from the incident's `incident.escalated` log entries."""
        level, started = -1, None
        for e in events:
            if e.kind != EventKind.ESCALATED.value:
                continue
            started = started or e.at
            level = max(level, int(e.payload.get("tier", 0)))
        return cls(level, started)

    def next_level(self, policy: EscalationPolicy) -> int:
        """The tier the next trigger reaches (the top one stays the top one)."""
        return min(self.level + 1, policy.top)


@dataclass(frozen=True, slots=True)
class Escalation:
    """One escalation about to be recorded."""

    level: int
    tier: Tier
    trigger: Trigger
    reason: str
    audience: Audience
    label: str
    pagerduty: tuple[str, ...] = field(default=())


def escalated_event(
    incident: Incident, esc: Escalation, *, actor: str, at: datetime, key: str | None = None
) -> NewEvent:
    """The `incident.escalated` log entry (the war room mentions and invites its audience, the pager pages)."""
    reason = esc.reason.strip()
    text = f"escalated {incident.ref} to {esc.label}" + (f": {reason}" if reason else "")
    payload = {
        "tier": esc.level,
        "tier_name": esc.tier.name,
        "label": esc.label,
        "trigger": esc.trigger.value,
        "reason": reason,
        "users": list(esc.audience.users),
        "groups": list(esc.audience.groups),
        "invite": list(esc.audience.users),
        "pagerduty": list(esc.audience.pagerduty),
        "severity": incident.severity.value,
    }
    return NewEvent(kind=EventKind.ESCALATED, actor=actor, at=at, text=text, payload=payload, dedupe_key=key)


def paged_event(
    incident: Incident, audience: Audience, message: str, *, targets: Sequence[str], actor: str, at: datetime,
    key: str | None = None,
) -> NewEvent:  # fmt: skip
    """The `incident.paged` log entry of `/incident page`."""
    message = message.strip()
    text = f"paged {', '.join(targets)}" + (f": {message}" if message else "")
    payload = {
        "targets": list(targets),
        "message": message,
        "users": list(audience.users),
        "groups": list(audience.groups),
        "invite": list(audience.users),
        "pagerduty": list(audience.pagerduty),
    }
    return NewEvent(kind=EventKind.PAGED, actor=actor, at=at, text=text, payload=payload, dedupe_key=key)
