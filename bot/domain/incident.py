"""The incident aggregate: severity, status and its state machine, roles, alert counts, and the domain
methods that change it. Each method checks its rule, changes the incident and returns the events to
record (nothing when nothing changed); the use case saves both in one unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.domain import control
from bot.domain.events import EventKind, NewEvent
from bot.domain.naming import CHANNEL_NAME_MAX as CHANNEL_NAME_MAX
from bot.domain.naming import REF_RE as REF_RE
from bot.domain.naming import channel_name as channel_name
from bot.domain.naming import format_ref as format_ref
from bot.domain.naming import is_ref as is_ref
from bot.domain.naming import slugify as slugify

TEXT_MAX = 3000  # the longest note, status update, pinned message or summary kept


class Severity(StrEnum):
    """SEV0 (worst) to SEV4 (informational)."""

    SEV0 = "SEV0"
    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"

    @property
    def rank(self) -> int:
        """0 for SEV0 .. 4 for SEV4: lower is worse."""
        return ord(self[3]) - 48  # the digit of "SEVn" (hot in alert storms: no enum property lookups)

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Parse `SEV2`, `sev2` or `2`; raise ValueError naming the valid values otherwise."""
        t = text.strip().upper()
        if t.isdigit():
            t = f"SEV{t}"
        try:
            return cls(t)
        except ValueError:
            valid = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {text.strip()!r}: use one of {valid}") from None

    def is_major(self) -> bool:
        """SEV0 and SEV1 page, freeze deploys and put the incident under human control."""
        return self.rank <= 1


class Status(StrEnum):
    """Lifecycle of an incident."""

    DECLARED = "declared"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        """Declared, acknowledged and mitigated incidents are open."""
        return self in (Status.DECLARED, Status.ACKNOWLEDGED, Status.MITIGATED)


