"""The whole bot (build(), the Slack emulator, the PagerDuty stand-in) with a manual clock: an unacknowledged
SEV2 breaches its ack SLA, escalates with real Slack mentions (users and user groups) and a page, and the
breach is counted on /metrics."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest

from bot.bootstrap import build
from bot.clock import ManualClock
from bot.db.migrate import upgrade
from bot.domain.incident import Severity
from bot.services import incidents
from tests.e2e.harness import bot_settings

KEY = "An0therR0utingKeyForWarroomTest1"
RULES = """\
oncall: {users: [U0ONCALL]}
escalation:
  tiers:
    - {after_minutes: 0, name: on-call, notify: [oncall], pagerduty: [oncall]}
    - {after_minutes: 15, name: leads, notify: [S0LEADS, U0LEAD]}
"""


@pytest.fixture
async def bot(tmp_path, pagerduty, slack_emulator):
    url = f"sqlite+aiosqlite:///{tmp_path / 'esc.db'}"
    await asyncio.to_thread(upgrade, url)
    rules = tmp_path / "warroom.yml"
    rules.write_text(RULES)
    clock = ManualClock()
    settings = bot_settings(
        url, slack_emulator.api_url, PAGERDUTY_ROUTING_KEY=KEY, PAGERDUTY_EVENTS_URL=pagerduty.url,
        WARROOM_CONFIG=str(rules),
    )  # fmt: skip
    container = build(settings, clock=clock)
    yield container, clock
    await container.http.aclose()
    await container.store.dispose()


async def settle(container) -> None:
    for _ in range(20):
        if await container.outbox.drain() + await container.scheduler.run_due() == 0:
            return


async def test_an_unacknowledged_sev2_escalates_in_slack_and_pagerduty_and_counts_the_breach(
    bot, pagerduty, slack_workspace
):
    container, clock = bot
    out = await incidents.declare(container.deps, title="Checkout errors", severity=Severity.SEV2, actor="U0ALICE")
    ref = out.incident.ref
    await settle(container)
    assert pagerduty.received == [], "SEV2 is not paged on declare"
    clock.advance(minutes=30)
    await settle(container)
    room = slack_workspace.channel_by_name(out.incident.channel_name or "") or next(
        c for c in slack_workspace.channels() if c.name.startswith("inc-")
    )
    texts = [m.text for m in slack_workspace.messages(room.id)]
    assert any("ack SLA breached" in t for t in texts)
    assert any("escalated" in t and "<@U0ONCALL>" in t for t in texts), texts
    assert [(e["event_action"], e["dedup_key"]) for e in pagerduty.accepted] == [("trigger", f"warroom-{ref}")]
    clock.advance(minutes=15)
    await settle(container)
    texts = [m.text for m in slack_workspace.messages(room.id)]
    assert any("tier 2 (leads)" in t and "<!subteam^S0LEADS>" in t and "<@U0LEAD>" in t for t in texts), texts
    await incidents.acknowledge(container.deps, ref=ref, actor="U0ONCALL")
    await settle(container)
    assert [e["event_action"] for e in pagerduty.accepted] == ["trigger", "acknowledge"]
    transport = httpx.ASGITransport(app=container.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        metrics = (await http.get("/metrics")).text
    assert 'warroom_sla_breaches_total{severity="SEV2",sla="ack"} 1.0' in metrics
    assert 'warroom_sla_breaches_total{severity="SEV2",sla="update"} 1.0' in metrics
    assert KEY not in metrics
    clock.advance(timedelta(hours=1).total_seconds())
    await settle(container)
    texts = [m.text for m in slack_workspace.messages(room.id)]
    assert len([t for t in texts if "escalated" in t]) == 2, "acknowledged: the ladder stopped"
