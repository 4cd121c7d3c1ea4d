"""Bayesian scoring of hypotheses: properties that hold for any priors and evidence."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.causes import Cause
from bot.domain.hypotheses import (
    Candidate,
    Evidence,
    Verdict,
    hypothesis_id,
    judge,
    merge,
    posteriors,
    score,
)
from bot.domain.runbook import Condition

weights = st.lists(st.floats(min_value=0.01, max_value=10), min_size=1, max_size=8)
log_lr = st.floats(min_value=-6, max_value=6)
causes = list(Cause)


def candidates_from(ws: list[float], lrs: list[float]) -> list[Candidate]:
    out = []
    for i, (w, lr) in enumerate(zip(ws, lrs, strict=False)):
        ratio = math.exp(lr)
        if ratio > 1:
            ev: tuple[Evidence, ...] = (Evidence(f"q{i}", Verdict.SUPPORTS, 1.0, 0.5, ratio),)
        elif ratio < 1:
            ev = (Evidence(f"q{i}", Verdict.CONTRADICTS, 0.0, 0.5, ratio),)
        else:
            ev = ()
        out.append(Candidate(f"h{i}", f"svc{i}", causes[i % len(causes)], w, ev))
    return out


@given(ws=weights, data=st.data(), rest=st.floats(min_value=0.01, max_value=0.9))
def test_posteriors_and_something_else_sum_to_one(ws: list[float], data: st.DataObject, rest: float) -> None:
    lrs = data.draw(st.lists(log_lr, min_size=len(ws), max_size=len(ws)))
    priors, post, other = posteriors(ws, lrs, something_else=rest)
    assert math.isclose(math.fsum(priors) + rest, 1.0, rel_tol=1e-9)
    assert math.isclose(math.fsum(post) + other, 1.0, rel_tol=1e-9)
    assert all(0 <= p <= 1 for p in [*post, other])


@given(ws=weights, data=st.data(), bump=st.floats(min_value=0.05, max_value=5))
def test_supporting_evidence_raises_its_hypothesis_and_lowers_the_others(
    ws: list[float], data: st.DataObject, bump: float
) -> None:
    lrs = data.draw(st.lists(log_lr, min_size=len(ws), max_size=len(ws)))
    i = data.draw(st.integers(min_value=0, max_value=len(ws) - 1))
    _, before, other_before = posteriors(ws, lrs)
    raised = list(lrs)
    raised[i] += bump
    _, after, other_after = posteriors(ws, raised)
    assert after[i] > before[i] or (math.isclose(after[i], before[i], abs_tol=1e-12) and before[i] > 1 - 1e-9)
    assert other_after <= other_before + 1e-15
    for j in range(len(ws)):
        if j != i:
            assert after[j] <= before[j] + 1e-15


@given(ws=weights, data=st.data(), drop=st.floats(min_value=0.05, max_value=5))
def test_contradicting_evidence_lowers_its_hypothesis_and_raises_the_others(
    ws: list[float], data: st.DataObject, drop: float
) -> None:
    lrs = data.draw(st.lists(log_lr, min_size=len(ws), max_size=len(ws)))
    i = data.draw(st.integers(min_value=0, max_value=len(ws) - 1))
    _, before, other_before = posteriors(ws, lrs)
    lowered = list(lrs)
    lowered[i] -= drop
    _, after, other_after = posteriors(ws, lowered)
    assert after[i] <= before[i]
    assert other_after >= other_before - 1e-15
    for j in range(len(ws)):
        if j != i:
            assert after[j] >= before[j] - 1e-15


@given(ws=weights, data=st.data())
def test_inconclusive_evidence_changes_nothing(ws: list[float], data: st.DataObject) -> None:
    lrs = data.draw(st.lists(log_lr, min_size=len(ws), max_size=len(ws)))
    base = candidates_from(ws, lrs)
    i = data.draw(st.integers(min_value=0, max_value=len(ws) - 1))
    more = list(base)
    more[i] = Candidate(
        base[i].title,
        base[i].service,
        base[i].cause,
        base[i].prior_weight,
        (*base[i].evidence, Evidence.inconclusive("timed-out query", "timed out after 2 s")),
    )
    a = score(base, keep=len(ws))
    b = score(more, keep=len(ws))
    assert [(h.id, h.posterior) for h in a.hypotheses] == [(h.id, h.posterior) for h in b.hypotheses]
    assert a.something_else == b.something_else


@settings(max_examples=50)
@given(ws=weights, data=st.data(), keep=st.integers(min_value=1, max_value=5))
def test_score_keeps_the_most_probable_and_the_rest_joins_something_else(
    ws: list[float], data: st.DataObject, keep: int
) -> None:
    lrs = data.draw(st.lists(log_lr, min_size=len(ws), max_size=len(ws)))
    diagnosis = score(candidates_from(ws, lrs), keep=keep)
    posts = [h.posterior for h in diagnosis.hypotheses]
    assert posts == sorted(posts, reverse=True)
    assert len(posts) == min(keep, len(ws))
    assert math.isclose(diagnosis.total, 1.0, rel_tol=1e-9)


def test_evidence_order_does_not_matter() -> None:
    e1 = Evidence("a", Verdict.SUPPORTS, 1, 0.5, 4)
    e2 = Evidence("b", Verdict.CONTRADICTS, 0, 0.5, 0.5)
    one = score([Candidate("x", "s", Cause.ERROR_SPIKE, 1, (e1, e2)), Candidate("y", "t", Cause.OTHER, 1)])
    two = score([Candidate("x", "s", Cause.ERROR_SPIKE, 1, (e2, e1)), Candidate("y", "t", Cause.OTHER, 1)])
    assert [h.posterior for h in one.hypotheses] == pytest.approx([h.posterior for h in two.hypotheses])


def test_bayes_by_hand() -> None:
    # weights 1 and 1 with something else 0.2: priors 0.4 / 0.4; LR 4 on the first -> 1.6, 0.4, 0.2 -> /2.2
    diagnosis = score(
        [
            Candidate("a", "api", Cause.ERROR_SPIKE, 1, (Evidence("q", Verdict.SUPPORTS, 0.2, 0.05, 4),)),
            Candidate("b", "db", Cause.DB_SATURATION, 1),
        ]
    )
    first, second = diagnosis.hypotheses
    assert (first.service, first.prior) == ("api", pytest.approx(0.4))
    assert first.posterior == pytest.approx(1.6 / 2.2)
    assert second.posterior == pytest.approx(0.4 / 2.2)
    assert diagnosis.something_else == pytest.approx(0.2 / 2.2)


def test_merge_pools_evidence_of_the_same_service_and_cause() -> None:
    a = Candidate("from runbook", "api", Cause.BAD_DEPLOY, 0.3, (Evidence("q1", Verdict.SUPPORTS, 1, 0, 4),), "rb")
    b = Candidate(
        "golden",
        "api",
        Cause.BAD_DEPLOY,
        0.2,
        (Evidence("q1", Verdict.SUPPORTS, 1, 0, 4), Evidence("q2", Verdict.SUPPORTS, 2, 1, 3)),
        None,
        "golden",
    )
    (m,) = merge([a, b])
    assert m.title == "from runbook" and m.runbook == "rb"
    assert [e.query for e in m.evidence] == ["q1", "q2"]


def test_judge_gives_each_verdict_with_value_and_threshold() -> None:
    sup, con = Condition(above=0.05), Condition(below=0.01)
    s = judge("q", 0.2, sup, con, what="error ratio")
    assert (s.verdict, s.observed, s.threshold, s.likelihood_ratio) == (Verdict.SUPPORTS, 0.2, 0.05, 4.0)
    assert s.detail == "error ratio 0.2 > 0.05"
    c = judge("q", 0.001, sup, con)
    assert (c.verdict, c.threshold, c.likelihood_ratio) == (Verdict.CONTRADICTS, 0.01, 0.25)
    assert judge("q", 0.03, sup, con).verdict is Verdict.INCONCLUSIVE
    assert judge("q", None, sup, con).detail == "no data"
    assert judge("q", float("nan"), sup, con).verdict is Verdict.INCONCLUSIVE


def test_evidence_refuses_a_likelihood_ratio_that_contradicts_its_verdict() -> None:
    with pytest.raises(ValueError):
        Evidence("q", Verdict.SUPPORTS, 1, 0, 0.5)
    with pytest.raises(ValueError):
        Evidence("q", Verdict.INCONCLUSIVE, 1, 0, 2)
    with pytest.raises(ValueError):
        Evidence("q", Verdict.CONTRADICTS, 1, 0, float("nan"))


def test_ids_are_stable_per_service_and_cause() -> None:
    assert hypothesis_id("api", Cause.BAD_DEPLOY) == hypothesis_id("api", Cause.BAD_DEPLOY)
    assert hypothesis_id("api", Cause.BAD_DEPLOY) != hypothesis_id("api", Cause.CONFIG_CHANGE)
    assert hypothesis_id(None, Cause.OTHER).startswith("h-")
