"""The adversarial suite of remediation (shared by tests/unit/test_remediation_attacks.py and bench/remediation.py):
each attempt must be refused with a clear message, run nothing (the fake executor records nothing) and leave
one `remediation.refused` entry in the hash-chained log, by whoever tried."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.domain.events import EventKind
from bot.domain.remediation import ActionStatus
from bot.services import remediation
from bot.services.remediation import ActionRefused
from tests.remediation_env import APPROVER, COMMANDER, STRANGER, Env, make_env, runbook, step

INJECTIONS = {
    "shell": "prod; rm -rf /",
    "substitution": "$(reboot)",
    "traversal": "../../etc",
    "newline": "shop\nrm -rf /",
    "backticks": "`reboot`",
    "option": "--kubeconfig=/tmp/evil",
}


@dataclass(frozen=True, slots=True)
class Attempt:
    """One adversarial attempt and what came of it."""

    name: str
    refused: bool
    rule: str | None
    message: str
    executed: int  # executor requests made by the attempt (must be 0)
    audited: bool  # a refused entry by the attempter was appended


async def refused_entries(env: Env, ref: str) -> list[tuple[str, str]]:
    """(actor, rule) of every refused entry of an incident."""
    from bot.services import incidents

    _, events = await incidents.timeline(env.deps, ref=ref)
    return [(e.actor, str(e.payload.get("rule"))) for e in events if e.kind == EventKind.REMEDIATION_REFUSED.value]


async def attempt(env: Env, name: str, ref: str, actor: str, act: Callable[[], Awaitable[object]]) -> Attempt:
    """Run one attempt; whether it was refused (ActionRefused), ran nothing and was audited."""
    before_runs = len(env.executor.requests)
    before = await refused_entries(env, ref)
    try:
        await act()
        await env.settle()
    except ActionRefused as exc:
        await env.settle()
        after = await refused_entries(env, ref)
        audited = len(after) == len(before) + 1 and after[-1][0] == actor
        return Attempt(name, True, exc.rule, str(exc), len(env.executor.requests) - before_runs, audited)
    return Attempt(name, False, None, "accepted", len(env.executor.requests) - before_runs, False)


async def _high(env: Env, requester: str = APPROVER, namespace: str = "shop") -> tuple[str, str]:
    ref = await env.declare(namespace=namespace)
    await env.take_command(ref)
    await env.confirm(ref, actor=requester)
    return ref, (await env.action(ref, "high")).id


def _approve(env: Env, action_id: str, actor: str) -> Callable[[], Awaitable[object]]:
    return lambda: remediation.decide_action(env.deps, action_id=action_id, approve=True, actor=actor)


async def decision_attacks(env: Env) -> list[Attempt]:
    """Self-approval of HIGH, a non-approver, expiry (before and after its timer), a double click, a stale card."""
    out = []
    ref, aid = await _high(env)
    out.append(await attempt(env, "self-approval of HIGH", ref, APPROVER, _approve(env, aid, APPROVER)))
    out.append(await attempt(env, "approval by a non-approver", ref, STRANGER, _approve(env, aid, STRANGER)))
    reject = lambda: remediation.decide_action(env.deps, action_id=aid, approve=False, actor=STRANGER)  # noqa: E731
    out.append(await attempt(env, "rejection by a non-approver", ref, STRANGER, reject))
    env.clock.advance(minutes=16)  # past the expiry, its timer not fired yet: the click finds it expired
    out.append(await attempt(env, "approval after expiry (timer not fired yet)", ref, COMMANDER,
                             _approve(env, aid, COMMANDER)))  # fmt: skip
    ref, aid = await _high(env)
    env.clock.advance(minutes=16)
    await env.settle()  # the expiry timer fires
    out.append(await attempt(env, "approval after expiry", ref, COMMANDER, _approve(env, aid, COMMANDER)))
    ref, aid = await _high(env)
    await remediation.decide_action(env.deps, action_id=aid, approve=True, actor=COMMANDER)
    await env.settle()
    env.executor.requests.clear()
    out.append(await attempt(env, "double click (second approval)", ref, APPROVER, _approve(env, aid, APPROVER)))
    ref, aid = await _high(env)
    await env.diagnose(ref, runbook_id="other-fix")  # a new leading hypothesis, another runbook: a newer proposal
    await remediation.propose(env.deps, incident_id=(await env.actions(ref))[0].incident_id)
    await env.settle()
    assert (await env.actions(ref))[0].status is ActionStatus.SUPERSEDED
    out.append(await attempt(env, "stale card after a newer proposal", ref, COMMANDER, _approve(env, aid, COMMANDER)))
    return out


async def concurrent_attack(env: Env) -> Attempt:
    """Two approvers click Approve at the same moment: one approval, one refusal, one execution."""
    ref, aid = await _high(env)
    before = await refused_entries(env, ref)
    outs = await asyncio.gather(
        remediation.decide_action(env.deps, action_id=aid, approve=True, actor=COMMANDER),
        remediation.decide_action(env.deps, action_id=aid, approve=True, actor=APPROVER),
        return_exceptions=True,
    )
    await env.settle()
    refusals = [o for o in outs if isinstance(o, ActionRefused)]
    after = await refused_entries(env, ref)
    audited = len(after) == len(before) + 1
    ok = len(refusals) == 1 and len(env.executor.argvs) == 1
    message = str(refusals[0]) if refusals else "both accepted"
    return Attempt("two approvals at once", ok, refusals[0].rule if refusals else None, message,
                   len(env.executor.requests) - 1, audited)  # fmt: skip


async def injection_attacks(env: Env) -> list[Attempt]:
    """Alert label values that try to get out of their argv item: the action is refused at its proposal (shown
    and audited) and an approval of it is refused too."""
    out = []
    for name, bad in INJECTIONS.items():
        ref, aid = await _high(env, namespace=bad)
        action = await env.action(ref, "high")
        assert action.status is ActionStatus.REFUSED and action.refusal, name
        out.append(await attempt(env, f"label value: {name}", ref, COMMANDER, _approve(env, aid, COMMANDER)))
    return out


async def run_attacks(store: object, *, concurrent: bool = True) -> list[Attempt]:
    """Every attack on a fresh test bed over `store` (schema created)."""
    env = await make_env(store, [step("high")])
    env.deps.diagnosis.runbooks = (runbook(step("high")), runbook(step("high"), rid="other-fix"))
    results = await decision_attacks(env)
    results += await injection_attacks(env)
    if concurrent:
        results.append(await concurrent_attack(env))
    return results
