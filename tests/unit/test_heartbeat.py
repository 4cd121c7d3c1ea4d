"""Process heartbeats: claims of running work are renewed, a dead process's claims go to the survivors
within seconds, a restarted instance takes its own back at once, a clean stop hands them over."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.processes import ProcessTable
from bot.db.tables import DeliveryRow, TimerRow
from bot.domain.events import Event
from bot.domain.incident import Severity
from bot.heartbeat import Heartbeat
from bot.outbox import OutboxWorker, RetryPolicy
from bot.scheduler import Scheduler
from bot.services import incidents
from tests.builders import ALL_KINDS, deps_for, sqlite_store
from tests.e2e.harness import eventually

LEASE = timedelta(seconds=60)


class Gated:
    """A reactor that holds each delivery until the gate opens; counts deliveries per event."""

    name = "gated"

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.entered: Counter[int] = Counter()
        self.done: Counter[int] = Counter()

    kinds = ALL_KINDS

    async def handle(self, event: Event, *, attempt: int) -> None:
        self.entered[event.id] += 1
        await self.gate.wait()
        self.done[event.id] += 1


@pytest.fixture
async def env(tmp_path):
    store = await sqlite_store(tmp_path)
    deps = deps_for(store)
    reactor = Gated()
    store.reactors.add(reactor)
    yield deps, reactor
    await store.dispose()


def process(deps, reactor, name: str, *, instance: str | None = None, lease: timedelta = LEASE, capacity: int = 16):
    """One process's workers and heartbeat (1 s beats, dead after 5 missed)."""
    outbox = OutboxWorker(deps.store, clock=deps.clock, lease=lease, worker_id=name, batch=capacity, poll_interval=0.01,
        policy=RetryPolicy(jitter=0),
    )  # fmt: skip
    timers = Scheduler(deps.store, clock=deps.clock, lease=lease, worker_id=name, poll_interval=0.01)
    beat = Heartbeat(
        ProcessTable(deps.store), clock=deps.clock, process_id=name, instance=instance, interval=1.0,
        holders=[outbox, timers],
    )  # fmt: skip
    return outbox, timers, beat


async def rows(store, table=DeliveryRow):
    async with store.read() as tx:
        return list((await tx.session.execute(select(table).order_by(table.id))).scalars())


async def declare(deps, n: int = 1) -> None:
    for i in range(n):
        await incidents.declare(deps, title=f"incident {i}", severity=Severity.SEV3, actor="U1")


async def test_a_dead_process_s_claims_go_to_a_survivor_after_five_missed_beats(env):
    deps, reactor = env
    out_a, timers_a, beat_a = process(deps, reactor, "p-a")
    out_b, _, beat_b = process(deps, reactor, "p-b")
    await beat_a.register()
    await beat_b.register()
    await declare(deps)
    async with deps.store.transaction() as tx:
        await tx.schedule_timer(kind="reminder", key="r1", due_at=deps.clock.now())
    assert len(await deps.store.claim_deliveries(worker="p-a", now=deps.clock.now(), lease=LEASE)) == 1
    assert len(await deps.store.claim_timers(worker="p-a", now=deps.clock.now(), lease=LEASE)) == 1
    # p-a dies here: no more beats from it.
    for _ in range(5):
        deps.clock.advance(seconds=1)
        released = await beat_b.beat_once()
        assert not released, "not before 5 missed beats"
        assert await out_b.run_once() == 0
    deps.clock.advance(seconds=1)
    released = await beat_b.beat_once()
    assert released.processes == ["p-a"] and (released.deliveries, released.timers) == (1, 1)
    reactor.gate.set()
    assert await out_b.run_once() == 1, "taken over 6 s after the last beat, not after the 60 s lease"
    assert [(r.status, r.claimed_by, r.attempts) for r in await rows(deps.store)] == [("done", "p-b", 2)]
    assert [r.status for r in await rows(deps.store, TimerRow)] == ["pending"]
    assert [p.id for p in await ProcessTable(deps.store).alive()] == ["p-b"]


async def test_a_restarted_instance_releases_its_own_stale_claims_at_once(env):
    deps, reactor = env
    *_, first = process(deps, reactor, "p-first", instance="host-1:8080")
    await first.register()
    await declare(deps, 2)
    async with deps.store.transaction() as tx:
        await tx.schedule_timer(kind="reminder", key="r1", due_at=deps.clock.now())
    await deps.store.claim_deliveries(worker="p-first", now=deps.clock.now(), lease=LEASE)
    await deps.store.claim_timers(worker="p-first", now=deps.clock.now(), lease=LEASE)
    *_, other = process(deps, reactor, "p-other", instance="host-2:8080")
    await other.register()
    assert {r.status for r in await rows(deps.store)} == {"inflight"}, "another instance takes nothing"
    out_again, _, again = process(deps, reactor, "p-again", instance="host-1:8080")
    await again.register()  # the same instance, restarted at once: the old run is certainly over
    assert {r.status for r in await rows(deps.store)} == {"pending"}
    assert [r.status for r in await rows(deps.store, TimerRow)] == ["pending"]
    reactor.gate.set()
    assert await out_again.run_once() == 2
    assert sorted(p.id for p in await ProcessTable(deps.store).alive()) == ["p-again", "p-other"]


