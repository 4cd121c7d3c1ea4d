"""A secret, an email and a phone number in an alert's labels never leave the bot: not to Slack (the emulator),
not to Jira, not to Discord, not to PagerDuty (loopback servers), though the incident reaches all four."""

from __future__ import annotations

import json

import pytest_asyncio

from bot.config import parse_config
from tests.alert_builders import am_alert, am_body
from tests.e2e.harness import ALERT_TOKEN, bot_settings, eventually, start_bot
from tests.servers.discord_server import DiscordServer
from tests.servers.jira_server import JiraServer

EMAIL = "ceo.private@acme-corp.example"
ROUTING_KEY = "e2eRoutingKeyForOutboundRedactn1"  # 32 characters, as PagerDuty's
PHONE = "+1 (415) 555-2671"
CONFIG = """
oncall:
  users: [U0BOB]
grouping:
  card_refresh_seconds: 0.2
"""


@pytest_asyncio.fixture
async def outbound_bot(
    tmp_path, slack_workspace, slack_emulator, jira_server: JiraServer, discord_server: DiscordServer, pagerduty
):
    slack_workspace.rate_limit_scale = None
    settings = bot_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}", slack_emulator.api_url,
        JIRA_URL=jira_server.url, JIRA_USER=jira_server.user, JIRA_API_TOKEN=jira_server.token, JIRA_PROJECT="OPS",
        DISCORD_ALERTS_WEBHOOK_URL=discord_server.webhook_url, DISCORD_API_URL=discord_server.api_url,
        PAGERDUTY_ROUTING_KEY=ROUTING_KEY, PAGERDUTY_EVENTS_URL=pagerduty.url,
    )  # fmt: skip
    running = await start_bot(settings, slack_workspace, parse_config(CONFIG))
    yield running
    await running.stop()


async def test_a_secret_and_an_email_in_alert_labels_reach_no_one(outbound_bot, jira_server, discord_server, pagerduty):
    bot, ws = outbound_bot, outbound_bot.workspace
    labels = {
        "alertname": f"LeakDrill {ALERT_TOKEN}", "service": f"billing {EMAIL}", "customer": EMAIL,
        "oncall_phone": PHONE, "severity": "critical", "customer_facing": "true",  # SEV1: paged on declare
    }  # fmt: skip
    body = am_body(am_alert(summary=f"Payments down for {EMAIL}, key {ALERT_TOKEN}, call {PHONE}", **labels))
    async with bot.http as http:
        r = await http.post("/webhooks/alertmanager", json=body, headers={"Authorization": f"Bearer {ALERT_TOKEN}"})
    assert r.status_code == 202, r.text
    (ref,) = r.json()["incidents"]
    await eventually(lambda: jira_server.issues and discord_server.messages and pagerduty.accepted, timeout=20)
    await bot.idle(timeout=20)

    slack = json.dumps([c.args for c in ws.calls], default=str)
    jira = jira_server.everything_sent()
    discord = discord_server.everything_sent()
    (page,) = pagerduty.events("trigger")
    assert page["routing_key"] == ROUTING_KEY and page["dedup_key"] == f"warroom-{ref}", "paged, on the right key"
    pd = json.dumps(pagerduty.received)
    assert ref in slack and ref in jira and ref in discord and ref in pd, "the incident reached all four"
    for leak in (EMAIL, ALERT_TOKEN, "555-2671"):
        assert leak not in slack, f"{leak} reached Slack"
        assert leak not in jira, f"{leak} reached Jira"
        assert leak not in discord, f"{leak} reached Discord"
        assert leak not in pd, f"{leak} reached PagerDuty"
    assert all("[redacted-email]" in sent for sent in (slack, jira, discord, pd))
    incident = (await bot.http.get(f"/api/v1/incidents/{ref}")).json()
    assert incident["jira_key"] == "OPS-1", "the key shows in the API"
    card = next(
        c for c in reversed(ws.calls) if c.method in ("chat.update", "chat.postMessage") and "card-facts" in str(c.args)
    )
    assert "OPS-1" in str(card.args), "and on the triage card"
