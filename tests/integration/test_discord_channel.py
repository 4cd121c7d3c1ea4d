"""The Discord alert channel end to end below chat: incidents through the outbox to the discord reactor,
redaction and discord.py against a loopback Discord, on an injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.tables import DeliveryRow
from bot.domain.incident import Severity
from bot.outbox import OutboxWorker, RetryPolicy
from bot.redact import Redactor
from bot.redact_outbound import RedactingBroadcaster
from bot.services import incidents
from bot.services.reactors import DiscordAlerts
from integrations.discord_alerts import DiscordWebhook
from tests.builders import deps_for, sqlite_store
from tests.servers.discord_server import DiscordServer

ROLE = "123456789012345678"


class Timed:
    """A Broadcaster that notes the injected time of each message it passes on."""

    def __init__(self, inner, clock):
        self.inner, self.clock, self.at = inner, clock, []

    async def broadcast(self, notices, **kw):
        await self.inner.broadcast(notices, **kw)
        self.at.append(self.clock.now())


@pytest.fixture
async def env(tmp_path, discord_server: DiscordServer):
    store = await sqlite_store(tmp_path)
    deps = deps_for(store)
    hook = DiscordWebhook(discord_server.webhook_url, api_url=discord_server.api_url, role_id=ROLE)
    channel = Timed(RedactingBroadcaster(hook, Redactor()), deps.clock)
    store.reactors.add(DiscordAlerts(deps, channel, per_minute=5, ping_at=Severity.SEV2))
    worker = OutboxWorker(store, clock=deps.clock, policy=RetryPolicy(base_delay=1, jitter=0), batch=16)
    yield deps, worker, channel, discord_server
    await store.dispose()


async def statuses(store):
    async with store.read() as tx:
        return [(r.status, r.attempts) for r in (await tx.session.execute(select(DeliveryRow))).scalars()]


async def test_new_incident_severity_change_and_resolution_with_the_role_pinged_for_sev2_and_worse(env):
    deps, worker, _, server = env
    minor = (await incidents.declare(deps, title="disk 80%", severity=Severity.SEV3, actor="U0A")).incident.ref
    major = (await incidents.declare(deps, title="checkout down", severity=Severity.SEV2, actor="U0A")).incident.ref
    await worker.drain()
    deps.clock.advance(minutes=1)
    await incidents.change_severity(deps, ref=minor, severity=Severity.SEV1, actor="U0B", reason="customers")
    await incidents.resolve(deps, ref=major, actor="U0B", summary="rolled back")
    await worker.drain()
    titles = [m.payload["embeds"][0]["title"] for m in server.messages]
    assert titles == [f"{minor} declared · SEV3", f"{major} declared · SEV2", f"{minor} severity SEV3 → SEV1",
                      f"{major} resolved"]  # fmt: skip
    pinged = [m.payload.get("content", "").startswith(f"<@&{ROLE}>") for m in server.messages]
    assert pinged == [False, True, True, False]
    resolved = server.messages[3].payload["embeds"][0]
    assert resolved["color"] == 0x2EB67D and "rolled back" in resolved["description"]
    assert {f["name"] for f in server.messages[0].payload["embeds"][0]["fields"]} >= {"Services", "Commander"}


async def test_a_storm_of_100_incidents_stays_within_the_rate_and_ends_in_one_summary(env):
    deps, worker, channel, server = env
    for i in range(100):
        await incidents.declare(deps, title=f"storm {i}", severity=Severity.SEV2, actor="U0A")
    await worker.drain()
    assert len(server.messages) == 5
    assert {s for s, _ in await statuses(deps.store)} == {"done", "pending"}
    for _ in range(5):
        deps.clock.advance(seconds=61)
        await worker.drain()
    assert len(server.messages) == 6, "95 held notices went out as one summary"
    summary = server.messages[-1].payload
    assert summary["embeds"][0]["title"] == "95 incident updates"
    assert summary["content"].startswith(f"<@&{ROLE}>"), "pinged once for the storm"
    for t in channel.at:
        assert sum(1 for u in channel.at if t <= u < t + timedelta(minutes=1)) <= 5
    assert {s for s, _ in await statuses(deps.store)} == {"done"}
    assert max(a for _, a in await statuses(deps.store)) == 1, "held deliveries were postponed, not failed"


async def test_a_429_reschedules_after_its_retry_after_and_nothing_is_sent_twice(env):
    deps, worker, _, server = env
    await incidents.declare(deps, title="x", severity=Severity.SEV3, actor="U0A")
    server.rate_limit_next = [(30.0, False)]
    await worker.drain()
    assert server.messages == [] and await statuses(deps.store) == [("pending", 1)]
    deps.clock.advance(seconds=29)
    await worker.drain()
    assert server.messages == [], "not before retry_after"
    deps.clock.advance(seconds=2)
    await worker.drain()
    assert len(server.messages) == 1 and await statuses(deps.store) == [("done", 2)]
