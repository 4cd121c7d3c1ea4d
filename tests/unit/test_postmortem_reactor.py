"""The post-mortem in the war room, through the outbox: one version per resolve and per regeneration, each
posted once however often it is delivered, the Markdown file in the message's thread, nothing before the room
exists; a template that fails dead-letters the version with its reason."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.db.tables import DeliveryRow
from bot.domain.incident import Severity, Status
from bot.services import incidents, postmortems
from tests.escalation_env import make_env

QUIET = {"reminders": {"commander_after_minutes": 0, "resolution_after_hours": 0}}


@pytest.fixture
async def env(tmp_path):
    e = await make_env(tmp_path, QUIET)
    yield e
    await e.close()


def postmortem_posts(env):
    room = env.room()
    return [m for m in room.messages if "Post-mortem draft" in m.text]


async def deliveries(env, reactor="postmortem"):
    async with env.store.read() as tx:
        rows = (await tx.session.execute(select(DeliveryRow).where(DeliveryRow.reactor == reactor))).scalars()
        return sorted((r.status, r.attempts) for r in rows)


async def test_resolving_posts_the_draft_once_with_the_file_in_its_thread(env):
    out = await incidents.declare(env.deps, title="Checkout errors, mail ops@example.com", severity=Severity.SEV2,
                                  actor="U0ALICE")  # fmt: skip
    ref = out.incident.ref
    await env.settle()
    await env.at(3)
    await incidents.acknowledge(env.deps, ref=ref, actor="U0BOB")
    await env.at(42)
    await incidents.resolve(env.deps, ref=ref, actor="U0BOB", summary="rolled back")
    await env.settle()
    posts = postmortem_posts(env)
    assert len(posts) == 1
    assert f"Post-mortem draft v1 of {ref}" in posts[0].text
    assert "MTTD n/a · MTTA 3m 00s · MTTI n/a · MTTR 42m 00s" in posts[0].text
    [upload] = env.chat.uploads
    assert upload.thread_ts == posts[0].ts and upload.filename == f"{ref}-postmortem-v1.md"
    md = upload.content.decode()
    assert md.startswith(f"# Post-mortem {ref}: Checkout errors, mail \\[redacted-email\\]")
    assert "| MTTR | 42m 00s | 1440 min ✅ |" in md and "ops@example.com" not in md
    assert await deliveries(env) == [("done", 1)]


async def test_each_regeneration_and_each_resolve_is_a_new_version_and_no_delivery_posts_twice(env):
    ref = (await incidents.declare(env.deps, title="Search slow", severity=Severity.SEV3, actor="U0ALICE")).incident.ref
    await env.settle()
    await postmortems.regenerate(env.deps, ref=ref, actor="U0ALICE")  # while open: the draft so far
    await env.settle()
    await incidents.resolve(env.deps, ref=ref, actor="U0ALICE")
    await env.settle()
    await incidents.set_status(env.deps, ref=ref, status=Status.ACKNOWLEDGED, actor="U0ALICE", note="back")
    await env.at(10)
    await incidents.resolve(env.deps, ref=ref, actor="U0ALICE")
    await env.settle()
    assert [u.filename.rsplit("-", 1)[1] for u in env.chat.uploads] == ["v1.md", "v2.md", "v3.md"]
    # every delivery again (a crash after the side effects, before the rows were marked done): nothing new
    reactor = env.store.reactors.get("postmortem")
    async with env.store.read() as uow:
        inc = await uow.incidents.get(ref)
        log = await uow.incidents.timeline(inc.id, kinds=reactor.kinds)
    for event in log:
        await reactor.handle(event, attempt=2)
    assert len(env.chat.uploads) == 3 and len(postmortem_posts(env)) == 3
    assert "MTTR 10m 00s" in postmortem_posts(env)[2].text


async def test_a_template_that_fails_on_a_draft_is_a_dead_letter_with_its_reason(tmp_path):
    template = tmp_path / "pm.md.j2"
    template.write_text("{{ ref }}{% if version > 1 %}{{ version.nope }}{% endif %}\n")
    env = await make_env(tmp_path, {**QUIET, "postmortem": {"template": str(template)}})
    try:
        ref = (await incidents.declare(env.deps, title="x", severity=Severity.SEV3, actor="U0ALICE")).incident.ref
        await env.settle()
        await incidents.resolve(env.deps, ref=ref, actor="U0ALICE")
        await env.settle()
        assert env.chat.uploads[0].content == ref.encode()
        await postmortems.regenerate(env.deps, ref=ref, actor="U0ALICE")
        await env.settle()
        assert len(env.chat.uploads) == 1
        assert await deliveries(env) == [("dead", 1), ("done", 1)]
        async with env.store.read() as tx:
            dead = (await tx.session.execute(select(DeliveryRow).where(DeliveryRow.status == "dead"))).scalar_one()
        assert "post-mortem template" in dead.last_error and "nope" in dead.last_error
    finally:
        await env.close()
