"""Escalation with an injected clock (nothing sleeps): the ladder climbs tier by tier at the right minutes,
acknowledging stops it, a restart in the middle loses no timer, and each trigger escalates once."""

from __future__ import annotations

import pytest

from bot.domain.authority import Approvers
from bot.domain.escalation import Trigger
from bot.domain.events import EventKind
from bot.domain.incident import Severity
from bot.services import escalation, incidents
from bot.services.authority_deps import AuthorityDeps
from bot.services.errors import BadRequest, IncidentNotOpen
from tests.escalation_env import make_env

ESC = EventKind.ESCALATED


@pytest.fixture
async def env(tmp_path):
    e = await make_env(tmp_path)
    yield e
    await e.close()


async def declare(env, severity=Severity.SEV2, title="Checkout errors"):
    out = await incidents.declare(env.deps, title=title, severity=severity, actor="U0ALICE")
    await env.settle()
    return out.incident.ref


async def ladder(env, ref):
    """(minutes after START, tier) of each escalation so far."""
    return [(int((e.at - env.t0).total_seconds() // 60), e.payload["tier"]) for e in await env.events(ref, ESC)]


async def test_an_unacknowledged_sev2_escalates_tier_by_tier_at_the_right_minutes(env):
    ref = await declare(env)
    await env.at(29.99)
    assert await ladder(env, ref) == [], "the ack SLA of SEV2 is 30 minutes"
    await env.at(30)
    assert await ladder(env, ref) == [(30, 0)]
    await env.at(44.99)
    assert await ladder(env, ref) == [(30, 0)]
    await env.at(45)
    await env.at(60)
    await env.at(90)
    assert await ladder(env, ref) == [(30, 0), (45, 1), (60, 2), (90, 3)]
    await env.at(24 * 60)
    assert len(await ladder(env, ref)) == 4, "the top tier is the last"
    room = env.room()
    assert {"U0ONCALL", "U0SENIOR", "U0MANAGER", "U0VP"} <= room.members, "each tier's people are invited"
    lines = [m for m in env.room_lines() if "escalated" in m]
    assert len(lines) == 4
    assert "<@U0SENIOR>" in lines[1] and "<@S0LEADS>" in lines[1], "the tier's users and groups are mentioned"
    breaches = await env.events(ref, EventKind.SLA_BREACHED)
    assert [b.payload["sla"] for b in breaches if b.payload["sla"] == "ack"] == ["ack"]


async def test_acknowledging_stops_the_ladder(env):
    ref = await declare(env)
    await env.at(30)
    await env.at(40)
    await incidents.acknowledge(env.deps, ref=ref, actor="U0ONCALL")
    await env.settle()
    await env.at(6 * 60)
    assert await ladder(env, ref) == [(30, 0)]
    assert not await env.timers(kind=escalation.TIER_TIMER, status="pending")
    assert [t.status for t in await env.timers(kind=escalation.TIER_TIMER)] == ["cancelled"]


async def test_acknowledged_in_time_never_escalates(env):
    ref = await declare(env)
    await env.at(29)
    await incidents.acknowledge(env.deps, ref=ref, actor="U0ONCALL")
    await env.at(600)
    assert await ladder(env, ref) == []
    assert not [b for b in await env.events(ref, EventKind.SLA_BREACHED) if b.payload["sla"] == "ack"]


async def test_a_restart_in_the_middle_loses_no_timer(env):
    ref = await declare(env)
    await env.at(31)
    assert await ladder(env, ref) == [(30, 0)]
    # The process dies while firing tier 2: it had claimed the timer and never recorded it.
    env.clock._now = env.t0.replace(minute=45)
    claimed = await env.store.claim_timers(worker="dead", now=env.clock.now(), lease=env.outbox.lease)
    assert escalation.TIER_TIMER in [t.kind for t in claimed]
    await env.restart()
    await env.at(45)
    await env.at(90)
    assert await ladder(env, ref) == [(30, 0), (45, 1), (60, 2), (90, 3)], "each tier once, none lost"


async def test_a_timer_that_fires_twice_escalates_once(env):
    ref = await declare(env)
    await env.at(30)
    await env.at(45)
    tier = (await env.timers(kind=escalation.TIER_TIMER, status="fired"))[0]
    # A crash after the escalation committed but before the timer was recorded: it fires again.
    await escalation.tier_due(env.deps, _Timer(tier))
    await env.settle()
    assert await ladder(env, ref) == [(30, 0), (45, 1)]


async def test_by_hand_a_raised_severity_and_a_failed_remediation_each_move_one_tier(env):
    env.deps.authority = AuthorityDeps(Approvers(users=frozenset({"U0ALICE"})))  # she may lower a SEV1
    ref = await declare(env, Severity.SEV3)
    out = await escalation.escalate(env.deps, ref, "need the database team", trigger=Trigger.MANUAL, actor="U0ALICE")
    assert out.changed and "tier 1 (on-call)" in out.message.data()
    await incidents.change_severity(env.deps, ref=ref, severity=Severity.SEV1, actor="U0ALICE", reason="customers")
    await env.settle()
    out = await escalation.escalate(env.deps, ref, "rollback failed verification")  # the remediation helper's call
    await env.settle()
    events = await env.events(ref, ESC)
    assert [(e.payload["tier"], e.payload["trigger"]) for e in events] == [
        (0, "manual"), (1, "severity_raised"), (2, "remediation_failed"),
    ]  # fmt: skip
    assert events[2].payload["reason"] == "rollback failed verification" and events[2].actor == "warroom"
    lowered = await incidents.change_severity(env.deps, ref=ref, severity=Severity.SEV2, actor="U0ALICE")
    await env.settle()
    assert lowered.changed and len(await env.events(ref, ESC)) == 3, "lowering severity escalates nothing"


async def test_a_retried_escalate_request_escalates_once(env):
    ref = await declare(env)
    first = await escalation.escalate(env.deps, ref, "x", trigger=Trigger.MANUAL, actor="U1", key="escalate:trig-1")
    again = await escalation.escalate(env.deps, ref, "x", trigger=Trigger.MANUAL, actor="U1", key="escalate:trig-1")
    assert first.changed and not again.changed
    assert len(await env.events(ref, ESC)) == 1


async def test_escalating_a_resolved_incident_is_refused(env):
    ref = await declare(env)
    await incidents.resolve(env.deps, ref=ref, actor="U1")
    with pytest.raises(IncidentNotOpen):
        await escalation.escalate(env.deps, ref, "too late")
    await env.at(600)
    assert await ladder(env, ref) == [], "resolving stopped the clocks"


async def test_sev3_unacknowledged_past_its_sla_is_upgraded_to_sev2_and_escalated_once(env):
    ref = await declare(env, Severity.SEV3)
    await env.at(239)
    assert (await incidents.get(env.deps, ref=ref)).severity is Severity.SEV3
    await env.at(240)
    inc = await incidents.get(env.deps, ref=ref)
    assert inc.severity is Severity.SEV2
    change = (await env.events(ref, EventKind.SEVERITY_CHANGED))[0]
    assert change.actor == "warroom" and change.payload["reason"].startswith("auto-upgrade sev3-unacknowledged:")
    assert await ladder(env, ref) == [(240, 0)], "one escalation for the breach and the raise together"
    await env.at(255)
    assert await ladder(env, ref) == [(240, 0), (255, 1)]


async def test_more_than_five_services_upgrades_to_sev1_and_pages(env):
    out = await incidents.declare(
        env.deps, title="Everything is down", severity=Severity.SEV3, actor="alertmanager",
        services=[f"svc-{i}" for i in range(6)],
    )  # fmt: skip
    await env.settle()
    inc = await incidents.get(env.deps, ref=out.incident.ref)
    assert inc.severity is Severity.SEV1 and inc.human_control
    assert await ladder(env, inc.ref) == [(0, 0)]
    assert env.pager.actions() == [("trigger", f"warroom-{inc.ref}", "oncall")]


async def test_page_mentions_invites_and_pages_oncall(env):
    ref = await declare(env, Severity.SEV3)
    out = await escalation.page(
        env.deps, ref=ref, targets=["U0BOB", "oncall"], message="db is on fire", actor="U0ALICE", request_key="t1"
    )
    assert out.changed
    again = await escalation.page(
        env.deps, ref=ref, targets=["U0BOB", "oncall"], message="db is on fire", actor="U0ALICE", request_key="t1"
    )
    assert not again.changed
    await env.settle()
    assert {"U0BOB", "U0ONCALL"} <= env.room().members
    line = next(m for m in env.room_lines() if "paged" in m)
    assert "<@U0BOB>" in line and "<@U0ONCALL>" in line and "db is on fire" in line
    assert env.pager.actions() == [("trigger", f"warroom-{ref}", "oncall")]
    with pytest.raises(BadRequest, match="not a user, a user group, `oncall` or a team"):
        await escalation.page(env.deps, ref=ref, targets=["nosuchteam"], message="", actor="U0ALICE")


class _Timer:
    def __init__(self, row):
        self.key, self.incident_id, self.due_at, self.payload = row.key, row.incident_id, row.due_at, dict(row.payload)
