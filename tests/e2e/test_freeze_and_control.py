"""Human control, the deploy freeze and who may do what, through the real app: signed Slack requests in, the
emulator's answers out (its usergroups.users.list too), `GET /api/v1/freeze` over HTTP."""

from __future__ import annotations

import pytest_asyncio

from bot.config import parse_config
from integrations.local_workspace import GENERAL_ID
from tests.e2e.conftest import CONFIG
from tests.e2e.harness import bot_settings, eventually, start_bot
from tests.e2e.test_war_room import action_ids, card_of, declare

APPROVERS = (
    CONFIG
    + """
approvers:
  usergroup: S0SRELEADS
"""
)


@pytest_asyncio.fixture
async def bot(tmp_path, slack_workspace, slack_emulator):
    slack_workspace.rate_limit_scale = None
    slack_workspace.add_usergroup("S0SRELEADS", "sre-leads", ["U0CAROL"])
    settings = bot_settings(f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}", slack_emulator.api_url)
    running = await start_bot(settings, slack_workspace, parse_config(APPROVERS))
    yield running
    await running.stop()


async def freeze(bot) -> dict:
    async with bot.http as http:
        resp = await http.get("/api/v1/freeze")
    assert resp.status_code == 200, resp.text
    return resp.json()


def notes(ws, user):
    return [e.text for e in ws.ephemeral if e.user == user]


async def test_the_freeze_api_follows_a_sev1_from_declare_to_resolve(bot):
    ws = bot.workspace
    assert await freeze(bot) == {"frozen": False, "incidents": [], "since": None}
    ref, room = await declare(bot, "declare SEV1 Payments are failing")
    async with bot.http as http:
        incident = (await http.get(f"/api/v1/incidents/{ref}")).json()
    assert incident["human_control"] is True and incident["frozen_since"] == incident["declared_at"]
    assert await freeze(bot) == {"frozen": True, "incidents": [ref], "since": incident["declared_at"]}
    shown = (await ws.send_command("U0DAVE", room.id, "status")).json()["text"]
    assert "Under human control" in shown and "Deploys frozen since" in shown
    assert "deploys frozen" in str(card_of(ws, room.id, ref).blocks)

    # Dave is neither commander nor approver: his resolve, his Resolve click and his release are refused,
    # each to him alone, with the rule; nothing changes.
    resp = await ws.send_command("U0DAVE", room.id, "resolve all good")
    assert resp.json()["response_type"] == "ephemeral"
    assert ":no_entry: Refused: only the commander or @S0SRELEADS may resolve a SEV1 incident" in resp.json()["text"]
    card = card_of(ws, room.id, ref)
    assert "incident-resolve" in action_ids(card)
    await ws.click("U0DAVE", room.id, card.ts, "incident-resolve", value=ref)
    await eventually(lambda: [t for t in notes(ws, "U0DAVE") if "may resolve a SEV1" in t and t.count("Refused") == 1])
    resp = await ws.send_command("U0DAVE", room.id, "release")
    assert "may release human control" in resp.json()["text"]
    resp = await ws.send_command("U0DAVE", room.id, "unfreeze")
    assert "may lift the deploy freeze of a SEV1 incident" in resp.json()["text"]
    assert (await freeze(bot))["frozen"] is True

    # Carol is in the approvers' user group (looked up in the workspace): she releases and resolves.
    resp = await ws.send_command("U0CAROL", room.id, "release")
    assert "no longer under human control" in resp.json()["text"]
    assert ws.calls_to("usergroups.users.list"), "the group's members come from Slack"
    resp = await ws.send_command("U0CAROL", room.id, "resolve rolled back")
    assert "resolved" in resp.json()["text"]
    assert await freeze(bot) == {"frozen": False, "incidents": [], "since": None}
    await bot.idle()
    async with bot.http as http:
        timeline = (await http.get(f"/api/v1/incidents/{ref}")).json()["timeline"]
    kinds = [e["kind"] for e in timeline]
    for kind in ("deploy.frozen", "incident.control_released", "incident.resolved", "deploy.unfrozen"):
        assert kind in kinds, kinds
    assert kinds.index("deploy.unfrozen") > kinds.index("incident.resolved")
    room_text = "\n".join(m.text for m in ws.messages(room.id))
    assert "froze deploys" in room_text and "lifted the deploy freeze" in room_text


async def test_freeze_and_unfreeze_by_hand_on_a_lesser_incident(bot):
    ws = bot.workspace
    ref, room = await declare(bot, "declare SEV3 Search is slow")
    assert (await freeze(bot))["frozen"] is False
    resp = await ws.send_command("U0DAVE", GENERAL_ID, f"freeze {ref} risky release week")
    assert f"deploys are frozen for {ref}" in resp.json()["text"]
    status = await freeze(bot)
    assert status["frozen"] is True and status["incidents"] == [ref] and status["since"]
    resp = await ws.send_command("U0DAVE", room.id, "unfreeze")
    assert "no longer freezes deploys" in resp.json()["text"], "a SEV3's freeze is anyone's to lift"
    assert (await freeze(bot))["frozen"] is False
