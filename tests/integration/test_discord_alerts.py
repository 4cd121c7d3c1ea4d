"""The Discord adapter through discord.py's webhooks against a loopback Discord."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from bot.domain.incident import Severity
from bot.domain.outbound import Attachment, Link, Notice, NoticeField
from bot.domain.ports import ChatError, ChatRefused
from bot.domain.text import Strong, Text
from integrations.discord_alerts import DiscordWebhook, parse_webhook_url
from tests.servers.discord_server import REPORTS_ID, WEBHOOK_ID, WEBHOOK_TOKEN, DiscordServer, limit_problems

ROLE = "123456789012345678"


def hook(server: DiscordServer, **kw) -> DiscordWebhook:
    return DiscordWebhook(server.webhook_url, api_url=server.api_url, role_id=ROLE, username="warroom", **kw)


def notice(**kw) -> Notice:
    values = dict(title="INC-20261123-001 declared · SEV2", body=Text.of("checkout 5xx"), severity=Severity.SEV2,
                  fields=(NoticeField("Services", Text.of("checkout")),), at=datetime(2026, 11, 23, 12, tzinfo=UTC))  # fmt: skip
    values.update(kw)
    return Notice(**values)


async def test_a_notice_arrives_as_an_embed_coloured_by_severity(discord_server):
    links = (Link("War room", "https://slack.com/app_redirect?channel=C0123"),)
    await hook(discord_server).broadcast([notice(links=links)], headline=Text.of(Strong("New incident")))
    (m,) = discord_server.messages
    assert m.webhook == WEBHOOK_ID and m.payload["username"] == "warroom"
    assert m.payload["content"] == "**New incident**"
    (e,) = m.payload["embeds"]
    assert e["title"] == "INC-20261123-001 declared · SEV2" and e["description"] == "checkout 5xx"
    assert e["color"] == 0xF28C28 and e["timestamp"].startswith("2026-11-23T12:00")
    assert e["fields"][0] == {"name": "Services", "value": "checkout", "inline": True}
    assert e["fields"][1]["value"] == "[War room](https://slack.com/app_redirect?channel=C0123)"


async def test_huge_inputs_are_cut_to_every_limit_and_accepted(discord_server):
    many = tuple(NoticeField("n" * 400, Text.of("v" * 3000)) for _ in range(40))
    huge = [notice(title="t" * 10_000, body=Text.of("d" * 100_000), fields=many, footer="f" * 5000) for _ in range(15)]
    await hook(discord_server).broadcast(huge, headline="h" * 10_000, ping=True)
    (m,) = discord_server.messages  # the loopback refuses (400) anything over a limit, as Discord does
    assert limit_problems(m.payload) == []
    assert len(m.payload["embeds"]) == 10 and len(m.payload["content"]) == 2000
    assert m.payload["content"].startswith(f"<@&{ROLE}> hhh") and m.payload["content"].endswith("…")
    e = m.payload["embeds"][0]
    assert e["title"].endswith("…") and len(e["title"]) <= 256 and len(e["fields"]) == 25


async def test_alert_text_never_pings_and_the_role_only_when_asked(discord_server):
    evil = "@everyone @here <@&999999999999999999> <@111111111111111111> payments **down** [x](https://evil.example)"
    await hook(discord_server).broadcast([notice(title=evil, body=Text.of(evil))], headline=evil)
    quiet = discord_server.messages[-1].payload
    assert quiet["allowed_mentions"] == {"parse": []}
    assert "@everyone" not in quiet["content"] and "@\u200beveryone" in quiet["content"]
    assert "<@&999999999999999999>" not in quiet["embeds"][0]["description"]
    assert "\\*\\*down\\*\\*" in quiet["embeds"][0]["description"] and "\\[x](https://evil" in quiet["content"]
    await hook(discord_server).broadcast([notice()], headline="SEV1", ping=True)
    loud = discord_server.messages[-1].payload
    assert loud["content"] == f"<@&{ROLE}> SEV1"
    assert loud["allowed_mentions"] == {"parse": [], "roles": [int(ROLE)]}


async def test_a_429_through_discords_proxy_is_waited_out(discord_server):
    discord_server.rate_limit_next = [(0.3, True)]
    await hook(discord_server).broadcast([notice()])
    first, second = discord_server.posts
    assert len(discord_server.messages) == 1 and second - first >= 0.3, "retry_after honoured"


async def test_a_429_longer_than_we_wait_or_without_the_proxy_is_handed_to_the_outbox(discord_server):
    discord_server.rate_limit_next = [(60.0, True)]
    started = time.monotonic()
    with pytest.raises(ChatError) as long:
        await hook(discord_server, max_wait=1.0).broadcast([notice()])
    assert long.value.code == "ratelimited" and long.value.retry_after == 60.0
    assert time.monotonic() - started < 10, "not slept for a minute inside the delivery"
    discord_server.rate_limit_next = [(2.5, False)]
    with pytest.raises(ChatError) as bare:
        await hook(discord_server).broadcast([notice()])
    assert bare.value.code == "ratelimited" and bare.value.retry_after == 2.5 and bare.value.retryable
    assert discord_server.messages == []


async def test_a_png_goes_with_the_message_and_shows_in_its_embed(discord_server):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    reports = DiscordWebhook(discord_server.reports_url, api_url=discord_server.api_url)
    await reports.broadcast([notice(image="chart.png")], files=[Attachment("chart.png", png, "image/png")])
    (m,) = discord_server.sent_to(REPORTS_ID)
    assert m.files == [("chart.png", png)]
    assert m.payload["embeds"][0]["image"] == {"url": "attachment://chart.png"}


async def test_a_wrong_token_is_refused_and_no_error_shows_a_token(discord_server):
    wrong = f"https://discord.com/api/webhooks/{WEBHOOK_ID}/{'W' * 68}"
    with pytest.raises(ChatRefused) as refused:
        await DiscordWebhook(wrong, api_url=discord_server.api_url).broadcast([notice()])
    assert "W" * 20 not in f"{refused.value} {refused.value!r}" and refused.value.code == "http_401"
    with pytest.raises(ValueError) as bad:
        parse_webhook_url("https://discord.com/api/nothooks/1/" + WEBHOOK_TOKEN)
    assert WEBHOOK_TOKEN not in str(bad.value)


async def test_the_default_base_sends_to_discord_itself_without_the_middleware():
    from discord.http import Route

    assert Route.BASE == "https://discord.com/api/v10", "discord.py's own base is never changed"
    assert parse_webhook_url("https://discord.com/api/webhooks/42/abc-DEF_1.2") == (42, "abc-DEF_1.2")
