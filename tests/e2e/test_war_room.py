"""Whole flows through the real ASGI app: signed Slack requests in, real slack_sdk calls to the emulator out."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from urllib.parse import urlencode

import pytest
from slack_sdk.models.blocks import Block

from integrations.local_workspace import BOT_USER_ID, GENERAL_ID
from tests.e2e.harness import SIGNING_SECRET, eventually


def room_of(ws, ref):
    """The war-room channel of an incident (found by its pinned card's block id)."""
    for ch in ws.channels():
        if not ch.name.startswith("inc-"):
            continue
        for m in ws.messages(ch.id):
            if any(b.get("block_id") == f"card:{ref}" for b in (m.blocks or [])):
                return ch
    return None


def card_of(ws, channel_id, ref):
    return next(m for m in ws.messages(channel_id) if any(b.get("block_id") == f"card:{ref}" for b in m.blocks or []))


def action_ids(message):
    return [e.get("action_id") for b in message.blocks or [] if b["type"] == "actions" for e in b["elements"]]


async def declare(bot, text="declare SEV2 Checkout is failing", user="U0ALICE"):
    resp = await bot.workspace.send_command(user, GENERAL_ID, text)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    ref = body["text"].split("*")[1]
    assert ref.startswith("INC-"), body
    room = await eventually(lambda: room_of(bot.workspace, ref))
    await bot.idle()
    return ref, room


async def test_declare_by_command_opens_a_real_war_room(bot):
    ws = bot.workspace
    ref, room = await declare(bot)
    day = ref.split("-")[1]
    assert room.name == f"inc-{day}-checkout-is-failing"
    assert room.topic["value"].startswith("SEV2 · declared")
    assert {"U0ALICE", "U0BOB", BOT_USER_ID} <= set(room.members)
    card = card_of(ws, room.id, ref)
    assert card.pin is not None, "the triage card is pinned"
    for b in card.blocks:
        Block.parse(b).validate_json()  # Block Kit validation by slack_sdk's own models
    assert len(card.blocks) <= 50
    assert action_ids(card) == ["incident-ack", "incident-lead", "incident-severity", "incident-resolve"]
    ann = ws.channel_by_name("incidents")
    assert ann is not None
    assert [m for m in ws.messages(ann.id) if ref in m.text and room.id in m.text]
    async with bot.http as http:
        data = (await http.get(f"/api/v1/incidents/{ref}")).json()
    assert data["channel_id"] == room.id and data["channel_name"] == room.name
    assert data["severity"] == "SEV2" and data["status"] == "declared"
    assert [e["kind"] for e in data["timeline"]] == ["incident.declared", "room.opened"]


async def test_declare_by_modal(bot):
    ws = bot.workspace
    resp = await ws.send_command("U0CAROL", GENERAL_ID, "declare")
    assert resp.status_code == 200
    view = await eventually(lambda: next(iter(ws.views.values()), None))
    assert view.payload["callback_id"] == "incident-declare"
    resp = await ws.submit_view(
        "U0CAROL",
        view.id,
        {
            "title": {"type": "plain_text_input", "value": "Payments timing out"},
            "severity": {"type": "static_select", "selected_option": {"value": "SEV1"}},
            "description": {"type": "plain_text_input", "value": "p99 at 8s since 09:10"},
        },
    )
    assert resp.status_code == 200
    room = await eventually(lambda: next((c for c in ws.channels() if "payments-timing-out" in c.name), None))
    await bot.idle()
    async with bot.http as http:
        incs = (await http.get("/api/v1/incidents")).json()["incidents"]
    inc = next(i for i in incs if i["channel_id"] == room.id)
    assert inc["severity"] == "SEV1" and inc["human_control"] is True
    detail = (await bot.http.get(f"/api/v1/incidents/{inc['ref']}")).json()
    assert any(e["text"] == "p99 at 8s since 09:10" for e in detail["timeline"])


async def test_modal_without_title_returns_field_error(bot):
    ws = bot.workspace
    await ws.send_command("U0CAROL", GENERAL_ID, "declare")
    view = await eventually(lambda: next(iter(ws.views.values()), None))
    resp = await ws.submit_view("U0CAROL", view.id, {"title": {"type": "plain_text_input", "value": "  "}})
    assert resp.json()["response_action"] == "errors"
    assert "title" in resp.json()["errors"]


async def api_incident(bot, ref):
    return (await bot.http.get(f"/api/v1/incidents/{ref}")).json()


async def test_buttons_update_the_card_in_place(bot):
    ws = bot.workspace
    ref, room = await declare(bot)
    card = card_of(ws, room.id, ref)
    await ws.click("U0BOB", room.id, card.ts, "incident-ack", value=ref)
    await eventually(lambda: "incident-ack" not in action_ids(card_of(ws, room.id, ref)))
    await ws.click("U0BOB", room.id, card.ts, "incident-lead", value=ref)
    await eventually(lambda: "incident-lead" not in action_ids(card_of(ws, room.id, ref)))
    await ws.click("U0BOB", room.id, card.ts, "incident-severity", selected_option={"value": f"{ref}:SEV1"})
    await eventually(lambda: "*SEV1*" in str(card_of(ws, room.id, ref).blocks[1]))
    await bot.idle()
    card = card_of(ws, room.id, ref)
    assert card.edits, "the card was edited with chat.update"
    text = str(card.blocks)
    assert "SEV1" in text and "<@U0BOB>" in text
    assert (
        len([m for m in ws.messages(room.id) if any(b.get("block_id") == f"card:{ref}" for b in m.blocks or [])]) == 1
    )
    lines = [m.text for m in ws.messages(room.id)]
    assert any("acknowledged" in t for t in lines)
    assert any("SEV2 → SEV1" in t for t in lines)
    assert ws.channel(room.id).topic["value"].startswith("SEV1 · acknowledged · IC <@U0BOB>")
    await ws.click("U0BOB", room.id, card.ts, "incident-resolve", value=ref)
    detail = await eventually(lambda: _resolved(bot, ref))
    assert detail["resolved_at"]
    await eventually(lambda: action_ids(card_of(ws, room.id, ref)) == [])


async def _resolved(bot, ref):
    detail = await api_incident(bot, ref)
    return detail if detail["status"] == "resolved" else None


async def test_second_ack_changes_nothing_and_says_so(bot):
    ws = bot.workspace
    ref, room = await declare(bot)
    card = card_of(ws, room.id, ref)
    await ws.click("U0BOB", room.id, card.ts, "incident-ack", value=ref)
    await eventually(lambda: _acked(bot, ref))
    await ws.click("U0CAROL", room.id, card.ts, "incident-ack", value=ref)
    await eventually(lambda: [e for e in ws.ephemeral if e.user == "U0CAROL" and "already acknowledged" in e.text])
    detail = (await bot.http.get(f"/api/v1/incidents/{ref}")).json()
    assert [e["kind"] for e in detail["timeline"]].count("incident.acknowledged") == 1


async def _acked(bot, ref):
    return (await api_incident(bot, ref))["acknowledged_at"]


async def test_click_on_resolved_card_is_refused_ephemerally(bot):
    ws = bot.workspace
    ref, room = await declare(bot)
    stale = card_of(ws, room.id, ref)  # the card as it was, with its buttons
    resp = await ws.send_command("U0ALICE", room.id, "resolve rolled back")
    assert "resolved" in resp.json()["text"]
    await bot.idle()
    await eventually(lambda: action_ids(card_of(ws, room.id, ref)) == [])
    # The card lost its buttons; a client still showing the old card sends the click anyway.
    resp = await ws.deliver(
        "block_actions",
        _block_actions_body(ref, room.id, stale.ts, "U0BOB", "incident-ack", ws),
        "application/x-www-form-urlencoded",
    )
    assert resp.status_code == 200
    note = await eventually(lambda: [e for e in ws.ephemeral if e.user == "U0BOB"])
    assert "resolved" in note[-1].text
    detail = (await bot.http.get(f"/api/v1/incidents/{ref}")).json()
    assert detail["acknowledged_at"] is None


def _block_actions_body(ref, channel, ts, user, action_id, ws):
    import json

    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": "T0LOCAL"},
        "api_app_id": "A0WARROOM",
        "team": {"id": "T0LOCAL", "domain": "local"},
        "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
        "trigger_id": ws.new_trigger_id(user),
        "channel": {"id": channel, "name": "x"},
        "message": {"ts": ts, "type": "message", "user": BOT_USER_ID, "text": ""},
        "response_url": ws.new_response_url(user, channel, ts),
        "actions": [
            {
                "action_id": action_id,
                "block_id": f"card-actions:{ref}",
                "type": "button",
                "value": ref,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


async def test_roles_notes_timeline_status_and_list(bot):
    ws = bot.workspace
    ref, room = await declare(bot)
    r = await ws.send_command("U0ALICE", room.id, "role scribe <@U0CAROL|carol>")
    assert "scribe" in r.json()["text"]
    r = await ws.send_command("U0ALICE", room.id, "note restarted api-7, no change")
    assert "note added" in r.json()["text"]
    r = await ws.send_command("U0ALICE", room.id, "update Rolled back 1.42; errors falling")
    assert "status update added" in r.json()["text"]
    r = await ws.send_command("U0ALICE", GENERAL_ID, f"lead {ref}")
    assert "commander" in r.json()["text"]
    await bot.idle()
    r = await ws.send_command("U0ALICE", room.id, "timeline")
    text = r.json()["text"]
    assert "restarted api-7" in text and "Rolled back 1.42" in text and "scribe" in text
    r = await ws.send_command("U0ALICE", room.id, "status")
    assert ref in r.json()["text"] and "scribe: <@U0CAROL>" in r.json()["text"]
    r = await ws.send_command("U0ALICE", GENERAL_ID, "list")
    assert ref in r.json()["text"]
    r = await ws.send_command("U0ALICE", GENERAL_ID, "ack")
    assert "not a war room" in r.json()["text"]
    texts = [m.text for m in ws.messages(room.id)]
    assert any("restarted api-7" in t for t in texts)
    assert any("Status update" in t for t in texts)


async def test_pushpin_reaction_and_pin_add_to_timeline_once(bot):
    ws = bot.workspace
    ref, room = await declare(bot)
    await ws.post_as_user("U0CAROL", room.id, "db primary failed over at 09:12")
    ts = [m for m in ws.messages(room.id) if m.user == "U0CAROL"][-1].ts
    r1 = await ws.react("U0ALICE", room.id, ts, "pushpin")
    r2 = await ws.pin("U0BOB", room.id, ts)
    assert r1.status_code == 200 and r2.status_code == 200
    pinned = await eventually(lambda: pinned_entries(bot, ref))
    await bot.idle()
    await asyncio.sleep(0.2)  # give a wrongly duplicated entry the chance to appear
    pinned = await pinned_entries(bot, ref)
    assert len(pinned) == 1
    assert pinned[0]["text"] == "db primary failed over at 09:12"


async def pinned_entries(bot, ref):
    detail = (await bot.http.get(f"/api/v1/incidents/{ref}")).json()
    return [e for e in detail["timeline"] if e["kind"] == "incident.message_pinned"]


async def test_event_retries_are_no_ops(bot):
    ws = bot.workspace
    ref, room = await declare(bot)
    await ws.post_as_user("U0CAROL", room.id, "the smoking gun")
    ts = [m for m in ws.messages(room.id) if m.user == "U0CAROL"][-1].ts
    event = {
        "type": "reaction_added",
        "user": "U0ALICE",
        "reaction": "pushpin",
        "item": {"type": "message", "channel": room.id, "ts": ts},
        "item_user": "U0CAROL",
        "event_ts": f"{time.time():.6f}",
    }
    await ws.send_event(event, event_id="Ev0RETRY1")
    await eventually(lambda: pinned_entries(bot, ref))
    await ws.send_event(event, event_id="Ev0RETRY1", retry_num=1)
    await asyncio.sleep(0.2)
    await bot.idle()
    assert len(await pinned_entries(bot, ref)) == 1


async def test_duplicate_and_concurrent_declares_make_one_channel(bot):
    ws = bot.workspace
    resp = await ws.send_command("U0DAVE", GENERAL_ID, "declare SEV2 Search is down")
    assert resp.status_code == 200
    body = ws.deliveries[-1].body.encode()
    # Slack's retry of the very same request, twice at once.
    retries = await asyncio.gather(
        ws.deliver("command", body, "application/x-www-form-urlencoded", retry_num=1),
        ws.deliver("command", body, "application/x-www-form-urlencoded", retry_num=2),
    )
    assert all(r.status_code == 200 for r in retries)
    # A double submit: two separate commands with the same title at the same moment.
    doubles = await asyncio.gather(
        ws.send_command("U0DAVE", GENERAL_ID, "declare SEV2 Search is down"),
        ws.send_command("U0DAVE", GENERAL_ID, "declare SEV2 Search is down"),
    )
    assert all(r.status_code == 200 for r in doubles)
    await eventually(lambda: [c for c in ws.channels() if "search-is-down" in c.name])
    await bot.idle()
    rooms = [c for c in ws.channels() if "search-is-down" in c.name]
    assert len(rooms) == 1
    assert len(ws.calls_to("conversations.create")) == 2  # the room and #incidents
    incs = (await bot.http.get("/api/v1/incidents")).json()["incidents"]
    assert len(incs) == 1


async def test_rate_limit_from_slack_is_waited_out(bot):
    ws = bot.workspace
    ws.inject_fault("conversations.create", status=429, retry_after=1, count=1)
    ref, room = await declare(bot, text="declare SEV3 Rate limited room")
    creates = ws.calls_to("conversations.create")
    assert [c.status for c in creates][:2] == [429, 200]
    assert room.name.endswith("rate-limited-room")
    metrics = (await bot.http.get("/metrics")).text
    assert 'warroom_slack_rate_limited_total{method="conversations.create"} 1.0' in metrics


async def test_slack_503_delays_deliveries_and_loses_none(bot):
    ws = bot.workspace
    ws.inject_fault("chat.postMessage", status=503, count=6)
    ref, room = await declare(bot, text="declare SEV3 Flaky slack")
    await bot.idle()
    assert card_of(ws, room.id, ref).pin is not None
    ann = ws.channel_by_name("incidents")
    assert len([m for m in ws.messages(ann.id) if ref in m.text]) == 1
    assert [c.status for c in ws.calls_to("chat.postMessage")].count(503) == 6


def sign(body: bytes, ts: int, secret: str = SIGNING_SECRET) -> str:
    base = f"v0:{ts}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("case", ["bad-signature", "stale-timestamp", "no-signature"])
async def test_bad_or_stale_signature_is_401_and_stores_nothing(bot, case):
    body = urlencode(
        {
            "command": "/incident",
            "text": "declare SEV1 Forged",
            "user_id": "U0ALICE",
            "channel_id": GENERAL_ID,
            "team_id": "T0LOCAL",
            "trigger_id": "1.2.3",
            "response_url": "http://127.0.0.1:9/x",
        }
    ).encode()
    ts = int(time.time())
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if case == "bad-signature":
        headers |= {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": sign(body, ts, "wrong-secret")}
    elif case == "stale-timestamp":
        old = ts - 600
        headers |= {"X-Slack-Request-Timestamp": str(old), "X-Slack-Signature": sign(body, old)}
    async with bot.http as http:
        resp = await http.post("/slack/events", content=body, headers=headers)
        assert resp.status_code == 401
        assert (await http.get("/api/v1/incidents")).json()["incidents"] == []


async def test_unknown_subcommand_gets_ephemeral_help(bot):
    resp = await bot.workspace.send_command("U0ALICE", GENERAL_ID, "frobnicate now")
    body = resp.json()
    assert body.get("response_type") == "ephemeral"
    assert "unknown subcommand" in body["text"] and "/incident declare" in body["text"]


async def test_bad_severity_names_valid_values(bot):
    ref, room = await declare(bot)
    resp = await bot.workspace.send_command("U0ALICE", room.id, "sev SEV9")
    text = resp.json()["text"]
    assert resp.json().get("response_type") == "ephemeral"
    for s in ("SEV0", "SEV1", "SEV2", "SEV3", "SEV4"):
        assert s in text
    assert (await bot.http.get(f"/api/v1/incidents/{ref}")).json()["severity"] == "SEV2"


async def test_a_command_outside_a_war_room_asks_for_the_reference(bot):
    resp = await bot.workspace.send_command("U0ALICE", GENERAL_ID, "postmortem")
    assert "not a war room" in resp.json()["text"] and "postmortem INC-" in resp.json()["text"]


async def test_api_contract_and_errors(bot):
    ref, _ = await declare(bot)
    async with bot.http as http:
        r = await http.get("/api/v1/incidents/INC-20000101-999")
        assert r.status_code == 404 and r.json()["error"] == "not_found" and r.json()["detail"]
        r = await http.get("/api/v1/incidents?status=bogus")
        assert r.status_code == 400 and r.json()["error"] == "bad_request"
        r = await http.get("/api/v1/incidents?limit=501")
        assert r.status_code == 400
        inc = (await http.get("/api/v1/incidents?status=open&limit=5")).json()["incidents"][0]
        for key in (
            "ref",
            "title",
            "severity",
            "status",
            "channel_id",
            "channel_name",
            "commander",
            "services",
            "alert_count",
            "declared_at",
            "acknowledged_at",
            "resolved_at",
            "jira_key",
            "human_control",
            "group_key",
            "alertnames",
        ):
            assert key in inc
        assert inc["declared_at"].endswith("Z")
        assert (await http.get("/api/v1/incidents?status=resolved")).json()["incidents"] == []
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        ready = await http.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        metrics = (await http.get("/metrics")).text
        assert 'warroom_incidents{severity="SEV2",status="declared"} 1.0' in metrics
        assert "warroom_outbox_depth 0.0" in metrics


async def test_update_without_text_opens_a_form(bot):
    ws = bot.workspace
    ref, room = await declare(bot)
    await ws.send_command("U0ALICE", room.id, "update")
    view = await eventually(
        lambda: next((v for v in ws.views.values() if v.payload.get("callback_id") == "incident-update"), None)
    )
    assert view.payload["private_metadata"] == ref
    await ws.submit_view(
        "U0ALICE", view.id, {"update": {"type": "plain_text_input", "value": "Mitigated; next update 10:30"}}
    )

    async def posted():
        return [e for e in (await api_incident(bot, ref))["timeline"] if e["kind"] == "incident.status_update"]

    entries = await eventually(posted)
    assert entries[0]["text"] == "Mitigated; next update 10:30"
