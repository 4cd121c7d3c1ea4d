"""SlackChatRoom (the real slack_sdk client) against the emulator on loopback."""

from __future__ import annotations

import pytest

from bot.clock import ManualClock
from bot.domain.cards import topic_line, triage_card
from bot.domain.incident import Incident, Role, Severity, Status
from bot.domain.ports import ChatError, ChatRefused, NameTaken
from bot.domain.text import Mention, Text
from bot.plugins import GiveUp, RetryLater
from bot.redact import Redactor
from bot.services.reactors.posting import chat_failure
from integrations.local_workspace import BOT_USER_ID
from integrations.slack_rooms import SlackChatRoom, make_client, mrkdwn
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
    card = triage_card(incident(roles={Role.SCRIBE: ["U0CAROL"]}, human_control=True, frozen_since=ManualClock().now()))
    ts = await room.post_card(info.id, card)
    shown = str(next(m.blocks for m in slack_workspace.messages(info.id) if m.ts == ts))
    assert "under human control" in shown and "deploys frozen" in shown
    await room.pin(info.id, ts)
    await room.pin(info.id, ts)  # already pinned: fine
    await room.update_card(info.id, ts, triage_card(incident(status=Status.RESOLVED, summary="rolled back")))
    msgs = await room.recent_messages(info.id)
    assert msgs[0].block_ids[0] == "card:INC-20261123-001"
    one = await room.get_message(info.id, ts)
    assert one is not None and one.ts == ts
    line = await room.post_text(info.id, "hello", marker="event:7")
    assert "event:7" in (await room.get_message(info.id, line)).block_ids


async def test_the_members_of_a_user_group(room, slack_workspace):
    slack_workspace.add_usergroup("S0SRELEADS", "sre-leads", ["U0CAROL", "U0DAVE"])
    assert await room.group_members("S0SRELEADS") == ["U0CAROL", "U0DAVE"]
    with pytest.raises(ChatError) as err:
        await room.group_members("S0NOSUCH")
    assert err.value.code == "no_such_subteam"


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


@pytest.mark.parametrize("code", ["invalid_auth", "missing_scope", "invalid_blocks", "msg_too_long"])
async def test_the_adapter_says_which_errors_are_permanent_and_the_reactor_gives_up_on_them(
    room, slack_workspace, code
):
    info = await room.create_channel(f"inc-{code.replace('_', '-')}")
    slack_workspace.inject_fault("chat.postMessage", error=code, count=1)
    with pytest.raises(ChatRefused) as err:
        await room.post_text(info.id, "x")
    assert err.value.code == code
    assert isinstance(chat_failure(err.value), GiveUp), "dead-lettered at once, not retried for hours"
    slack_workspace.inject_fault("chat.postMessage", error="channel_not_found", count=1)
    with pytest.raises(ChatError) as other:
        await room.post_text(info.id, "x")
    assert not isinstance(other.value, ChatRefused) and isinstance(chat_failure(other.value), RetryLater)


async def test_a_card_slack_would_refuse_is_refused_before_it_is_sent(room, slack_workspace):
    info = await room.create_channel("inc-bad-card")
    with pytest.raises(ChatRefused) as err:
        await room.post_card(info.id, triage_card(incident(ref="INC-" + "9" * 300)))  # option values over 150
    assert err.value.code == "invalid_blocks"
    assert slack_workspace.messages(info.id) == []


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


ATTACK = "<!channel> <!here> <https://evil.example|login> <@U0VICTIM> a&b"
SECRET = "s3cr3t-config-value"


def call_texts(ws):
    """Every string argument of every Web API call the emulator received, by method."""
    out: list[tuple[str, str]] = []

    def walk(method, node):
        if isinstance(node, str):
            out.append((method, node))
        elif isinstance(node, dict):
            for v in node.values():
                walk(method, v)
        elif isinstance(node, list):
            for v in node:
                walk(method, v)

    for call in ws.calls:
        walk(call.method, call.args)
    return out


