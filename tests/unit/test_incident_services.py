"""Incident use cases over a real SQLite store, with a manual clock."""

from __future__ import annotations

import asyncio

import pytest

from bot.audit import verify
from bot.domain.events import EventKind
from bot.domain.incident import Role, Severity, Status
from bot.services import incidents
from bot.services.errors import BadRequest, IncidentNotFound, IncidentNotOpen
from tests.builders import deps_for, sqlite_store


@pytest.fixture
async def deps(tmp_path):
    store = await sqlite_store(tmp_path)
    yield deps_for(store)
    await store.dispose()


async def test_declare_assigns_daily_refs_and_logs_event(deps):
    a = await incidents.declare(deps, title="Checkout is failing", severity=Severity.SEV2, actor="U0ALICE")
    b = await incidents.declare(deps, title="Search slow", severity=Severity.SEV3, actor="U0ALICE")
    assert a.changed and b.changed
    assert a.incident.ref == "INC-20261123-001"
    assert b.incident.ref == "INC-20261123-002"
    _, events = await incidents.timeline(deps, ref=a.incident.ref)
    assert [e.kind for e in events] == [EventKind.DECLARED.value]
    assert events[0].actor == "U0ALICE"


async def test_refs_restart_each_day(deps):
    await incidents.declare(deps, title="one", severity=Severity.SEV3, actor="U1")
    deps.clock.advance(hours=24)
    nxt = await incidents.declare(deps, title="two", severity=Severity.SEV3, actor="U1")
    assert nxt.incident.ref == "INC-20261124-001"


async def test_concurrent_declares_get_unique_refs(deps):
    outs = await asyncio.gather(
        *(incidents.declare(deps, title=f"inc {i}", severity=Severity.SEV3, actor="U1") for i in range(20))
    )
    refs = {o.incident.ref for o in outs}
    assert len(refs) == 20


async def test_declare_is_idempotent_per_key_and_folds_double_submit(deps):
    a = await incidents.declare(deps, title="DB down", severity=Severity.SEV1, actor="U1", declare_key="trig-1")
    again = await incidents.declare(deps, title="DB down", severity=Severity.SEV1, actor="U1", declare_key="trig-1")
    double = await incidents.declare(deps, title="DB  down", severity=Severity.SEV1, actor="U1", declare_key="t2")
    assert not again.changed and again.incident.ref == a.incident.ref
    assert not double.changed and double.incident.ref == a.incident.ref
    deps.clock.advance(minutes=10)
    later = await incidents.declare(deps, title="DB down", severity=Severity.SEV1, actor="U1", declare_key="t3")
    assert later.changed and later.incident.ref != a.incident.ref


async def test_sev1_is_under_human_control(deps):
    out = await incidents.declare(deps, title="x", severity=Severity.SEV1, actor="U1")
    assert out.incident.human_control
    out2 = await incidents.declare(deps, title="y", severity=Severity.SEV3, actor="U1")
    assert not out2.incident.human_control


async def test_empty_title_is_refused(deps):
    with pytest.raises(BadRequest):
        await incidents.declare(deps, title="   ", severity=Severity.SEV3, actor="U1")


async def test_acknowledge_twice_changes_nothing(deps):
    ref = (await incidents.declare(deps, title="x", severity=Severity.SEV2, actor="U1")).incident.ref
    deps.clock.advance(minutes=3)
    first = await incidents.acknowledge(deps, ref=ref, actor="U2")
    second = await incidents.acknowledge(deps, ref=ref, actor="U3")
    assert first.changed and not second.changed
    assert first.incident.status is Status.ACKNOWLEDGED
    assert second.incident.acknowledged_at == first.incident.acknowledged_at
    _, events = await incidents.timeline(deps, ref=ref)
    assert [e.kind for e in events].count(EventKind.ACKNOWLEDGED.value) == 1


async def test_take_lead_assigns_commander_and_acknowledges(deps):
    ref = (await incidents.declare(deps, title="x", severity=Severity.SEV2, actor="U1")).incident.ref
    out = await incidents.take_lead(deps, ref=ref, actor="U2")
    assert out.incident.commander == "U2"
    assert out.incident.status is Status.ACKNOWLEDGED
    out = await incidents.assign_role(deps, ref=ref, role=Role.COMMANDER, user_id="U3", actor="U2")
    assert out.incident.commander == "U3"
    assert out.incident.roles[Role.COMMANDER] == ["U3"]


async def test_sme_role_may_have_several(deps):
    ref = (await incidents.declare(deps, title="x", severity=Severity.SEV2, actor="U1")).incident.ref
    await incidents.assign_role(deps, ref=ref, role=Role.SME, user_id="U4", actor="U1")
    out = await incidents.assign_role(deps, ref=ref, role=Role.SME, user_id="U5", actor="U1")
    assert out.incident.roles[Role.SME] == ["U4", "U5"]
    again = await incidents.assign_role(deps, ref=ref, role=Role.SME, user_id="U5", actor="U1")
    assert not again.changed


async def test_severity_change_records_old_and_new(deps):
    ref = (await incidents.declare(deps, title="x", severity=Severity.SEV3, actor="U1")).incident.ref
    out = await incidents.change_severity(deps, ref=ref, severity=Severity.SEV1, actor="U2", reason="customers hit")
    assert out.incident.severity is Severity.SEV1 and out.incident.human_control
    _, events = await incidents.timeline(deps, ref=ref)
    ev, frozen = events[-2:]
    assert frozen.kind == EventKind.DEPLOY_FROZEN.value, "raising to SEV1 freezes deploys, as an event"
    assert ev.kind == EventKind.SEVERITY_CHANGED.value
    assert ev.payload == {"old": "SEV3", "new": "SEV1", "reason": "customers hit"}
    same = await incidents.change_severity(deps, ref=ref, severity=Severity.SEV1, actor="U2")
    assert not same.changed


