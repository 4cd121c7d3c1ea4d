"""The PagerDuty adapter and the bot's paging against a loopback server speaking Events API v2: 202, 400, 429,
5xx; trigger, acknowledge and resolve with one dedup key; a 429 retried later; the routing key never in logs,
dead letters or API answers."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import select

from bot.bootstrap import build
from bot.clock import ManualClock
from bot.db.migrate import upgrade
from bot.db.tables import DeliveryRow
from bot.domain.incident import Incident, Severity, Status
from bot.domain.paging import PageAction, follow_up, trigger
from bot.domain.ports import PagerError, PagerRefused
from bot.redact import Redactor
from bot.services import incidents
from integrations.pagerduty_pager import PagerDutyPager
from tests.e2e.harness import bot_settings
from tests.servers.pagerduty import PagerDutyServer

KEY = "s3cr3tR0utingKeyForWarroomTests1"  # 32 characters, as PagerDuty's routing keys
REF = "INC-20261123-001"


def incident(severity: Severity = Severity.SEV1) -> Incident:
    return Incident(
        id=1, ref=REF, title="Checkout errors", severity=severity, status=Status.DECLARED,
        declared_at=ManualClock().now(), declared_by="U0ALICE", services=["checkout"],
    )  # fmt: skip


@pytest.fixture
async def client():
    async with httpx.AsyncClient() as c:
        yield c


def pager(server: PagerDutyServer, client: httpx.AsyncClient, **keys: str) -> PagerDutyPager:
    return PagerDutyPager(routing_keys={"oncall": KEY, **keys}, client=lambda: client, url=server.url)


async def test_trigger_acknowledge_resolve_share_one_dedup_key(pagerduty, client):
    pd = pager(pagerduty, client)
    await pd.send(trigger(incident(), service="oncall", why="declared"))
    await pd.send(follow_up(incident(), PageAction.ACKNOWLEDGE, service="oncall"))
    await pd.send(follow_up(incident(), PageAction.RESOLVE, service="oncall"))
    assert pagerduty.statuses == [202, 202, 202]
    assert [(e["event_action"], e["dedup_key"], e["routing_key"]) for e in pagerduty.accepted] == [
        ("trigger", f"warroom-{REF}", KEY), ("acknowledge", f"warroom-{REF}", KEY), ("resolve", f"warroom-{REF}", KEY),
    ]  # fmt: skip
    body = pagerduty.accepted[0]
    assert body["payload"]["severity"] == "critical" and body["payload"]["source"] == "warroom"
    assert body["payload"]["summary"].startswith(f"[SEV1] {REF} Checkout errors")
    assert body["payload"]["component"] == "checkout" and body["client"] == "warroom"
    assert pagerduty.alerts[(KEY, f"warroom-{REF}")].events == ["trigger", "acknowledge", "resolve"]


async def test_400_is_permanent_with_pagerduty_s_reason_and_without_the_key(pagerduty, client):
    bad = replace(trigger(incident(), service="oncall", why="x"), urgency="urgent")
    with pytest.raises(PagerRefused) as err:
        await pager(pagerduty, client).send(bad)
    assert "400" in str(err.value) and "payload.severity" in str(err.value)
    assert KEY not in str(err.value)


async def test_a_400_quoting_the_key_back_is_scrubbed(pagerduty, client):
    pagerduty.answer_next(400, body={"status": "invalid event", "message": f"unknown routing_key {KEY}"})
    with pytest.raises(PagerRefused) as err:
        await pager(pagerduty, client).send(trigger(incident(), service="oncall", why="x"))
    assert KEY not in str(err.value) and "[routing key]" in str(err.value)


async def test_429_and_5xx_are_transient_and_retry_after_is_read(pagerduty, client):
    pd = pager(pagerduty, client)
    pagerduty.answer_next(429, retry_after="30")
    with pytest.raises(PagerError) as err:
        await pd.send(trigger(incident(), service="oncall", why="x"))
    assert not isinstance(err.value, PagerRefused) and err.value.retry_after == 30
    pagerduty.answer_next(502)
    with pytest.raises(PagerError) as err:
        await pd.send(trigger(incident(), service="oncall", why="x"))
    assert not isinstance(err.value, PagerRefused) and err.value.retry_after is None
    assert pagerduty.accepted == []


async def test_unreachable_pagerduty_is_transient(client):
    pd = PagerDutyPager(routing_keys={"oncall": KEY}, client=lambda: client, url="http://127.0.0.1:9/v2/enqueue")
    with pytest.raises(PagerError) as err:
        await pd.send(trigger(incident(), service="oncall", why="x"))
    assert not isinstance(err.value, PagerRefused)


async def test_a_service_without_a_key_is_refused_before_any_request(pagerduty, client):
    pd = pager(pagerduty, client)
    assert not pd.serves("leads")
    with pytest.raises(PagerRefused, match="no routing key"):
        await pd.send(trigger(incident(), service="leads", why="x"))
    assert pagerduty.received == []


@pytest.fixture
async def bot(tmp_path, pagerduty, slack_emulator):
    url = f"sqlite+aiosqlite:///{tmp_path / 'pd.db'}"
    await asyncio.to_thread(upgrade, url)
    clock = ManualClock()
    settings = bot_settings(
        url, slack_emulator.api_url, PAGERDUTY_ROUTING_KEY=KEY, PAGERDUTY_EVENTS_URL=pagerduty.url,
        WARROOM_OUTBOX_BASE_DELAY=1, WARROOM_OUTBOX_MAX_DELAY=60,
    )  # fmt: skip
    container = build(settings, clock=clock)
    yield container, clock
    await container.http.aclose()
    await container.store.dispose()


async def pager_deliveries(container) -> list[DeliveryRow]:
    async with container.store.read() as tx:
        q = select(DeliveryRow).where(DeliveryRow.reactor == "pager").order_by(DeliveryRow.id)
        return list((await tx.session.execute(q)).scalars())


async def test_the_bot_pages_retries_a_429_later_and_never_logs_the_key(bot, pagerduty, caplog):
    container, clock = bot
    caplog.set_level(logging.DEBUG)
    deps = container.deps
    ref = (await incidents.declare(deps, title="Payments down", severity=Severity.SEV1, actor="U0ALICE")).incident.ref
    pagerduty.answer_next(429, retry_after="20")
    await container.outbox.drain()
    assert pagerduty.statuses == [429] and pagerduty.accepted == []
    clock.advance(seconds=19)
    await container.outbox.drain()
    assert pagerduty.statuses == [429], "Retry-After is honoured"
    clock.advance(seconds=2)
    await container.outbox.drain()
    assert [e["event_action"] for e in pagerduty.accepted] == ["trigger"]
    await incidents.take_lead(deps, ref=ref, actor="U0ONCALL")  # acknowledges; the commander may resolve
    await incidents.resolve(deps, ref=ref, actor="U0ONCALL")
    clock.advance(seconds=1)
    await container.outbox.drain()
    assert [(e["event_action"], e["dedup_key"]) for e in pagerduty.accepted] == [
        ("trigger", f"warroom-{ref}"), ("acknowledge", f"warroom-{ref}"), ("resolve", f"warroom-{ref}"),
    ]  # fmt: skip
    assert [d.status for d in await pager_deliveries(container)] == ["done", "done", "done"]
    assert caplog.records, "the bot logged"
    assert KEY not in caplog.text
    for record in caplog.records:
        assert KEY not in record.getMessage()


async def test_an_invalid_event_is_a_dead_letter_with_a_clear_reason(bot, pagerduty):
    container, clock = bot
    pagerduty.answer_next(
        400, body={"status": "invalid event", "message": "Event object is invalid", "errors": [f"bad key {KEY}"]}
    )
    await incidents.declare(container.deps, title="Payments down", severity=Severity.SEV0, actor="U0ALICE")
    await container.outbox.drain()
    (row,) = await pager_deliveries(container)
    assert row.status == "dead" and row.attempts == 1
    assert "invalid event" in row.last_error and "400" in row.last_error and KEY not in row.last_error


async def test_an_outage_of_minutes_delays_the_page_and_sends_it_once(bot, pagerduty):
    container, clock = bot
    ref = (
        await incidents.declare(container.deps, title="Payments down", severity=Severity.SEV1, actor="U0ALICE")
    ).incident.ref
    pagerduty.down = 503
    for _ in range(6 * 10):  # ten minutes of 503s, ten seconds at a time
        await container.outbox.drain()
        clock.advance(seconds=10)
    assert pagerduty.accepted == [] and len(pagerduty.received) >= 5
    pagerduty.down = None
    clock.advance(seconds=60)
    await container.outbox.drain()
    await incidents.acknowledge(container.deps, ref=ref, actor="U0ONCALL")
    clock.advance(seconds=1)
    await container.outbox.drain()
    assert [e["event_action"] for e in pagerduty.accepted] == ["trigger", "acknowledge"], "none lost, none twice"


async def test_the_adapter_itself_logs_no_key_on_any_answer(pagerduty, client, caplog):
    """Without the bot's log redaction (a key no redactor knows): the adapter and httpx log no routing key."""
    own_key = "Un1qu3KeyNoRedactorKnowsAbout999"
    caplog.set_level(logging.DEBUG)
    pd = PagerDutyPager(routing_keys={"oncall": own_key}, client=lambda: client, url=pagerduty.url)
    await pd.send(trigger(incident(), service="oncall", why="x"))
    pagerduty.answer_next(429, retry_after="5")
    pagerduty.answer_next(503)
    pagerduty.answer_next(400, body={"status": "invalid event", "errors": [f"routing_key {own_key} unknown"]})
    for _ in range(3):
        with pytest.raises(PagerError):
            await pd.send(trigger(incident(), service="oncall", why="x"))
    assert len(pagerduty.received) == 4 and pagerduty.received[0]["routing_key"] == own_key
    assert caplog.records and own_key not in caplog.text


