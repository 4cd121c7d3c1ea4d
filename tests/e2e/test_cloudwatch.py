"""CloudWatch alarms through SNS into the real ASGI app: verified, allow-listed, deduplicated on MessageId."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest_asyncio

from bot.config import parse_config
from tests.e2e.harness import ALERT_TOKEN, bot_settings, start_bot
from tests.sns_support import CERT_URL, NOW, TOPIC, FakeFetcher, SigningIdentity, alarm, confirmation, notification

HEADERS = {"Authorization": f"Bearer {ALERT_TOKEN}", "Content-Type": "text/plain; charset=UTF-8"}


class ClockFrom:
    """The bot's injected clock: real speed, but starting at `start` (when the test messages were signed)."""

    def __init__(self, start: datetime) -> None:
        self.offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest_asyncio.fixture
async def make_cw_bot(tmp_path, slack_workspace, slack_emulator):
    """Start a bot whose clock starts at `at` (default: NOW, around which the SNS fixtures are signed)."""
    slack_workspace.rate_limit_scale = None
    started = []

    async def make(at: datetime = NOW, **extra_settings):
        ident = SigningIdentity.create()  # valid around NOW
        fetcher = FakeFetcher({CERT_URL: ident.cert_pem})
        confirmed: list[str] = []

        async def confirm(url: str) -> None:
            confirmed.append(url)

        db = tmp_path / f"cw{len(started)}.db"
        settings = bot_settings(f"sqlite+aiosqlite:///{db}", slack_emulator.api_url, **extra_settings)
        config = parse_config(f"cloudwatch:\n  topics: ['{TOPIC}']\n")
        running = await start_bot(
            settings, slack_workspace, config, cert_fetcher=fetcher, sns_confirm=confirm, clock=ClockFrom(at)
        )
        running.ident, running.fetcher, running.confirmed = ident, fetcher, confirmed
        started.append(running)
        return running

    yield make
    for running in started:
        await running.stop()


@pytest_asyncio.fixture
async def cw_bot(make_cw_bot):
    return await make_cw_bot()


async def post(bot, msg, headers=HEADERS):
    async with bot.http as http:
        return await http.post("/webhooks/cloudwatch", content=json.dumps(msg).encode(), headers=headers)


async def test_alarm_declares_and_ok_resolves_the_alert(cw_bot):
    bot = cw_bot
    r = await post(bot, bot.ident.sign(notification(alarm("ALARM")), "2"))
    assert r.status_code == 202, r.text
    ref = r.json()["declared"][0]
    inc = (await bot.http.get(f"/api/v1/incidents/{ref}")).json()
    assert inc["services"] == ["acme-prod-payments-db"]
    assert inc["alertnames"] == ["acme-prod-payments-db-cpu-high"]
    assert inc["severity"] == "SEV3" and inc["severity_confirmed"] is False  # no rule and no severity label
    # SNS retries reuse the MessageId: nothing changes twice.
    again = await post(bot, bot.ident.sign(notification(alarm("ALARM")), "2"))
    assert again.status_code == 202 and again.json()["duplicate_request"] is True
    ok = await post(bot, bot.ident.sign(notification(alarm("OK"), MessageId="ok-1"), "1"))
    assert ok.status_code == 202 and ok.json()["resolved"] == 1
    timeline = (await bot.http.get(f"/api/v1/incidents/{ref}")).json()["timeline"]
    assert [e["kind"] for e in timeline if e["kind"].startswith("alerts.")] == [
        "alerts.resolved",
        "alerts.all_resolved",
    ]


async def test_rejections_store_nothing(cw_bot):
    bot = cw_bot
    signed = bot.ident.sign(notification(alarm("ALARM")), "2")
    tampered = dict(signed, Message=signed["Message"].replace("85.0", "15.0"))
    assert (await post(bot, tampered)).json()["error"] == "bad_signature"
    http_cert = bot.ident.sign(notification(alarm("ALARM")), "2", cert_url=CERT_URL.replace("https", "http"))
    assert (await post(bot, http_cert)).json()["error"] == "bad_cert_url"
    wrong_host = bot.ident.sign(
        notification(alarm("ALARM")), "2", cert_url="https://sns.us-east-1.amazonaws.com.evil.example/c.pem"
    )
    assert (await post(bot, wrong_host)).json()["error"] == "bad_cert_url"
    other_topic = bot.ident.sign(notification(alarm("ALARM"), TopicArn=TOPIC.replace("alarms", "other")), "2")
    r = await post(bot, other_topic)
    assert r.status_code == 403 and r.json()["error"] == "unknown_topic"
    assert (await post(bot, signed, headers={"Content-Type": "text/plain"})).status_code == 401
    assert bot.fetcher.calls == [CERT_URL] * len(bot.fetcher.calls), "no fetch for a bad cert URL"
    assert (await bot.http.get("/api/v1/incidents")).json()["incidents"] == []


async def test_subscription_confirmation_only_for_allowed_topics(cw_bot):
    bot = cw_bot
    r = await post(bot, bot.ident.sign(confirmation(), "1"))
    assert r.status_code == 202 and r.json()["sns"] == "subscription_confirmed"
    assert len(bot.confirmed) == 1
    r = await post(bot, bot.ident.sign(confirmation(TopicArn=TOPIC.replace("alarms", "other")), "1"))
    assert r.status_code == 403 and len(bot.confirmed) == 1


async def test_replayed_old_message_is_refused(cw_bot):
    """A message SNS really signed, captured and sent again later: refused by its signed Timestamp."""
    bot = cw_bot
    old = bot.ident.sign(notification(alarm("ALARM"), Timestamp="2020-03-02T10:00:00.000Z"), "2")
    r = await post(bot, old)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "stale_message"
    assert "2020-03-02T10:00:00Z" in r.json()["detail"] and "more than 1 h ago" in r.json()["detail"]
    future = bot.ident.sign(notification(alarm("ALARM"), Timestamp="2026-11-22T09:30:00.000Z"), "2")
    r = await post(bot, future)
    assert r.status_code == 400 and r.json()["error"] == "future_timestamp", r.text
    stale_confirmation = bot.ident.sign(confirmation(Timestamp="2026-11-19T09:00:00.000Z"), "1")
    assert (await post(bot, stale_confirmation)).json()["error"] == "stale_message"
    assert bot.confirmed == []
    assert (await bot.http.get("/api/v1/incidents")).json()["incidents"] == []


async def test_freshness_follows_the_injected_clock_and_the_setting(make_cw_bot):
    """Three hours after signing: refused by default (1 h), accepted with WARROOM_SNS_MAX_AGE_SECONDS=4 h."""
    later = NOW + timedelta(hours=3)
    default = await make_cw_bot(later)
    message = default.ident.sign(notification(alarm("ALARM")), "2")
    r = await post(default, message)
    assert r.status_code == 400 and r.json()["error"] == "stale_message", r.text
    relaxed = await make_cw_bot(later, WARROOM_SNS_MAX_AGE_SECONDS=4 * 3600)
    r = await post(relaxed, relaxed.ident.sign(notification(alarm("ALARM")), "2"))
    assert r.status_code == 202, r.text
