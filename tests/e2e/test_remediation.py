"""Remediation end to end: the real bot (uvicorn, real slack_sdk, the dry-run executor) against the Slack
emulator. A confirmed hypothesis posts an approval card in the war room; a signed Approve click from a
non-approver is refused ephemerally and runs nothing; the commander's click runs it (dry run), its output lands
in the card's thread and the card shows it ran; a later `/incident approve` (another approver) is refused; the
timeline in the API tells the whole story."""

from __future__ import annotations

import json

import pytest_asyncio

from bot.config import parse_config
from bot.services import hypotheses, incidents
from tests.alert_builders import am_alert, am_body
from tests.e2e.harness import ALERT_TOKEN, bot_settings, eventually, start_bot
from tests.remediation_env import Env

AUTH = {"Authorization": f"Bearer {ALERT_TOKEN}", "Content-Type": "application/json"}
RUNBOOK = """---
id: e2e-fix
title: Fix web
match: {alertnames: [HighErrorRate]}
hypotheses:
  - {id: bad-deploy, title: bad deploy, cause: bad_deploy, prior: 0.3, query: {promql: up}, supports: {above: 0}}
remediation:
  - id: restart
    title: "Restart {{deployment}}"
    risk: high
    executor: kubectl
    argv: [kubectl, rollout, restart, "deployment/{{deployment}}", -n, "{{namespace}}"]
    rollback: [kubectl, rollout, undo, "deployment/{{deployment}}", -n, "{{namespace}}"]
---
Restart it.
"""


@pytest_asyncio.fixture
async def bot(tmp_path, slack_workspace, slack_emulator):
    slack_workspace.rate_limit_scale = None
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "runbooks" / "e2e-fix.md").write_text(RUNBOOK)
    config = parse_config(f"approvers: [U0BOB]\ndiagnosis:\n  runbooks: {tmp_path / 'runbooks'}\n")
    settings = bot_settings(f"sqlite+aiosqlite:///{tmp_path / 'rem.db'}", slack_emulator.api_url)
    running = await start_bot(settings, slack_workspace, config)
    yield running
    await running.stop()


def approval_card(ws, channel_id):
    for m in ws.messages(channel_id):
        if (m.blocks or [{}])[0].get("block_id", "").startswith("action:"):
            return m
    return None


async def test_approve_in_slack_runs_it_once_with_its_output_in_the_thread(bot):
    ws, deps = bot.workspace, bot.container.deps
    alert = am_alert(alertname="HighErrorRate", severity="error", service="web", namespace="shop")
    async with bot.http as http:
        r = await http.post("/webhooks/alertmanager", content=json.dumps(am_body(alert)), headers=AUTH)
    ref = r.json()["incidents"][0]
    room = await eventually(lambda: _room(ws, ref), timeout=20)
    await incidents.take_lead(deps, ref=ref, actor="U0ALICE")
    hid = await Env.diagnose(_Bed(deps), ref, runbook_id="e2e-fix")  # the diagnosis, as its reactor keeps it
    await hypotheses.judge_hypothesis(deps, hypothesis_id=hid, confirm=True, actor="U0CAROL")
    card = await eventually(lambda: approval_card(ws, room.id), timeout=20)
    action_id = card.blocks[0]["block_id"].removeprefix("action:")
    shown = json.dumps(card.blocks)
    assert "kubectl rollout restart deployment/web -n shop" in shown and "Rollback plan" in shown
    await ws.click("U0DAVE", room.id, card.ts, "action-approve")
    await eventually(lambda: [e for e in ws.ephemeral if e.user == "U0DAVE" and "only the commander" in e.text])
    await ws.click("U0ALICE", room.id, card.ts, "action-approve")
    thread = await eventually(lambda: [m for m in ws.replies(room.id, card.ts) if m.ts != card.ts], timeout=20)
    assert "Output of " + action_id in thread[0].text and "dry run" in thread[0].text.lower()
    await eventually(lambda: "ran (not verified)" in json.dumps(approval_card(ws, room.id).blocks), timeout=10)
    assert not [b for b in approval_card(ws, room.id).blocks if b["type"] == "actions"], "no buttons after"
    resp = await ws.send_command("U0BOB", room.id, f"approve {action_id}")  # the slash command, too late
    assert "already decided" in resp.json()["text"] and resp.json().get("response_type") == "ephemeral"
    await bot.idle(timeout=20)
    timeline = (await bot.http.get(f"/api/v1/incidents/{ref}")).json()["timeline"]
    kinds = [t["kind"] for t in timeline if t["kind"].startswith("remediation.")]
    assert kinds[:2] == ["remediation.proposed", "remediation.refused"]
    assert kinds.count("remediation.started") == kinds.count("remediation.executed") == 1
    assert kinds[-1] == "remediation.refused" and kinds.count("remediation.refused") == 2


class _Bed:
    """Just enough of the test bed for Env.diagnose: the deps and the clock."""

    def __init__(self, deps) -> None:
        self.deps, self.clock = deps, deps.clock


def _room(ws, ref):
    for ch in ws.channels():
        if ch.name.startswith("inc-") and any(
            b.get("block_id") == f"card:{ref}" for m in ws.messages(ch.id) for b in m.blocks or []
        ):
            return ch
    return None
