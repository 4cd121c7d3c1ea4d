"""The emulator's Socket Mode, driven by slack_sdk's own SocketModeClient (aiohttp) and a raw websockets client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio
import websockets
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from integrations.local_workspace import APP_ID, GENERAL_ID, EmulatorServer, Workspace
from tests.servers.slack_emulator import SLACK_TEST_APP_TOKEN, SLACK_TEST_TOKEN

Listener = Callable[[SocketModeClient, SocketModeRequest], Awaitable[None]]


async def ack(client: SocketModeClient, req: SocketModeRequest, payload: dict | None = None) -> None:
    await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id, payload=payload))


@pytest_asyncio.fixture
async def connect(socket_emulator: EmulatorServer) -> AsyncIterator[Callable[[Listener], Awaitable[SocketModeClient]]]:
    """Connect slack_sdk's SocketModeClient to the emulator with a request listener; closed afterwards."""
    clients: list[SocketModeClient] = []

    async def make(listener: Listener) -> SocketModeClient:
        web = AsyncWebClient(token=SLACK_TEST_TOKEN, base_url=socket_emulator.api_url)
        client = SocketModeClient(app_token=SLACK_TEST_APP_TOKEN, web_client=web, ping_interval=5)
        client.socket_mode_request_listeners.append(listener)
        clients.append(client)
        await client.connect()
        await socket_emulator.workspace.sockets.wait_for_connection()
        return client

    yield make
    for client in clients:
        await client.close()


async def test_connections_open_wants_the_app_level_token(socket_emulator):
    api = AsyncWebClient(token=SLACK_TEST_TOKEN, base_url=socket_emulator.api_url)
    url = (await api.apps_connections_open(app_token=SLACK_TEST_APP_TOKEN))["url"]
    assert url.startswith(f"ws://127.0.0.1:{socket_emulator.port}/link/?ticket=") and f"app_id={APP_ID}" in url
    errors = {}
    for name, token in {"bot": SLACK_TEST_TOKEN, "unknown": "xapp-1-A0LOCAL-1-nope"}.items():
        with pytest.raises(SlackApiError) as refused:
            await api.apps_connections_open(app_token=token)
        errors[name] = refused.value.response["error"]
    assert errors == {"bot": "not_allowed_token_type", "unknown": "invalid_auth"}
    with pytest.raises(SlackApiError) as wrong_kind:
        await AsyncWebClient(token=SLACK_TEST_APP_TOKEN, base_url=socket_emulator.api_url).auth_test()
    assert wrong_kind.value.response["error"] == "not_allowed_token_type"
    assert (await api.auth_test())["ok"] is True


async def test_http_mode_workspace_has_no_socket_mode(slack_emulator):
    api = AsyncWebClient(token=SLACK_TEST_TOKEN, base_url=slack_emulator.api_url)
    with pytest.raises(SlackApiError) as refused:
        await api.apps_connections_open(app_token=SLACK_TEST_APP_TOKEN)
    assert refused.value.response["error"] == "invalid_auth"


async def test_hello_then_a_ticket_works_once(socket_emulator):
    api = AsyncWebClient(token=SLACK_TEST_TOKEN, base_url=socket_emulator.api_url)
    url = (await api.apps_connections_open(app_token=SLACK_TEST_APP_TOKEN))["url"]
    async with websockets.connect(url) as first:
        hello = json.loads(await first.recv())
        assert hello["type"] == "hello" and hello["num_connections"] == 1
        assert hello["connection_info"] == {"app_id": APP_ID}
        assert hello["debug_info"]["approximate_connection_time"] > 0 and hello["debug_info"]["host"]
        with pytest.raises(websockets.InvalidStatus) as reused:
            await websockets.connect(url)
        assert reused.value.response.status_code == 403
        second_url = (await api.apps_connections_open(app_token=SLACK_TEST_APP_TOKEN))["url"]
        async with websockets.connect(second_url) as second:
            assert json.loads(await second.recv())["num_connections"] == 2
    with pytest.raises(websockets.InvalidStatus):
        await websockets.connect(url.replace("ticket=", "ticket=forged"))


