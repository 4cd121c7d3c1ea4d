"""The daily digest's SQL on real PostgreSQL (migrated schema): every figure of the scripted incidents matches
the hand-computed values, as on SQLite, and the digest timer fires once for two processes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

import pytest

from bot.clock import ManualClock
from bot.db.digest_queries import DigestQueries
from bot.db.migrate import upgrade
from bot.db.store import Store
from bot.domain.digest_notices import digest_text
from bot.domain.incident import Severity
from bot.recurring import Recurrence
from bot.scheduler import Scheduler
from bot.services.deps import Deps
from bot.services.reports import DIGEST_KEY, DIGEST_TIMER, DailyDigest, DigestSchedule
from tests.digest_scenario import DAY, END, EXPECTED_FIGURES, play
from tests.fakes.chat import FakeChatRoom

pytestmark = pytest.mark.postgres


@pytest.fixture
async def two(pg_url):
    await asyncio.to_thread(upgrade, pg_url)
    stores = [Store.from_url(pg_url), Store.from_url(pg_url)]
    clock = ManualClock(datetime(2026, 10, 1, 9, 0, tzinfo=UTC))
    yield [Deps(store=s, clock=clock) for s in stores]
    for s in stores:
        await s.dispose()


def digest(deps: Deps, chat: FakeChatRoom | None = None) -> DailyDigest:
    schedule = DigestSchedule(at=time(23, 0), tz="UTC")
    return DailyDigest(deps, DigestQueries(deps.store), schedule=schedule, chat=chat)


async def test_figures_on_postgres_match_the_hand_computed_values_and_fire_once(two):
    a, b = two
    refs = await play(a, a.clock)
    report = await digest(b).build(DAY)
    lines = {line.split(":")[0]: line for line in digest_text(report).splitlines()}
    for label, (value, trend) in EXPECTED_FIGURES.items():
        assert lines[label] == f"{label}: {value}  [{trend}]"
    d = report.data
    assert [(o.ref, o.severity, o.owner) for o in d.open_incidents] == [
        (refs["H"], Severity.SEV1, None), (refs["C"], Severity.SEV3, "U0CAROL"),
    ]  # fmt: skip
    assert (d.alerts_received, d.duplicates, d.silenced, d.review_total, d.overdue_total) == (13, 9, 1, 1, 1)
    chat = FakeChatRoom()
    schedulers = []
    for i, deps in enumerate(two):
        sched = Scheduler(deps.store, clock=deps.clock, worker_id=f"p{i}")
        d = digest(deps, chat)

        async def fire(timer, d=d) -> None:
            await d.fired(due_at=timer.due_at, attempts=timer.attempts)

        sched.every(DIGEST_TIMER, DIGEST_KEY, Recurrence("0 23 * * *", "UTC"), fire)
        schedulers.append(sched)
    a.clock.advance(seconds=(END - timedelta(minutes=1) - a.clock.now()).total_seconds())
    await asyncio.gather(*(s.ensure_recurring() for s in schedulers))
    a.clock.advance(minutes=2)
    await asyncio.gather(*(s.run_due() for s in schedulers))  # the overdue action item's reminder fires too
    cards = [m.card for m in chat.by_name("incidents").messages if m.card is not None]
    assert [c.day for c in cards] == [DAY]
