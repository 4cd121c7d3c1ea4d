"""The incident aggregate: domain methods check their rule, change the incident and return the events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.events import EventKind
from bot.domain.incident import Incident, IncidentClosed, InvalidTransition, Role, Severity, Status

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def declared(severity: Severity = Severity.SEV3, *, confirmed: bool = True) -> Incident:
    inc, events = Incident.declare(
        ref="INC-20261123-001", title="t", severity=severity, actor="U1", at=AT, reason="r", confirmed=confirmed
    )
    major = [EventKind.DEPLOY_FROZEN] if severity.is_major() else []
    assert [e.kind for e in events] == [EventKind.DECLARED, *major]
    return inc


@pytest.mark.parametrize(
    "path",
    [
        lambda sev: declared(sev),
        lambda sev: _after(declared(confirmed=False), lambda i: i.change_severity(sev, actor="U1", at=AT)),
        lambda sev: _after(
            declared(Severity.SEV4), lambda i: i.raise_severity(sev, reason="alerts", confirmed=True, actor="am", at=AT)
        ),
    ],
    ids=["declare", "change_severity", "raise_severity (alerts)"],
)
@pytest.mark.parametrize("severity", list(Severity))
def test_sev0_and_sev1_mean_human_control_on_every_path(path, severity):
    inc = path(severity)
    assert inc.severity is severity
    assert inc.human_control is severity.is_major()


def _after(inc: Incident, change) -> Incident:
    events = change(inc)
    assert events or inc.severity is Severity.SEV4, "a change returns its event"
    return inc


def test_human_control_stays_when_severity_drops():
    inc = declared(Severity.SEV1)
    inc.change_severity(Severity.SEV3, actor="U1", at=AT)
    assert inc.human_control, "released only by an explicit release, not by lowering the severity"


def test_nothing_changed_means_no_event():
    inc = declared()
    assert inc.acknowledge(actor="U1", at=AT)
    assert inc.acknowledge(actor="U2", at=AT) == []
    inc.change_severity(Severity.SEV3, actor="U1", at=AT)  # confirms it
    assert inc.change_severity(Severity.SEV3, actor="U1", at=AT) == []
    assert inc.raise_severity(Severity.SEV4, reason="x", confirmed=True, actor="am", at=AT) == []
    inc.assign_role(Role.SCRIBE, "U0C", actor="U1", at=AT)
    assert inc.assign_role(Role.SCRIBE, "U0C", actor="U1", at=AT) == []


def test_taking_command_acknowledges_and_exclusive_roles_have_one_holder():
    inc = declared()
    events = inc.assign_role(Role.COMMANDER, "U0A", actor="U0A", at=AT)
    assert [e.kind for e in events] == [EventKind.ROLE_ASSIGNED, EventKind.ACKNOWLEDGED]
    assert inc.status is Status.ACKNOWLEDGED and inc.acknowledged_at == AT
    inc.assign_role(Role.COMMANDER, "U0B", actor="U0A", at=AT)
    inc.assign_role(Role.SME, "U0C", actor="U0A", at=AT)
    inc.assign_role(Role.SME, "U0D", actor="U0A", at=AT)
    assert inc.roles == {Role.COMMANDER: ["U0B"], Role.SME: ["U0C", "U0D"]}
    assert events[0].text == "made U0A commander", "the stored sentence holds no chat markup"


def test_a_closed_incident_refuses_changes_but_keeps_notes():
    inc = declared()
    inc.resolve(actor="U1", at=AT, summary="done")
    for change in (
        lambda: inc.acknowledge(actor="U1", at=AT),
        lambda: inc.assign_role(Role.SME, "U0C", actor="U1", at=AT),
        lambda: inc.change_severity(Severity.SEV1, actor="U1", at=AT),
    ):
        with pytest.raises(IncidentClosed, match="INC-20261123-001 is resolved: cannot"):
            change()
    assert inc.resolve(actor="U1", at=AT) == []
    assert inc.add_text(EventKind.NOTE_ADDED, "after the fact", actor="U1", at=AT)
    with pytest.raises(InvalidTransition):
        inc.set_status(Status.MITIGATED, actor="U1", at=AT)
    assert inc.set_status(Status.ACKNOWLEDGED, actor="U1", at=AT)  # reopened
    assert inc.resolved_at is None and inc.status.is_open


def test_alerts_join_resolve_and_are_announced_once():
    inc = declared()
    assert inc.correlates(AT + timedelta(minutes=29), timedelta(minutes=30))
    inc.alerts_joined(3, services=["api"], alertnames=["A"], regions=[], at=AT)
    assert inc.correlates(AT + timedelta(minutes=29), timedelta(minutes=30))
    assert not inc.correlates(AT + timedelta(minutes=31), timedelta(minutes=30))
    (joined,) = inc.announce_joined(at=AT)
    assert joined.payload == {"new": 3, "total": 3, "firing": 3}
    assert inc.announce_joined(at=AT) == []
    assert [e.kind for e in inc.alerts_resolved(2, actor="am", at=AT)] == [EventKind.ALERTS_RESOLVED]
    assert [e.kind for e in inc.alerts_resolved(1, actor="am", at=AT)] == [
        EventKind.ALERTS_RESOLVED,
        EventKind.ALL_ALERTS_RESOLVED,
    ]
