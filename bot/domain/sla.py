"""SLA clocks: when each response target of an incident falls due, and the log entries of a breach or a
reminder. Pure: the services decide when to look, this module what the answer is.

Deadlines are counted from the declaration with the targets of the incident's current severity, so a
severity change moves them. Status updates follow the severity's cadence: the k-th deadline after the last
update (or the declaration) is `last + k * cadence`, and each one missed is one breach (a nudge in the room).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.domain.events import EventKind, NewEvent
from bot.domain.incident import Incident, Severity
from bot.domain.policy import SlaTargets


class Sla(StrEnum):
    """The response targets that can be breached."""

    DETECT = "detect"
    ACK = "ack"
    UPDATE = "update"
    RESOLVE = "resolve"


class Reminder(StrEnum):
    """Nudges that are not SLA breaches."""

    COMMANDER = "commander"
    RESOLUTION = "resolution"
    ACTION_ITEM = "action_item"


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """When the bot nudges: no commander yet (first after `commander_after_minutes`, then every
    `commander_every_minutes`), and incidents left open (after `resolution_after_hours`, then every
    `resolution_every_hours`, as the ops-monitor seed does). 0 turns a nudge off."""

    commander_after_minutes: int = 10
    commander_every_minutes: int = 30
    resolution_after_hours: int = 24
    resolution_every_hours: int = 4


def ack_due(incident: Incident, targets: SlaTargets) -> datetime:
    """When the incident must be acknowledged by."""
    return incident.declared_at + timedelta(minutes=targets.ack_minutes)


def resolve_due(incident: Incident, targets: SlaTargets) -> datetime:
    """When the incident must be resolved by."""
    return incident.declared_at + timedelta(minutes=targets.resolve_minutes)


@dataclass(frozen=True, slots=True)
class UpdateClock:
    """Where the status-update cadence stands at a moment: the deadline missed most recently (None: the
    next one has not come yet) and the next deadline."""

    missed: datetime | None
    next_due: datetime


def update_clock(last_update: datetime, cadence_minutes: int, now: datetime) -> UpdateClock:
    """The cadence after the last update (or the declaration) at `now`."""
    cadence = timedelta(minutes=cadence_minutes)
    first = last_update + cadence
    if now < first:
        return UpdateClock(None, first)
    k = (now - last_update) // cadence
    return UpdateClock(last_update + k * cadence, last_update + (k + 1) * cadence)


def _breach_text(sla: Sla, severity: Severity, minutes: int) -> str:
    if sla is Sla.ACK:
        return f"not acknowledged within {minutes} min (the ack SLA of {severity.value})"
    if sla is Sla.RESOLVE:
        return f"not resolved within {minutes} min (the resolve SLA of {severity.value})"
    if sla is Sla.UPDATE:
        return f"no status update for {minutes} min (the update cadence of {severity.value}): post one now"
    return f"declared more than {minutes} min after its first alert began (the detect SLA of {severity.value})"


def breach_event(
    incident: Incident, sla: Sla, *, due: datetime, minutes: int, at: datetime, key: str,
    mention: Sequence[str] = (),
) -> NewEvent:  # fmt: skip
    """The `sla.breached` log entry (counted in /metrics; the war room shows it, mentioning `mention`)."""
    text = f"{sla.value} SLA breached: {_breach_text(sla, incident.severity, minutes)}"
    payload = {
        "sla": sla.value, "severity": incident.severity.value, "due": due.isoformat(), "minutes": minutes,
        "mention": list(mention),
    }  # fmt: skip
    return NewEvent(kind=EventKind.SLA_BREACHED, actor="warroom", at=at, text=text, payload=payload, dedupe_key=key)


def reminder_event(
    what: Reminder, text: str, *, at: datetime, key: str, mention: Sequence[str] = (), **payload: Any
) -> NewEvent:
    """An `incident.reminder` log entry (the war room shows it, mentioning `mention`)."""
    body = {"what": what.value, "mention": list(mention), **payload}
    return NewEvent(kind=EventKind.REMINDER, actor="warroom", at=at, text=text, payload=body, dedupe_key=key)


class UpgradeWhen(StrEnum):
    """What an auto-upgrade rule looks at."""

    UNACKNOWLEDGED = "unacknowledged"  # still unacknowledged when its ack SLA runs out
    SERVICES = "services"  # more than `more_than` services affected


@dataclass(frozen=True, slots=True)
class UpgradeRule:
    """Raise an incident to `to` when `when` holds (only from `severities` when given; never lowers)."""

    name: str
    when: UpgradeWhen
    to: Severity
    severities: tuple[Severity, ...] = ()
    more_than: int = 0

    def reason(self, incident: Incident, targets: SlaTargets) -> str | None:
        """Why the rule raises this incident now, or None when it does not apply."""
        if incident.severity.rank <= self.to.rank:
            return None
        if self.severities and incident.severity not in self.severities:
            return None
        if self.when is UpgradeWhen.SERVICES:
            n = len(incident.services)
            if n <= self.more_than:
                return None
            return f"{marker(self.name)} {n} services affected (more than {self.more_than})"
        if incident.acknowledged_at is not None:
            return None
        return f"{marker(self.name)} not acknowledged within {targets.ack_minutes} min"


DEFAULT_UPGRADES: tuple[UpgradeRule, ...] = (
    UpgradeRule("sev3-unacknowledged", UpgradeWhen.UNACKNOWLEDGED, Severity.SEV2, (Severity.SEV3,)),
    UpgradeRule("wide-blast-radius", UpgradeWhen.SERVICES, Severity.SEV1, more_than=5),
)


def marker(rule: str) -> str:
    """How an auto-upgrade's reason begins (a rule raises an incident once: its earlier raise is found by this)."""
    return f"auto-upgrade {rule}:"


def upgrade(
    rules: Sequence[UpgradeRule], incident: Incident, targets: SlaTargets, when: UpgradeWhen, applied: set[str]
) -> tuple[Severity, str] | None:
    """The worst severity the rules of `when` raise the incident to, with the reason (rules already applied to
    it, by name in `applied`, are skipped)."""
    best: tuple[Severity, str] | None = None
    for rule in rules:
        if rule.when is not when or rule.name in applied:
            continue
        why = rule.reason(incident, targets)
        if why is not None and (best is None or rule.to.rank < best[0].rank):
            best = (rule.to, why)
    return best
