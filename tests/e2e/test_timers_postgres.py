"""Two timer workers, each its own process with the bot's Scheduler, on one real PostgreSQL database: each of
1,000 due timers fires exactly once, and both workers share the work."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from bot.db.migrate import upgrade
from tests.e2e.timer_workers import fires, prepare, start_workers, timer_statuses, wait_workers

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


async def test_two_workers_fire_each_of_1000_timers_exactly_once(pg_url):
    await asyncio.to_thread(upgrade, pg_url)
    n = 1000
    await asyncio.to_thread(prepare, pg_url, n, first_due=datetime.now(UTC) - timedelta(seconds=1))
    workers = start_workers(pg_url, 2, concurrency=8)
    summaries = await asyncio.to_thread(wait_workers, workers, 180)
    recorded = await asyncio.to_thread(fires, pg_url)
    per_key = Counter(key for key, *_ in recorded)
    assert len(per_key) == n, "every timer fired"
    assert set(per_key.values()) == {1}, f"fired twice: {[k for k, c in per_key.items() if c > 1][:10]}"
    assert await asyncio.to_thread(timer_statuses, pg_url) == {"fired": n}
    by_worker = Counter(worker for _, worker, *_ in recorded)
    assert sum(s["fired"] for s in summaries) == n
    assert len(by_worker) == 2 and min(by_worker.values()) > 0, f"both workers took a share: {dict(by_worker)}"
