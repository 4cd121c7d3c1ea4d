"""WARROOM_OUTBOX_LEASE_SECONDS sets the lease of claimed timers as well as deliveries."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.bootstrap import build
from bot.clock import ManualClock
from bot.db.migrate import upgrade
from bot.db.tables import TimerRow
from tests.e2e.harness import bot_settings


async def test_timer_lease_follows_the_setting(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'lease.db'}"
    await asyncio.to_thread(upgrade, url)
    clock = ManualClock()
    container = build(bot_settings(url, "http://127.0.0.1:9/api/", WARROOM_OUTBOX_LEASE_SECONDS=7), clock=clock)
    store = container.store
    leased: list[object] = []

    async def probe(timer) -> None:
        async with store.read() as tx:
            row = (await tx.session.execute(select(TimerRow).where(TimerRow.id == timer.id))).scalar_one()
        leased.append(row.claimed_until)

    container.scheduler.register("probe", probe)
    try:
        async with store.transaction() as tx:
            await tx.schedule_timer(kind="probe", key="p1", due_at=clock.now())
        assert await container.scheduler.run_due() == 1
    finally:
        await store.dispose()
    assert container.outbox.lease == timedelta(seconds=7)
    assert leased == [clock.now() + timedelta(seconds=7)]
