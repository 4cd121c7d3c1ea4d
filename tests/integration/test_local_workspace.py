"""The local Slack-compatible workspace, driven by the real slack_sdk client over loopback HTTP."""

from __future__ import annotations

import asyncio
import json
import socket
import types
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_async_handlers
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from integrations.local_workspace import (
    BOT_USER_ID,
    GENERAL_ID,
    EmulatorServer,
    ManualClock,
    Workspace,
    create_app,
)
from tests.servers.slack_emulator import SLACK_TEST_SIGNING_SECRET, SLACK_TEST_TOKEN

SLASH_FIELDS = [
    "token",
    "team_id",
    "team_domain",
    "channel_id",
    "channel_name",
    "user_id",
    "user_name",
    "command",
    "text",
    "api_app_id",
    "is_enterprise_install",
    "response_url",
    "trigger_id",
]
ACK_BUTTON = {
    "type": "actions",
    "block_id": "inc_actions",
    "elements": [
        {
            "type": "button",
            "action_id": "incident-ack",
            "text": {"type": "plain_text", "text": "Acknowledge"},
            "style": "primary",
            "value": "INC-1",
        }
    ],
}
DECLARE_MODAL = {
    "type": "modal",
    "callback_id": "incident-declare",
    "private_metadata": '{"source":"C0OPSALERTS"}',
    "title": {"type": "plain_text", "text": "Declare incident"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "blocks": [
        {
            "type": "input",
            "block_id": "incident_title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "title"},
        },
        {
            "type": "input",
            "block_id": "incident_severity",
            "label": {"type": "plain_text", "text": "Severity"},
            "element": {
                "type": "static_select",
                "action_id": "severity",
                "options": [
                    {"text": {"type": "plain_text", "text": "SEV1 - critical"}, "value": "SEV1"},
                    {"text": {"type": "plain_text", "text": "SEV2 - major"}, "value": "SEV2"},
                ],
            },
        },
    ],
}


def client_for(server: EmulatorServer, token: str | None = SLACK_TEST_TOKEN, **kwargs: Any) -> AsyncWebClient:
    """The real slack_sdk async client pointed at the emulator."""
    return AsyncWebClient(token=token, base_url=server.api_url, **kwargs)


async def slack_error(call: Any) -> SlackApiError:
    """Await a client call that must fail and return the SlackApiError."""
    with pytest.raises(SlackApiError) as caught:
        await call
    return caught.value


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def client(slack_emulator: EmulatorServer) -> AsyncWebClient:
    return client_for(slack_emulator)


class Receiver:
    """A stand-in for the bot's /slack/events endpoint that records what it receives."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.reply: dict[str, Any] | None = None

    async def handle(self, request: Request) -> Response:
        self.requests.append((dict(request.headers), await request.body()))
        if self.reply is not None:
            return JSONResponse(self.reply)
        return Response(status_code=200)

    def form(self, index: int = -1) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.requests[index][1].decode()))

    def payload(self, index: int = -1) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(self.form(index)["payload"])
        return payload


@pytest_asyncio.fixture
async def receiver(slack_workspace: Workspace) -> AsyncIterator[Receiver]:
    """Run a tiny Starlette app on a free port and point the workspace's events_url at it."""
    recorder = Receiver()
    app = Starlette(routes=[Route("/slack/events", recorder.handle, methods=["POST"])])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY on accept
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.005)
    slack_workspace.events_url = f"http://127.0.0.1:{sock.getsockname()[1]}/slack/events"
    yield recorder
    server.should_exit = True
    await task


# -- auth ------------------------------------------------------------------------------------


async def test_auth_test_names_the_bot(client: AsyncWebClient) -> None:
    answer = await client.auth_test()
    assert answer["user_id"] == BOT_USER_ID
    assert (answer["team_id"], answer["bot_id"], answer["user"]) == ("T0LOCAL", "B0BOT", "warroom")


async def test_wrong_or_missing_token_is_refused(slack_emulator: EmulatorServer) -> None:
    wrong = await slack_error(client_for(slack_emulator, "xoxb-wrong").auth_test())
    missing = await slack_error(client_for(slack_emulator, None).auth_test())
    assert wrong.response["error"] == "invalid_auth"
    assert missing.response["error"] == "not_authed"


async def test_unknown_method_is_answered_like_slack(client: AsyncWebClient) -> None:
    error = await slack_error(client.api_call("conversations.nonsense"))
    assert error.response.status_code == 200
    assert error.response["error"] == "unknown_method"


# -- channels ----------------------------------------------------------------------------------


