"""Human control and the deploy freeze of an incident (bot.domain.control)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import control
from bot.domain.events import EventKind
from bot.domain.incident import Incident, IncidentClosed, Severity, Status

AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
LATER = AT + timedelta(minutes=5)


def declared(severity: Severity) -> Incident:
    return Incident.declare(ref="INC-20261123-001", title="t", severity=severity, actor="U1", at=AT, reason="r")[0]


def kinds(events) -> list[EventKind]:
    return [e.kind for e in events]


def test_declaring_a_sev1_sets_human_control_and_the_freeze_as_an_event():
    inc, events = Incident.declare(
        ref="INC-20261123-001", title="t", severity=Severity.SEV1, actor="U1", at=AT, reason="r"
    )
    assert kinds(events) == [EventKind.DECLARED, EventKind.DEPLOY_FROZEN]
    assert inc.human_control and inc.frozen_since == AT and inc.freeze_kind == control.BY_SEVERITY
    assert "SEV1" in events[1].text


@pytest.mark.parametrize("severity", [Severity.SEV2, Severity.SEV3, Severity.SEV4])
def test_lesser_severities_neither_control_nor_freeze(severity):
    inc = declared(severity)
    assert not inc.human_control and inc.frozen_since is None


def test_raising_to_sev0_freezes_and_lowering_lifts_only_the_severity_freeze():
    inc = declared(Severity.SEV3)
    assert kinds(inc.change_severity(Severity.SEV0, actor="U1", at=AT)) == [
        EventKind.SEVERITY_CHANGED,
        EventKind.DEPLOY_FROZEN,
    ]
    # SEV0 -> SEV1 is still major: nothing new (already frozen)
    assert kinds(inc.change_severity(Severity.SEV1, actor="U1", at=AT)) == [EventKind.SEVERITY_CHANGED]
    assert kinds(inc.change_severity(Severity.SEV2, actor="U1", at=LATER)) == [
        EventKind.SEVERITY_CHANGED,
        EventKind.DEPLOY_UNFROZEN,
    ]
    assert inc.frozen_since is None and inc.human_control, "human control ends only with a release"


def test_a_freeze_by_hand_outlives_lowering_but_not_the_resolve():
    inc = declared(Severity.SEV3)
    assert kinds(control.freeze(inc, actor="U1", at=AT, reason="risky week")) == [EventKind.DEPLOY_FROZEN]
    assert control.freeze(inc, actor="U2", at=LATER) == [], "already frozen: nothing changes"
    assert inc.change_severity(Severity.SEV4, actor="U1", at=AT)
    assert inc.frozen_since == AT and inc.freeze_kind == control.BY_HAND
    assert kinds(inc.resolve(actor="U1", at=LATER)) == [EventKind.RESOLVED, EventKind.DEPLOY_UNFROZEN]
    assert inc.frozen_since is None


def test_unfreeze_lifts_even_the_severity_freeze_and_a_later_raise_freezes_again():
    inc = declared(Severity.SEV1)
    events = control.unfreeze(inc, actor="U1", at=LATER, reason="hotfix must ship")
    assert kinds(events) == [EventKind.DEPLOY_UNFROZEN] and "hotfix must ship" in events[0].text
    assert events[0].payload == {"freeze": control.BY_SEVERITY, "since": AT.isoformat()}
    assert control.unfreeze(inc, actor="U1", at=LATER) == []
    assert kinds(inc.raise_severity(Severity.SEV0, reason="x", confirmed=True, actor="am", at=LATER))[-1] is (
        EventKind.DEPLOY_FROZEN
    )


def test_resolving_and_reopening_a_sev1_lifts_then_sets_the_freeze():
    inc = declared(Severity.SEV1)
    assert kinds(inc.resolve(actor="U1", at=LATER)) == [EventKind.RESOLVED, EventKind.DEPLOY_UNFROZEN]
    assert kinds(inc.set_status(Status.ACKNOWLEDGED, actor="U1", at=LATER)) == [
        EventKind.STATUS_CHANGED,
        EventKind.DEPLOY_FROZEN,
    ]
    assert inc.frozen_since == LATER


def test_release_ends_human_control_once():
    inc = declared(Severity.SEV1)
    events = control.release(inc, actor="U0CMD", at=LATER)
    assert kinds(events) == [EventKind.CONTROL_RELEASED] and not inc.human_control
    assert control.release(inc, actor="U0CMD", at=LATER) == []
    assert inc.frozen_since == AT, "releasing human control does not lift the freeze"


def test_a_resolved_incident_cannot_be_frozen_or_released():
    inc = declared(Severity.SEV1)
    inc.resolve(actor="U1", at=LATER)
    for change in (control.freeze, control.unfreeze, control.release):
        with pytest.raises(IncidentClosed):
            change(inc, actor="U1", at=LATER)
