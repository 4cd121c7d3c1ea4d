"""The remediation flow on SQLite with the fake executor: proposal -> approval card -> approval -> execution (a
durable job) -> output in the card's thread -> verification -> rollback and escalation; policy (auto, human
control), expiry, at most once."""

from __future__ import annotations

import functools

import pytest

from bot.domain.approval_cards import ApprovalCard
from bot.domain.events import EventKind
from bot.domain.policy import Decision
from bot.domain.remediation import ActionStatus
from bot.services import control, incidents, remediation, remediation_run
from bot.services.diagnostics import DiagnosisSettings
from bot.services.reactors import DiagnosisReactor
from tests.builders import sqlite_store
from tests.fakes.executor import result
from tests.fakes.metrics import value
from tests.remediation_env import APPROVER, COMMANDER, ERRORS, OTHER, make_env, step

K = EventKind


@pytest.fixture
async def store(tmp_path):
    s = await sqlite_store(tmp_path)
    yield s
    await s.dispose()


async def test_a_confirmed_cause_proposes_its_steps_on_an_approval_card(store):
    env = await make_env(store, [step("high")])
    ref = await env.declare(namespace="shop")
    await env.take_command(ref)
    await env.confirm(ref, actor=OTHER)
    [action] = await env.actions(ref)
    assert (action.status, action.decision, action.requested_by) == (ActionStatus.PROPOSED, Decision.APPROVAL, OTHER)
    card = env.cards()[action.id]
    assert card.command == ("kubectl", "rollout", "restart", "deployment/checkout-1", "-n", "shop")
    assert card.rollback == ("kubectl", "rollout", "undo", "deployment/checkout-1", "-n", "shop")
    assert card.rationale.startswith("Root cause confirmed by U0OTHER: A bad deploy (checkout-1, bad_deploy)")
    assert "must read < 0.01" in card.impact
    assert (
        card.blast_radius
        == "kubectl on deployment checkout-1, namespace shop; the incident covers checkout-1 (1 alerts)"
    )
    assert card.expires_at == action.proposed_at.replace(minute=action.proposed_at.minute + 15)
    assert [(b.action.value, b.value) for b in card.buttons] == [("action-approve", action.id),
                                                                 ("action-reject", action.id)]  # fmt: skip
    assert env.executor.requests == [], "nothing runs before the approval"


async def test_approved_it_runs_once_posts_its_output_and_is_verified(store):
    env = await make_env(store, [step("high")])
    ref = await env.declare(namespace="shop")
    await env.take_command(ref)
    await env.confirm(ref)
    action = await env.action(ref, "high")
    env.executor.then(result(output="deployment.apps/checkout-1 restarted, owner alice@example.com"))
    out = await remediation.decide_action(env.deps, action_id=action.id, approve=True, actor=COMMANDER)
    assert out.changed and "approved" in str(out.message)
    await env.settle()
    assert env.executor.argvs == [("kubectl", "rollout", "restart", "deployment/checkout-1", "-n", "shop")]
    assert (await env.action(ref, "high")).status is ActionStatus.EXECUTED
    [posted] = env.thread(action.id)
    assert "deployment.apps/checkout-1 restarted" in posted and "alice@example.com" not in posted, "redacted"
    env.clock.advance(seconds=61)  # the verification waits for the metrics to show the change
    await env.settle()
    done = await env.action(ref, "high")
    assert (done.status, done.verified) == (ActionStatus.VERIFIED, True)
    assert env.cards()[action.id].status is ActionStatus.VERIFIED and not env.cards()[action.id].buttons
    kinds = [k for k in await env.kinds(ref) if k.startswith("remediation.")]
    assert kinds == [K.REMEDIATION_PROPOSED, K.REMEDIATION_APPROVED, K.REMEDIATION_STARTED,
                     K.REMEDIATION_EXECUTED, K.REMEDIATION_VERIFIED]  # fmt: skip
    await remediation_run.run_action(env.deps, action_id=action.id)
    assert len(env.executor.requests) == 1, "a retried job runs nothing twice"


async def test_a_failed_verification_rolls_back_and_escalates_all_in_the_timeline(store):
    env = await make_env(store, [step("high")])
    ref = await env.declare(namespace="shop")
    await env.take_command(ref)
    await env.confirm(ref)
    action = await env.action(ref, "high")
    env.metrics.answers[ERRORS] = value(0.3)  # still failing after the fix
    env.executor.then(result(output="restarted"), result(output="rolled back to revision 7"))
    await remediation.decide_action(env.deps, action_id=action.id, approve=True, actor=APPROVER)
    await env.settle()
    env.clock.advance(seconds=61)
    await env.settle()
    assert [argv[2] for argv in env.executor.argvs] == ["restart", "undo"]
    done = await env.action(ref, "high")
    assert (done.status, done.verified) == (ActionStatus.ROLLED_BACK, False)
    assert env.thread(action.id)[-1].startswith("Rollback output") and "revision 7" in env.thread(action.id)[-1]
    _, events = await incidents.timeline(env.deps, ref=ref)
    tail = [e for e in events if e.kind.startswith("remediation.") or e.kind == K.ESCALATED][-4:]
    assert [e.kind for e in tail] == [K.REMEDIATION_EXECUTED, K.REMEDIATION_VERIFIED, K.REMEDIATION_ROLLED_BACK,
                                      K.ESCALATED]  # fmt: skip
    assert tail[1].payload["passed"] is False and tail[1].payload["observed"] == 0.3
    assert tail[2].payload["output_digest"] and "revision 7" not in str(tail[2].payload), "the log keeps a digest"
    assert "did not hold" in tail[3].text and tail[3].payload["trigger"] == "remediation_failed"


