"""Human control and the deploy freeze of an incident (pure): the rules behind `/incident release`,
`/incident freeze` and `/incident unfreeze`, and the freeze that SEV0/SEV1 set by themselves.

Declaring or raising an incident to SEV0/SEV1 puts it under human control (the bot executes nothing without an
explicit approval) and freezes deploys; only `/incident release` ends human control. The freeze the severity set
lifts when the incident is lowered below SEV1 or resolved; a freeze set by hand (`/incident freeze`) lasts until
`/incident unfreeze` or the resolve. Each change is an event of the incident's log.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.domain.events import EventKind, NewEvent

if TYPE_CHECKING:
    from bot.domain.incident import Incident, Severity

BY_SEVERITY = "severity"  # the freeze an open SEV0/SEV1 sets by itself
BY_HAND = "manual"  # `/incident freeze`


def _frozen(inc: Incident, kind: str, *, actor: str, at: datetime, why: str) -> list[NewEvent]:
    if inc.frozen_since is not None:
        return []
    inc.frozen_since, inc.freeze_kind = at, kind
    return [NewEvent(EventKind.DEPLOY_FROZEN, actor, at, f"froze deploys: {why}", {"freeze": kind})]


def _thawed(inc: Incident, *, actor: str, at: datetime, why: str) -> list[NewEvent]:
    if inc.frozen_since is None:
        return []
    since, kind = inc.frozen_since, inc.freeze_kind
    inc.frozen_since = inc.freeze_kind = None
    payload = {"freeze": kind, "since": since.isoformat()}
    return [NewEvent(EventKind.DEPLOY_UNFROZEN, actor, at, f"lifted the deploy freeze: {why}", payload)]


def severity_set(inc: Incident, old: Severity | None, *, actor: str, at: datetime) -> list[NewEvent]:
    """After the severity changed from `old` (None: just declared): raising into SEV0/SEV1 sets human control
    and the freeze; dropping below SEV1 lifts the freeze the severity set (not one set by hand, and not human
    control: that takes `/incident release`)."""
    new = inc.severity
    if new.is_major() and (old is None or new.rank < old.rank):
        inc.human_control = True
        return _frozen(inc, BY_SEVERITY, actor=actor, at=at, why=f"a {new.value} incident is open")
    if not new.is_major() and inc.freeze_kind == BY_SEVERITY:
        return _thawed(inc, actor=actor, at=at, why=f"{new.value} does not freeze deploys")
    return []


def reopened(inc: Incident, *, actor: str, at: datetime) -> list[NewEvent]:
    """A resolved SEV0/SEV1 reopened freezes deploys again."""
    if not inc.severity.is_major():
        return []
    return _frozen(inc, BY_SEVERITY, actor=actor, at=at, why=f"a {inc.severity.value} incident is open again")


def resolved(inc: Incident, *, actor: str, at: datetime) -> list[NewEvent]:
    """Resolving lifts the incident's freeze, whoever set it."""
    return _thawed(inc, actor=actor, at=at, why=f"{inc.ref} is resolved")


def freeze(inc: Incident, *, actor: str, at: datetime, reason: str = "") -> list[NewEvent]:
    """`/incident freeze`: freeze deploys for this incident (nothing when already frozen)."""
    inc.require_open("freeze deploys")
    return _frozen(inc, BY_HAND, actor=actor, at=at, why=reason.strip() or f"frozen by hand for {inc.ref}")


def unfreeze(inc: Incident, *, actor: str, at: datetime, reason: str = "") -> list[NewEvent]:
    """`/incident unfreeze`: lift this incident's freeze, even one its severity set (a fix must ship)."""
    inc.require_open("lift its deploy freeze")
    return _thawed(inc, actor=actor, at=at, why=reason.strip() or "lifted by hand")


def release(inc: Incident, *, actor: str, at: datetime) -> list[NewEvent]:
    """`/incident release`: end human control (the remediation policy applies again)."""
    inc.require_open("release human control")
    if not inc.human_control:
        return []
    inc.human_control = False
    text = "released human control: the remediation policy applies again"
    return [NewEvent(EventKind.CONTROL_RELEASED, actor, at, text, {"severity": inc.severity.value})]
