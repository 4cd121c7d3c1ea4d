"""The outbox: deliveries written with the event, backoff, Retry-After, dead letters, order, leases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.tables import DeliveryRow
from bot.domain.events import Event
from bot.domain.incident import Severity
from bot.outbox import GiveUp, OutboxWorker, Postpone, RetryLater, RetryPolicy
from bot.services import incidents
from tests.builders import ALL_KINDS, deps_for, sqlite_store


class Recorder:
    """A reactor that records events and fails on demand."""

    def __init__(self, name: str = "rec", kinds: set[str] | None = None) -> None:
        self.name = name
        self.kinds = ALL_KINDS if kinds is None else frozenset(kinds)
        self.seen: list[tuple[int, int]] = []
        self.fail_with: list[Exception] = []

    async def handle(self, event: Event, *, attempt: int) -> None:
        if self.fail_with:
            raise self.fail_with.pop(0)
        self.seen.append((event.id, attempt))


@pytest.fixture
async def env(tmp_path):
    store = await sqlite_store(tmp_path)
    deps = deps_for(store)
    rec = Recorder()
    notes = Recorder("notes-only", {"incident.note_added"})
    store.reactors.add(rec)
    store.reactors.add(notes)
    worker = OutboxWorker(store, clock=deps.clock, policy=RetryPolicy(max_attempts=3, base_delay=2, jitter=0))
    yield deps, worker, rec, notes
    await store.dispose()


async def statuses(store):
    async with store.read() as tx:
        rows = (await tx.session.execute(select(DeliveryRow).order_by(DeliveryRow.id))).scalars()
        return [(r.reactor, r.status, r.attempts) for r in rows]


async def test_one_delivery_per_subscribed_reactor_in_the_same_transaction(env):
    deps, worker, rec, notes = env
    ref = (await incidents.declare(deps, title="x", severity=Severity.SEV2, actor="U1")).incident.ref
    await incidents.add_note(deps, ref=ref, actor="U1", text="n")
    assert await statuses(deps.store) == [
        ("rec", "pending", 0),
        ("rec", "pending", 0),
        ("notes-only", "pending", 0),
    ]
    assert await worker.drain() == 3
    assert len(rec.seen) == 2 and len(notes.seen) == 1
    assert {s for _, s, _ in await statuses(deps.store)} == {"done"}
    assert await worker.drain() == 0, "done rows are never delivered again"


async def test_backoff_honours_retry_after_then_succeeds(env):
    deps, worker, rec, _ = env
    await incidents.declare(deps, title="x", severity=Severity.SEV2, actor="U1")
    rec.fail_with = [RetryLater("429", after=30)]
    assert await worker.run_once() == 1
    assert await statuses(deps.store) == [("rec", "pending", 1)]
    deps.clock.advance(seconds=29)
    assert await worker.run_once() == 0, "not due before Retry-After"
    deps.clock.advance(seconds=1)
    assert await worker.run_once() == 1
    assert rec.seen[0][1] == 2
    assert await statuses(deps.store) == [("rec", "done", 2)]


async def test_exponential_backoff_then_dead_letter(env):
    deps, worker, rec, _ = env
    await incidents.declare(deps, title="x", severity=Severity.SEV2, actor="U1")
    rec.fail_with = [RuntimeError("503"), RuntimeError("503"), RuntimeError("503")]
    await worker.run_once()
    deps.clock.advance(seconds=1.9)
    assert await worker.run_once() == 0
    deps.clock.advance(seconds=0.1)  # 2 s after the first failure
    assert await worker.run_once() == 1
    deps.clock.advance(seconds=3.9)
    assert await worker.run_once() == 0
    deps.clock.advance(seconds=0.1)  # 4 s after the second
    assert await worker.run_once() == 1
    assert await statuses(deps.store) == [("rec", "dead", 3)]
    deps.clock.advance(hours=1)
    assert await worker.run_once() == 0
    assert rec.seen == []


async def test_give_up_dead_letters_at_once(env):
    deps, worker, rec, _ = env
    await incidents.declare(deps, title="x", severity=Severity.SEV2, actor="U1")
    rec.fail_with = [GiveUp("invalid_blocks")]
    await worker.run_once()
    assert await statuses(deps.store) == [("rec", "dead", 1)]


async def test_events_of_one_incident_wait_for_earlier_ones(env):
    deps, worker, rec, _ = env
    ref = (await incidents.declare(deps, title="x", severity=Severity.SEV2, actor="U1")).incident.ref
    await incidents.acknowledge(deps, ref=ref, actor="U2")
    other = (await incidents.declare(deps, title="y", severity=Severity.SEV2, actor="U1")).incident.ref
    rec.fail_with = [RuntimeError("slack down")]
    await worker.run_once()  # declare of x fails; y's declare delivered; x's ack must wait
    delivered = [eid for eid, _ in rec.seen]
    async with deps.store.read() as tx:
        y_events = await tx.timeline((await tx.incident_row(other)).id)
        x_events = await tx.timeline((await tx.incident_row(ref)).id)
    assert delivered == [y_events[0].id]
    assert await worker.run_once() == 0
    deps.clock.advance(seconds=10)
    await worker.drain()
    assert [eid for eid, _ in rec.seen][1:] == [x_events[0].id, x_events[1].id]


async def test_expired_lease_is_reclaimed_and_lost_claim_is_not_completed(env):
    deps, worker, rec, _ = env
    await incidents.declare(deps, title="x", severity=Severity.SEV2, actor="U1")
    crashed = await deps.store.claim_deliveries(worker="dead-worker", now=deps.clock.now(), lease=timedelta(seconds=60))
    assert len(crashed) == 1
    assert await worker.run_once() == 0, "leased to another worker"
    deps.clock.advance(seconds=61)
    assert await worker.run_once() == 1
    assert len(rec.seen) == 1
    assert not await deps.store.complete_delivery(crashed[0].id, worker="dead-worker", now=deps.clock.now())


async def test_release_inflight_on_restart(env):
    deps, worker, rec, _ = env
    await incidents.declare(deps, title="x", severity=Severity.SEV2, actor="U1")
    await deps.store.claim_deliveries(worker="old-process", now=deps.clock.now(), lease=timedelta(seconds=60))
    assert await deps.store.release_inflight() == 1
    assert await worker.run_once() == 1


async def test_commit_wakes_the_worker(env):
    deps, worker, rec, _ = env
    deps.store.on_commit(worker.wake)
    assert not worker._wake.is_set()
    await incidents.declare(deps, title="x", severity=Severity.SEV2, actor="U1")
    assert worker._wake.is_set()


def test_retry_policy_delays():
    p = RetryPolicy(base_delay=1, max_delay=60, jitter=0)
    assert [p.delay(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert p.delay(20) == 60
    assert p.delay(1, retry_after=45) == 45


async def test_a_postponed_delivery_counts_no_attempt_and_never_dead_letters(env):
    deps, worker, rec, _ = env
    await incidents.declare(deps, title="x", severity=Severity.SEV2, actor="U1")
    rec.fail_with = [Postpone("breaker open", after=900) for _ in range(5)]  # more than max_attempts (3)
    for _ in range(5):
        assert await worker.run_once() == 1
        assert await statuses(deps.store) == [("rec", "pending", 0)], "postponing is not an attempt"
        deps.clock.advance(seconds=899)
        assert await worker.run_once() == 0, "not due before `after`"
        deps.clock.advance(seconds=1)
    assert await worker.run_once() == 1
    assert rec.seen[0][1] == 1, "the first real try is attempt 1"
    assert await statuses(deps.store) == [("rec", "done", 1)]