async def test_more_sockets_than_slack_allows_are_turned_away(socket_emulator):
    socket_emulator.workspace.sockets.max_connections = 1
    api = AsyncWebClient(token=SLACK_TEST_TOKEN, base_url=socket_emulator.api_url)
    urls = [(await api.apps_connections_open(app_token=SLACK_TEST_APP_TOKEN))["url"] for _ in range(2)]
    async with websockets.connect(urls[0]) as first:
        assert json.loads(await first.recv())["type"] == "hello"
        async with websockets.connect(urls[1]) as extra:
            assert json.loads(await extra.recv()) == {
                "type": "disconnect",
                "reason": "too_many_websockets",
                "debug_info": {"host": "applink-local"},
            }
            with pytest.raises(websockets.ConnectionClosed):
                await extra.recv()


async def test_command_click_and_event_arrive_as_slack_envelopes(socket_workspace, connect):
    received: list[SocketModeRequest] = []

    async def listener(client, req):
        received.append(req)
        await ack(client, req, {"text": f"got {req.type}"} if req.accepts_response_payload else None)

    await connect(listener)
    reply = await socket_workspace.send_command("U0ALICE", GENERAL_ID, "status")
    assert reply.status_code == 200 and reply.json() == {"text": "got slash_commands"}
    message = socket_workspace.post(socket_workspace.channel(GENERAL_ID), "U0BOT", "card", blocks=[BUTTON])
    click = await socket_workspace.click("U0BOB", GENERAL_ID, message.ts, "incident-ack", value="INC-1")
    assert click.status_code == 200 and click.content == b""
    event = await socket_workspace.react("U0CAROL", GENERAL_ID, message.ts, "pushpin")
    assert event.status_code == 200

    command, interactive, events_api = received
    assert command.type == "slash_commands" and command.accepts_response_payload is True
    assert command.payload["command"] == "/incident" and command.payload["text"] == "status"
    assert command.payload["response_url"] and command.payload["trigger_id"]
    assert interactive.type == "interactive" and interactive.accepts_response_payload is False
    assert interactive.payload["type"] == "block_actions"
    assert interactive.payload["actions"][0]["action_id"] == "incident-ack"
    assert events_api.type == "events_api" and (events_api.retry_attempt, events_api.retry_reason) == (0, "")
    assert events_api.payload["type"] == "event_callback" and events_api.payload["event"]["reaction"] == "pushpin"
    assert len({r.envelope_id for r in received}) == 3
    envelopes = socket_workspace.sockets.envelopes
    assert [e.acked for e in envelopes] == [True, True, True]
    assert envelopes[0].response == {"text": "got slash_commands"}
    assert [d.transport for d in socket_workspace.deliveries] == ["socket"] * 3


BUTTON = {
    "type": "actions",
    "block_id": "inc_actions",
    "elements": [
        {"type": "button", "action_id": "incident-ack", "text": {"type": "plain_text", "text": "Ack"}, "value": "INC-1"}
    ],
}


async def test_unacked_event_is_redelivered_with_retry_attempt(socket_workspace, connect):
    socket_workspace.sockets.ack_timeout = 0.3
    seen: list[SocketModeRequest] = []

    async def ack_only_the_retry(client, req):
        seen.append(req)
        if req.retry_attempt:
            await ack(client, req)

    await connect(ack_only_the_retry)
    event = {"type": "reaction_added", "user": "U0BOB", "reaction": "eyes", "item": {"type": "message"}}
    response = await socket_workspace.send_event(event, event_id="Ev0SOCKET1")
    assert response.status_code == 200
    assert [(r.retry_attempt, r.retry_reason) for r in seen] == [(0, ""), (1, "timeout")]
    assert {r.payload["event_id"] for r in seen} == {"Ev0SOCKET1"}
    (envelope,) = socket_workspace.sockets.envelopes
    assert envelope.acked and len(envelope.attempts) == 2


