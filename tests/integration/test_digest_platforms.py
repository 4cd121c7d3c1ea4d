"""The daily digest on the real clients: Block Kit through slack_sdk.models posted to the Slack emulator with its
chart uploaded by files_upload_v2 into the digest's thread, and the Discord reports webhook (discord.py) with the
chart attached to the message and shown in its embed; outside text escaped, secrets redacted, limits kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time

import pytest

from bot.clock import ManualClock
from bot.db.digest_queries import DigestQueries
from bot.redact import RedactingChatRoom, Redactor
from bot.redact_outbound import RedactingBroadcaster
from bot.services.reports import DailyDigest, DigestSchedule
from integrations.digest_chart import MatplotlibDigestChart
from integrations.discord_alerts import DiscordWebhook
from integrations.slack_rooms import SlackChatRoom, make_client
from integrations.slack_rooms.blocks import render_card
from integrations.slack_rooms.pacing import Pacer
from tests.builders import deps_for, sqlite_store
from tests.digest_scenario import DAY, play
from tests.integration.test_block_kit import check
from tests.servers.discord_server import REPORTS_ID, limit_problems

SECRET = "xoxb-1234567890-abcdefghijkl"


@pytest.fixture
async def deps(tmp_path):
    store = await sqlite_store(tmp_path)
    d = deps_for(store, ManualClock(datetime(2026, 10, 1, 9, 0, tzinfo=UTC)))
    await play(d, d.clock)
    yield d
    await store.dispose()


@pytest.fixture
def room(slack_emulator):
    slack_emulator.workspace.rate_limit_scale = None
    client = make_client("xoxb-test-token", base_url=slack_emulator.api_url)
    return RedactingChatRoom(SlackChatRoom(client, pacer=Pacer(scale=0)), Redactor([SECRET]))


def digest(deps, *, chat=None, discord=None) -> DailyDigest:
    schedule = DigestSchedule(at=time(23, 0), tz="UTC")
    return DailyDigest(deps, DigestQueries(deps.store), schedule=schedule, chat=chat, discord=discord,
                       charts=MatplotlibDigestChart())  # fmt: skip


async def test_the_digest_is_valid_block_kit_with_data_escaped(deps):
    report = await digest(deps).build(DAY)
    rendered = render_card(report)
    as_json = check(rendered.blocks, rendered.text)
    assert as_json[0]["block_id"] == "digest:2026-11-23" and as_json[0]["type"] == "header"
    dump = json.dumps(as_json)
    assert "<!channel>" not in dump and "&lt;!channel&gt;" in dump  # an incident's title is data
    assert "<@U0X>" not in dump and "<@U0CAROL>" in dump  # the action item's text is data; owners are mentions
    figures = as_json[2]["fields"]
    assert figures[0]["text"].startswith("*Opened*\n3 (SEV1 1 · SEV2 1 · SEV3 1)")
    assert "_+30m 00s vs previous day, +30m 00s vs 7-day avg 1h 00m_" in figures[3]["text"]


async def test_posted_to_incidents_with_the_chart_in_its_thread_and_to_discord(
    deps, room, slack_workspace, discord_server
):
    discord = RedactingBroadcaster(
        DiscordWebhook(discord_server.reports_url, api_url=discord_server.api_url), Redactor([SECRET])
    )
    await deps_title(deps, f"token {SECRET} leaked")
    out = await digest(deps, chat=room, discord=discord).post(await digest(deps).build(DAY))
    assert out.slack_ts and out.chart and out.discord
    channel = slack_workspace.channel_by_name("incidents")
    replies = [m for m in slack_workspace.replies(channel.id, out.slack_ts) if m.ts != out.slack_ts]
    assert len(replies) == 1 and replies[0].files[0]["mimetype"] == "image/png"
    assert replies[0].files[0]["name"] == "digest-2026-11-23.png"
    (m,) = discord_server.sent_to(REPORTS_ID)
    assert limit_problems(m.payload) == []
    assert [name for name, _ in m.files] == ["digest-2026-11-23.png"] and m.files[0][1].startswith(b"\x89PNG")
    head, rest = m.payload["embeds"]
    assert head["image"] == {"url": "attachment://digest-2026-11-23.png"}
    assert head["fields"][3]["name"] == "MTTR" and head["fields"][3]["value"].startswith("**1h 30m**")
    opened = rest["fields"][0]["value"]
    assert "incident H <" in opened and "&lt;" not in opened  # Discord markdown, not Slack's escaping
    assert SECRET not in discord_server.everything_sent() and "redacted] leaked" in discord_server.everything_sent()
    slack_sent = json.dumps([m.blocks for m in slack_workspace.messages(channel.id)], default=str)
    assert SECRET not in slack_sent and "token [redacted] leaked" in slack_sent


async def deps_title(deps, title: str) -> None:
    """Give the open SEV3 incident (C) a title holding a secret."""
    async with deps.store.transaction() as uow:
        (inc,) = [i for i in await uow.incidents.newest(status="open", limit=5) if i.title.startswith("incident C")]
        inc.title = title
        await uow.save(inc, [])
