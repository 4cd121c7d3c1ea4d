"""A 3 s outage of the real PostgreSQL: every timer and every delivery completes afterwards, once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest

from bot.background import Backoff
from bot.clock import ManualClock
from bot.db.migrate import upgrade
from bot.db.store import Store
from bot.domain.events import Event
from bot.domain.incident import Severity
from bot.outbox import OutboxWorker, RetryPolicy
from bot.scheduler import Scheduler
from bot.services import incidents
from bot.services.deps import Deps
from tests.builders import ALL_KINDS
from tests.e2e.harness import eventually
from tests.servers.postgres import db_name

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
INCIDENTS, TIMERS, OUTAGE_SECONDS = 10, 20, 3.0


class GatedReactor:
    """Holds every delivery until the gate opens, so they are in flight when the database goes away."""

    name = "gated"

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.entered = 0
        self.handled: Counter[int] = Counter()

    kinds = ALL_KINDS

    async def handle(self, event: Event, *, attempt: int) -> None:
        self.entered += 1
        await self.gate.wait()
        self.handled[event.id] += 1


async def test_timers_and_deliveries_complete_after_a_database_outage(pg_url, postgres_server, caplog):
    await asyncio.to_thread(upgrade, pg_url)
    store = Store.from_url(pg_url)
    clock = ManualClock()
    deps = Deps(store=store, clock=clock)
    reactor = GatedReactor()
    store.reactors.add(reactor)
    backoff = {"base": 0.05, "cap": 0.5}
    outbox = OutboxWorker(store, clock=clock, policy=RetryPolicy(base_delay=0.05, jitter=0), poll_interval=0.05,
        backoff=Backoff(**backoff),
    )  # fmt: skip
    store.on_commit(outbox.wake)
    scheduler = Scheduler(store, clock=clock, poll_interval=0.05, backoff=Backoff(**backoff))
    fired: Counter[str] = Counter()

    async def fire(timer) -> None:
        fired[timer.key] += 1

    scheduler.register("reminder", fire)
    async with store.transaction() as tx:
        for i in range(TIMERS):
            await tx.schedule_timer(kind="reminder", key=f"t{i}", due_at=clock.now() + timedelta(seconds=10 + i))
    for i in range(INCIDENTS):
        await incidents.declare(deps, title=f"incident {i}", severity=Severity.SEV3, actor="U1")
    outbox.start()
    scheduler.start()
    db = db_name(pg_url)
    try:
        await eventually(lambda: reactor.entered == INCIDENTS, timeout=10)
        assert postgres_server.block_connections(db) > 0, "the outage ended open connections"
        clock.advance(seconds=30)  # every timer falls due while the database is away (leases: 60 s)
        reactor.gate.set()  # the deliveries finish while their completion cannot be written
        await asyncio.sleep(OUTAGE_SECONDS)  # the outage itself; nothing waits for a timer here
        assert not fired, "nothing could fire without the database"
        postgres_server.allow_connections(db)

        async def everything_done() -> bool:
            counts = await store.delivery_counts()
            return len(fired) == TIMERS and counts == {"done": INCIDENTS}

        await eventually(everything_done, timeout=20, interval=0.05)
        assert outbox.running and scheduler.running
    finally:
        postgres_server.allow_connections(db)
        await outbox.stop()
        await scheduler.stop()
        await store.dispose()
    assert set(fired.values()) == {1}, "each timer fired once"
    assert len(reactor.handled) == INCIDENTS and set(reactor.handled.values()) == {1}, "each delivery ran once"
    logged = {r.name for r in caplog.records if "retrying in" in r.getMessage()}
    assert {"warroom.scheduler", "warroom.outbox"} <= logged, "the failures were logged"
