"""The persistence boundary: aggregates and their events are saved together, once per unit of work."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.db.tables import EventRow, IncidentRow, RoleRow
from bot.domain.incident import Role, Severity
from bot.services import incidents
from bot.services.uow import Conflict
from tests.builders import deps_for, sqlite_store


@pytest.fixture
async def deps(tmp_path):
    store = await sqlite_store(tmp_path)
    yield deps_for(store)
    await store.dispose()


async def counts(deps):
    async with deps.store.read() as tx:
        return [
            (await tx.session.execute(select(func.count()).select_from(t))).scalar_one() for t in (EventRow, RoleRow)
        ]


async def test_an_error_after_save_rolls_back_the_change_and_its_events(deps):
    ref = (await incidents.declare(deps, title="x", severity=Severity.SEV3, actor="U1")).incident.ref
    before = await counts(deps)
    with pytest.raises(RuntimeError):
        async with deps.store.transaction() as uow:
            inc = await uow.incidents.get(ref, lock=True)
            await uow.save(inc, inc.assign_role(Role.COMMANDER, "U0B", actor="U1", at=deps.clock.now()))
            raise RuntimeError("crash before commit")
    assert await counts(deps) == before
    after = await incidents.get(deps, ref=ref)
    assert after.commander is None and after.acknowledged_at is None


async def test_one_object_per_incident_in_a_unit_of_work_and_its_roles_saved(deps):
    ref = (await incidents.declare(deps, title="x", severity=Severity.SEV3, actor="U1")).incident.ref
    async with deps.store.transaction() as uow:
        a = await uow.incidents.get(ref, lock=True)
        b = await uow.incidents.get_by_id(a.id)
        assert a is b
        stored = await uow.save(a, a.assign_role(Role.SME, "U0C", actor="U1", at=deps.clock.now()))
        assert [e.kind for e in stored] == ["incident.role_assigned"] and stored[0].seq == 2
        await uow.save(a, a.assign_role(Role.COMMANDER, "U0D", actor="U1", at=deps.clock.now()))
        await uow.save(a, a.assign_role(Role.COMMANDER, "U0E", actor="U1", at=deps.clock.now()))
    again = await incidents.get(deps, ref=ref)
    assert again.roles == {Role.COMMANDER: ["U0E"], Role.SME: ["U0C"]}
    async with deps.store.read() as tx:
        rows = (await tx.session.execute(select(RoleRow.role, RoleRow.user_id, RoleRow.assigned_by))).all()
    assert sorted(rows) == [("commander", "U0E", "U1"), ("sme", "U0C", "U1")]


async def test_an_aggregate_from_another_unit_of_work_is_refused(deps):
    out = await incidents.declare(deps, title="x", severity=Severity.SEV3, actor="U1")
    async with deps.store.transaction() as uow:
        with pytest.raises(ValueError, match="not loaded or added in this unit of work"):
            await uow.save(out.incident, out.incident.acknowledge(actor="U1", at=deps.clock.now()))


async def test_a_broken_uniqueness_is_a_conflict_not_a_driver_error(deps):
    a = (await incidents.declare(deps, title="a", severity=Severity.SEV3, actor="U1")).incident
    b = (await incidents.declare(deps, title="b", severity=Severity.SEV3, actor="U1")).incident
    async with deps.store.transaction() as uow:
        inc = await uow.incidents.get(a.ref, lock=True)
        inc.room_named("inc-20261123-taken")
        await uow.save(inc)
    with pytest.raises(Conflict):
        async with deps.store.transaction() as uow:
            inc = await uow.incidents.get(b.ref, lock=True)
            inc.room_named("inc-20261123-taken")
            await uow.save(inc)
    async with deps.store.read() as tx:
        names = (await tx.session.execute(select(IncidentRow.channel_name).order_by(IncidentRow.id))).scalars().all()
    assert names == ["inc-20261123-taken", None]
