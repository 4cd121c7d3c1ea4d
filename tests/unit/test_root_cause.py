"""Kept hypotheses: ids scoped to the incident, re-scoring keeps decisions, evidence stored as JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.domain.causes import Cause
from bot.domain.hypotheses import Candidate, Evidence, Status, Verdict, score
from bot.domain.root_cause import evidence_json, evidence_of, rescore, scoped_id

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def diagnosis(*causes: Cause):
    ev = Evidence("up", Verdict.SUPPORTS, 1.0, 0.5, 4.0, "up 1 > 0.5")
    return score([Candidate(f"{c.value} of web", "web", c, 0.2 + i / 100, (ev,)) for i, c in enumerate(causes)])


def test_ids_differ_between_incidents_and_stay_across_runs():
    a = scoped_id("INC-20260301-001", "web", Cause.BAD_DEPLOY)
    assert a == scoped_id("inc-20260301-001", "web", Cause.BAD_DEPLOY)
    assert a != scoped_id("INC-20260301-002", "web", Cause.BAD_DEPLOY)
    assert a != scoped_id("INC-20260301-001", "web", Cause.ERROR_SPIKE)
    assert a.startswith("h-") and len(a) <= 40


def test_rescoring_keeps_decisions_and_unranks_what_dropped_out():
    ref = "INC-20260301-001"
    first = rescore([], diagnosis(Cause.BAD_DEPLOY, Cause.ERROR_SPIKE, Cause.CPU_SATURATION), ref=ref,
                    incident_id=1, at=AT)  # fmt: skip
    assert [h.rank for h in first] == [1, 2, 3]
    first[1].status, first[1].decided_by = Status.REJECTED, "U0BOB"
    second = rescore(first, diagnosis(Cause.ERROR_SPIKE, Cause.BAD_DEPLOY), ref=ref, incident_id=1, at=AT)
    by_cause = {h.cause: h for h in second}
    assert by_cause[Cause.ERROR_SPIKE].status is Status.REJECTED and by_cause[Cause.ERROR_SPIKE].decided_by == "U0BOB"
    assert by_cause[Cause.CPU_SATURATION].rank is None
    assert {h.id for h in second} == {h.id for h in first}, "the same rows, the same cards"


def test_evidence_survives_json_without_nan():
    ev = Evidence("q", Verdict.INCONCLUSIVE, float("nan"), 0.05, 1.0, "no data", "scan", "rate(x[5m])")
    stored = json.loads(json.dumps(evidence_json(ev), allow_nan=False))
    back = evidence_of(stored)
    assert back.observed is None and back.threshold == 0.05 and back.expr == "rate(x[5m])"
    sup = Evidence("q", Verdict.SUPPORTS, 2.0, 1.0, 3.0, "x")
    assert evidence_of(evidence_json(sup)) == sup
