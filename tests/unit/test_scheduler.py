"""Durable timers: fire once when due, retry on failure, survive a crashed claimer, idempotent scheduling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.tables import TimerRow
from bot.scheduler import Scheduler
from tests.builders import deps_for, sqlite_store


@pytest.fixture
async def env(tmp_path):
    store = await sqlite_store(tmp_path)
    deps = deps_for(store)
    fired: list[str] = []
    sched = Scheduler(store, clock=deps.clock, retry_delay=timedelta(seconds=30), max_attempts=2)

    async def handler(timer):
        if timer.payload.get("fail"):
            raise RuntimeError("pager down")
        fired.append(timer.key)

    sched.register("reminder", handler)
    yield deps, sched, fired
    await store.dispose()


async def schedule(deps, key, minutes, **payload):
    async with deps.store.transaction() as tx:
        return await tx.schedule_timer(
            kind="reminder", key=key, due_at=deps.clock.now() + timedelta(minutes=minutes), payload=payload
        )


async def test_fires_once_when_due(env):
    deps, sched, fired = env
    assert await schedule(deps, "r1", 15)
    assert not await schedule(deps, "r1", 5), "same key schedules nothing new"
    assert await sched.run_due() == 0
    deps.clock.advance(minutes=14, seconds=59)
    assert await sched.run_due() == 0
    deps.clock.advance(seconds=1)
    assert await sched.run_due() == 1
    assert await sched.run_due() == 0
    deps.clock.advance(hours=5)
    assert await sched.run_due() == 0
    assert fired == ["r1"]


async def test_cancelled_timer_never_fires(env):
    deps, sched, fired = env
    await schedule(deps, "r2", 1)
    async with deps.store.transaction() as tx:
        assert await tx.cancel_timer("r2")
    deps.clock.advance(minutes=2)
    assert await sched.run_due() == 0 and fired == []


async def test_failure_retries_then_dead_letters(env):
    deps, sched, fired = env
    await schedule(deps, "r3", 0, fail=True)
    assert await sched.run_due() == 1
    deps.clock.advance(seconds=29)
    assert await sched.run_due() == 0
    deps.clock.advance(seconds=1)
    assert await sched.run_due() == 1
    async with deps.store.read() as tx:
        row = (await tx.session.execute(select(TimerRow).where(TimerRow.key == "r3"))).scalar_one()
    assert row.status == "dead" and row.attempts == 2 and "pager down" in row.last_error


async def test_timer_claimed_by_a_dead_worker_fires_after_its_lease(env):
    deps, sched, fired = env
    await schedule(deps, "r4", 0)
    lost = await deps.store.claim_timers(worker="dead", now=deps.clock.now(), lease=timedelta(seconds=60))
    assert len(lost) == 1
    assert await sched.run_due() == 0
    deps.clock.advance(seconds=61)
    assert await sched.run_due() == 1
    assert fired == ["r4"]


async def test_next_due(env):
    deps, sched, _ = env
    assert await deps.store.next_timer_due() is None
    await schedule(deps, "a", 10)
    await schedule(deps, "b", 5)
    assert await deps.store.next_timer_due() == deps.clock.now() + timedelta(minutes=5)
