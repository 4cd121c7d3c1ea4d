"""Remediation on real PostgreSQL (migrated schema): two processes approving the same action at the same moment
record one approval and one refusal and run it once; the adversarial suite holds there too."""

from __future__ import annotations

import asyncio

import pytest

from bot.audit import verify
from bot.db.migrate import upgrade
from bot.db.store import Store
from bot.domain.events import EventKind
from bot.services import incidents, remediation
from bot.services.deps import Deps
from bot.services.remediation import ActionRefused
from tests.remediation_attacks import run_attacks
from tests.remediation_env import APPROVER, COMMANDER, make_env, step

pytestmark = pytest.mark.postgres


@pytest.fixture
async def stores(pg_url):
    await asyncio.to_thread(upgrade, pg_url)
    made = [Store.from_url(pg_url), Store.from_url(pg_url)]
    yield made
    for s in made:
        await s.dispose()


async def test_two_processes_approve_at_once_and_it_runs_once(stores):
    a, b = stores
    env = await make_env(a, [step("high")])
    other = Deps(store=b, clock=env.clock, diagnosis=env.deps.diagnosis, remediation=env.deps.remediation,
                 authority=env.deps.authority)  # fmt: skip
    ref = await env.declare(namespace="shop")
    await env.take_command(ref)
    await env.confirm(ref)
    action = await env.action(ref, "high")
    outs = await asyncio.gather(
        remediation.decide_action(env.deps, action_id=action.id, approve=True, actor=COMMANDER),
        remediation.decide_action(other, action_id=action.id, approve=True, actor=APPROVER),
        return_exceptions=True,
    )
    assert sorted(type(o).__name__ for o in outs) == ["ActionRefused", "Outcome"]
    assert [o.rule for o in outs if isinstance(o, ActionRefused)] == ["already_decided"]
    await env.settle()
    assert len(env.executor.requests) == 1
    _, events = await incidents.timeline(env.deps, ref=ref)
    kinds = [e.kind for e in events]
    assert kinds.count(EventKind.REMEDIATION_APPROVED) == kinds.count(EventKind.REMEDIATION_STARTED) == 1
    assert kinds.count(EventKind.REMEDIATION_REFUSED) == 1


async def test_the_adversarial_suite_on_postgres(stores):
    results = await run_attacks(stores[0])
    assert [r.name for r in results if not (r.refused and r.audited and r.executed == 0)] == []
    assert (await verify(stores[0])).ok
