"""Socket Mode end to end: the bot with SLACK_APP_TOKEN, fed over the emulator's WebSocket.

The first two tests run `warroom serve` (the real CLI) as a subprocess; the last two run the bot in
process to look at its tasks and sessions after it stops.
"""

from __future__ import annotations

import asyncio
import signal
import time

import httpx
import pytest

from handlers.slack.socket_mode import SocketModeRefused
from integrations.local_workspace import GENERAL_ID, signed_headers
from tests.e2e.harness import SIGNING_SECRET, TOKEN, BotProcess, bot_settings, eventually, start_bot
from tests.e2e.serve import START_SECONDS
from tests.e2e.test_war_room import action_ids, card_of, room_of
from tests.servers.slack_emulator import SLACK_TEST_APP_TOKEN, SLACK_TEST_TOKEN

pytestmark = pytest.mark.slow


async def timeline(bot: BotProcess, ref: str) -> list[dict]:
    async with httpx.AsyncClient(base_url=bot.url) as c:
        return (await c.get(f"/api/v1/incidents/{ref}")).json()["timeline"]


def socket_bot(tmp_path, api_url: str, **env: str | None) -> BotProcess:
    """The bot in Socket Mode only: an app-level token and no signing secret."""
    settings = {"SLACK_APP_TOKEN": SLACK_TEST_APP_TOKEN, "SLACK_SIGNING_SECRET": None, **env}
    return BotProcess(tmp_path / "socket.db", api_url, 0, tmp_path / "bot.log", **settings)


async def test_socket_mode_declare_click_pin_and_reconnect(tmp_path, socket_workspace, socket_emulator):
    ws, hub = socket_workspace, socket_workspace.sockets
    bot = socket_bot(tmp_path, socket_emulator.api_url)
    await bot.start()
    try:
        first = await hub.wait_for_connection(seconds=START_SECONDS)
        assert first.sent[0]["type"] == "hello"

        # Declare with the slash command: its reply comes back as the ack's payload.
        resp = await ws.send_command("U0ALICE", GENERAL_ID, "declare SEV2 Checkout is failing")
        assert resp.status_code == 200, resp.text
        ref = resp.json()["text"].split("*")[1]
        assert ref.startswith("INC-")
        room = await eventually(lambda: room_of(ws, ref), timeout=30)
        card = await eventually(lambda: card_of(ws, room.id, ref), timeout=30)

        # A button on the card: block_actions in an `interactive` envelope.
        resp = await ws.click("U0BOB", room.id, card.ts, "incident-ack", value=ref)
        assert resp.status_code == 200, resp.text
        await eventually(lambda: "incident-ack" not in action_ids(card_of(ws, room.id, ref)), timeout=30)

        # A :pushpin: on a human's message: reaction_added in an `events_api` envelope, into the timeline.
        await ws.post_as_user("U0CAROL", room.id, "db primary failed over at 09:12")
        ts = [m for m in ws.messages(room.id) if m.user == "U0CAROL"][-1].ts
        resp = await ws.react("U0ALICE", room.id, ts, "pushpin")
        assert resp.status_code == 200, resp.text

        async def pinned() -> list[dict]:
            return [e for e in await timeline(bot, ref) if e["kind"] == "incident.message_pinned"]

        assert (await eventually(pinned, timeout=30))[0]["text"] == "db primary failed over at 09:12"

        # room.opened is recorded once the announcement is out, which may come after the ack and the pin
        # (the card's catch-up shows the ack before the declare delivery finishes): wait for it.
        async def recorded() -> set[str]:
            kinds = {e["kind"] for e in await timeline(bot, ref)}
            return kinds if {"incident.declared", "room.opened", "incident.acknowledged"} <= kinds else set()

        await eventually(recorded, timeout=30)

        # The socket drops (no disconnect message): the bot reconnects and the next command works.
        assert await hub.drop() == 1
        second = await hub.wait_for_connection(newer_than=first, seconds=30)
        resp = await ws.send_command("U0BOB", room.id, "note rolled back the deploy")
        assert resp.status_code == 200, resp.text
        await eventually(lambda: _has_note(bot, ref, "rolled back the deploy"), timeout=30)

        # Slack asks for a refresh: the bot opens a new connection and closes the old one itself.
        assert await hub.disconnect("refresh_requested") == 1
        third = await hub.wait_for_connection(newer_than=second, seconds=30)
        await eventually(lambda: second.closed_at is not None, timeout=30)
        resp = await ws.send_command("U0ALICE", room.id, "status")
        assert resp.status_code == 200 and ref in resp.text, resp.text
        assert [c for c in hub.connections if c.is_open] == [third]

        # Everything went over the socket, every envelope was acked, and HTTP stays shut without a signing secret.
        assert {e.type for e in hub.envelopes} == {"slash_commands", "interactive", "events_api"}
        assert all(e.acked for e in hub.envelopes), [e.to_dict() for e in hub.envelopes if not e.acked]
        assert {d.transport for d in ws.deliveries} == {"socket"}
        opens = ws.calls_to("apps.connections.open")
        assert len(opens) >= 3 and all(c.ok for c in opens), [c.to_dict() for c in opens]
        body = b"command=%2Fincident&text=status&user_id=U0ALICE&channel_id=C0GENERAL"
        headers = signed_headers(SIGNING_SECRET, int(time.time()), body, "application/x-www-form-urlencoded")
        async with httpx.AsyncClient(base_url=bot.url) as c:
            assert (await c.post("/slack/events", content=body, headers=headers)).status_code == 401
    finally:
        started = time.monotonic()
        code = await bot.terminate()
        stop_seconds = time.monotonic() - started
    log = (tmp_path / "bot.log").read_text()
    assert code in (0, -signal.SIGTERM), log  # uvicorn re-raises the SIGTERM it handled once it has shut down
    assert stop_seconds < 8, f"shutdown took {stop_seconds:.1f}s"
    assert "Slack Socket Mode" in log
    assert hub.open_connections() == [], "the bot closed its socket on the way out"
    for leak in ("Unclosed client session", "Task was destroyed but it is pending", "Traceback"):
        assert leak not in log, log
    assert SLACK_TEST_APP_TOKEN not in log and TOKEN not in log


