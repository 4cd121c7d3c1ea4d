"""The pager reactor against an in-memory pager: what is paged for which transition, once each, through an
outage and a restart."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.tables import DeliveryRow
from bot.domain.authority import Approvers
from bot.domain.incident import Severity
from bot.domain.ports import PagerError, PagerRefused
from bot.services import incidents
from bot.services.authority_deps import AuthorityDeps
from tests.escalation_env import make_env

QUIET = {"reminders": {"commander_after_minutes": 0, "resolution_after_hours": 0}}


@pytest.fixture
async def env(tmp_path):
    e = await make_env(tmp_path, QUIET)
    yield e
    await e.close()


async def test_sev1_is_paged_on_declare_then_acknowledged_and_resolved_with_one_dedup_key(env):
    env.deps.authority = AuthorityDeps(Approvers(users=frozenset({"U0ONCALL"})))  # who may resolve a SEV1
    out = await incidents.declare(env.deps, title="Payments down", severity=Severity.SEV1, actor="U0ALICE")
    ref = out.incident.ref
    await env.settle()
    await incidents.acknowledge(env.deps, ref=ref, actor="U0ONCALL")
    await incidents.resolve(env.deps, ref=ref, actor="U0ONCALL", summary="rolled back")
    await env.settle()
    key = f"warroom-{ref}"
    assert env.pager.actions() == [
        ("trigger", key, "oncall"),
        ("acknowledge", key, "oncall"),
        ("resolve", key, "oncall"),
    ]
    trigger = env.pager.pages[0]
    assert trigger.urgency == "critical" and trigger.summary.startswith(f"[SEV1] {ref} Payments down")


async def test_sev3_is_not_paged_until_it_escalates_and_an_unpaged_ack_sends_nothing(env):
    out = await incidents.declare(env.deps, title="Slow search", severity=Severity.SEV3, actor="U0ALICE")
    await env.settle()
    await incidents.acknowledge(env.deps, ref=out.incident.ref, actor="U0ALICE")
    await incidents.resolve(env.deps, ref=out.incident.ref, actor="U0ALICE")
    await env.settle()
    assert env.pager.pages == []


async def test_an_outage_of_the_pager_delays_pages_and_loses_none_nor_sends_one_twice(env):
    ref = (await incidents.declare(env.deps, title="API down", severity=Severity.SEV1, actor="U1")).incident.ref
    env.pager.fail_next(*[PagerError("PagerDuty answered 503") for _ in range(6)])
    await env.settle()
    minutes = 0
    while not env.pager.pages:  # the outbox retries with backoff as the (manual) minutes go by
        minutes += 1
        assert minutes < 30, "the page was lost"
        await env.at(minutes)
    assert env.pager.attempts == 7, "six refusals, then the page"
    assert minutes > 1, "the outage delayed it"
    await incidents.acknowledge(env.deps, ref=ref, actor="U1")
    await env.at(minutes + 5)
    assert env.pager.actions() == [("trigger", f"warroom-{ref}", "oncall"), ("acknowledge", f"warroom-{ref}", "oncall")]


async def test_a_rate_limit_waits_at_least_retry_after(env):
    await incidents.declare(env.deps, title="API down", severity=Severity.SEV1, actor="U1")
    env.pager.fail_next(PagerError("PagerDuty answered 429", retry_after=120))
    await env.settle()
    await env.at(1.9)
    assert env.pager.pages == []
    await env.at(2)
    assert len(env.pager.pages) == 1


async def test_a_refused_event_is_dead_lettered_with_its_reason(env):
    await incidents.declare(env.deps, title="API down", severity=Severity.SEV1, actor="U1")
    env.pager.fail_next(PagerRefused("PagerDuty answered 400: invalid event: 'payload.severity' is invalid"))
    await env.settle()
    async with env.store.read() as tx:
        row = (await tx.session.execute(select(DeliveryRow).where(DeliveryRow.reactor == "pager"))).scalar_one()
    assert row.status == "dead" and "payload.severity" in row.last_error and row.attempts == 1


async def test_a_page_accepted_before_a_crash_is_not_sent_again(env):
    """The pager took the trigger but the process died before the delivery was recorded: the retry finds the
    page recorded and sends nothing."""
    ref = (await incidents.declare(env.deps, title="API down", severity=Severity.SEV1, actor="U1")).incident.ref
    reactor = env.store.reactors.get("pager")
    claimed = await env.store.claim_deliveries(worker="dying", now=env.clock.now(), lease=env.outbox.lease)
    declared = next(c for c in claimed if c.reactor == "pager")
    await reactor.handle(declared.event, attempt=1)  # sent; then the process dies before recording it
    await env.restart()
    await env.settle()
    assert env.pager.actions() == [("trigger", f"warroom-{ref}", "oncall")]