async def test_create_channel_makes_the_bot_creator_and_member(
    client: AsyncWebClient, slack_workspace: Workspace
) -> None:
    created = (await client.conversations_create(name="inc-20261123-001-db"))["channel"]
    assert created["id"].startswith("C")
    assert (created["name"], created["creator"], created["is_private"]) == ("inc-20261123-001-db", "U0BOT", False)
    assert created["topic"] == {"value": "", "creator": "", "last_set": 0}
    channel = slack_workspace.channel_by_name("inc-20261123-001-db")
    assert channel is not None and channel.members == [BOT_USER_ID]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("", "invalid_name_required"),
        ("Incident Room", "invalid_name_specials"),
        ("inc.room", "invalid_name_specials"),
        ("x" * 81, "invalid_name_maxlength"),
        ("general", "name_taken"),
    ],
)
async def test_create_channel_enforces_slack_name_rules(client: AsyncWebClient, name: str, code: str) -> None:
    error = await slack_error(client.conversations_create(name=name))
    assert error.response["error"] == code


async def test_create_channel_twice_is_name_taken_and_80_chars_is_fine(client: AsyncWebClient) -> None:
    await client.conversations_create(name="x" * 80)
    error = await slack_error(client.conversations_create(name="x" * 80))
    assert error.response["error"] == "name_taken"


async def test_invite_errors_and_success(client: AsyncWebClient, slack_workspace: Workspace) -> None:
    channel_id = (await client.conversations_create(name="inc-invite"))["channel"]["id"]
    assert (await slack_error(client.conversations_invite(channel=channel_id, users="U0NOBODY"))).response[
        "error"
    ] == "user_not_found"
    assert (await slack_error(client.conversations_invite(channel=channel_id, users="U0BOT"))).response[
        "error"
    ] == "cant_invite_self"
    invited = await client.conversations_invite(channel=channel_id, users="U0ALICE,U0BOB")
    assert invited["channel"]["num_members"] == 3
    again = await slack_error(client.conversations_invite(channel=channel_id, users=["U0ALICE"]))
    assert again.response["error"] == "already_in_channel"
    not_member = await slack_error(client.conversations_invite(channel=GENERAL_ID, users="U0CAROL"))
    assert not_member.response["error"] == "not_in_channel"
    assert slack_workspace.channel_by_name("inc-invite").members == ["U0BOT", "U0ALICE", "U0BOB"]  # type: ignore[union-attr]


async def test_list_paginates_and_filters(client: AsyncWebClient) -> None:
    for name in ("inc-a", "inc-b", "inc-c"):
        await client.conversations_create(name=name)
    archived = (await client.conversations_create(name="inc-old"))["channel"]["id"]
    await client.api_call("conversations.archive", params={"channel": archived})
    names: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await client.conversations_list(limit=2, cursor=cursor, exclude_archived=True)
        names += [c["name"] for c in page["channels"]]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert names == ["general", "ops-alerts", "inc-a", "inc-b", "inc-c"]
    assert pages == 3
    everything = await client.conversations_list(limit=100)
    assert "inc-old" in [c["name"] for c in everything["channels"]]
    bad = await slack_error(client.conversations_list(cursor="bm90LWEtY3Vyc29y"))
    assert bad.response["error"] == "invalid_cursor"


async def test_topic_join_info_and_members(client: AsyncWebClient) -> None:
    not_member = await slack_error(client.conversations_setTopic(channel=GENERAL_ID, topic="x"))
    assert not_member.response["error"] == "not_in_channel"
    await client.conversations_join(channel=GENERAL_ID)
    await client.conversations_setTopic(channel=GENERAL_ID, topic="SEV2 checkout latency")
    await client.conversations_setPurpose(channel=GENERAL_ID, purpose="war room")
    info = (await client.conversations_info(channel=GENERAL_ID))["channel"]
    assert (info["topic"]["value"], info["purpose"]["value"], info["is_member"]) == (
        "SEV2 checkout latency",
        "war room",
        True,
    )
    members = await client.conversations_members(channel=GENERAL_ID)
    assert members["members"][-1] == BOT_USER_ID
    missing = await slack_error(client.conversations_info(channel="C0MISSING"))
    assert missing.response["error"] == "channel_not_found"


# -- messages --------------------------------------------------------------------------------


