"""Tickets end to end below chat: incidents through the outbox to the tickets reactor, the guard, redaction and
the real `jira` library against a loopback Jira, on an injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.db.tables import DeliveryRow
from bot.domain.incident import Role, Severity, Status
from bot.domain.outbound import Attachment
from bot.domain.throttle import CircuitBreaker, SlidingWindow
from bot.outbox import OutboxWorker, RetryPolicy
from bot.redact import Redactor
from bot.redact_outbound import RedactingTracker
from bot.services import incidents
from bot.services.reactors import TicketsReactor
from bot.services.tickets import GuardedTracker, attach_to_ticket
from integrations.jira_tracker import JiraOptions, JiraTracker
from tests.builders import deps_for, sqlite_store
from tests.servers.jira_server import JiraServer

TOKEN = "jira-test-token"


class Env:
    def __init__(self, deps, worker, guard, jira, adapter):
        self.deps, self.worker, self.guard, self.jira, self.adapter = deps, worker, guard, jira, adapter

    @property
    def clock(self) -> ManualClock:
        return self.deps.clock

    async def declare(self, title="checkout 5xx", severity=Severity.SEV2) -> str:
        return (await incidents.declare(self.deps, title=title, severity=severity, actor="U0ALICE")).incident.ref

    async def deliveries(self):
        async with self.deps.store.read() as tx:
            rows = (await tx.session.execute(select(DeliveryRow).where(DeliveryRow.reactor == "tickets"))).scalars()
            return [(r.status, r.attempts) for r in rows]


@pytest.fixture
async def env(tmp_path, jira_server: JiraServer):
    store = await sqlite_store(tmp_path)
    deps = deps_for(store)
    adapter = JiraTracker(url=jira_server.url, user=jira_server.user, token=TOKEN, options=JiraOptions(project="OPS"))
    guard = GuardedTracker(
        RedactingTracker(adapter, Redactor([TOKEN])), clock=deps.clock,
        breaker=CircuitBreaker(3, timedelta(minutes=15)), creates=SlidingWindow(20, timedelta(hours=1)),
    )  # fmt: skip
    store.reactors.add(TicketsReactor(deps, guard))
    worker = OutboxWorker(store, clock=deps.clock, policy=RetryPolicy(base_delay=1, jitter=0))
    yield Env(deps, worker, guard, jira_server, adapter)
    await adapter.close()
    await store.dispose()


async def test_one_ticket_per_incident_commented_and_moved_as_it_goes(env):
    ref = await env.declare()
    await env.worker.drain()
    incident = await incidents.get(env.deps, ref=ref)
    assert incident.jira_key == "OPS-1" and list(env.jira.issues) == ["OPS-1"]
    assert f"warroom-{ref}" in env.jira.issues["OPS-1"].fields["labels"]
    _, timeline = await incidents.timeline(env.deps, ref=ref)
    assert [e.text for e in timeline if e.kind == "incident.ticket_filed"] == ["filed ticket OPS-1"]
    await incidents.assign_role(env.deps, ref=ref, role=Role.COMMANDER, user_id="U0BOB", actor="U0BOB")
    await incidents.change_severity(env.deps, ref=ref, severity=Severity.SEV1, actor="U0BOB", reason="customers")
    await incidents.resolve(env.deps, ref=ref, actor="U0BOB", summary="rolled back")
    await env.worker.drain()
    issue = env.jira.issues["OPS-1"]
    assert issue.status == "Done"
    assert issue.fields["priority"] == {"name": "High"} and issue.fields["summary"].startswith("[SEV1]")
    expected = ["made @U0BOB commander", "acknowledged the incident", "raised severity SEV2", "resolved the incident"]
    assert len(issue.comments) == 4
    assert all(e in c for e, c in zip(expected, issue.comments, strict=True)), issue.comments
    await incidents.set_status(env.deps, ref=ref, status=Status.CLOSED, actor="U0BOB")
    await env.worker.drain()
    assert issue.status == "Closed" and len(env.jira.issues) == 1
    assert {s for s, _ in await env.deliveries()} == {"done"}


async def test_created_once_when_the_answer_to_the_create_is_lost(env):
    ref = await env.declare()
    env.jira.drop_create_reply = True  # Jira makes the issue, the answer never arrives
    await env.worker.drain()
    assert env.jira.creates() == 1 and await env.deliveries() == [("pending", 1)]
    env.clock.advance(seconds=5)
    await env.worker.drain()
    assert env.jira.creates() == 1, "the retry found the ticket by its label instead of creating another"
    assert (await incidents.get(env.deps, ref=ref)).jira_key == "OPS-1"
    assert await env.deliveries() == [("done", 2)]


async def test_jira_down_opens_the_breaker_and_the_ticket_is_filed_when_it_returns(env):
    env.jira.mode = "503"
    ref = await env.declare()
    await incidents.acknowledge(env.deps, ref=ref, actor="U0ALICE")  # the incident goes on
    for _ in range(3):
        await env.worker.drain()
        env.clock.advance(seconds=200)  # past the Retry-After of 120 s
    assert env.guard.breaker.state(env.clock.now()).value == "open"
    assert await env.deliveries() == [("pending", 2), ("pending", 0)], "the failure that opened it is no attempt"
    seen = len(env.jira.requests)
    for _ in range(20):  # hours of outage: nothing is sent while the breaker is open, nothing dead-letters
        env.clock.advance(minutes=10)
        await env.worker.drain()
    assert 1 <= len(env.jira.requests) - seen <= 200 // 15 + 1, "only a half-open trial per 15 minutes reached Jira"
    assert await env.deliveries() == [("pending", 2), ("pending", 0)]
    env.jira.mode = "up"
    env.clock.advance(minutes=16)
    await env.worker.drain()
    assert env.guard.breaker.state(env.clock.now()).value == "closed"
    assert list(env.jira.issues) == ["OPS-1"] and (await incidents.get(env.deps, ref=ref)).jira_key == "OPS-1"
    assert env.jira.issues["OPS-1"].comments and "acknowledged" in env.jira.issues["OPS-1"].comments[0]
    assert {s for s, _ in await env.deliveries()} == {"done"}


async def test_the_create_rate_holds_and_the_rest_are_filed_later(env):
    refs = [await env.declare(title=f"storm {i}") for i in range(23)]
    await env.worker.drain()
    assert env.jira.creates() == 20, "20 creates per hour"
    waiting = [d for d in await env.deliveries() if d[0] == "pending"]
    assert waiting == [("pending", 0)] * 3, "postponed, not failed"
    env.clock.advance(minutes=59)
    await env.worker.drain()
    assert env.jira.creates() == 20
    env.clock.advance(minutes=1, seconds=1)
    await env.worker.drain()
    assert env.jira.creates() == 23
    keys = {(await incidents.get(env.deps, ref=r)).jira_key for r in refs}
    assert len(keys) == 23 and None not in keys


async def test_a_refused_create_dead_letters_without_opening_the_breaker(env):
    await env.declare()
    env.jira.fail_on = [("POST", r"/rest/api/2/issue$", 400)]  # the create is refused (a bad field mapping)
    await env.worker.drain()
    assert await env.deliveries() == [("dead", 1)]
    assert env.guard.breaker.state(env.clock.now()).value == "closed"


async def test_a_post_mortem_is_attached_to_the_incidents_ticket_redacted(env):
    ref = await env.declare()
    markdown = Attachment("postmortem.md", b"# INC\nasked bob@example.com\n", "text/markdown")
    assert await attach_to_ticket(env.deps, env.guard, ref=ref, attachment=markdown) is None, "no ticket yet"
    await env.worker.drain()
    assert await attach_to_ticket(env.deps, env.guard, ref=ref, attachment=markdown) == "OPS-1"
    assert env.jira.issues["OPS-1"].attachments == [("postmortem.md", b"# INC\nasked [redacted-email]\n")]
