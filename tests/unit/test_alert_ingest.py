"""Alert ingest: dedupe, grouping, correlation window, review queue, severity rise, resolve, silences, storms."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.config import parse_config
from bot.db.tables import AlertRow, IncidentRow, TimerRow
from bot.domain.events import EventKind
from bot.domain.incident import Severity
from bot.services import alerts, incidents, silences
from bot.services.deps import AlertPolicy
from tests.alert_builders import alert
from tests.builders import deps_for, sqlite_store


@pytest.fixture
async def deps(tmp_path):
    store = await sqlite_store(tmp_path)
    d = deps_for(store)
    yield d
    await store.dispose()


async def count(deps, model, *where):
    async with deps.store.read() as tx:
        return (await tx.session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


async def test_first_alert_declares_an_incident_titled_by_its_summary(deps):
    r = await alerts.ingest(
        deps, [alert(summary="checkout-api 5xx at 7.8%", region="us-east-1")], source="alertmanager"
    )
    assert r.accepted == 1 and len(r.declared) == 1 and r.incidents == r.declared
    inc = await incidents.get(deps, ref=r.declared[0])
    assert inc.title == "checkout-api 5xx at 7.8%"
    assert inc.severity is Severity.SEV2 and inc.severity_confirmed
    assert inc.severity_reason == 'severity label "critical"'
    assert inc.services == ["checkout-api"] and inc.alertnames == ["HighErrorRate"] and inc.regions == ["us-east-1"]
    assert inc.alert_count == 1 and inc.declared_by == "alertmanager"
    assert inc.group_key == "service=checkout-api,alertname=HighErrorRate"


async def test_title_falls_back_to_alertname_on_service(deps):
    r = await alerts.ingest(deps, [alert("DiskFull", "search")], source="alertmanager")
    assert (await incidents.get(deps, ref=r.declared[0])).title == "DiskFull on search"


async def test_same_fingerprint_while_firing_is_one_alert_with_a_counter(deps):
    a = alert()
    first = await alerts.ingest(deps, [a], source="alertmanager")
    deps.clock.advance(minutes=1)
    again = await alerts.ingest(deps, [a, a], source="alertmanager")
    assert again.deduplicated == 2 and again.declared == []
    assert await count(deps, AlertRow) == 1
    async with deps.store.read() as tx:
        row = (await tx.session.execute(select(AlertRow))).scalar_one()
    assert row.count == 3 and row.last_seen_at > row.first_seen_at
    assert (await incidents.get(deps, ref=first.declared[0])).alert_count == 1


async def test_repeats_within_one_request_are_counted(deps):
    r = await alerts.ingest(deps, [alert(), alert(), alert()], source="alertmanager")
    assert r.deduplicated == 2 and len(r.declared) == 1
    async with deps.store.read() as tx:
        row = (await tx.session.execute(select(AlertRow))).scalar_one()
    assert row.count == 3
    assert (await incidents.get(deps, ref=r.declared[0])).alert_count == 1


async def test_group_members_join_the_open_incident(deps):
    r1 = await alerts.ingest(deps, [alert(instance="a")], source="alertmanager")
    deps.clock.advance(minutes=10)
    r2 = await alerts.ingest(deps, [alert(instance="b"), alert(instance="c")], source="alertmanager")
    assert r2.declared == [] and r2.incidents == r1.declared
    inc = await incidents.get(deps, ref=r1.declared[0])
    assert inc.alert_count == 3
    _, events = await incidents.timeline(deps, ref=inc.ref)
    assert events[-1].kind != EventKind.ALERTS_UPDATED.value, "joins are noted once per window, not per request"
    await alerts.ingest(deps, [alert(instance="d")], source="alertmanager")
    assert await alerts.note_joined_alerts(deps, incident_id=inc.id) == 3
    assert await alerts.note_joined_alerts(deps, incident_id=inc.id) == 0
    _, events = await incidents.timeline(deps, ref=inc.ref)
    assert events[-1].kind == EventKind.ALERTS_UPDATED.value and events[-1].payload == {
        "new": 3,
        "total": 4,
        "firing": 4,
    }


async def test_a_quiet_group_beyond_the_window_opens_a_new_incident(deps):
    r1 = await alerts.ingest(deps, [alert(instance="a")], source="alertmanager")
    deps.clock.advance(minutes=31)
    r2 = await alerts.ingest(deps, [alert(instance="b")], source="alertmanager")
    assert r2.declared and r2.declared != r1.declared


async def test_different_groups_get_different_incidents(deps):
    r = await alerts.ingest(
        deps, [alert("HighErrorRate", "a"), alert("HighErrorRate", "b"), alert("Latency", "a")], source="alertmanager"
    )
    assert len(r.declared) == 3


async def test_grouping_key_is_configurable(deps):
    deps.alerts = AlertPolicy(group_by=["cluster"])
    r = await alerts.ingest(
        deps,
        [alert("A", "x", cluster="c1"), alert("B", "y", cluster="c1"), alert("C", "z", cluster="c2")],
        source="alertmanager",
    )
    assert len(r.declared) == 2


async def test_sev4_goes_to_the_review_queue(deps):
    r = await alerts.ingest(deps, [alert(severity="info")], source="alertmanager")
    assert r.declared == [] and r.review == 1
    queue = await alerts.review_queue(deps)
    assert len(queue) == 1 and queue[0]["severity"] == "SEV4" and queue[0]["incident"] is None
    assert await count(deps, IncidentRow) == 0


async def test_unknown_severity_declares_sev3_unconfirmed(deps):
    r = await alerts.ingest(deps, [alert(severity=None)], source="alertmanager")
    inc = await incidents.get(deps, ref=r.declared[0])
    assert inc.severity is Severity.SEV3 and not inc.severity_confirmed
    assert "confirm" in inc.severity_reason


async def test_severity_rise_of_a_grouped_alert_raises_the_incident(deps):
    r = await alerts.ingest(deps, [alert(severity="warning", instance="a")], source="alertmanager")
    ref = r.declared[0]
    await alerts.ingest(deps, [alert(severity="critical", instance="b", customer_facing="true")], source="alertmanager")
    inc = await incidents.get(deps, ref=ref)
    assert inc.severity is Severity.SEV1 and inc.human_control
    _, events = await incidents.timeline(deps, ref=ref)
    rise = [e for e in events if e.kind == EventKind.SEVERITY_CHANGED.value]
    assert rise and rise[0].payload["old"] == "SEV3" and rise[0].payload["new"] == "SEV1"
    assert rise[0].actor == "alertmanager"


async def test_resolved_alerts_are_recorded_and_the_room_is_told_never_auto_resolved(deps):
    a, b = alert(instance="a"), alert(instance="b")
    ref = (await alerts.ingest(deps, [a, b], source="alertmanager")).declared[0]
    await alerts.ingest(deps, [alert(instance="a", status="resolved")], source="alertmanager")
    _, events = await incidents.timeline(deps, ref=ref)
    assert events[-1].kind == EventKind.ALERTS_RESOLVED.value and events[-1].payload["firing"] == 1
    await alerts.ingest(deps, [alert(instance="b", status="resolved")], source="alertmanager")
    _, events = await incidents.timeline(deps, ref=ref)
    assert events[-1].kind == EventKind.ALL_ALERTS_RESOLVED.value
    inc = await incidents.get(deps, ref=ref)
    assert inc.is_open, "alerts resolving never resolves the incident"
    assert await count(deps, AlertRow, AlertRow.status == "resolved") == 2
    # The same alert firing again is a new alert row (the old one stays as history).
    await alerts.ingest(deps, [a], source="alertmanager")
    assert await count(deps, AlertRow) == 3


async def test_resolved_for_an_unknown_alert_is_recorded_only(deps):
    r = await alerts.ingest(deps, [alert(status="resolved")], source="alertmanager")
    assert r.declared == [] and r.resolved == 1
    assert await count(deps, AlertRow) == 1


async def test_config_and_api_silences(deps):
    cfg = parse_config(
        """