async def test_post_update_pin_and_history(client: AsyncWebClient, slack_workspace: Workspace) -> None:
    channel_id = (await client.conversations_create(name="inc-flow"))["channel"]["id"]
    card = await client.chat_postMessage(channel=channel_id, text="INC-1 declared", blocks=[ACK_BUTTON])
    note = await client.chat_postMessage(channel="#inc-flow", text="a note")
    reply = await client.chat_postMessage(channel=channel_id, text="in thread", thread_ts=card["ts"])
    assert card["channel"] == note["channel"] == channel_id
    assert float(card["ts"]) < float(note["ts"]) < float(reply["ts"])

    updated = await client.chat_update(channel=channel_id, ts=card["ts"], text="INC-1 acknowledged")
    assert updated["ts"] == card["ts"]
    await client.pins_add(channel=channel_id, timestamp=card["ts"])
    assert (await slack_error(client.pins_add(channel=channel_id, timestamp=card["ts"]))).response[
        "error"
    ] == "already_pinned"
    assert (await slack_error(client.pins_add(channel=channel_id, timestamp="1.000001"))).response[
        "error"
    ] == "message_not_found"
    await client.reactions_add(channel=channel_id, timestamp=card["ts"], name="eyes")
    assert (await slack_error(client.reactions_add(channel=channel_id, timestamp=card["ts"], name="eyes"))).response[
        "error"
    ] == "already_reacted"

    history = await client.conversations_history(channel=channel_id)
    assert [m["ts"] for m in history["messages"]] == [note["ts"], card["ts"]]
    top = history["messages"][1]
    assert top["text"] == "INC-1 acknowledged" and top["edited"]["user"] == BOT_USER_ID
    assert top["blocks"][0]["block_id"] == "inc_actions"
    assert top["reply_count"] == 1 and top["pinned_to"] == [channel_id]
    assert top["reactions"] == [{"name": "eyes", "users": [BOT_USER_ID], "count": 1}]
    pins = await client.pins_list(channel=channel_id)
    assert [item["message"]["ts"] for item in pins["items"]] == [card["ts"]]

    stored = slack_workspace.messages(channel_id)[0]
    assert [edit.text for edit in stored.edits] == ["INC-1 declared"]
    assert [m.text for m in slack_workspace.replies(channel_id, card["ts"])] == ["INC-1 acknowledged", "in thread"]


async def test_history_windows_and_cursor(client: AsyncWebClient, slack_workspace: Workspace) -> None:
    slack_workspace.rate_limit_scale = None
    channel_id = (await client.conversations_create(name="inc-history"))["channel"]["id"]
    stamps = [(await client.chat_postMessage(channel=channel_id, text=str(i)))["ts"] for i in range(5)]
    window = await client.conversations_history(channel=channel_id, oldest=stamps[1], latest=stamps[3])
    assert [m["text"] for m in window["messages"]] == ["2"]
    inclusive = await client.conversations_history(
        channel=channel_id, oldest=stamps[1], latest=stamps[3], inclusive=True
    )
    assert [m["text"] for m in inclusive["messages"]] == ["3", "2", "1"]
    first = await client.conversations_history(channel=channel_id, limit=2)
    assert [m["text"] for m in first["messages"]] == ["4", "3"] and first["has_more"] is True
    rest = await client.conversations_history(channel=channel_id, cursor=first["response_metadata"]["next_cursor"])
    assert [m["text"] for m in rest["messages"]] == ["2", "1", "0"] and rest["has_more"] is False


async def test_post_needs_membership_and_a_known_channel(client: AsyncWebClient) -> None:
    assert (await slack_error(client.chat_postMessage(channel=GENERAL_ID, text="hi"))).response[
        "error"
    ] == "not_in_channel"
    assert (await slack_error(client.chat_postMessage(channel="#nowhere", text="hi"))).response[
        "error"
    ] == "channel_not_found"
    await client.conversations_join(channel="C0GENERAL")
    assert (await client.chat_postMessage(channel="general", text="hi"))["channel"] == GENERAL_ID


async def test_update_refuses_other_peoples_and_missing_messages(
    client: AsyncWebClient, slack_workspace: Workspace
) -> None:
    human = slack_workspace.post(slack_workspace.resolve_channel("C0OPSALERTS"), "U0ALICE", "from alice")
    other = await slack_error(client.chat_update(channel="C0OPSALERTS", ts=human.ts, text="mine now"))
    gone = await slack_error(client.chat_update(channel="C0OPSALERTS", ts="1700000000.000001", text="x"))
    assert (other.response["error"], gone.response["error"]) == ("cant_update_message", "message_not_found")


async def test_ephemeral_and_permalink(client: AsyncWebClient, slack_workspace: Workspace) -> None:
    sent = await client.chat_postEphemeral(channel="C0OPSALERTS", user="U0ALICE", text="only alice")
    assert sent["message_ts"]
    assert [(e.user, e.channel, e.text) for e in slack_workspace.ephemeral] == [
        ("U0ALICE", "C0OPSALERTS", "only alice")
    ]
    posted = await client.chat_postMessage(channel="C0OPSALERTS", text="x")
    link = await client.chat_getPermalink(channel="C0OPSALERTS", message_ts=posted["ts"])
    assert link["permalink"].endswith(f"/archives/C0OPSALERTS/p{posted['ts'].replace('.', '')}")


