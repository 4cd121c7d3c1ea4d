"""The remediation policy (severity x risk -> auto | approval | forbidden) and who may do what."""

from __future__ import annotations

import pytest

from bot.domain.authority import Approvers, Refused, Who, check_approve, check_lower_or_resolve, check_release
from bot.domain.incident import Severity
from bot.domain.policy import DEFAULT_REMEDIATION_POLICY, Decision, RemediationPolicy
from bot.domain.runbook import Risk

A, D, F = Decision.AUTO, Decision.APPROVAL, Decision.FORBIDDEN


@pytest.mark.parametrize(
    ("severity", "risk", "human_control", "has_rollback", "expected"),
    [
        (Severity.SEV3, Risk.LOW, False, True, A),
        (Severity.SEV3, Risk.LOW, False, False, A),  # LOW needs no rollback plan
        (Severity.SEV2, Risk.MEDIUM, False, True, A),
        (Severity.SEV2, Risk.MEDIUM, False, False, D),  # MEDIUM without a rollback plan: ask
        (Severity.SEV4, Risk.HIGH, False, True, D),
        (Severity.SEV1, Risk.LOW, True, True, D),  # human control: not even LOW
        (Severity.SEV1, Risk.MEDIUM, True, True, D),
        (Severity.SEV0, Risk.HIGH, True, True, D),
        (Severity.SEV1, Risk.LOW, False, True, A),  # released: LOW runs again
    ],
)
def test_default_policy(severity, risk, human_control, has_rollback, expected):
    got = DEFAULT_REMEDIATION_POLICY.decide(severity, risk, human_control=human_control, has_rollback=has_rollback)
    assert got is expected


def test_a_configured_table_is_obeyed_but_cannot_loosen_the_fixed_rules():
    policy = RemediationPolicy(
        {
            Severity.SEV0: {Risk.LOW: A, Risk.MEDIUM: F, Risk.HIGH: F},
            Severity.SEV3: {Risk.LOW: D, Risk.HIGH: A},  # HIGH auto is not possible; MEDIUM falls back
        }
    )
    assert policy.decide(Severity.SEV0, Risk.MEDIUM, human_control=False) is F
    assert policy.decide(Severity.SEV0, Risk.HIGH, human_control=True) is F  # forbidden stays forbidden
    assert policy.decide(Severity.SEV0, Risk.LOW, human_control=True) is D
    assert policy.decide(Severity.SEV3, Risk.LOW, human_control=False) is D
    assert policy.decide(Severity.SEV3, Risk.HIGH, human_control=False) is D
    assert policy.decide(Severity.SEV3, Risk.MEDIUM, human_control=False) is A  # the default cell
    assert policy.decide(Severity.SEV2, Risk.LOW, human_control=False) is A  # the default row


GROUP = Approvers(users=frozenset({"U0LISTED"}), usergroups=("sre-leads",), group_members=frozenset({"U0MEMBER"}))


@pytest.mark.parametrize(
    ("actor", "requester", "risk", "commander", "refused"),
    [
        ("U0CMD", "warroom", Risk.HIGH, "U0CMD", None),
        ("U0LISTED", "U0CMD", Risk.HIGH, "U0CMD", None),
        ("U0MEMBER", "U0CMD", Risk.HIGH, "U0CMD", None),
        ("U0MEMBER", "U0MEMBER", Risk.MEDIUM, None, None),  # four eyes only for HIGH
        ("U0MEMBER", "U0MEMBER", Risk.HIGH, None, "someone other than who requested it"),
        ("U0CMD", "U0CMD", Risk.HIGH, "U0CMD", "someone other than who requested it"),
        ("U0RANDOM", "warroom", Risk.LOW, "U0CMD", "only the commander, @sre-leads or a listed approver"),
        ("U0RANDOM", "warroom", Risk.LOW, None, "may approve or reject remediations"),
    ],
)
def test_check_approve(actor, requester, risk, commander, refused):
    if refused is None:
        check_approve(actor=actor, requester=requester, risk=risk, commander=commander, approvers=GROUP)
        return
    with pytest.raises(Refused) as err:
        check_approve(actor=actor, requester=requester, risk=risk, commander=commander, approvers=GROUP)
    assert refused in err.value.rule


@pytest.mark.parametrize(
    ("actor", "commander", "approvers", "allowed"),
    [
        ("U0CMD", "U0CMD", Approvers(), True),
        ("U0MEMBER", "U0CMD", GROUP, True),
        ("U0LISTED", None, GROUP, True),
        ("U0RANDOM", "U0CMD", GROUP, False),
        ("U0RANDOM", None, Approvers(), False),
    ],
)
def test_check_release(actor, commander, approvers, allowed):
    if allowed:
        check_release(actor=actor, commander=commander, approvers=approvers)
        return
    with pytest.raises(Refused, match="may release human control") as err:
        check_release(actor=actor, commander=commander, approvers=approvers)
    assert err.value.rule.startswith("only the commander")


@pytest.mark.parametrize(
    ("actor", "severity", "commander", "who", "refused"),
    [
        ("U0RANDOM", Severity.SEV2, "U0CMD", Who.APPROVERS, None),  # not major: anyone in the room
        ("U0CMD", Severity.SEV1, "U0CMD", Who.APPROVERS, None),
        ("U0MEMBER", Severity.SEV0, "U0CMD", Who.APPROVERS, None),
        ("U0RANDOM", Severity.SEV1, "U0CMD", Who.APPROVERS, "only the commander, @sre-leads or a listed approver"),
        ("U0RANDOM", Severity.SEV1, None, Who.APPROVERS, "take command with `/incident lead`"),
        ("U0MEMBER", Severity.SEV1, "U0CMD", Who.COMMANDER, "only the commander may lower"),
        ("U0RANDOM", Severity.SEV0, None, Who.ANYONE, None),
    ],
)
def test_check_lower_or_resolve(actor, severity, commander, who, refused):
    kwargs = {"actor": actor, "severity": severity, "commander": commander, "approvers": GROUP, "who": who}
    if refused is None:
        check_lower_or_resolve(**kwargs)
        return
    with pytest.raises(Refused) as err:
        check_lower_or_resolve(**kwargs)
    assert refused in err.value.rule
    assert severity.value in err.value.rule


def test_the_rules_file_sets_cells_of_the_policy_and_the_approvers():
    from bot.config import parse_config

    config = parse_config(
        "remediation:\n  policy:\n    SEV0: {LOW: approval, medium: forbidden}\n"
        "approvers:\n  users: [U0FRANK]\n  usergroup: S0SRELEADS\npermissions:\n  major_changes: commander\n"
    )
    policy = config.remediation.remediation_policy()
    assert policy.decide(Severity.SEV0, Risk.LOW, human_control=False) is D
    assert policy.decide(Severity.SEV0, Risk.MEDIUM, human_control=False) is F
    assert policy.decide(Severity.SEV0, Risk.HIGH, human_control=False) is D  # the default cell
    assert policy.decide(Severity.SEV3, Risk.LOW, human_control=False) is A  # the default row
    assert config.approvers.approvers() == Approvers(users=frozenset({"U0FRANK"}), usergroups=("S0SRELEADS",))
    assert config.permissions.major_changes is Who.COMMANDER
    old = parse_config("approvers: [U0FRANK, U0GRACE]\n")
    assert old.approvers.approvers().users == {"U0FRANK", "U0GRACE"}, "the old list form still means users"
