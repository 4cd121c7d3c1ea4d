"""The war-room reactor against an in-memory chat room."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from bot.domain.cards import TriageCard
from bot.domain.incident import Role, Severity, Status
from bot.domain.ports import ChatError
from bot.domain.text import ChannelLink, Mention
from bot.outbox import OutboxWorker, RetryPolicy
from bot.redact import Redactor
from bot.services import alerts, incidents
from tests.alert_builders import alert
from tests.builders import chat_reactors, deps_for, sqlite_store
from tests.fakes.chat import FakeChatRoom


@pytest.fixture
async def env(tmp_path):
    store = await sqlite_store(tmp_path)
    deps = deps_for(store)
    chat = FakeChatRoom()
    chat_reactors(deps, chat, oncall=["U0ONCALL"])
    worker = OutboxWorker(store, clock=deps.clock, policy=RetryPolicy(base_delay=1, jitter=0))
    yield deps, chat, worker
    await store.dispose()


async def test_declare_opens_room_with_topic_invites_pinned_card_and_announcement(env):
    deps, chat, worker = env
    out = await incidents.declare(deps, title="Checkout is failing", severity=Severity.SEV2, actor="U0ALICE")
    await worker.drain()
    room = chat.by_name("inc-20261123-checkout-is-failing")
    assert room is not None
    assert room.topic.startswith("SEV2 · declared")
    assert {"U0ALICE", "U0ONCALL"} <= room.members
    card = room.messages[0]
    assert card.card is not None and card.card.ref == out.incident.ref
    assert room.pins == {card.ts}
    ann = chat.by_name("incidents")
    assert ann is not None and out.incident.ref in ann.messages[0].text
    inc = await incidents.get(deps, ref=out.incident.ref)
    assert inc.channel_id == room.id and inc.card_ts == card.ts
    _, events = await incidents.timeline(deps, ref=out.incident.ref)
    assert events[-1].kind == "room.opened"


async def test_changes_update_the_card_in_place_and_post_a_line(env):
    deps, chat, worker = env
    ref = (await incidents.declare(deps, title="x", severity=Severity.SEV3, actor="U0ALICE")).incident.ref
    await worker.drain()
    await incidents.take_lead(deps, ref=ref, actor="U0BOB")
    await incidents.change_severity(deps, ref=ref, severity=Severity.SEV1, actor="U0BOB", reason="customers")
    await worker.drain()
    room = chat.by_name("inc-20261123-x")
    cards = [m for m in room.messages if m.card]
    assert len(cards) == 1, "the card is edited, never reposted"
    assert cards[0].card.severity is Severity.SEV1
    assert cards[0].card.commander == "U0BOB"
    assert cards[0].card.status is Status.ACKNOWLEDGED
    lines = [m.text for m in room.messages if not m.card]
    assert any("commander" in t for t in lines)
    assert any("SEV3 → SEV1" in t for t in lines)
    assert room.topic.startswith("SEV1 · acknowledged · IC <@U0BOB>")


async def test_name_taken_by_a_human_channel_gets_a_suffix(env):
    deps, chat, worker = env
    chat.add_human_channel("inc-20261123-db-down")
    await incidents.declare(deps, title="DB down", severity=Severity.SEV2, actor="U1")
    await worker.drain()
    assert chat.by_name("inc-20261123-db-down-2") is not None


async def test_two_incidents_with_the_same_title_get_two_rooms(env):
    deps, chat, worker = env
    await incidents.declare(deps, title="DB down", severity=Severity.SEV2, actor="U1")
    await incidents.declare(deps, title="DB down", severity=Severity.SEV2, actor="U2")
    await worker.drain()
    assert chat.by_name("inc-20261123-db-down") and chat.by_name("inc-20261123-db-down-2")


async def test_failure_after_channel_creation_resumes_without_a_second_channel(env):
    deps, chat, worker = env
    await incidents.declare(deps, title="api", severity=Severity.SEV2, actor="U1")
    # create_channel succeeds; set_topic fails: the retry must reuse the channel.
    chat.failures = []
    orig = chat.set_topic
    calls = {"n": 0}

    async def flaky(channel_id, topic):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ChatError("boom", code="server_error")
        await orig(channel_id, topic)

    chat.set_topic = flaky
    await worker.run_once()
    deps.clock.advance(seconds=5)
    await worker.drain()
    created = [c for c in chat.channels.values() if c.name.startswith("inc-")]
    assert len(created) == 1
    assert len([m for m in created[0].messages if m.card]) == 1


async def test_lost_reply_of_create_adopts_our_own_channel(env):
    deps, chat, worker = env
    out = await incidents.declare(deps, title="lost", severity=Severity.SEV2, actor="U1")
    # Slack created the channel but the reply never reached us (crash, timeout): it exists, made by the bot.
    await chat.create_channel("inc-20261123-lost")
    await worker.drain()
    inc = await incidents.get(deps, ref=out.incident.ref)
    assert inc.channel_name == "inc-20261123-lost"
    assert len([c for c in chat.channels.values() if c.name.startswith("inc-20261123-lost")]) == 1


async def test_card_posted_before_a_crash_is_found_not_reposted(env):
    deps, chat, worker = env
    await incidents.declare(deps, title="crash", severity=Severity.SEV2, actor="U1")
    orig_pin = chat.pin
    state = {"failed": False}

    async def pin_fails_once(channel_id, ts):
        if not state["failed"]:
            state["failed"] = True
            raise ChatError("timeout", code="timeout")
        await orig_pin(channel_id, ts)

    chat.pin = pin_fails_once
    # The first attempt posts the card, saves its ts, then pin fails; force the ts to be forgotten as a crash would.
    await worker.run_once()
    async with deps.store.transaction() as tx:
        row = await tx.incident_row("INC-20261123-001", lock=True)
        row.card_ts = None
    deps.clock.advance(seconds=5)
    await worker.drain()
    room = chat.by_name("inc-20261123-crash")
    assert len([m for m in room.messages if m.card]) == 1
    assert len(room.pins) == 1


async def test_rate_limit_is_retried_after_the_given_delay(env):
    deps, chat, worker = env
    await incidents.declare(deps, title="rl", severity=Severity.SEV2, actor="U1")
    chat.fail_next(ChatError("ratelimited", code="ratelimited", retry_after=20))
    await worker.run_once()
    assert chat.by_name("inc-20261123-rl") is None
    deps.clock.advance(seconds=19)
    await worker.drain()
    assert chat.by_name("inc-20261123-rl") is None
    deps.clock.advance(seconds=2)
    await worker.drain()
    assert chat.by_name("inc-20261123-rl") is not None


async def test_roles_and_notes_reach_the_room(env):
    deps, chat, worker = env
    ref = (await incidents.declare(deps, title="n", severity=Severity.SEV2, actor="U1")).incident.ref
    await incidents.assign_role(deps, ref=ref, role=Role.SCRIBE, user_id="U0CAROL", actor="U1")
    await incidents.add_note(deps, ref=ref, actor="U1", text="looking at dashboards")
    await incidents.resolve(deps, ref=ref, actor="U1", summary="fixed")
    await worker.drain()
    room = chat.by_name("inc-20261123-n")
    assert "U0CAROL" in room.members, "a new role holder is invited to the room"
    texts = [m.text for m in room.messages]
    assert any("scribe" in t for t in texts)
    assert any("looking at dashboards" in t for t in texts)
    card = next(m for m in room.messages if m.card)
    assert card.card.status is Status.RESOLVED and not card.card.actionable
    ann = chat.by_name("incidents")
    assert any("resolved" in m.text for m in ann.messages)


class _AlertsArriveWhileTheCardIsPosted(FakeChatRoom):
    """A chat room in which more alerts join, and their card refresh falls due, while the card is posted."""

    def __init__(self) -> None:
        super().__init__()
        self.during_post: list[Callable[[], Awaitable[None]]] = []

    async def post_card(self, channel_id: str, card: TriageCard) -> str:
        ts = await super().post_card(channel_id, card)
        while self.during_post:
            await self.during_post.pop(0)()
        return ts


async def test_a_card_posted_while_alerts_join_is_brought_up_to_date(tmp_path):
    store = await sqlite_store(tmp_path)
    deps = deps_for(store)
    chat = _AlertsArriveWhileTheCardIsPosted()
    reactor = chat_reactors(deps, chat)
    worker = OutboxWorker(store, clock=deps.clock, policy=RetryPolicy(base_delay=1, jitter=0))
    try:
        declared = await alerts.ingest(deps, [alert(pod="a")], source="alertmanager")
        inc = await incidents.get(deps, ref=declared.declared[0])

        async def more_alerts_and_their_refresh() -> None:
            await alerts.ingest(deps, [alert(pod="b"), alert(pod="c")], source="alertmanager")
            await reactor.refresh(inc.id)  # falls due before the card's ts is saved: nothing to update yet

        chat.during_post.append(more_alerts_and_their_refresh)
        await worker.drain()
        room = next(c for c in chat.channels.values() if c.name.startswith("inc-"))
        card = room.messages[0]
        assert card.card is not None and card.card.alert_count == 3
        assert card.edits == 1
    finally:
        await store.dispose()


ATTACK = "<!channel> <!here> <https://evil.example|login>"


def mentions_in(parts):
    return [p.user_id for p in parts or () if isinstance(p, Mention)]


async def test_user_and_alert_text_reaches_chat_as_data_never_as_mentions(env):
    deps, chat, worker = env
    ref = (
        await incidents.declare(deps, title=f"{ATTACK} payments down", severity=Severity.SEV3, actor="U1")
    ).incident.ref
    await incidents.add_note(deps, ref=ref, actor="U1", text=f"{ATTACK} note")
    await incidents.change_severity(deps, ref=ref, severity=Severity.SEV2, actor="U1", reason=f"{ATTACK} reason")
    await incidents.assign_role(deps, ref=ref, role=Role.SCRIBE, user_id="U0CAROL", actor="U1")
    await incidents.resolve(deps, ref=ref, actor="U1", summary=f"{ATTACK} summary")
    await worker.drain()
    room = next(c for c in chat.channels.values() if c.name.startswith("inc-"))
    ann = chat.by_name("incidents")
    posted = [m for m in room.messages + ann.messages if m.parts is not None]
    assert len(posted) >= 7
    for m in posted:
        assert set(mentions_in(m.parts)) <= {"U1", "U0CAROL"}, m.parts
        assert all(ATTACK not in str(p) for p in m.parts if not isinstance(p, str))
    data = [p for m in posted for p in m.parts if isinstance(p, str)]
    for what in ("payments down", "note", "reason", "summary"):
        assert any(f"{ATTACK} {what}" in d for d in data), what
    assert any(isinstance(p, ChannelLink) and p.channel_id == room.id for p in ann.messages[0].parts)
    assert f"{ATTACK} payments down" in room.topic_parts.parts


async def test_the_room_name_is_made_from_the_redacted_title(env):
    deps, chat, worker = env
    title = "password=hunter2 AKIAIOSFODNN7EXAMPLE alice@example.com \u202egnp.exe"
    await alerts.ingest(deps, [alert(summary=title)], source="alertmanager")
    await worker.drain()
    room = next(c for c in chat.channels.values() if c.name.startswith("inc-"))
    for leak in ("hunter2", "akiaiosfodnn7example", "alice", "example-com"):
        assert leak not in room.name
    assert room.name == "inc-20261123-password-redacted-redacted-aws-key-redacted-email-gnp-exe"
    inc = await incidents.get(deps, ref=(await incidents.list_incidents(deps))[0].ref)
    assert inc.title.endswith("\u202egnp.exe"), "the database keeps the raw title"


async def test_configured_secrets_never_name_a_room(tmp_path):
    store = await sqlite_store(tmp_path)
    deps = deps_for(store)
    deps.redact = Redactor(["s3cr3t-config-value", "db-down-now"])
    chat = FakeChatRoom()
    chat_reactors(deps, chat)
    worker = OutboxWorker(store, clock=deps.clock, policy=RetryPolicy(base_delay=1, jitter=0))
    try:
        await incidents.declare(deps, title="leaked s3cr3t-config-value", severity=Severity.SEV2, actor="U1")
        await incidents.declare(deps, title="DB down now", severity=Severity.SEV2, actor="U1")  # its slug spells one
        await worker.drain()
        names = sorted(c.name for c in chat.channels.values() if c.name.startswith("inc-"))
        assert names == ["inc-20261123-incident", "inc-20261123-leaked-redacted"]
    finally:
        await store.dispose()
