"""`warroom audit verify`: edited, deleted (also the newest), reordered and smuggled rows are all detected and
named; an untouched log verifies."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, text, update

from bot.audit import verify
from bot.db.tables import AuditHeadRow, EventRow
from bot.domain.incident import Severity
from bot.services import incidents
from tests.builders import deps_for, sqlite_store


@pytest.fixture
async def deps(tmp_path):
    store = await sqlite_store(tmp_path)
    yield deps_for(store)
    await store.dispose()


async def _log(deps) -> str:
    """Two chains: the first with declare + three notes (#1..#4), the second with one row."""
    ref = (await incidents.declare(deps, title="x", severity=Severity.SEV2, actor="U1")).incident.ref
    for note in ("a", "b", "c"):
        await incidents.add_note(deps, ref=ref, actor="U1", text=note)
    await incidents.declare(deps, title="other", severity=Severity.SEV3, actor="U1")
    report = await verify(deps.store)
    assert report.ok, report.describe()
    assert (report.rows, report.chains) == (5, 2)
    return ref


async def _sql(deps, *statements) -> None:
    async with deps.store.transaction() as tx:
        for statement in statements:
            await tx.session.execute(statement)


async def _id_of(deps, ref: str, seq: int) -> int:
    async with deps.store.read() as tx:
        q = select(EventRow.id).where(EventRow.chain == ref, EventRow.seq == seq)
        return int((await tx.session.execute(q)).scalar_one())


async def test_every_append_moves_the_chain_head_in_the_same_transaction(deps):
    ref = await _log(deps)
    async with deps.store.read() as tx:
        head = (await tx.session.execute(select(AuditHeadRow).where(AuditHeadRow.chain == ref))).scalar_one()
        newest = (
            await tx.session.execute(select(EventRow).where(EventRow.chain == ref, EventRow.seq == 4))
        ).scalar_one()
    assert (head.seq, head.hash) == (4, newest.hash)


async def test_an_edited_row_is_named(deps):
    ref = await _log(deps)
    await _sql(deps, update(EventRow).where(EventRow.text == "b").values(text="edited"))
    report = await verify(deps.store)
    assert not report.ok and (report.broken_chain, report.broken_seq) == (ref, 3)
    assert report.broken_id == await _id_of(deps, ref, 3)
    assert "edited" in report.reason and f"{ref} #3" in report.describe()


async def test_a_deleted_middle_row_is_named(deps):
    ref = await _log(deps)
    await _sql(deps, delete(EventRow).where(EventRow.text == "a"))
    report = await verify(deps.store)
    assert not report.ok and (report.broken_chain, report.broken_seq) == (ref, 3)
    assert "#2 was deleted" in report.reason


async def test_deleting_the_newest_row_is_detected_by_the_head_record(deps):
    ref = await _log(deps)
    await _sql(deps, delete(EventRow).where(EventRow.text == "c"))
    report = await verify(deps.store)
    assert not report.ok and (report.broken_chain, report.broken_seq, report.broken_id) == (ref, 4, None)
    assert "#4 missing" in report.reason and "newest" in report.reason
    assert f"{ref} #4" in report.describe()


async def test_deleting_a_whole_chain_is_detected(deps):
    ref = await _log(deps)
    await _sql(deps, delete(EventRow).where(EventRow.chain == ref))
    report = await verify(deps.store)
    assert not report.ok and report.broken_chain == ref and "every row of the chain was deleted" in report.reason


async def test_deleting_the_newest_row_and_its_head_is_detected(deps):
    ref = await _log(deps)
    await _sql(
        deps, delete(EventRow).where(EventRow.text == "c"), delete(AuditHeadRow).where(AuditHeadRow.chain == ref)
    )
    report = await verify(deps.store)
    assert not report.ok and report.broken_chain == ref and "no head record" in report.reason


async def test_rewinding_the_head_with_the_rows_is_seen_as_a_replaced_row(deps):
    """Deleting #4 and pointing the head at #3's seq with a made-up hash."""
    ref = await _log(deps)
    await _sql(
        deps,
        delete(EventRow).where(EventRow.text == "c"),
        update(AuditHeadRow).where(AuditHeadRow.chain == ref).values(seq=3),
    )
    report = await verify(deps.store)
    assert not report.ok and (report.broken_chain, report.broken_seq) == (ref, 3) and "replaced" in report.reason


async def test_swapping_the_storage_order_of_two_rows_is_named(deps):
    """Rows reordered: #2 and #3 trade ids (what the timeline and the exports are ordered by)."""
    ref = await _log(deps)
    two, three = await _id_of(deps, ref, 2), await _id_of(deps, ref, 3)
    await _sql(
        deps,
        text("UPDATE timeline_events SET id = -1 WHERE id = :a").bindparams(a=two),
        text("UPDATE timeline_events SET id = :a WHERE id = :b").bindparams(a=two, b=three),
        text("UPDATE timeline_events SET id = :b WHERE id = -1").bindparams(b=three),
    )
    report = await verify(deps.store)
    assert not report.ok and (report.broken_chain, report.broken_seq) == (ref, 3)
    assert "reordered" in report.reason and report.broken_id == two


async def test_swapping_the_sequence_numbers_of_two_rows_is_named(deps):
    ref = await _log(deps)
    await _sql(
        deps,
        update(EventRow).where(EventRow.chain == ref, EventRow.seq == 2).values(seq=-2),
        update(EventRow).where(EventRow.chain == ref, EventRow.seq == 3).values(seq=2),
        update(EventRow).where(EventRow.chain == ref, EventRow.seq == -2).values(seq=3),
    )
    report = await verify(deps.store)
    assert not report.ok and (report.broken_chain, report.broken_seq) == (ref, 2)
    assert "reordered" in report.reason


async def test_a_row_added_behind_the_bots_back_is_detected(deps):
    """A forged newest row with a correct link and hash: only the head record knows it was never appended."""
    from bot.domain.chain import event_hash

    ref = await _log(deps)
    async with deps.store.read() as tx:
        last = (await tx.session.execute(select(EventRow).where(EventRow.chain == ref, EventRow.seq == 4))).scalar_one()
        at, prev, incident_id = last.at, last.hash, last.incident_id
    digest = event_hash(
        prev_hash=prev, chain=ref, seq=5, at=at, actor="U9", kind="incident.note_added", text="forged", payload={}
    )
    row = EventRow(
        incident_id=incident_id, chain=ref, seq=5, at=at, actor="U9", kind="incident.note_added", text="forged",
        payload={}, prev_hash=prev, hash=digest,
    )  # fmt: skip
    async with deps.store.transaction() as tx:
        tx.session.add(row)
    report = await verify(deps.store)
    assert not report.ok and (report.broken_chain, report.broken_seq) == (ref, 5) and "added" in report.reason


async def test_small_pages_walk_every_row_of_every_chain(deps):
    """Pages of two rows: the keyset (chain, seq) carries the walk across pages and across chains."""
    ref = await _log(deps)
    report = await verify(deps.store, batch=2)
    assert report.ok and (report.rows, report.chains) == (5, 2)
    await _sql(deps, update(EventRow).where(EventRow.text == "c").values(text="edited"))  # #4: on the second page
    report = await verify(deps.store, batch=2)
    assert not report.ok and (report.broken_chain, report.broken_seq) == (ref, 4)