async def test_unacked_command_is_not_retried_and_is_recorded(socket_workspace, connect):
    socket_workspace.sockets.ack_timeout = 0.3
    seen: list[SocketModeRequest] = []

    async def never_ack(client, req):
        seen.append(req)

    await connect(never_ack)
    response = await socket_workspace.send_command("U0ALICE", GENERAL_ID, "status")
    assert response.status_code == 504 and response.json()["error"] == "not_acked"
    (envelope,) = socket_workspace.sockets.envelopes
    assert not envelope.acked and len(envelope.attempts) == 1 and len(seen) == 1
    assert socket_workspace.deliveries[-1].status == 504


async def test_events_give_up_after_three_retries(socket_workspace, connect):
    socket_workspace.sockets.ack_timeout = 0.1
    seen: list[int | None] = []

    async def never_ack(client, req):
        seen.append(req.retry_attempt)

    await connect(never_ack)
    response = await socket_workspace.send_event({"type": "app_mention", "text": "hi"})
    assert response.status_code == 504
    assert seen == [0, 1, 2, 3]


async def test_no_socket_open_is_a_delivery_failure(socket_workspace, socket_emulator):
    socket_workspace.sockets.ack_timeout = 0.1
    with pytest.raises(RuntimeError, match="no Socket Mode connection"):
        await socket_workspace.send_command("U0ALICE", GENERAL_ID, "status")
    assert socket_workspace.sockets.envelopes[0].attempts == []


@pytest.mark.parametrize("reason", ["refresh_requested", "warning", "link_disabled"])
async def test_disconnect_message_makes_the_sdk_reconnect(socket_workspace, connect, reason):
    async def ack_all(client, req):
        await ack(client, req)

    await connect(ack_all)
    hub = socket_workspace.sockets
    old = hub.open_connections()[0]
    assert await hub.disconnect(reason) == 1
    assert old.sent[-1] == {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-local"}}
    new = await hub.wait_for_connection(newer_than=old)
    await wait_until(lambda: old.closed_at is not None)  # the client replaced it and closed it itself
    assert (await socket_workspace.send_command("U0ALICE", GENERAL_ID, "status")).status_code == 200
    assert hub.envelopes[-1].attempts == [new.id]


async def test_dropped_socket_is_reconnected_by_the_sdk(socket_workspace, connect):
    async def ack_all(client, req):
        await ack(client, req)

    await connect(ack_all)
    hub = socket_workspace.sockets
    old = hub.open_connections()[0]
    assert await hub.drop() == 1
    new = await hub.wait_for_connection(newer_than=old)
    assert (await socket_workspace.send_command("U0ALICE", GENERAL_ID, "status")).status_code == 200
    assert hub.envelopes[-1].attempts == [new.id]
    assert [c.is_open for c in hub.connections] == [False, True]
    assert len(socket_workspace.calls_to("apps.connections.open")) == 2


async def test_emulator_in_a_thread_delivers_to_a_client_on_another_loop():
    workspace = Workspace(token=SLACK_TEST_TOKEN, app_token=SLACK_TEST_APP_TOKEN, rate_limit_scale=None)
    with EmulatorServer(workspace) as server:
        web = AsyncWebClient(token=SLACK_TEST_TOKEN, base_url=server.api_url)
        client = SocketModeClient(app_token=SLACK_TEST_APP_TOKEN, web_client=web, ping_interval=5)

        async def reply(client, req):
            await ack(client, req, {"text": "from another loop"})

        client.socket_mode_request_listeners.append(reply)
        try:
            await client.connect()
            await workspace.sockets.wait_for_connection()
            response = await workspace.send_command("U0ALICE", GENERAL_ID, "status")
            assert response.json() == {"text": "from another loop"}
            assert await workspace.sockets.drop() == 1
            await workspace.sockets.wait_for_connection(newer_than=workspace.sockets.connections[0])
        finally:
            await client.close()


async def wait_until(check: Callable[[], bool], seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not check():
            await asyncio.sleep(0.01)
