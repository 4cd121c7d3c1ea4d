"""The post-mortem leaving the bot: the Markdown file shared through slack_sdk's files_upload_v2 against the local
Slack emulator (in a thread and in a channel, redacted on the way), and attached to the incident's Jira ticket
through the real `jira` library against the loopback Jira, once per version, after the ticket exists, redacted."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from bot.db.tables import DeliveryRow
from bot.domain.incident import Severity
from bot.domain.throttle import CircuitBreaker, SlidingWindow
from bot.outbox import OutboxWorker, RetryPolicy
from bot.redact import RedactingChatRoom, Redactor
from bot.redact_outbound import RedactingTracker
from bot.services import alerts, incidents, postmortems
from bot.services.reactors import PostmortemTicketReactor, TicketsReactor
from bot.services.tickets import GuardedTracker
from integrations.jira_tracker import JiraOptions, JiraTracker
from integrations.postmortem_markdown import MarkdownPostmortem
from integrations.slack_rooms import SlackChatRoom, make_client
from integrations.slack_rooms.pacing import Pacer
from tests.alert_builders import alert
from tests.builders import deps_for, sqlite_store
from tests.servers.jira_server import JiraServer

TOKEN = "jira-test-token"
MARKDOWN = "# Post-mortem INC-1\n\nasked bob@example.com; token=abc123secret\n"


@pytest.fixture
def room(slack_emulator):
    slack_emulator.workspace.rate_limit_scale = None
    client = make_client("xoxb-test-token", base_url=slack_emulator.api_url)
    return RedactingChatRoom(SlackChatRoom(client, pacer=Pacer(scale=0)), Redactor())


async def test_the_markdown_file_goes_into_a_thread_or_a_channel_redacted(room, slack_workspace):
    channel = await room.create_channel("inc-20261123-checkout")
    ts = await room.post_text(channel.id, "Post-mortem draft v1")
    file_id = await room.upload_file(channel.id, filename="INC-1-postmortem-v1.md", content=MARKDOWN.encode(),
                                     title="Post-mortem of bob@example.com", thread_ts=ts)  # fmt: skip
    replies = [m for m in slack_workspace.replies(channel.id, ts) if m.ts != ts]
    assert len(replies) == 1 and replies[0].files[0]["id"] == file_id
    shared = replies[0].files[0]
    assert shared["name"] == "INC-1-postmortem-v1.md" and shared["title"] == "Post-mortem of [redacted-email]"
    async with httpx.AsyncClient() as http:
        got = await http.get(shared["url_private"])
    assert got.status_code == 200 and got.headers["content-disposition"] == "attachment"
    assert got.content == b"# Post-mortem INC-1\n\nasked [redacted-email]; token=[redacted]\n"
    top = await room.upload_file(channel.id, filename="v2.md", content=b"# v2\n", title="v2")
    assert any(f["id"] == top for m in slack_workspace.messages(channel.id) for f in (m.files or []))


class JiraEnv:
    def __init__(self, deps, worker, jira):
        self.deps, self.worker, self.jira = deps, worker, jira

    async def deliveries(self, reactor: str):
        async with self.deps.store.read() as tx:
            rows = (await tx.session.execute(select(DeliveryRow).where(DeliveryRow.reactor == reactor))).scalars()
            return [(r.status, r.attempts) for r in rows]


@pytest.fixture
async def jira_env(tmp_path, jira_server: JiraServer):
    store = await sqlite_store(tmp_path)
    deps = deps_for(store)
    adapter = JiraTracker(url=jira_server.url, user=jira_server.user, token=TOKEN, options=JiraOptions(project="OPS"))
    guard = GuardedTracker(
        RedactingTracker(adapter, Redactor([TOKEN])), clock=deps.clock,
        breaker=CircuitBreaker(3, timedelta(minutes=15)), creates=SlidingWindow(20, timedelta(hours=1)),
    )  # fmt: skip
    store.reactors.add(TicketsReactor(deps, guard))
    store.reactors.add(PostmortemTicketReactor(deps, guard, MarkdownPostmortem()))
    worker = OutboxWorker(store, clock=deps.clock, policy=RetryPolicy(base_delay=1, jitter=0))
    yield JiraEnv(deps, worker, jira_server)
    await adapter.close()
    await store.dispose()


async def test_each_version_is_attached_to_the_ticket_once_and_redacted(jira_env):
    env = jira_env
    a = alert(summary="Checkout 5xx for carol@example.com", owner="carol@example.com")
    ref = (await alerts.ingest(env.deps, [a], source="alertmanager")).declared[0]
    env.deps.clock.advance(minutes=5)
    await incidents.acknowledge(env.deps, ref=ref, actor="U0BOB")
    env.deps.clock.advance(minutes=20)
    await incidents.resolve(env.deps, ref=ref, actor="U0BOB", summary="restarted the pods")
    await env.worker.drain()  # the attachment may come before the ticket: it waits for it
    env.deps.clock.advance(minutes=1)
    await env.worker.drain()
    issue = env.jira.issues["OPS-1"]
    assert [name for name, _ in issue.attachments] == [f"{ref}-postmortem-v1.md"]
    md = issue.attachments[0][1].decode()
    assert md.startswith(f"# Post-mortem {ref}: Checkout 5xx for \\[redacted-email\\]")
    assert "| MTTA | 5m 00s |" in md and "| MTTR | 25m 00s |" in md and "carol@" not in md
    await postmortems.regenerate(env.deps, ref=ref, actor="U0BOB")
    await env.worker.drain()
    assert [n for n, _ in issue.attachments] == [f"{ref}-postmortem-v1.md", f"{ref}-postmortem-v2.md"]
    reactor = env.deps.store.reactors.get("postmortem-ticket")
    async with env.deps.store.read() as uow:
        log = await uow.incidents.timeline((await uow.incidents.get(ref)).id, kinds=reactor.kinds)
    for event in log:  # delivered again: attached once per version all the same
        await reactor.handle(event, attempt=2)
    assert len(issue.attachments) == 2
    assert await env.deliveries("postmortem-ticket") == [("done", 1), ("done", 1)]


async def test_the_attachment_waits_for_the_ticket_and_for_jira(jira_env):
    env = jira_env
    env.jira.mode = "503"
    ref = (await incidents.declare(env.deps, title="Search down", severity=Severity.SEV2, actor="U0ALICE")).incident.ref
    await incidents.resolve(env.deps, ref=ref, actor="U0ALICE")
    for _ in range(6):  # Jira is down: the ticket and the attachment wait (postponed, not failed for good)
        await env.worker.drain()
        env.deps.clock.advance(minutes=20)
    assert all(status == "pending" for status, _ in await env.deliveries("postmortem-ticket"))
    env.jira.mode = "up"
    for _ in range(6):
        env.deps.clock.advance(minutes=20)
        await env.worker.drain()
    assert [n for n, _ in env.jira.issues["OPS-1"].attachments] == [f"{ref}-postmortem-v1.md"]
    assert await env.deliveries("postmortem-ticket") == [("done", 1)], "waiting was no failed attempt"