async def test_low_risk_runs_by_itself_at_sev2_with_audit(store):
    env = await make_env(store, [step("low")])
    ref = await env.declare(namespace="shop")
    await env.diagnose(ref)
    inc = await incidents.get(env.deps, ref=ref)
    await remediation.propose(env.deps, incident_id=inc.id)
    await env.settle()
    action = await env.action(ref, "low")
    assert (action.decision, action.decided_by) == (Decision.AUTO, "warroom")
    assert len(env.executor.requests) == 1
    assert not env.cards()[action.id].buttons


async def test_under_human_control_low_risk_waits_until_release(store):
    env = await make_env(store, [step("low")])
    ref = await env.declare(severity="critical", customer_facing="true", namespace="shop")
    inc = await incidents.get(env.deps, ref=ref)
    assert inc.severity.value == "SEV1" and inc.human_control
    await env.diagnose(ref)
    await remediation.propose(env.deps, incident_id=inc.id)
    await env.settle()
    action = await env.action(ref, "low")
    assert (action.status, action.decision) == (ActionStatus.PROPOSED, Decision.APPROVAL)
    assert env.executor.requests == [], "SEV1: nothing runs by itself under human control"
    await env.take_command(ref)
    out = await control.release(env.deps, ref=ref, actor=COMMANDER)  # `/incident release`
    assert out.changed
    await env.settle()
    assert len(env.executor.requests) == 1, "released: the LOW action runs by policy"
    action = await env.action(ref, "low")
    assert (action.decided_by, action.decision) == ("warroom", Decision.AUTO)
    kinds = await env.kinds(ref)
    assert kinds.index(K.CONTROL_RELEASED) < kinds.index(K.REMEDIATION_APPROVED) < kinds.index(K.REMEDIATION_STARTED)


async def test_an_unanswered_approval_expires_and_its_card_says_so(store):
    env = await make_env(store, [step("high")])
    ref = await env.declare(namespace="shop")
    await env.confirm(ref)
    action = await env.action(ref, "high")
    env.clock.advance(minutes=14)
    await env.settle()
    assert (await env.action(ref, "high")).status is ActionStatus.PROPOSED
    env.clock.advance(minutes=1)
    await env.settle()
    assert (await env.action(ref, "high")).status is ActionStatus.EXPIRED
    card = env.cards()[action.id]
    assert isinstance(card, ApprovalCard) and card.status is ActionStatus.EXPIRED and not card.buttons


async def test_a_stop_after_the_start_never_runs_it_again_and_escalates(store):
    env = await make_env(store, [step("high")])
    ref = await env.declare(namespace="shop")
    await env.take_command(ref)
    await env.confirm(ref)
    action = await env.action(ref, "high")
    await remediation.decide_action(env.deps, action_id=action.id, approve=True, actor=COMMANDER)
    started = await remediation_run._start(env.deps, action.id)  # the process dies right after recording the start
    assert started is not None and started[2] is not None
    status = await remediation_run.run_action(env.deps, action_id=action.id)  # the timer fires again
    await env.settle()
    assert status is ActionStatus.FAILED and env.executor.requests == []
    _, events = await incidents.timeline(env.deps, ref=ref)
    assert [e.kind for e in events[-2:]] == [K.REMEDIATION_EXECUTED, K.ESCALATED]
    assert events[-2].payload["ok"] is False and "outcome is unknown" in events[-2].text


async def test_a_failed_command_escalates_without_verification(store):
    env = await make_env(store, [step("high")])
    ref = await env.declare(namespace="shop")
    await env.take_command(ref)
    await env.confirm(ref)
    action = await env.action(ref, "high")
    env.executor.then(result(ok=False, output="error: deployments.apps not found", exit_code=1))
    await remediation.decide_action(env.deps, action_id=action.id, approve=True, actor=COMMANDER)
    await env.settle()
    env.clock.advance(seconds=61)
    await env.settle()
    done = await env.action(ref, "high")
    assert (done.status, done.exit_code, done.verified) == (ActionStatus.FAILED, 1, None)
    assert len(env.executor.requests) == 1
    assert (await env.kinds(ref))[-1] == K.ESCALATED


async def test_after_a_diagnosis_the_leading_hypothesis_steps_are_proposed(store):
    env = await make_env(store, [step("high")])
    env.metrics.answers["up"] = value(1.0)
    env.deps.diagnosis.settings = DiagnosisSettings(query_timeout=0.2, deadline=1.0, scan_enabled=False)
    propose = functools.partial(remediation.propose_after_diagnosis, env.deps)
    store.reactors.add(DiagnosisReactor(env.deps, env.chat, env.deps.diagnosis, on_diagnosed=propose))
    ref = await env.declare(namespace="shop")
    [action] = await env.actions(ref)
    assert action.requested_by == "warroom" and action.rationale.startswith("Leading hypothesis (")
    assert action.id in env.cards() and action.status is ActionStatus.PROPOSED