# -- Block Kit ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("blocks", "reason"),
    [
        ([{"type": "divider"}] * 51, "no more than 50 items"),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}], "3000 characters"),
        (
            [{"type": "actions", "elements": [{**ACK_BUTTON["elements"][0], "action_id": "a" * 256}]}],  # type: ignore[dict-item]
            "255 characters",
        ),
        ([{"type": "fancy_new_block"}], "unsupported type"),
    ],
    ids=["51-blocks", "3001-char-section", "256-char-action-id", "unknown-type"],
)
async def test_block_kit_limits_are_enforced(
    client: AsyncWebClient, slack_workspace: Workspace, blocks: list[dict[str, Any]], reason: str
) -> None:
    error = await slack_error(client.chat_postMessage(channel="C0OPSALERTS", text="card", blocks=blocks))
    assert error.response["error"] == "invalid_blocks"
    assert any(reason in m for m in error.response["response_metadata"]["messages"])
    assert slack_workspace.messages("C0OPSALERTS") == []


async def test_fifty_blocks_pass_and_text_limits(client: AsyncWebClient) -> None:
    assert (await client.chat_postMessage(channel="C0OPSALERTS", text="ok", blocks=[{"type": "divider"}] * 50))["ok"]
    too_long = await slack_error(client.chat_postMessage(channel="C0OPSALERTS", text="x" * 40_001))
    with pytest.warns(UserWarning, match="top-level `text` argument is missing"):
        nothing = await slack_error(client.chat_postMessage(channel="C0OPSALERTS", text=""))
    assert (too_long.response["error"], nothing.response["error"]) == ("msg_too_long", "no_text")


# -- rate limits --------------------------------------------------------------------------------


async def test_tier_2_answers_429_with_retry_after_until_the_window_refills(clock: ManualClock) -> None:
    workspace = Workspace(SLACK_TEST_TOKEN, SLACK_TEST_SIGNING_SECRET, clock=clock)
    async with EmulatorServer(workspace) as server:
        client = client_for(server)
        for i in range(20):
            await client.conversations_create(name=f"inc-{i}")
        limited = await slack_error(client.conversations_create(name="inc-20"))
        assert limited.response.status_code == 429
        assert limited.response["error"] == "ratelimited"
        assert limited.response.headers["Retry-After"] == "3"
        clock.advance(2)
        assert (await slack_error(client.conversations_create(name="inc-20"))).response.status_code == 429
        clock.advance(1)
        assert (await client.conversations_create(name="inc-20"))["ok"]
        assert (await client.users_list())["ok"], "other methods have their own budget"


async def test_rate_limit_scale_relaxes_or_disables_limits(clock: ManualClock) -> None:
    workspace = Workspace(SLACK_TEST_TOKEN, SLACK_TEST_SIGNING_SECRET, clock=clock, rate_limit_scale=0)
    async with EmulatorServer(workspace) as server:
        client = client_for(server)
        for _ in range(30):
            await client.chat_postMessage(channel="C0OPSALERTS", text="unlimited")
        workspace.rate_limit_scale = 1.0
        for _ in range(3):
            await client.chat_postMessage(channel="C0OPSALERTS", text="burst")
        limited = await slack_error(client.chat_postMessage(channel="#ops-alerts", text="same channel by name"))
        assert limited.response.headers["Retry-After"] == "1"
        await client.conversations_join(channel=GENERAL_ID)
        assert (await client.chat_postMessage(channel=GENERAL_ID, text="other channel"))["ok"]