# Allowed transitions. Resolved incidents may be reopened (back to acknowledged) until closed.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.DECLARED: frozenset({Status.ACKNOWLEDGED, Status.MITIGATED, Status.RESOLVED}),
    Status.ACKNOWLEDGED: frozenset({Status.MITIGATED, Status.RESOLVED}),
    Status.MITIGATED: frozenset({Status.ACKNOWLEDGED, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.ACKNOWLEDGED, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


class InvalidTransition(ValueError):
    """A status change the state machine does not allow."""


def check_transition(current: Status, target: Status) -> None:
    """Raise InvalidTransition when `current -> target` is not allowed."""
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none"
        raise InvalidTransition(
            f"an incident that is {current.value} cannot become {target.value} (allowed: {allowed})"
        )


class Role(StrEnum):
    """Incident roles."""

    COMMANDER = "commander"
    COMMS = "comms"
    SCRIBE = "scribe"
    SME = "sme"

    @classmethod
    def parse(cls, text: str) -> Role:
        """Parse a role name; raise ValueError naming the valid ones otherwise."""
        aliases = {"lead": "commander", "ic": "commander", "expert": "sme"}
        t = aliases.get(t := text.strip().lower(), t)
        try:
            return cls(t)
        except ValueError:
            valid = ", ".join(r.value for r in cls)
            raise ValueError(f"unknown role {text.strip()!r}: use one of {valid}") from None


class IncidentClosed(Exception):
    """A change refused because the incident is resolved or closed."""

    def __init__(self, ref: str, status: Status, what: str) -> None:
        super().__init__(f"{ref} is {status.value}: cannot {what}")
        self.ref = ref
        self.status = status


@dataclass(slots=True)
class Incident:
    """An incident as the services see it: the aggregate every change of an incident goes through."""

    id: int
    ref: str
    title: str
    severity: Severity
    status: Status
    declared_at: datetime
    declared_by: str
    severity_reason: str = ""
    severity_confirmed: bool = True
    acknowledged_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    channel_id: str | None = None
    channel_name: str | None = None
    card_ts: str | None = None
    summary: str | None = None
    human_control: bool = False
    frozen_since: datetime | None = None  # deploys frozen for this incident since (bot.domain.control)
    freeze_kind: str | None = None  # who froze them: the severity, or someone by hand
    jira_key: str | None = None
    group_key: str | None = None
    services: list[str] = field(default_factory=list)
    alertnames: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    alert_count: int = 0
    alerts_firing: int = 0
    roles: dict[Role, list[str]] = field(default_factory=dict)
    declare_key: str | None = None
    alerts_unannounced: int = 0
    last_alert_at: datetime | None = None
    updated_at: datetime | None = None
    runbook: str | None = None  # the best-matching runbook's id (set by the diagnosis)
    root_cause: str | None = None  # the confirmed hypothesis, as the timeline names it (bot.domain.root_cause)
    root_cause_hypothesis: str | None = None

    @property
    def commander(self) -> str | None:
        """User id of the commander, if any."""
        users = self.roles.get(Role.COMMANDER) or []
        return users[0] if users else None

    @property
    def is_open(self) -> bool:
        """Not yet resolved or closed."""
        return self.status.is_open

    # -- rules ---------------------------------------------------------------------------------

    def require_open(self, what: str) -> None:
        """Raise IncidentClosed when it is resolved or closed."""
        if not self.status.is_open:
            raise IncidentClosed(self.ref, self.status, what)

    def _set_severity(
        self, severity: Severity, reason: str, *, confirmed: bool, actor: str, at: datetime, old: Severity | None
    ) -> list[NewEvent]:
        """The one place severity is set: raising to SEV0/SEV1 puts the incident under human control (the bot
        then executes nothing without explicit approval, until released) and freezes deploys."""
        self.severity, self.severity_reason, self.severity_confirmed = severity, reason, confirmed
        return control.severity_set(self, old, actor=actor, at=at)

    def _event(
        self, kind: EventKind, actor: str, at: datetime, text: str, *, key: str | None = None, **payload: Any
    ) -> NewEvent:
        return NewEvent(kind=kind, actor=actor, at=at, text=text, payload=payload, dedupe_key=key)

    # -- the lifecycle -------------------------------------------------------------------------

    @classmethod
    def declare(
        cls,
        *,
        ref: str,
        title: str,
        severity: Severity,
        actor: str,
        at: datetime,
        reason: str,
        confirmed: bool = True,
        declare_key: str | None = None,
        group_key: str | None = None,
        services: list[str] | None = None,
        alertnames: list[str] | None = None,
        regions: list[str] | None = None,
        alert_count: int = 0,
        alerts_firing: int = 0,
        started_at: datetime | None = None,
    ) -> tuple[Incident, list[NewEvent]]:
        """A new incident (id 0 until stored) and its `declared` event (`started_at`: its alerts' first startsAt)."""
        inc = cls(
            id=0, ref=ref, title=title, severity=severity, status=Status.DECLARED, declared_at=at, declared_by=actor,
            declare_key=declare_key, group_key=group_key, services=list(services or []),
            alertnames=list(alertnames or []), regions=list(regions or []), alert_count=alert_count,
            alerts_firing=alerts_firing, last_alert_at=at if alert_count else None, updated_at=at,
        )  # fmt: skip
        text = f"declared {severity.value}: {title}"
        payload: dict[str, Any] = {"severity": severity.value, "title": title, "reason": reason, "confirmed": confirmed}
        if started_at is not None:
            payload["started_at"] = started_at.isoformat()
        event = inc._event(EventKind.DECLARED, actor, at, text, **payload)
        return inc, [event, *inc._set_severity(severity, reason, confirmed=confirmed, actor=actor, at=at, old=None)]

    def acknowledge(self, *, actor: str, at: datetime) -> list[NewEvent]:
        """Stop the ack clock; a second acknowledge changes nothing."""
        self.require_open("acknowledge it")
        if self.acknowledged_at is not None:
            return []
        return [self._acknowledged(actor, at)]

    def _acknowledged(self, actor: str, at: datetime) -> NewEvent:
        """A declared incident becomes acknowledged (a mitigated one stays mitigated)."""
        self.acknowledged_at = at
        if self.status is Status.DECLARED:
            self.status = Status.ACKNOWLEDGED
        return self._event(EventKind.ACKNOWLEDGED, actor, at, "acknowledged the incident")

    def assign_role(self, role: Role, user_id: str, *, actor: str, at: datetime) -> list[NewEvent]:
        """Give a role: commander, comms and scribe have one holder, sme may have several. Taking command is
        an acknowledgement."""
        self.require_open("assign roles")
        current = self.roles.get(role, [])
        exclusive = role is not Role.SME
        if user_id in current and (not exclusive or current == [user_id]):
            return []
        self.roles[role] = [user_id] if exclusive else [*current, user_id]
        text = f"made {user_id} {role.value}"
        events = [self._event(EventKind.ROLE_ASSIGNED, actor, at, text, role=role.value, user=user_id)]
        if role is Role.COMMANDER and self.acknowledged_at is None:
            events.append(self._acknowledged(actor, at))
        return events

    def change_severity(self, severity: Severity, *, actor: str, at: datetime, reason: str = "") -> list[NewEvent]:
        """Set (and confirm) the severity by hand."""
        self.require_open("change its severity")
        old = self.severity
        if old is severity and self.severity_confirmed:
            return []
        reason = reason.strip()
        why = reason or f"set to {severity.value} by hand"
        more = self._set_severity(severity, why, confirmed=True, actor=actor, at=at, old=old)
        verb = "raised" if severity.rank < old.rank else "lowered" if severity.rank > old.rank else "confirmed"
        text = f"{verb} severity {old.value} → {severity.value}" + (f": {reason}" if reason else "")
        payload: dict[str, Any] = {"old": old.value, "new": severity.value, "reason": reason}
        return [self._event(EventKind.SEVERITY_CHANGED, actor, at, text, **payload), *more]

    def raise_severity(
        self, severity: Severity, *, reason: str, confirmed: bool, actor: str, at: datetime
    ) -> list[NewEvent]:
        """Alerts worse than the incident raise its severity (never lower it)."""
        old = self.severity
        if severity.rank >= old.rank:
            return []
        more = self._set_severity(severity, reason, confirmed=confirmed, actor=actor, at=at, old=old)
        text = f"raised severity {old.value} → {severity.value}: {reason}"
        payload: dict[str, Any] = {"old": old.value, "new": severity.value, "reason": reason}
        return [self._event(EventKind.SEVERITY_CHANGED, actor, at, text, **payload), *more]

    def set_status(self, status: Status, *, actor: str, at: datetime, note: str = "") -> list[NewEvent]:
        """Move through the state machine (raises InvalidTransition); reopening clears the resolve time."""
        current = self.status
        if current is status:
            return []
        check_transition(current, status)
        self.status = status
        if status is Status.MITIGATED:
            self.mitigated_at = at
        elif status is Status.CLOSED:
            self.closed_at = at
        elif status is Status.ACKNOWLEDGED and current is Status.RESOLVED:
            self.resolved_at = None
            self.acknowledged_at = self.acknowledged_at or at
        text = f"status {current.value} → {status.value}" + (f": {note}" if note else "")
        event = self._event(EventKind.STATUS_CHANGED, actor, at, text, old=current.value, new=status.value, note=note)
        return [event, *(control.reopened(self, actor=actor, at=at) if current is Status.RESOLVED else [])]

    def resolve(self, *, actor: str, at: datetime, summary: str = "") -> list[NewEvent]:
        """Resolve; resolving a resolved incident changes nothing."""
        current = self.status
        if not current.is_open:
            return []
        summary = summary.strip()
        self.status = Status.RESOLVED
        self.resolved_at = at
        self.summary = summary[:TEXT_MAX] or self.summary
        text = "resolved the incident" + (f": {summary}" if summary else "")
        event = self._event(EventKind.RESOLVED, actor, at, text, old=current.value, summary=summary)
        return [event, *control.resolved(self, actor=actor, at=at)]

    def add_text(
        self, kind: EventKind, body: str, *, actor: str, at: datetime, key: str | None = None
    ) -> list[NewEvent]:
        """A note or a status update in the timeline (once per `key`)."""
        return [self._event(kind, actor, at, body, key=key)]

    def pin_message(
        self, *, channel_id: str, ts: str, text: str, author: str | None, via: str, actor: str, at: datetime
    ) -> list[NewEvent]:
        """A chat message into the timeline, once per message however often it is pinned."""
        body = text.strip()[:TEXT_MAX] or "(message without text)"
        payload = {"channel": channel_id, "ts": ts, "author": author, "via": via}
        return [self._event(EventKind.MESSAGE_PINNED, actor, at, body, key=f"pin:{channel_id}:{ts}", **payload)]

    def room_named(self, name: str | None) -> None:
        """The war room's name, reserved before the channel exists (None: released, the platform refused it)."""
        self.channel_name = name

    def room_created(self, channel_id: str, name: str) -> None:
        """The war room exists on the chat platform."""
        self.channel_id, self.channel_name = channel_id, name

    def card_posted(self, ts: str) -> None:
        """The triage card is in the room."""
        self.card_ts = ts

    def ticket_filed(self, key: str, *, at: datetime) -> list[NewEvent]:
        """The incident's tracker ticket exists (once: a second key is not recorded)."""
        if self.jira_key is not None:
            return []
        self.jira_key = key
        text = f"filed ticket {key}"
        return [self._event(EventKind.TICKET_FILED, "warroom", at, text, key=f"ticket:{self.ref}", ticket=key)]

    def room_opened(self, *, at: datetime) -> list[NewEvent]:
        """The war room is ready (once per incident)."""
        payload = {"channel_id": self.channel_id, "channel_name": self.channel_name, "card_ts": self.card_ts}
        text = f"opened the war room #{self.channel_name}"
        return [self._event(EventKind.ROOM_OPENED, "warroom", at, text, key=f"room:{self.ref}", **payload)]

    # -- alerts --------------------------------------------------------------------------------

    def correlates(self, at: datetime, window: timedelta) -> bool:
        """Whether alerts arriving at `at` still belong here (the group did not go quiet for longer than
        the correlation window)."""
        return self.last_alert_at is None or at - self.last_alert_at <= window

    def alerts_joined(
        self, n: int, *, services: list[str], alertnames: list[str], regions: list[str], at: datetime
    ) -> None:
        """Alerts joined: counts and blast radius. Their timeline entry is written once per refresh window
        (`announce_joined`), not per request: a storm makes one line per few seconds."""
        self.services, self.alertnames, self.regions = services, alertnames, regions
        self.alert_count += n
        self.alerts_firing += n
        self.last_alert_at = at
        self.updated_at = at
        self.alerts_unannounced += n

    def announce_joined(self, *, at: datetime) -> list[NewEvent]:
        """One timeline entry for the alerts that joined since the last one."""
        n = self.alerts_unannounced
        if n <= 0:
            return []
        self.alerts_unannounced = 0
        text = f"{n} new alert(s) joined; {self.alert_count} in all, {self.alerts_firing} firing"
        return [
            self._event(
                EventKind.ALERTS_UPDATED, "warroom", at, text, new=n, total=self.alert_count, firing=self.alerts_firing
            )
        ]

    def alerts_resolved(self, n: int, *, actor: str, at: datetime) -> list[NewEvent]:
        """Some of its alerts resolved; when none fires any more (and it is open), say so: a human resolves."""
        self.alerts_firing = max(0, self.alerts_firing - n)
        text = f"{n} alert(s) resolved; {self.alerts_firing} still firing"
        events = [self._event(EventKind.ALERTS_RESOLVED, actor, at, text, resolved=n, firing=self.alerts_firing)]
        if self.alerts_firing == 0 and self.status.is_open:
            text = "all alerts of this incident are resolved"
            events.append(self._event(EventKind.ALL_ALERTS_RESOLVED, actor, at, text, alerts=self.alert_count))
        return events
