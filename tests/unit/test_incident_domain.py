"""The incident domain: severity parsing, state machine, refs, channel names, cards."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.cards import triage_card
from bot.domain.incident import (
    CHANNEL_NAME_MAX,
    Incident,
    InvalidTransition,
    Role,
    Severity,
    Status,
    channel_name,
    check_transition,
    format_ref,
    is_ref,
)


def test_severity_parse_accepts_common_spellings():
    assert Severity.parse("sev1") is Severity.SEV1
    assert Severity.parse(" SEV0 ") is Severity.SEV0
    assert Severity.parse("3") is Severity.SEV3


def test_severity_parse_error_names_valid_values():
    with pytest.raises(ValueError) as err:
        Severity.parse("SEV9")
    assert "SEV9" in str(err.value)
    for s in ("SEV0", "SEV1", "SEV2", "SEV3", "SEV4"):
        assert s in str(err.value)


def test_major_severities():
    assert Severity.SEV0.is_major() and Severity.SEV1.is_major()
    assert not Severity.SEV2.is_major()


@pytest.mark.parametrize(
    ("current", "target", "ok"),
    [
        (Status.DECLARED, Status.ACKNOWLEDGED, True),
        (Status.DECLARED, Status.RESOLVED, True),
        (Status.ACKNOWLEDGED, Status.MITIGATED, True),
        (Status.RESOLVED, Status.ACKNOWLEDGED, True),
        (Status.RESOLVED, Status.CLOSED, True),
        (Status.CLOSED, Status.ACKNOWLEDGED, False),
        (Status.ACKNOWLEDGED, Status.DECLARED, False),
        (Status.DECLARED, Status.CLOSED, False),
    ],
)
def test_state_machine(current, target, ok):
    if ok:
        check_transition(current, target)
    else:
        with pytest.raises(InvalidTransition):
            check_transition(current, target)


def test_role_parse_and_aliases():
    assert Role.parse("IC") is Role.COMMANDER
    assert Role.parse("Scribe") is Role.SCRIBE
    with pytest.raises(ValueError, match="commander"):
        Role.parse("janitor")


def test_ref_format():
    assert format_ref(date(2026, 11, 23), 7) == "INC-20261123-007"
    assert format_ref(date(2026, 11, 23), 1234) == "INC-20261123-1234"
    assert is_ref("inc-20261123-007")
    assert not is_ref("INC-2026-1")


def test_channel_name_examples():
    d = date(2026, 11, 23)
    assert channel_name("inc", d, "Checkout is failing") == "inc-20261123-checkout-is-failing"
    assert channel_name("inc", d, "Checkout is failing", 2) == "inc-20261123-checkout-is-failing-2"
    assert channel_name("inc", d, "Ça coûte CHER!! 5xx @ edge") == "inc-20261123-ca-coute-cher-5xx-edge"
    assert channel_name("inc", d, "!!!") == "inc-20261123-incident"


@given(title=st.text(max_size=300), suffix=st.integers(min_value=0, max_value=999))
def test_channel_name_always_valid(title, suffix):
    name = channel_name("inc", date(2026, 11, 23), title, suffix)
    assert len(name) <= CHANNEL_NAME_MAX
    assert name.startswith("inc-20261123-")
    assert all(c in "abcdefghijklmnopqrstuvwxyz0123456789-_" for c in name)
    if suffix > 1:
        assert name.endswith(f"-{suffix}")


def test_triage_card_sla_deadlines_and_roles():
    declared = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    inc = Incident(
        id=1,
        ref="INC-20261123-001",
        title="t",
        severity=Severity.SEV1,
        status=Status.DECLARED,
        declared_at=declared,
        declared_by="U1",
        roles={Role.COMMANDER: ["U2"]},
    )
    card = triage_card(inc)
    assert card.ack_by == datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
    assert card.commander == "U2"
    assert card.actionable
    inc.status = Status.RESOLVED
    assert not triage_card(inc).actionable