async def _has_note(bot: BotProcess, ref: str, text: str) -> bool:
    return any(text in (e["text"] or "") for e in await timeline(bot, ref))


async def test_refused_app_token_stops_serve_with_a_clear_error(tmp_path, socket_workspace, socket_emulator):
    bot = socket_bot(tmp_path, socket_emulator.api_url, SLACK_APP_TOKEN="xapp-1-A0LOCAL-1-wrong-token")
    bot.start_process()
    try:
        code = await bot.exited(seconds=START_SECONDS)
    finally:
        await bot.terminate()
    log = (tmp_path / "bot.log").read_text()
    assert code != 0, log
    assert "SLACK_APP_TOKEN" in log and "invalid_auth" in log, log
    assert "xapp-1-A0LOCAL-1-wrong-token" not in log
    assert [c.error for c in socket_workspace.calls_to("apps.connections.open")] == ["invalid_auth"]


def socket_tasks() -> list[asyncio.Task]:
    """Unfinished tasks running slack_sdk, slack_bolt or aiohttp code."""
    found = []
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        path = code.co_filename if code is not None else ""
        if not task.done() and any(part in path for part in ("/slack_sdk/", "/slack_bolt/", "/aiohttp/")):
            found.append(task)
    return found


async def test_stop_leaves_no_task_or_session_behind(tmp_path, socket_workspace, socket_emulator):
    settings = bot_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'inproc.db'}",
        socket_emulator.api_url,
        SLACK_APP_TOKEN=SLACK_TEST_APP_TOKEN,
        SLACK_SIGNING_SECRET=None,
    )
    running = await start_bot(settings, socket_workspace)
    try:
        conn = await socket_workspace.sockets.wait_for_connection()
        client = running.container.socket.client
        resp = await socket_workspace.send_command("U0ALICE", GENERAL_ID, "declare SEV3 Leak check")
        assert resp.status_code == 200 and "INC-" in resp.text, resp.text
        await running.idle()
        assert socket_tasks(), "the client's tasks run while connected"
    finally:
        await running.stop()
    assert socket_tasks() == []  # checked at once: cancelled-but-unfinished tasks count as leaked
    assert client.aiohttp_client_session.closed and client.current_session.closed
    await eventually(lambda: conn.closed_at is not None)