async def test_slack_sdk_rate_limit_handler_waits_out_retry_after(
    clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []

    async def sleep_on_the_emulator_clock(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)

    monkeypatch.setattr(builtin_async_handlers, "asyncio", types.SimpleNamespace(sleep=sleep_on_the_emulator_clock))
    workspace = Workspace(SLACK_TEST_TOKEN, SLACK_TEST_SIGNING_SECRET, clock=clock)
    async with EmulatorServer(workspace) as server:
        client = client_for(server, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
        for i in range(4):
            await client.chat_postMessage(channel="C0OPSALERTS", text=f"update {i}")
    assert len(slept) == 1 and 1 <= slept[0] < 2
    statuses = [call.status for call in workspace.calls_to("chat.postMessage")]
    assert statuses == [200, 200, 200, 429, 200]
    assert [m.text for m in workspace.messages("C0OPSALERTS")] == [f"update {i}" for i in range(4)]


# -- faults --------------------------------------------------------------------------------------


async def test_injected_503_then_recovery(client: AsyncWebClient, slack_workspace: Workspace) -> None:
    slack_workspace.inject_fault("chat.postMessage", status=503, count=1)
    failed = await slack_error(client.chat_postMessage(channel="C0OPSALERTS", text="first try"))
    assert failed.response.status_code == 503
    assert slack_workspace.messages("C0OPSALERTS") == []
    assert (await client.chat_postMessage(channel="C0OPSALERTS", text="second try"))["ok"]
    assert [c.status for c in slack_workspace.calls_to("chat.postMessage")] == [503, 200]


async def test_faults_over_the_control_api(slack_emulator: EmulatorServer, client: AsyncWebClient) -> None:
    async with httpx.AsyncClient(base_url=slack_emulator.url) as http:
        queued = await http.post(
            "/_emulator/faults",
            json=[
                {"method": "conversations.create", "error": "name_taken", "count": 2},
                {"method": "*", "status": 429, "retry_after": 7, "count": 1},
            ],
        )
        assert queued.status_code == 200 and len(queued.json()["faults"]) == 2
        for _ in range(2):
            taken = await slack_error(client.conversations_create(name="fresh-name"))
            assert taken.response["error"] == "name_taken"
        limited = await slack_error(client.auth_test())
        assert (limited.response.status_code, limited.response.headers["Retry-After"]) == (429, "7")
        assert (await client.conversations_create(name="fresh-name"))["ok"]
        assert (await http.get("/_emulator/faults")).json()["faults"] == []
        rejected = await http.post("/_emulator/faults", json={"method": "auth.test"})
        assert rejected.status_code == 400


async def test_hold_blocks_a_method_until_released(client: AsyncWebClient, slack_workspace: Workspace) -> None:
    slack_workspace.hold("chat.postMessage")
    pending = asyncio.create_task(client.chat_postMessage(channel="C0OPSALERTS", text="held"))
    await slack_workspace.wait_until_held("chat.postMessage")
    assert not pending.done()
    assert slack_workspace.calls_to("chat.postMessage")[0].status is None
    assert (await client.auth_test())["ok"], "other methods are not held"
    slack_workspace.release("chat.postMessage")
    assert (await pending)["ok"]
    assert [m.text for m in slack_workspace.messages("C0OPSALERTS")] == ["held"]


async def test_delay_fault_outlasts_the_client_timeout(
    slack_emulator: EmulatorServer, slack_workspace: Workspace
) -> None:
    slack_workspace.inject_fault("chat.postMessage", delay=0.3)
    impatient = client_for(slack_emulator, timeout=0.05)
    with pytest.raises(asyncio.TimeoutError):
        await impatient.chat_postMessage(channel="C0OPSALERTS", text="slow")
    assert [c.status for c in slack_workspace.calls_to("chat.postMessage")] == [None]
    assert slack_workspace.faults.pending() == []


# -- views ---------------------------------------------------------------------------------------


async def test_views_open_accepts_only_issued_fresh_trigger_ids(clock: ManualClock) -> None:
    workspace = Workspace(SLACK_TEST_TOKEN, SLACK_TEST_SIGNING_SECRET, clock=clock)
    async with EmulatorServer(workspace) as server:
        client = client_for(server)
        unknown = await slack_error(client.views_open(trigger_id="123.456.abc", view=DECLARE_MODAL))
        assert unknown.response["error"] == "invalid_trigger_id"
        trigger = workspace.new_trigger_id("U0BOB")
        opened = (await client.views_open(trigger_id=trigger, view=DECLARE_MODAL))["view"]
        assert opened["id"].startswith("V") and opened["callback_id"] == "incident-declare"
        assert workspace.views[opened["id"]].user == "U0BOB"
        reused = await slack_error(client.views_open(trigger_id=trigger, view=DECLARE_MODAL))
        assert reused.response["error"] == "exchanged_trigger_id"
        stale = workspace.new_trigger_id()
        clock.advance(3.5)
        expired = await slack_error(client.views_open(trigger_id=stale, view=DECLARE_MODAL))
        assert expired.response["error"] == "expired_trigger_id"
        bad_title = {**DECLARE_MODAL, "title": {"type": "plain_text", "text": "x" * 25}}
        invalid = await slack_error(client.views_open(trigger_id=workspace.new_trigger_id(), view=bad_title))
        assert invalid.response["error"] == "invalid_arguments"

        updated = await client.views_update(view_id=opened["id"], hash=opened["hash"], view=DECLARE_MODAL)
        conflict = await slack_error(client.views_update(view_id=opened["id"], hash=opened["hash"], view=DECLARE_MODAL))
        assert updated["view"]["hash"] != opened["hash"]
        assert conflict.response["error"] == "hash_conflict"


# -- requests to the bot -------------------------------------------------------------------------


async def test_send_command_is_signed_and_shaped_like_slack(
    slack_workspace: Workspace, slack_emulator: EmulatorServer, receiver: Receiver
) -> None:
    response = await slack_workspace.send_command("U0ALICE", "C0OPSALERTS", "declare SEV2 Checkout latency")
    assert response.status_code == 200
    headers, body = receiver.requests[0]
    verifier = SignatureVerifier(SLACK_TEST_SIGNING_SECRET)
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body.replace(b"SEV2", b"SEV1"), headers)
    assert not SignatureVerifier("another-secret").is_valid_request(body, headers)
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert "x-slack-retry-num" not in headers
    form = receiver.form()
    assert list(form) == SLASH_FIELDS
    assert (form["command"], form["text"], form["user_name"], form["channel_name"]) == (
        "/incident",
        "declare SEV2 Checkout latency",
        "alice",
        "ops-alerts",
    )
    assert form["response_url"].startswith(slack_emulator.url + "/_emulator/response/")
    assert form["trigger_id"] in slack_workspace.triggers

    await slack_workspace.send_command("U0ALICE", "C0OPSALERTS", "status", retry_num=1)
    retry_headers = receiver.requests[1][0]
    assert (retry_headers["x-slack-retry-num"], retry_headers["x-slack-retry-reason"]) == ("1", "http_timeout")
    assert verifier.is_valid_request(receiver.requests[1][1], retry_headers)


async def test_response_url_records_ephemeral_and_in_channel_replies(
    slack_workspace: Workspace, slack_emulator: EmulatorServer, receiver: Receiver
) -> None:
    await slack_workspace.send_command("U0CAROL", "C0GENERAL", "help")
    response_url = receiver.form()["response_url"]
    async with httpx.AsyncClient() as http:
        private = await http.post(response_url, json={"text": "Usage: /incident ...", "response_type": "ephemeral"})
        public = await http.post(response_url, json={"text": "Declared INC-1", "response_type": "in_channel"})
        invalid = await http.post(response_url, json={"blocks": [{"type": "nope"}]})
        listed = (await http.get(slack_emulator.url + "/_emulator/ephemeral")).json()["ephemeral"]
        unknown = await http.post(slack_emulator.url + "/_emulator/response/nope", json={"text": "x"})
    assert (private.status_code, public.status_code, invalid.status_code, unknown.status_code) == (200, 200, 400, 404)
    assert [(e.user, e.channel, e.text, e.source) for e in slack_workspace.ephemeral] == [
        ("U0CAROL", "C0GENERAL", "Usage: /incident ...", "response_url")
    ]
    assert listed[0]["user"] == "U0CAROL"
    assert [m.text for m in slack_workspace.messages(GENERAL_ID)] == ["Declared INC-1"]


async def test_click_sends_block_actions_and_replace_original_edits_the_card(
    client: AsyncWebClient, slack_workspace: Workspace, receiver: Receiver
) -> None:
    card = await client.chat_postMessage(channel="C0OPSALERTS", text="INC-1", blocks=[ACK_BUTTON])
    await slack_workspace.click("U0BOB", "C0OPSALERTS", card["ts"], "incident-ack")
    headers, body = receiver.requests[0]
    assert SignatureVerifier(SLACK_TEST_SIGNING_SECRET).is_valid_request(body, headers)
    payload = receiver.payload()
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == "U0BOB"
    assert payload["container"] == {
        "type": "message",
        "message_ts": card["ts"],
        "channel_id": "C0OPSALERTS",
        "is_ephemeral": False,
    }
    assert payload["message"]["blocks"][0]["block_id"] == "inc_actions"
    action = payload["actions"][0]
    assert (action["action_id"], action["block_id"], action["value"], action["type"]) == (
        "incident-ack",
        "inc_actions",
        "INC-1",
        "button",
    )
    assert payload["trigger_id"] in slack_workspace.triggers and payload["state"] == {"values": {}}
    async with httpx.AsyncClient() as http:
        await http.post(payload["response_url"], json={"replace_original": True, "text": "Acknowledged by bob"})
    message = slack_workspace.messages("C0OPSALERTS")[0]
    assert (message.ts, message.text, message.blocks) == (card["ts"], "Acknowledged by bob", None)


async def test_submit_view_builds_state_from_the_opened_view(
    client: AsyncWebClient, slack_workspace: Workspace, receiver: Receiver
) -> None:
    trigger = slack_workspace.new_trigger_id("U0ALICE")
    view_id = (await client.views_open(trigger_id=trigger, view=DECLARE_MODAL))["view"]["id"]
    await slack_workspace.submit_view("U0ALICE", view_id, {"title": "Checkout down", "severity": "SEV2"})
    payload = receiver.payload()
    assert payload["type"] == "view_submission"
    view = payload["view"]
    assert (view["id"], view["callback_id"], view["private_metadata"]) == (
        view_id,
        "incident-declare",
        '{"source":"C0OPSALERTS"}',
    )
    assert view["state"]["values"] == {
        "incident_title": {"title": {"type": "plain_text_input", "value": "Checkout down"}},
        "incident_severity": {
            "severity": {
                "type": "static_select",
                "selected_option": {"text": {"type": "plain_text", "text": "SEV2 - major"}, "value": "SEV2"},
            }
        },
    }
    assert slack_workspace.views[view_id].is_open is False

    receiver.reply = {"response_action": "errors", "errors": {"incident_title": "Too short"}}
    second = (await client.views_open(trigger_id=slack_workspace.new_trigger_id(), view=DECLARE_MODAL))["view"]
    await slack_workspace.submit_view("U0ALICE", second["id"], {"title": "x"})
    assert slack_workspace.views[second["id"]].is_open
    assert slack_workspace.views[second["id"]].errors == {"incident_title": "Too short"}


async def test_events_update_state_and_arrive_signed(
    client: AsyncWebClient, slack_workspace: Workspace, receiver: Receiver
) -> None:
    posted = await client.chat_postMessage(channel="C0OPSALERTS", text="INC-1 timeline")
    await slack_workspace.react("U0DAVE", "C0OPSALERTS", posted["ts"], "pushpin")
    await slack_workspace.pin("U0DAVE", "C0OPSALERTS", posted["ts"])
    await slack_workspace.post_as_user("U0DAVE", "C0OPSALERTS", f"<@{BOT_USER_ID}> status")
    await slack_workspace.send_event({"type": "app_home_opened", "user": "U0DAVE"}, event_id="Ev0FIXED", retry_num=2)

    envelopes = [json.loads(body) for _, body in receiver.requests]
    verifier = SignatureVerifier(SLACK_TEST_SIGNING_SECRET)
    assert all(verifier.is_valid_request(body, headers) for headers, body in receiver.requests)
    assert [e["event"]["type"] for e in envelopes] == [
        "reaction_added",
        "pin_added",
        "message",
        "app_mention",
        "app_home_opened",
    ]
    assert all(e["type"] == "event_callback" and e["team_id"] == "T0LOCAL" for e in envelopes)
    assert len({e["event_id"] for e in envelopes}) == 5
    reaction = envelopes[0]["event"]
    assert reaction["item"] == {"type": "message", "channel": "C0OPSALERTS", "ts": posted["ts"]}
    assert reaction["item_user"] == BOT_USER_ID
    assert envelopes[1]["event"]["item"]["message"]["ts"] == posted["ts"]
    assert envelopes[2]["event"]["user"] == "U0DAVE"
    assert envelopes[4]["event_id"] == "Ev0FIXED"
    assert receiver.requests[4][0]["x-slack-retry-num"] == "2"
    message = slack_workspace.messages("C0OPSALERTS")[0]
    assert message.pin is not None and message.reaction("pushpin") is not None
    assert slack_workspace.messages("C0OPSALERTS")[1].user == "U0DAVE"


# -- observation, reset, threads -------------------------------------------------------------------


async def test_control_api_shows_calls_channels_and_messages(
    slack_emulator: EmulatorServer, client: AsyncWebClient, slack_workspace: Workspace
) -> None:
    channel_id = (await client.conversations_create(name="inc-observe"))["channel"]["id"]
    card = await client.chat_postMessage(channel=channel_id, text="card", blocks=[ACK_BUTTON])
    await client.chat_postMessage(channel=channel_id, text="reply", thread_ts=card["ts"])
    await client.chat_update(channel=channel_id, ts=card["ts"], text="card v2")
    await client.pins_add(channel=channel_id, timestamp=card["ts"])
    async with httpx.AsyncClient(base_url=slack_emulator.url) as http:
        calls = (await http.get("/_emulator/calls")).json()["calls"]
        channels = (await http.get("/_emulator/channels")).json()["channels"]
        messages = (await http.get(f"/_emulator/channels/{channel_id}/messages")).json()["messages"]
        assert (await http.get("/_emulator/channels/C0NOPE/messages")).status_code == 404
        assert (await http.post("/_emulator/reset")).json() == {"ok": True}
    assert [c["method"] for c in calls] == [
        "conversations.create",
        "chat.postMessage",
        "chat.postMessage",
        "chat.update",
        "pins.add",
    ]
    assert calls[0]["args"] == {"name": "inc-observe"} and calls[0]["status"] == 200
    assert "inc-observe" in [c["name"] for c in channels]
    assert len(messages) == 1
    assert messages[0]["text"] == "card v2" and messages[0]["edits"][0]["text"] == "card"
    assert messages[0]["pinned"]["pinned_by"] == BOT_USER_ID
    assert [r["text"] for r in messages[0]["replies"]] == ["reply"]
    assert slack_workspace.channel_by_name("inc-observe") is None and slack_workspace.calls == []


async def test_message_ts_are_unique_and_increasing_on_a_frozen_clock(clock: ManualClock) -> None:
    workspace = Workspace(SLACK_TEST_TOKEN, SLACK_TEST_SIGNING_SECRET, clock=clock, rate_limit_scale=None)
    async with EmulatorServer(workspace) as server:
        client = client_for(server)
        stamps = [(await client.chat_postMessage(channel="C0OPSALERTS", text="x"))["ts"] for _ in range(5)]
    assert stamps == sorted(set(stamps), key=float)
    assert stamps[0] == "1763900000.000000" and stamps[1] == "1763900000.000001"


def test_thread_server_serves_sync_clients() -> None:
    workspace = Workspace(SLACK_TEST_TOKEN, SLACK_TEST_SIGNING_SECRET)
    server = EmulatorServer(workspace)
    server.start_in_thread()
    try:
        client = WebClient(token=SLACK_TEST_TOKEN, base_url=server.api_url)
        assert client.auth_test()["user_id"] == BOT_USER_ID
        assert client.conversations_create(name="from-a-thread")["ok"]
    finally:
        server.stop_thread()
    assert workspace.channel_by_name("from-a-thread") is not None
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/_emulator/calls")


def _as(workspace: Workspace, host: str) -> httpx.AsyncClient:
    """A client of the emulator app whose peer address is `host` (the address uvicorn would put in the scope)."""
    transport = httpx.ASGITransport(app=create_app(workspace), client=(host, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080")  # a Host naming this machine


@pytest.mark.parametrize("host", ["10.1.2.3", "203.0.113.7", "::ffff:10.0.0.1", "2001:db8::1", "localhost-ish"])
async def test_only_loopback_clients_are_served(slack_workspace: Workspace, host: str) -> None:
    async with _as(slack_workspace, host) as http:
        for method, path in [
            ("GET", "/_emulator/channels"),
            ("POST", "/_emulator/send/command"),
            ("POST", "/_emulator/config"),
            ("POST", "/_emulator/reset"),
            ("POST", "/api/auth.test"),
        ]:
            r = await http.request(method, path, headers={"Authorization": f"Bearer {SLACK_TEST_TOKEN}"})
            assert r.status_code == 403, (path, r.text)
            assert r.json()["error"] == "loopback_only"
    assert slack_workspace.calls == []


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
async def test_loopback_clients_are_served(slack_workspace: Workspace, host: str) -> None:
    async with _as(slack_workspace, host) as http:
        assert (await http.get("/_emulator/channels")).status_code == 200
        r = await http.post("/api/auth.test", headers={"Authorization": f"Bearer {SLACK_TEST_TOKEN}"})
        assert r.json()["ok"] is True


async def test_events_url_can_point_at_the_bot_alone() -> None:
    bot = "http://127.0.0.1:8080/slack/events"
    workspace = Workspace(SLACK_TEST_TOKEN, SLACK_TEST_SIGNING_SECRET, events_url=bot)
    async with _as(workspace, "127.0.0.1") as http:
        for url in ("http://127.0.0.1:6379/", "http://169.254.169.254/latest/meta-data/", "gopher://x", 7, ["x"]):
            r = await http.post("/_emulator/config", json={"events_url": url, "rate_limit_scale": 0})
            assert r.status_code == 400 and bot in r.json()["detail"], r.text
        assert workspace.events_url == bot and workspace.rate_limit_scale == 1.0, "a refused change changes nothing"
        assert (await http.post("/_emulator/config", json={"events_url": None})).json()["events_url"] is None
        assert (await http.post("/_emulator/config", json={"events_url": bot})).json()["events_url"] == bot
    unset = Workspace(SLACK_TEST_TOKEN, SLACK_TEST_SIGNING_SECRET)
    async with _as(unset, "127.0.0.1") as http:
        r = await http.post("/_emulator/config", json={"events_url": bot})
        assert r.status_code == 400 and "none set" in r.json()["detail"]