async def test_the_adapter_redacts_everything_it_sends_but_the_routing_and_dedup_keys(pagerduty, client):
    """The pager's last line: a page that reaches it unredacted (summary, component, details keys and values,
    nested lists and tuples) leaves with no email, configured secret or phone number; the routing key, a secret
    the redactor knows, and the dedup key go out as they are."""
    secret, email, phone = "hunter2-SuperSecretValue", "ceo.private@acme-corp.example", "+1 (415) 555-2671"
    page = replace(
        trigger(incident(), service="oncall", why=f"paged by {email}"),
        summary=f"Payments down for {email}, key {secret}, call {phone}", component=f"billing {email}",
        details={"customer": email, email: [secret, (phone, {"nested": secret})], "reason": f"call {phone}"},
    )  # fmt: skip
    pd = PagerDutyPager(
        routing_keys={"oncall": KEY}, client=lambda: client, url=pagerduty.url, redact=Redactor([secret, KEY])
    )
    await pd.send(page)
    (sent,) = pagerduty.accepted
    assert sent["routing_key"] == KEY and sent["dedup_key"] == f"warroom-{REF}", "the keys that route the page"
    assert sent["payload"]["summary"].startswith("Payments down for [redacted-email]")
    body = json.dumps(sent)
    for leak in (email, secret, "555-2671"):
        assert leak not in body, f"{leak} reached PagerDuty"
    assert "[redacted]" in body and "[redacted-email]" in body
