"""Recurring timers (cron in a time zone) fire once per occurrence across restarts and replicas; the scheduler
wakes on the commit that schedules a timer; one shared HTTP client."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from bot.db.tables import TimerRow
from bot.http_client import SharedHttp
from bot.recurring import Recurrence
from bot.scheduler import Scheduler
from tests.builders import deps_for, sqlite_store
from tests.e2e.harness import eventually

DIGEST = Recurrence("0 23 * * *", "Europe/Paris")


def test_a_schedule_is_checked_and_read_in_its_time_zone():
    for bad in ("0 23 * *", "61 * * * *", "every day", "0 0 * * * *"):
        with pytest.raises(ValueError, match="cron expression"):
            Recurrence(bad)
    with pytest.raises(ValueError, match="unknown time zone"):
        Recurrence("0 23 * * *", "Mars/Olympus")
    winter = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert DIGEST.next_after(winter) == datetime(2026, 11, 23, 22, 0, tzinfo=UTC)  # 23:00 CET
    spring = datetime(2027, 3, 27, 22, 0, tzinfo=UTC)  # 23:00 CET, the night before summer time
    assert DIGEST.next_after(spring) == datetime(2027, 3, 28, 21, 0, tzinfo=UTC)  # 23:00 CEST
    assert DIGEST.next_after(DIGEST.next_after(winter)) == datetime(2026, 11, 24, 22, 0, tzinfo=UTC)


@pytest.fixture
async def deps(tmp_path):
    store = await sqlite_store(tmp_path)
    yield deps_for(store, ManualClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)))
    await store.dispose()


def process(deps, fired: list[str], name: str, *, fail: bool = False) -> Scheduler:
    """One process's scheduler with the daily digest registered."""
    sched = Scheduler(deps.store, clock=deps.clock, worker_id=name, max_attempts=2, retry_delay=timedelta(minutes=1))

    async def digest(timer) -> None:
        if fail:
            raise RuntimeError("Slack is down")
        fired.append(f"{name}:{timer.due_at:%Y-%m-%d %H:%M}")

    sched.every("digest", "digest:daily", DIGEST, digest)
    return sched


async def rows(deps):
    async with deps.store.read() as tx:
        return list((await tx.session.execute(select(TimerRow))).scalars())


async def test_each_occurrence_fires_once_across_replicas_and_restarts(deps):
    fired: list[str] = []
    a, b = process(deps, fired, "p1"), process(deps, fired, "p2")
    assert await a.ensure_recurring() == 1
    assert await b.ensure_recurring() == 0, "the second replica finds it there"
    (row,) = await rows(deps)
    assert row.due_at == datetime(2026, 11, 23, 22, 0, tzinfo=UTC)
    deps.clock.advance(hours=13, minutes=1)
    counts = await asyncio.gather(a.run_due(), b.run_due())
    assert sum(counts) == 1 and len(fired) == 1 and fired[0].endswith("2026-11-23 22:00")
    (row,) = await rows(deps)
    assert (row.status, row.due_at, row.attempts) == ("pending", datetime(2026, 11, 24, 22, 0, tzinfo=UTC), 0)
    restarted = process(deps, fired, "p3")  # a restart: the same schedule, nothing rescheduled
    assert await restarted.ensure_recurring() == 0
    assert await restarted.run_due() == 0
    deps.clock.advance(days=1)
    assert await restarted.run_due() == 1
    assert fired[-1] == "p3:2026-11-24 22:00" and len(fired) == 2
    assert len(await rows(deps)) == 1


async def test_a_failing_occurrence_is_retried_then_the_next_one_still_comes(deps):
    fired: list[str] = []
    sched = process(deps, fired, "p1", fail=True)
    await sched.ensure_recurring()
    deps.clock.advance(hours=13)
    assert await sched.run_due() == 1
    deps.clock.advance(minutes=1)
    assert await sched.run_due() == 1  # the second and last attempt
    (row,) = await rows(deps)
    assert row.status == "pending" and row.due_at == datetime(2026, 11, 24, 22, 0, tzinfo=UTC)
    assert row.last_error == "Slack is down" and row.attempts == 0


async def test_a_changed_schedule_replaces_the_stored_one(deps):
    sched = process(deps, [], "p1")
    await sched.ensure_recurring()
    sched.every("digest", "digest:daily", Recurrence("30 7 * * 1-5", "America/New_York"))
    assert await sched.ensure_recurring() == 1
    (row,) = await rows(deps)
    assert row.payload == {"cron": "30 7 * * 1-5", "tz": "America/New_York"}
    assert row.due_at == datetime(2026, 11, 23, 12, 30, tzinfo=UTC)  # Monday 07:30 EST


async def test_the_scheduler_wakes_on_the_commit_that_schedules_a_timer(deps):
    fired: list[str] = []
    sched = Scheduler(deps.store, clock=deps.clock, poll_interval=60.0)  # it would not look again for a minute
    deps.store.on_timers_committed(sched.wake)

    async def remind(timer) -> None:
        fired.append(timer.key)

    sched.register("reminder", remind)
    sched.start()
    try:
        await asyncio.sleep(0.05)  # the loop found nothing and waits
        async with deps.store.transaction() as tx:
            await tx.schedule_timer(kind="reminder", key="r1", due_at=deps.clock.now())
        await eventually(lambda: fired == ["r1"], timeout=5)
    finally:
        await sched.stop()


async def test_one_shared_http_client_closed_at_stop_and_made_again_after():
    http = SharedHttp(timeout=3)
    first = http.client
    assert http.client is first and http.made == 1
    assert first.follow_redirects is False and first.timeout.read == 3
    await http.aclose()
    assert first.is_closed
    assert http.client is not first and http.made == 2
    await http.aclose()
