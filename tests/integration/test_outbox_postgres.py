"""The outbox on real PostgreSQL: two workers never deliver one row twice; declares stay unique."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from bot.clock import ManualClock
from bot.db.migrate import upgrade
from bot.db.store import Store
from bot.domain.events import Event
from bot.domain.incident import Severity
from bot.outbox import OutboxWorker, RetryPolicy
from bot.services import incidents
from bot.services.deps import Deps
from tests.builders import ALL_KINDS

pytestmark = pytest.mark.postgres


class SlowRecorder:
    name = "rec"

    def __init__(self) -> None:
        self.delivered: Counter[int] = Counter()
        self.by_worker: Counter[str] = Counter()
        self.order: dict[str, list[int]] = {}

    kinds = ALL_KINDS

    async def handle(self, event: Event, *, attempt: int) -> None:
        await asyncio.sleep(0)  # let the other worker run between claim and completion
        self.delivered[event.id] += 1
        self.order.setdefault(event.chain, []).append(event.seq)


@pytest.fixture
async def pg_deps(pg_url):
    await asyncio.to_thread(upgrade, pg_url)
    stores = [Store.from_url(pg_url), Store.from_url(pg_url)]
    yield stores
    for s in stores:
        await s.dispose()


async def test_two_workers_never_deliver_one_row_twice(pg_deps):
    clock = ManualClock()
    rec = SlowRecorder()
    for s in pg_deps:
        s.reactors.add(rec)
    deps = Deps(store=pg_deps[0], clock=clock)
    refs = []
    for i in range(30):
        out = await incidents.declare(deps, title=f"incident {i}", severity=Severity.SEV3, actor="U1")
        refs.append(out.incident.ref)
    for ref in refs:
        for j in range(3):
            await incidents.add_note(deps, ref=ref, actor="U1", text=f"note {j}")
    workers = [
        OutboxWorker(s, clock=clock, policy=RetryPolicy(jitter=0), batch=7, worker_id=f"w{n}")
        for n, s in enumerate(pg_deps)
    ]
    await asyncio.gather(*(w.drain() for w in workers))
    assert len(rec.delivered) == 120
    assert set(rec.delivered.values()) == {1}, "some event was delivered twice"
    assert workers[0].delivered > 0 and workers[1].delivered > 0, "both workers took a share"
    for seqs in rec.order.values():
        assert seqs == sorted(seqs), "events of one incident were delivered out of order"
    counts = await pg_deps[0].delivery_counts()
    assert counts == {"done": 120}


async def test_concurrent_declares_on_postgres_get_unique_refs_and_fold_duplicates(pg_deps):
    clock = ManualClock()
    a, b = (Deps(store=s, clock=clock) for s in pg_deps)
    outs = await asyncio.gather(
        *(incidents.declare(d, title=f"t{i}", severity=Severity.SEV3, actor=f"U{i}") for i, d in enumerate([a, b] * 10))
    )
    assert len({o.incident.ref for o in outs}) == 20
    same = await asyncio.gather(
        incidents.declare(a, title="double", severity=Severity.SEV2, actor="U9", declare_key="k1"),
        incidents.declare(b, title="double", severity=Severity.SEV2, actor="U9", declare_key="k2"),
    )
    assert same[0].incident.ref == same[1].incident.ref
    assert sorted(o.changed for o in same) == [False, True]


async def test_timers_fire_once_across_two_schedulers(pg_deps):
    from datetime import timedelta

    from bot.scheduler import Scheduler

    clock = ManualClock()
    fired: Counter[str] = Counter()

    async def handler(timer):
        await asyncio.sleep(0)
        fired[timer.key] += 1

    async with pg_deps[0].transaction() as tx:
        for i in range(60):
            await tx.schedule_timer(kind="reminder", key=f"t{i}", due_at=clock.now() + timedelta(seconds=i % 7))
    scheds = [Scheduler(s, clock=clock, worker_id=f"s{n}") for n, s in enumerate(pg_deps)]
    for s in scheds:
        s.register("reminder", handler)
    clock.advance(seconds=10)

    async def run(s):
        while await s.run_due():
            pass

    await asyncio.gather(*(run(s) for s in scheds))
    assert len(fired) == 60 and set(fired.values()) == {1}


async def test_survivor_releases_a_dead_process_s_claims_on_postgres(pg_deps):
    from datetime import timedelta

    from bot.db.processes import ProcessTable
    from bot.heartbeat import Heartbeat

    clock = ManualClock()
    rec = SlowRecorder()
    for s in pg_deps:
        s.reactors.add(rec)
    deps = Deps(store=pg_deps[0], clock=clock)
    for i in range(5):
        await incidents.declare(deps, title=f"incident {i}", severity=Severity.SEV3, actor="U1")
    beats = [
        Heartbeat(ProcessTable(s), clock=clock, process_id=f"p{n}", instance=f"host:{n}") for n, s in enumerate(pg_deps)
    ]
    for b in beats:
        await b.register()
    dead = await pg_deps[0].claim_deliveries(worker="p0", now=clock.now(), lease=timedelta(seconds=60))
    assert len(dead) == 5
    clock.advance(seconds=6)  # p0 stopped beating 6 s ago
    released = await beats[1].beat_once()
    assert released.processes == ["p0"] and released.deliveries == 5
    survivor = OutboxWorker(pg_deps[1], clock=clock, worker_id="p1")
    assert await survivor.drain() == 5
    assert await pg_deps[1].delivery_counts() == {"done": 5}