silences:
  - matchers: {service: search}
    starts_at: 2026-11-23T08:00:00Z
    ends_at: 2026-11-23T10:00:00Z
    comment: reindex
"""
    )
    deps.alerts = AlertPolicy(silences=cfg.silences)
    r = await alerts.ingest(deps, [alert(service="search")], source="alertmanager")
    assert r.silenced == 1 and r.declared == []
    s = await silences.create(deps, matchers={"service": "billing"}, ends_at=deps.clock.now() + timedelta(hours=1))
    assert s["state"] == "active"
    r = await alerts.ingest(deps, [alert(service="billing")], source="alertmanager")
    assert r.silenced == 1 and r.declared == []
    assert await count(deps, AlertRow) == 2, "silenced alerts are stored and counted"
    await silences.expire(deps, silence_id=s["id"])
    deps.clock.advance(hours=3)  # the config silence has ended too
    r = await alerts.ingest(
        deps, [alert(service="billing", instance="2"), alert(service="search", instance="2")], source="x"
    )
    assert len(r.declared) == 2


async def test_silence_validation(deps):
    from bot.services.errors import BadRequest

    now = deps.clock.now()
    with pytest.raises(BadRequest):
        await silences.create(deps, matchers={}, ends_at=now + timedelta(hours=1))
    with pytest.raises(BadRequest):
        await silences.create(deps, matchers={"a": "b"}, ends_at=now - timedelta(hours=1))
    with pytest.raises(BadRequest):
        await silences.create(deps, matchers={"a": "b"}, ends_at=now + timedelta(days=31))
    with pytest.raises(BadRequest):
        await silences.create(deps, matchers={"a": "b\x00"}, ends_at=now + timedelta(hours=1))


async def test_request_key_makes_retries_idempotent(deps):
    r1 = await alerts.ingest(deps, [alert()], source="cloudwatch", request_key="msg-1")
    r2 = await alerts.ingest(deps, [alert()], source="cloudwatch", request_key="msg-1")
    assert r1.declared and r2.duplicate_request and r2.declared == []
    async with deps.store.read() as tx:
        row = (await tx.session.execute(select(AlertRow))).scalar_one()
    assert row.count == 1


async def test_storm_is_coalesced_into_one_card_refresh_per_window(deps):
    ref = (await alerts.ingest(deps, [alert(instance="0")], source="alertmanager")).declared[0]
    for i in range(1, 200):
        await alerts.ingest(deps, [alert(instance=str(i))], source="alertmanager")
        deps.clock.advance(seconds=0.01)  # 2 s of alerts: within one or two 5 s windows
    timers = await count(deps, TimerRow, TimerRow.kind == alerts.CARD_REFRESH)
    assert 1 <= timers <= 2
    assert (await incidents.get(deps, ref=ref)).alert_count == 200


async def test_card_refreshes_of_many_incidents_spread_over_the_window(deps):
    period = deps.alerts.card_refresh_seconds
    for i in range(20):
        await alerts.ingest(deps, [alert(service=f"svc-{i}")], source="alertmanager")
    async with deps.store.read() as tx:
        rows = list((await tx.session.execute(select(TimerRow).where(TimerRow.kind == alerts.CARD_REFRESH))).scalars())
    now = deps.clock.now()
    waits = sorted((r.due_at - now).total_seconds() for r in rows)
    assert len(waits) == 20 and all(0 < w <= period for w in waits)
    assert len({round(w, 3) for w in waits}) == 20  # no two on the same instant
    assert waits[-1] - waits[0] > period / 2  # spread across the window, not bunched on a boundary


def sent_with_fingerprint(a, fp: str):
    """The alert as a sender that sets the fingerprint itself would send it (Alertmanager's field)."""
    return type(a)(
        source=a.source, fingerprint=fp, status=a.status, labels=a.labels, annotations=a.annotations,
        labels_fingerprint=True,
    )  # fmt: skip


@pytest.mark.parametrize(
    "first, second",
    [
        ({"alertname": "Disk|Full"}, {"alertname": "Disk/Full"}),  # `|` is folded into `/` in the key's lead
        ({"alertname": "A" * 300}, {"alertname": "A" * 300 + "B"}),  # the lead is cut to fit the key
        ({"service": "", "job": "search"}, {"service": "search"}),  # service falls back to job
    ],
)
async def test_alerts_of_one_request_that_share_an_active_key_are_one_alert_not_a_503(deps, first, second):
    """Found by the fuzzer: a sender's fingerprint with label sets that give one active key crashed ingest."""
    a = sent_with_fingerprint(alert(**{"alertname": "X", "service": "s", **first}), "f00d")
    b = sent_with_fingerprint(alert(**{"alertname": "X", "service": "s", **second}), "f00d")
    assert a.active_key == b.active_key and a.labels != b.labels
    r = await alerts.ingest(deps, [a, b], source="alertmanager")
    assert r.accepted == 2 and r.deduplicated == 1 and len(r.declared) == 1
    async with deps.store.read() as tx:
        row = (await tx.session.execute(select(AlertRow))).scalar_one()
    assert row.count == 2 and row.labels == dict(a.labels)


async def test_an_alert_that_fires_and_resolves_in_one_request_is_stored_resolved(deps):
    firing, resolved = alert(), alert(status="resolved")
    r = await alerts.ingest(deps, [firing, resolved], source="alertmanager")
    assert r.accepted == 2 and r.resolved == 1
    async with deps.store.read() as tx:
        row = (await tx.session.execute(select(AlertRow))).scalar_one()
    assert row.status == "resolved" and row.active_key is None and row.resolved_at is not None
    again = await alerts.ingest(deps, [firing], source="alertmanager")  # firing again: a new firing row
    assert again.deduplicated == 0 and await count(deps, AlertRow) == 2


async def test_an_alert_resolved_and_firing_again_in_one_request_gets_a_new_firing_row(deps):
    """Found by the fuzzer: the new row was inserted before the resolved one gave up its key (a 503)."""
    await alerts.ingest(deps, [alert()], source="alertmanager")
    r = await alerts.ingest(deps, [alert(status="resolved"), alert()], source="alertmanager")
    assert r.accepted == 2 and r.resolved == 1
    async with deps.store.read() as tx:
        rows = (await tx.session.execute(select(AlertRow).order_by(AlertRow.id))).scalars().all()
    assert [(x.status, x.active_key is None) for x in rows] == [("resolved", True), ("firing", False)]