async def test_user_text_is_escaped_in_every_field_slack_parses(room, slack_workspace):
    info = await room.create_channel("inc-20261123-escape")
    inc = incident(title=f"{ATTACK} \u202egnp.exe", roles={Role.COMMANDER: ["U0BOB"]}, summary=ATTACK)
    await room.set_topic(info.id, topic_line(inc))
    ts = await room.post_card(info.id, triage_card(inc))
    await room.update_card(info.id, ts, triage_card(inc))
    await room.post_text(info.id, Text.of("Note from ", Mention("U0ALICE"), ": ", ATTACK))
    await room.post_text(info.id, ATTACK)
    topic = slack_workspace.channel(info.id).topic["value"]
    assert topic == "SEV2 · declared · IC <@U0BOB> · INC-20261123-001: " + mrkdwn.escape(f"{ATTACK} gnp.exe")
    for method, text in call_texts(slack_workspace):
        assert "\u202e" not in text, method
        if "<!channel>" in text or "<!here>" in text or "<https://evil" in text:
            # Only a Block Kit plain_text object (a header, never parsed for mentions) shows the title as written.
            headers = [
                b["text"]["text"]
                for c in slack_workspace.calls
                for b in c.args.get("blocks") or []
                if b["type"] == "header"
            ]
            assert text in headers, (method, text)
    texts = [m.text for m in slack_workspace.messages(info.id)]
    assert (
        texts[-2]
        == "Note from <@U0ALICE>: &lt;!channel&gt; &lt;!here&gt; &lt;https://evil.example|login&gt; &lt;@U0VICTIM&gt; a&amp;b"
    )
    assert texts[-1] == mrkdwn.escape(ATTACK)


async def test_every_string_argument_of_every_call_is_redacted(slack_emulator, slack_workspace):
    slack_workspace.rate_limit_scale = None
    redactor = Redactor([SECRET])
    client = make_client("xoxb-test-token", base_url=slack_emulator.api_url, scrub=redactor)
    room = SlackChatRoom(client, pacer=Pacer(scale=0))
    info = await room.create_channel("inc-20261123-redact")
    inc = incident(title=f"{SECRET} password=hunter2", services=[SECRET], summary="mail alice@example.com")
    await room.set_topic(info.id, topic_line(inc))
    await room.post_card(info.id, triage_card(inc, runbook=SECRET))
    await room.post_text(info.id, f"token {SECRET} AKIAIOSFODNN7EXAMPLE")
    # Calls made on the shared client directly (as Bolt's listeners do) are scrubbed the same way.
    await client.conversations_setPurpose(channel=info.id, purpose=f"purpose {SECRET}")
    await room.invite(info.id, ["U0ALICE"])
    await client.chat_postEphemeral(channel=info.id, user="U0ALICE", text=f"only you: {SECRET}")
    strings = call_texts(slack_workspace)
    assert {m for m, _ in strings} >= {"conversations.setTopic", "chat.postMessage", "conversations.setPurpose"}
    for method, text in strings:
        for leak in (SECRET, "hunter2", "alice@example.com", "AKIAIOSFODNN7EXAMPLE"):
            assert leak not in text, (method, text)
    assert slack_workspace.channel(info.id).purpose["value"] == "purpose [redacted]"
    # Identifiers pass untouched: the calls reached the right channel and user.
    assert [e.text for e in slack_workspace.ephemeral] == ["only you: [redacted]"]


async def test_messages_read_back_as_plain_text(room, slack_workspace):
    info = await room.create_channel("inc-20261123-read")
    channel = slack_workspace.channel(info.id)
    slack_workspace.post(channel, "U0ALICE", "ask <@U0BOB|bob> &lt;now&gt; &amp; <!here>")
    [msg] = await room.recent_messages(info.id, limit=1)
    assert msg.text == "ask @bob <now> & @here"


async def test_find_marked_pages_back_to_since_and_delete_removes_our_copy(room, slack_workspace):
    from datetime import UTC, datetime, timedelta

    info = await room.ensure_channel("incidents")
    since = datetime.now(UTC)
    wanted = await room.post_text(info.id, "INC-1 declared", marker="announce:INC-1")
    for i in range(450):  # far more than one page, and than the last 100
        slack_workspace.post(slack_workspace.channel(info.id), "U0BOT", f"noise {i}")
    assert await room.find_marked(info.id, "announce:INC-1", since=since) == wanted
    assert await room.find_marked(info.id, "announce:INC-2", since=since) is None
    later = since + timedelta(hours=1)
    assert await room.find_marked(info.id, "announce:INC-1", since=later) is None, "nothing before since is read"
    pages = [c for c in slack_workspace.calls_to("conversations.history") if c.args.get("oldest")]
    assert len(pages) >= 3 and all(int(c.args.get("limit")) == 200 for c in pages)
    await room.delete_message(info.id, wanted)
    await room.delete_message(info.id, wanted)  # already gone: fine
    assert await room.find_marked(info.id, "announce:INC-1", since=since) is None