async def test_resolved_incident_refuses_buttons_but_resolve_is_idempotent(deps):
    ref = (await incidents.declare(deps, title="x", severity=Severity.SEV2, actor="U1")).incident.ref
    deps.clock.advance(minutes=30)
    out = await incidents.resolve(deps, ref=ref, actor="U1", summary="rolled back")
    assert out.incident.status is Status.RESOLVED and out.incident.summary == "rolled back"
    assert not (await incidents.resolve(deps, ref=ref, actor="U1")).changed
    with pytest.raises(IncidentNotOpen):
        await incidents.acknowledge(deps, ref=ref, actor="U2")
    with pytest.raises(IncidentNotOpen):
        await incidents.change_severity(deps, ref=ref, severity=Severity.SEV1, actor="U2")
    with pytest.raises(IncidentNotOpen):
        await incidents.take_lead(deps, ref=ref, actor="U2")


async def test_notes_and_updates_validate_and_append(deps):
    ref = (await incidents.declare(deps, title="x", severity=Severity.SEV2, actor="U1")).incident.ref
    await incidents.add_note(deps, ref=ref, actor="U1", text="restarted pod api-7")
    await incidents.post_update(deps, ref=ref, actor="U1", text="mitigation in progress")
    with pytest.raises(BadRequest):
        await incidents.add_note(deps, ref=ref, actor="U1", text="  ")
    with pytest.raises(BadRequest):
        await incidents.add_note(deps, ref=ref, actor="U1", text="x" * 3001)
    _, events = await incidents.timeline(deps, ref=ref)
    assert [e.text for e in events[1:]] == ["restarted pod api-7", "mitigation in progress"]


async def test_unknown_ref(deps):
    with pytest.raises(IncidentNotFound):
        await incidents.acknowledge(deps, ref="INC-20200101-001", actor="U1")


async def test_status_machine_via_service(deps):
    ref = (await incidents.declare(deps, title="x", severity=Severity.SEV2, actor="U1")).incident.ref
    out = await incidents.set_status(deps, ref=ref, status=Status.MITIGATED, actor="U1")
    assert out.incident.status is Status.MITIGATED and out.incident.mitigated_at is not None
    await incidents.resolve(deps, ref=ref, actor="U1")
    reopened = await incidents.set_status(deps, ref=ref, status=Status.ACKNOWLEDGED, actor="U1")
    assert reopened.incident.status is Status.ACKNOWLEDGED and reopened.incident.resolved_at is None
    await incidents.resolve(deps, ref=ref, actor="U1")
    await incidents.set_status(deps, ref=ref, status=Status.CLOSED, actor="U1")
    with pytest.raises(IncidentNotOpen):
        await incidents.set_status(deps, ref=ref, status=Status.ACKNOWLEDGED, actor="U1")


async def test_pins_are_recorded_once(deps):
    ref = (await incidents.declare(deps, title="x", severity=Severity.SEV2, actor="U1")).incident.ref
    async with deps.store.transaction() as tx:
        row = await tx.incident_row(ref, lock=True)
        row.channel_id = "C1"
    first = await incidents.record_pin(
        deps, channel_id="C1", ts="1.1", actor="U2", text="root cause!", author="U3", via="reaction"
    )
    second = await incidents.record_pin(
        deps, channel_id="C1", ts="1.1", actor="U2", text="root cause!", author="U3", via="pin"
    )
    assert first.changed and not second.changed
    assert (
        await incidents.record_pin(deps, channel_id="C999", ts="1.1", actor="U2", text="", author=None, via="pin")
        is None
    )


async def test_audit_chain_verifies_and_detects_tampering(deps):
    ref = (await incidents.declare(deps, title="x", severity=Severity.SEV2, actor="U1")).incident.ref
    await incidents.add_note(deps, ref=ref, actor="U1", text="a")
    await incidents.add_note(deps, ref=ref, actor="U1", text="b")
    await incidents.declare(deps, title="other", severity=Severity.SEV3, actor="U1")
    report = await verify(deps.store)
    assert report.ok and report.rows == 4 and report.chains == 2
    from sqlalchemy import update

    from bot.db.tables import EventRow

    async with deps.store.transaction() as tx:
        await tx.session.execute(update(EventRow).where(EventRow.text == "a").values(text="edited"))
    report = await verify(deps.store)
    assert not report.ok
    assert report.broken_chain == ref and report.broken_seq == 2
    assert "edited" in report.reason


async def test_list_incidents_filters_and_orders(deps):
    a = (await incidents.declare(deps, title="a", severity=Severity.SEV2, actor="U1")).incident.ref
    deps.clock.advance(seconds=1)
    b = (await incidents.declare(deps, title="b", severity=Severity.SEV2, actor="U1")).incident.ref
    await incidents.resolve(deps, ref=a, actor="U1")
    assert [i.ref for i in await incidents.list_incidents(deps)] == [b, a]
    assert [i.ref for i in await incidents.list_incidents(deps, status="open")] == [b]
    assert [i.ref for i in await incidents.list_incidents(deps, status="resolved")] == [a]
    with pytest.raises(BadRequest):
        await incidents.list_incidents(deps, status="weird")


async def test_taking_command_of_a_mitigated_incident_keeps_it_mitigated(deps):
    ref = (await incidents.declare(deps, title="x", severity=Severity.SEV2, actor="U1")).incident.ref
    await incidents.set_status(deps, ref=ref, status=Status.MITIGATED, actor="U1")
    out = await incidents.take_lead(deps, ref=ref, actor="U2")
    assert out.incident.status is Status.MITIGATED
    assert out.incident.acknowledged_at is not None and out.incident.commander == "U2"