async def test_refused_token_fails_start_and_cleans_up(tmp_path, socket_workspace, socket_emulator):
    settings = bot_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'refused.db'}",
        socket_emulator.api_url,
        SLACK_APP_TOKEN=SLACK_TEST_TOKEN,  # the bot token where the app-level token belongs
        SLACK_SIGNING_SECRET=None,
    )
    from bot.bootstrap import build
    from bot.db.migrate import upgrade

    await asyncio.to_thread(upgrade, settings.database_url)
    container = build(settings, poll_interval=0.05)
    with pytest.raises(SocketModeRefused, match="not_allowed_token_type") as refused:
        await asyncio.wait_for(container.start(), timeout=10)
    assert SLACK_TEST_TOKEN not in str(refused.value)
    assert socket_tasks() == []
    assert container.socket.client is None


async def test_stop_lets_an_envelope_being_answered_send_its_ack(tmp_path, socket_workspace, socket_emulator):
    ws = socket_workspace
    settings = bot_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'drain.db'}",
        socket_emulator.api_url,
        SLACK_APP_TOKEN=SLACK_TEST_APP_TOKEN,
        SLACK_SIGNING_SECRET=None,
    )
    running = await start_bot(settings, ws)
    stopped = False
    try:
        await ws.sockets.wait_for_connection()
        declared = await ws.send_command("U0ALICE", GENERAL_ID, "declare SEV3 Drain check")
        ref = declared.json()["text"].split("*")[1]
        room = await eventually(lambda: room_of(ws, ref))
        await running.idle()
        ws.hold("views.open")  # `/incident update` opens a modal: its handler is mid-flight, not yet acked
        answer = asyncio.create_task(ws.send_command("U0ALICE", room.id, "update"))
        await ws.wait_until_held("views.open")
        await running.stop()
        stopped = True
        reply = await answer
    finally:
        ws.release("views.open")
        if not stopped:
            await running.stop()
    assert reply.status_code == 200, reply.text  # acked before the socket closed
    assert ws.sockets.envelopes[-1].acked


async def test_slack_down_at_start_does_not_hold_up_the_bot(tmp_path, socket_workspace, socket_emulator):
    ws = socket_workspace
    settings = bot_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'down.db'}",
        socket_emulator.api_url,
        SLACK_APP_TOKEN=SLACK_TEST_APP_TOKEN,
        SLACK_SIGNING_SECRET=None,
    )
    from bot.bootstrap import build
    from bot.db.migrate import upgrade

    await asyncio.to_thread(upgrade, settings.database_url)
    container = build(settings, poll_interval=0.05)
    container.socket.connect_wait = 0.2
    container.socket.ping_interval = 0.1
    ws.inject_fault("apps.connections.open", status=503, count=10_000)
    try:
        await asyncio.wait_for(container.start(), timeout=10)  # serving alerts must not wait for Slack
        assert not container.socket.connected
        ws.clear_faults()
        await ws.sockets.wait_for_connection(seconds=10)  # it keeps trying, and gets through once Slack is back
        reply = await ws.send_command("U0ALICE", GENERAL_ID, "help")
        assert reply.status_code == 200 and "/incident" in reply.text, reply.text
    finally:
        await container.stop()
    assert socket_tasks() == []
