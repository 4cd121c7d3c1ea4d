"""Kept hypotheses on real PostgreSQL (migrated schema): a diagnosis is kept and re-scored in place, and two
processes confirming the same hypothesis at once record it once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.clock import ManualClock
from bot.db.migrate import upgrade
from bot.db.store import Store
from bot.domain.causes import Cause
from bot.domain.hypotheses import Candidate, Evidence, Verdict, score
from bot.domain.incident import Severity
from bot.services import hypotheses, incidents
from bot.services.deps import Deps
from bot.services.diagnostics import DiagnosisReport

pytestmark = pytest.mark.postgres
AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def report(*causes: Cause) -> DiagnosisReport:
    ev = Evidence("up", Verdict.SUPPORTS, 1.0, 0.5, 2.0, "up 1 > 0.5")
    d = score([Candidate(c.value, "web", c, 0.1 + i / 10, (ev,)) for i, c in enumerate(causes)])
    return DiagnosisReport(d, (), "web", AT, None, ())


@pytest.fixture
async def two(pg_url):
    await asyncio.to_thread(upgrade, pg_url)
    stores = [Store.from_url(pg_url), Store.from_url(pg_url)]
    clock = ManualClock()
    yield [Deps(store=s, clock=clock) for s in stores]
    for s in stores:
        await s.dispose()


async def test_kept_rescored_and_confirmed_once_across_processes(two):
    a, b = two
    ref = (await incidents.declare(a, title="web fails", severity=Severity.SEV2, actor="U0ALICE")).incident.ref
    inc = await incidents.get(a, ref=ref)
    kept = await hypotheses.keep_diagnosis(a, incident_id=inc.id, report=report(Cause.BAD_DEPLOY, Cause.ERROR_SPIKE))
    assert kept is not None and [h.rank for h in kept.hypotheses] == [1, 2]
    again = await hypotheses.keep_diagnosis(b, incident_id=inc.id, report=report(Cause.ERROR_SPIKE))
    assert again is not None and {h.id for h in again.hypotheses} == {h.id for h in kept.hypotheses}
    target = kept.hypotheses[0].id
    outs = await asyncio.gather(
        hypotheses.judge_hypothesis(a, hypothesis_id=target, confirm=True, actor="U0BOB"),
        hypotheses.judge_hypothesis(b, hypothesis_id=target, confirm=True, actor="U0CAROL"),
    )
    assert sorted(o.changed for o in outs) == [False, True]
    _, events = await incidents.timeline(a, ref=ref)
    assert len([e for e in events if e.kind == "hypothesis.confirmed"]) == 1
    incident, listed = await hypotheses.hypotheses_of(b, ref=ref)
    assert incident.root_cause_hypothesis == target
    assert [h.posterior for h in listed] == sorted((h.posterior for h in listed), reverse=True)