async def test_claims_of_running_work_are_renewed_so_no_one_takes_them_over(env):
    deps, reactor = env
    lease = timedelta(seconds=3)
    out_a, _, beat_a = process(deps, reactor, "p-a", lease=lease)
    out_b, _, beat_b = process(deps, reactor, "p-b", lease=lease)
    await beat_a.register()
    await beat_b.register()
    await declare(deps)
    running = asyncio.create_task(out_a.run_once())
    await eventually(lambda: sum(reactor.entered.values()) == 1)  # waiting, e.g. for Slack's rate limit
    for _ in range(10):  # 10 s: more than three leases
        deps.clock.advance(seconds=1)
        await beat_a.beat_once()
        await beat_b.beat_once()
        assert await out_b.run_once() == 0, "the claim was renewed while the work runs"
    reactor.gate.set()
    assert await running == 1
    assert reactor.done == Counter({1: 1})
    assert [(r.status, r.attempts) for r in await rows(deps.store)] == [("done", 1)]


async def test_a_process_taken_for_dead_stops_its_work_and_registers_again(env, caplog):
    deps, reactor = env
    out_a, _, beat_a = process(deps, reactor, "p-a")
    out_b, _, beat_b = process(deps, reactor, "p-b")
    await beat_a.register()
    await beat_b.register()
    await declare(deps)
    running = asyncio.create_task(out_a.run_once())
    await eventually(lambda: sum(reactor.entered.values()) == 1)
    deps.clock.advance(seconds=6)  # p-a's loop stalled for 6 s
    assert (await beat_b.beat_once()).processes == ["p-a"]
    await beat_a.beat_once()  # p-a wakes up: it is dead to the others, so it lets go
    await running
    assert "taken for dead" in caplog.text
    assert "p-a" in [p.id for p in await ProcessTable(deps.store).alive()], "registered again"
    reactor.gate.set()
    assert await out_b.run_once() == 1
    assert reactor.done == Counter({1: 1}), "the stalled attempt did not go on beside the new one"


async def test_a_lost_claim_stops_the_attempt(env, caplog):
    deps, reactor = env
    out_a, _, _ = process(deps, reactor, "p-a", lease=timedelta(seconds=3))
    await declare(deps)
    running = asyncio.create_task(out_a.run_once())
    await eventually(lambda: sum(reactor.entered.values()) == 1)
    deps.clock.advance(seconds=4)  # no heartbeat renewed it (e.g. an older process without one took it)
    taken = await deps.store.claim_deliveries(worker="p-old", now=deps.clock.now(), lease=LEASE)
    assert len(taken) == 1
    await out_a.renew_claims(deps.clock.now())
    await running
    assert reactor.done == Counter(), "stopped before finishing a second time"
    assert "another worker took it over" in caplog.text


async def test_a_clean_stop_hands_the_claims_over_at_once(env):
    deps, reactor = env
    out_a, timers_a, beat_a = process(deps, reactor, "p-a")
    await beat_a.register()
    await declare(deps, 3)
    out_a.start()
    await eventually(lambda: sum(reactor.entered.values()) == 3)
    await out_a.stop()
    await timers_a.stop()
    await beat_a.stop()
    assert {(r.status, r.claimed_by) for r in await rows(deps.store)} == {("pending", None)}
    assert await ProcessTable(deps.store).alive() == []


async def test_a_worker_claims_only_what_it_can_run_now(env):
    deps, reactor = env
    out_a, _, _ = process(deps, reactor, "p-a", capacity=4)
    await declare(deps, 10)
    out_a.start()
    try:
        await eventually(lambda: sum(reactor.entered.values()) == 4)
        await asyncio.sleep(0.05)
        assert Counter(r.status for r in await rows(deps.store)) == Counter(inflight=4, pending=6)
        reactor.gate.set()

        async def all_done() -> bool:
            return {r.status for r in await rows(deps.store)} == {"done"}

        await eventually(all_done)
    finally:
        await out_a.stop()
    assert reactor.done == Counter({i: 1 for i in range(1, 11)})


async def test_a_worker_never_runs_an_item_twice_when_its_own_lease_ran_out(env):
    deps, reactor = env
    out_a, _, _ = process(deps, reactor, "p-a", lease=timedelta(seconds=3))
    await declare(deps)
    out_a.start()
    try:
        await eventually(lambda: sum(reactor.entered.values()) == 1)
        deps.clock.advance(seconds=10)  # a stall without heartbeats: the lease ran out, the loop claims it again
        out_a.wake()

        async def claimed_again() -> bool:
            return [r.attempts for r in await rows(deps.store)] == [2]

        await eventually(claimed_again)
        await asyncio.sleep(0.05)
        reactor.gate.set()

        async def done() -> bool:
            return [r.status for r in await rows(deps.store)] == ["done"]

        await eventually(done)
    finally:
        await out_a.stop()
    assert reactor.entered == Counter({1: 1}) and reactor.done == Counter({1: 1})
