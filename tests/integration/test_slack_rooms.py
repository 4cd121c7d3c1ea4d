"""SlackChatRoom (the real slack_sdk client) against the emulator on loopback."""

from __future__ import annotations

import pytest

from bot.clock import ManualClock
from bot.domain.cards import triage_card
from bot.domain.incident import Incident, Role, Severity, Status
from bot.domain.ports import ChatError, NameTaken
from integrations.local_workspace import BOT_USER_ID
from integrations.slack_rooms import SlackChatRoom, make_client
from integrations.slack_rooms.pacing import Pacer, TokenBucket


@pytest.fixture
def room(slack_emulator):
    slack_emulator.workspace.rate_limit_scale = None
    limited: list[str] = []
    client = make_client("xoxb-test-token", base_url=slack_emulator.api_url, on_rate_limited=limited.append)
    r = SlackChatRoom(client, pacer=Pacer(scale=0))
    r.limited = limited
    return r


def incident(**kw):
    clock = ManualClock()
    base = dict(
        id=1,
        ref="INC-20261123-001",
        title="Checkout is failing",
        severity=Severity.SEV2,
        status=Status.DECLARED,
        declared_at=clock.now(),
        declared_by="U0ALICE",
    )
    base.update(kw)
    return Incident(**base)


async def test_channel_lifecycle_and_card(room, slack_workspace):
    assert await room.bot_user_id() == BOT_USER_ID
    info = await room.create_channel("inc-20261123-checkout")
    assert info.creator == BOT_USER_ID
    with pytest.raises(NameTaken):
        await room.create_channel("inc-20261123-checkout")
    found = await room.find_channel("inc-20261123-checkout")
    assert found is not None and found.id == info.id
    assert await room.find_channel("nope") is None
    await room.set_topic(info.id, "SEV2 · declared")
    await room.invite(info.id, ["U0ALICE", "U0BOB"])
    await room.invite(info.id, ["U0ALICE"])  # already in: not an error
    await room.invite(info.id, ["U0NOBODY", "U0CAROL"])  # one bad id: the good one still joins
    members = set(slack_workspace.channel(info.id).members)
    assert {"U0ALICE", "U0BOB", "U0CAROL"} <= members
    card = triage_card(incident(roles={Role.SCRIBE: ["U0CAROL"]}, human_control=True))
    ts = await room.post_card(info.id, card)
    await room.pin(info.id, ts)
    await room.pin(info.id, ts)  # already pinned: fine
    await room.update_card(info.id, ts, triage_card(incident(status=Status.RESOLVED, summary="rolled back")))
    msgs = await room.recent_messages(info.id)
    assert msgs[0].block_ids[0] == "card:INC-20261123-001"
    one = await room.get_message(info.id, ts)
    assert one is not None and one.ts == ts
    line = await room.post_text(info.id, "hello", marker="event:7")
    assert "event:7" in (await room.get_message(info.id, line)).block_ids


async def test_ensure_channel_creates_then_reuses(room, slack_workspace):
    a = await room.ensure_channel("incidents")
    b = await room.ensure_channel("incidents")
    assert a.id == b.id
    assert len([c for c in slack_workspace.channels() if c.name == "incidents"]) == 1


async def test_errors_are_mapped(room, slack_workspace):
    slack_workspace.inject_fault("conversations.setTopic", status=503, count=3)
    info = await room.create_channel("inc-x")
    with pytest.raises(ChatError) as err:
        await room.set_topic(info.id, "t")
    assert err.value.code == "server_error" and err.value.retryable
    slack_workspace.inject_fault("chat.postMessage", error="channel_not_found", count=1)
    with pytest.raises(ChatError) as err:
        await room.post_text(info.id, "x")
    assert err.value.code == "channel_not_found" and not err.value.retryable


async def test_429_is_waited_out_then_surfaces_with_retry_after(room, slack_workspace):
    slack_workspace.inject_fault("conversations.create", status=429, retry_after=1, count=1)
    info = await room.create_channel("inc-rl")
    assert info.name == "inc-rl"
    assert room.limited == ["conversations.create"]
    slack_workspace.inject_fault("conversations.create", status=429, retry_after=7, count=3)
    with pytest.raises(ChatError) as err:
        # Each wait is Retry-After; keep it short by allowing no in-client retries here.
        room.client.retry_handlers = []
        await room.create_channel("inc-rl-2")
    assert err.value.code == "ratelimited" and err.value.retry_after == 7


async def test_token_bucket_paces_with_a_fake_clock():
    now = [0.0]
    b = TokenBucket(rate=1.0, burst=2, clock=lambda: now[0])
    assert b.wait_time() == 0
    b.tokens -= 2
    assert b.wait_time() == pytest.approx(1.0)
    now[0] += 0.5
    assert b.wait_time() == pytest.approx(0.5)
    now[0] += 10
    assert b.wait_time() == 0 and b.tokens == 2  # capped at the burst


def test_pacer_tiers():
    p = Pacer(scale=1.0, clock=lambda: 0.0)
    assert p.bucket("conversations.create").rate == pytest.approx(20 / 60)
    assert p.bucket("chat.update").rate == pytest.approx(50 / 60)
    assert p.bucket("chat.postMessage", "C1") is not p.bucket("chat.postMessage", "C2")
    assert Pacer(scale=0).bucket("conversations.create") is None
