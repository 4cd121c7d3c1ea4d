"""Alert ingest on real PostgreSQL: the Core paths, concurrent requests for one group, resolve."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.db.migrate import upgrade
from bot.db.store import Store
from bot.db.tables import AlertRow, IncidentRow
from bot.services import alerts, incidents, silences
from bot.services.deps import Deps
from tests.alert_builders import alert

pytestmark = pytest.mark.postgres


@pytest.fixture
async def two(pg_url):
    await asyncio.to_thread(upgrade, pg_url)
    clock = ManualClock()
    stores = [Store.from_url(pg_url), Store.from_url(pg_url)]
    yield [Deps(store=s, clock=clock) for s in stores]
    for s in stores:
        await s.dispose()


async def count(deps, model):
    async with deps.store.read() as tx:
        return (await tx.session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_concurrent_requests_for_one_group_make_one_incident(two):
    a, b = two
    batches = [[alert(instance=f"{n}-{i}") for i in range(20)] for n in range(10)]
    results = await asyncio.gather(
        *(alerts.ingest(d, batch, source="alertmanager") for d, batch in zip([a, b] * 5, batches, strict=True))
    )
    assert sum(len(r.declared) for r in results) == 1
    assert await count(a, IncidentRow) == 1
    assert await count(a, AlertRow) == 200
    inc = (await incidents.list_incidents(a))[0]
    assert inc.alert_count == 200 and inc.alerts_firing == 200


async def test_dedupe_resolve_and_silence_on_postgres(two):
    deps, _ = two
    r = await alerts.ingest(deps, [alert(instance="a"), alert(instance="b")], source="alertmanager")
    ref = r.declared[0]
    again = await alerts.ingest(deps, [alert(instance="a")], source="alertmanager")
    assert again.deduplicated == 1 and again.declared == []
    await alerts.ingest(
        deps, [alert(instance="a", status="resolved"), alert(instance="b", status="resolved")], source="alertmanager"
    )
    _, events = await incidents.timeline(deps, ref=ref)
    assert events[-1].kind == "alerts.all_resolved"
    from datetime import timedelta

    await silences.create(deps, matchers={"service": "quiet"}, ends_at=deps.clock.now() + timedelta(hours=1))
    s = await alerts.ingest(deps, [alert(service="quiet")], source="alertmanager")
    assert s.silenced == 1 and s.declared == []
    assert await alerts.note_joined_alerts(deps, incident_id=(await incidents.get(deps, ref=ref)).id) == 0
