"""The background loops outlive database errors: each failure is logged, retried with backoff, and the
work (timers, deliveries) is done once the database answers again."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.background import Backoff, LoopTask, loops_detail, wait_event
from bot.clock import ManualClock
from bot.db.tables import DeliveryRow, TimerRow
from bot.domain.incident import Severity
from bot.outbox import OutboxWorker, RetryPolicy
from bot.scheduler import Scheduler
from bot.services import incidents
from tests.builders import deps_for, sqlite_store
from tests.e2e.harness import eventually
from tests.fakes.flaky import FlakyStore
from tests.unit.test_outbox import Recorder


class FakeSleep:
    """Records every wait of a loop and returns at once (no real time passes)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
async def env(tmp_path):
    store = await sqlite_store(tmp_path)
    yield deps_for(store), FlakyStore(store)
    await store.dispose()


def failure_lines(caplog, logger: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == logger and "retrying in" in r.getMessage()]


async def test_timer_loop_survives_errors_in_claim_and_in_next_due(env, caplog):
    deps, flaky = env
    sleep = FakeSleep()
    sched = Scheduler(flaky, clock=deps.clock, sleep=sleep, backoff=Backoff(base=0.1, cap=5))
    fired: list[str] = []

    async def handler(timer):
        fired.append(timer.key)

    sched.register("reminder", handler)
    async with deps.store.transaction() as tx:
        await tx.schedule_timer(kind="reminder", key="t1", due_at=deps.clock.now() + timedelta(seconds=10))
    flaky.fail("claim_timers", 2)
    flaky.fail("next_timer_due", 3)  # outside the old loop's error handling: it killed the loop
    sched.start()
    try:
        await eventually(lambda: flaky.raised["next_timer_due"] == 3 and flaky.calls["next_timer_due"] > 3)
        assert sched.running, "the timer loop still runs after 5 failed rounds"
        deps.clock.advance(seconds=10)
        await eventually(lambda: fired == ["t1"])
    finally:
        await sched.stop()
    assert sleep.waits[:5] == [0.1, 0.2, 0.4, 0.8, 1.6], "backoff doubles between failed rounds"
    assert len(failure_lines(caplog, "warroom.scheduler")) == 5, "each failed round is logged"
    assert any("works again" in r.getMessage() for r in caplog.records if r.name == "warroom.scheduler")


async def test_outbox_loop_survives_errors_and_records_a_done_delivery_once(env, caplog):
    deps, flaky = env
    rec = Recorder()
    deps.store.reactors.add(rec)
    sleep = FakeSleep()
    worker = OutboxWorker(flaky, clock=deps.clock, policy=RetryPolicy(jitter=0), sleep=sleep)
    await incidents.declare(deps, title="x", severity=Severity.SEV2, actor="U1")
    flaky.fail("claim_deliveries", 2)
    flaky.fail("complete_delivery", 2)  # the side effect happened; its record must not be lost
    flaky.fail("next_delivery_due", 2)
    worker.start()
    try:
        await eventually(lambda: flaky.raised["next_delivery_due"] == 2 and flaky.calls["next_delivery_due"] > 2)
        assert worker.running
    finally:
        await worker.stop()
    async with deps.store.read() as tx:
        rows = list((await tx.session.execute(select(DeliveryRow))).scalars())
    assert [(r.status, r.attempts) for r in rows] == [("done", 1)]
    assert len(rec.seen) == 1, "delivered once: the completion was retried, not the delivery"
    assert len(failure_lines(caplog, "warroom.outbox")) == 6


async def test_a_timer_whose_outcome_cannot_be_recorded_is_retried_by_the_lease(env, caplog):
    deps, flaky = env
    sleep = FakeSleep()
    sched = Scheduler(flaky, clock=deps.clock, sleep=sleep, lease=timedelta(seconds=1))
    fired: list[str] = []

    async def handler(timer):
        fired.append(timer.key)

    sched.register("reminder", handler)
    async with deps.store.transaction() as tx:
        await tx.schedule_timer(kind="reminder", key="t1", due_at=deps.clock.now())
    flaky.fail("finish_timer", 100)
    assert await sched.run_due() == 1
    assert sum(sleep.waits) <= 1.0, "gives up within the lease"
    async with deps.store.read() as tx:
        row = (await tx.session.execute(select(TimerRow))).scalar_one()
    assert row.status == "inflight"
    assert any("giving up" in r.getMessage() for r in caplog.records)


async def test_a_loop_that_ends_by_itself_is_reported(caplog):
    task = LoopTask("doomed")

    async def loop() -> None:
        raise RuntimeError("bug")

    task.start(loop)
    await eventually(lambda: not task.running)
    assert task.started and not task.running
    assert any(r.levelno == logging.CRITICAL and "doomed" in r.getMessage() for r in caplog.records)
    assert loops_detail({"outbox": True, "doomed": task.running}) == (
        False,
        "background loop(s) not running: doomed",
    )
    await task.stop()


def test_backoff_doubles_up_to_its_cap_and_resets():
    b = Backoff(base=0.5, cap=3)
    assert [b.failed() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert b.reset() == 5 and b.failed() == 0.5


async def test_a_stop_that_comes_with_a_wake_up_is_not_lost(tmp_path):
    """The outbox loop waits for a wake-up (a commit, a freed slot) or its poll. When the wake-up and the stop's
    cancel land in the same loop iteration, asyncio.wait_for on Python 3.11 returned the wake-up and dropped the
    cancel: the loop ran on and `stop()` (the container's shutdown) waited for it forever."""
    store = await sqlite_store(tmp_path)
    worker = OutboxWorker(store, clock=ManualClock(), poll_interval=30)
    worker.start()
    for _ in range(20):  # let it claim (nothing) and settle in its wait
        await asyncio.sleep(0)
    worker.wake()
    stopping = asyncio.ensure_future(worker.stop())
    try:
        async with asyncio.timeout(5):
            await stopping
    finally:
        await store.dispose()
    assert not worker.running


async def test_wait_event_gives_up_a_cancel_never():
    event = asyncio.Event()

    async def waits_forever() -> None:
        while True:
            await wait_event(event, 30)
            event.clear()

    task = asyncio.create_task(waits_forever())
    await asyncio.sleep(0)
    event.set()
    task.cancel()  # in the same iteration as the event
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(5):
            await task
    assert await wait_event(asyncio.Event(), 0.01) is False
