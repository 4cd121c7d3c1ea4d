"""Hypotheses about what broke, and their Bayesian scoring (pure math, no I/O).

A *candidate* blames a component (`service`, or None) for a `cause`, with a prior weight and evidence.
Evidence is a verdict on one observation: it supports the hypothesis, contradicts it, or is inconclusive
(no data, a failed or timed-out query, a value between the thresholds). Each verdict carries a likelihood
ratio LR = P(observation | hypothesis) / P(observation | not hypothesis): > 1 supports, < 1 contradicts,
exactly 1 for inconclusive evidence, which therefore changes nothing.

Scoring: the prior weights are normalized so that they and "something else" (the hypotheses we did not
think of) sum to 1; each hypothesis' unnormalized posterior is its prior times the product of its evidence's
likelihood ratios; "something else" keeps its prior (no evidence bears on it); everything is then normalized.
Candidates that blame the same component for the same cause are merged first (their evidence pooled).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from bot.domain.causes import Cause
from bot.domain.runbook import Condition

SOMETHING_ELSE_PRIOR = 0.2
MIN_HYPOTHESES = 3
MAX_HYPOTHESES = 5
LR_MIN = 1e-3
LR_MAX = 1e3


class Verdict(StrEnum):
    """What one observation says about a hypothesis (a contract of the hypotheses API)."""

    SUPPORTS = "supports"
    CONTRADICTS = "contradicts"
    INCONCLUSIVE = "inconclusive"


class Status(StrEnum):
    """Whether people confirmed or rejected a hypothesis."""

    OPEN = "open"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Evidence:
    """One observation and what it means for its hypothesis."""

    query: str  # what was asked: the rendered query, or the scan signal it comes from
    verdict: Verdict
    observed: float | None = None
    threshold: float | None = None
    likelihood_ratio: float = 1.0
    detail: str = ""  # a sentence for people: "error ratio 0.12 > 0.05", "timed out after 2 s"
    source: str = "promql"  # promql | cloudwatch_metric | cloudwatch_logs | scan
    expr: str | None = None  # the PromQL that graphs it, when it is not `query` itself (scan evidence)

    def __post_init__(self) -> None:
        lr = self.likelihood_ratio
        if not (math.isfinite(lr) and lr > 0):
            raise ValueError(f"likelihood ratio must be a positive number, not {lr}")
        if self.verdict is Verdict.INCONCLUSIVE and lr != 1.0:
            raise ValueError("inconclusive evidence has a likelihood ratio of exactly 1")
        if self.verdict is Verdict.SUPPORTS and lr <= 1.0:
            raise ValueError("supporting evidence has a likelihood ratio above 1")
        if self.verdict is Verdict.CONTRADICTS and lr >= 1.0:
            raise ValueError("contradicting evidence has a likelihood ratio below 1")

    @property
    def graph(self) -> str | None:
        """The PromQL to graph this evidence with, if any."""
        if self.expr:
            return self.expr
        return self.query if self.source == "promql" else None

    @classmethod
    def inconclusive(
        cls, query: str, detail: str, *, source: str = "promql", threshold: float | None = None
    ) -> Evidence:
        """Evidence that says nothing: no data, an error, a timeout."""
        return cls(query, Verdict.INCONCLUSIVE, None, threshold, 1.0, detail, source)


def judge(
    query: str,
    observed: float | None,
    supports: Condition,
    contradicts: Condition | None = None,
    *,
    lr_supports: float = 4.0,
    lr_contradicts: float = 0.25,
    source: str = "promql",
    what: str = "value",
) -> Evidence:
    """Turn an observed number into evidence: supports / contradicts by the conditions, else inconclusive."""
    if observed is None or math.isnan(observed):
        return Evidence.inconclusive(query, "no data", source=source, threshold=supports.threshold)
    if supports.holds(observed):
        detail = f"{what} {observed:.4g} {supports.describe()}"
        return Evidence(query, Verdict.SUPPORTS, observed, supports.threshold, lr_supports, detail, source)
    if contradicts is not None and contradicts.holds(observed):
        detail = f"{what} {observed:.4g} {contradicts.describe()}"
        return Evidence(query, Verdict.CONTRADICTS, observed, contradicts.threshold, lr_contradicts, detail, source)
    detail = f"{what} {observed:.4g}, between the thresholds"
    return Evidence(query, Verdict.INCONCLUSIVE, observed, supports.threshold, 1.0, detail, source)


def hypothesis_id(service: str | None, cause: Cause) -> str:
    """A stable id for "this component, this cause" (the value of its Confirm / Reject buttons)."""
    return "h-" + hashlib.sha256(f"{service or ''}\x00{cause.value}".encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A hypothesis before scoring: who, why, how likely a priori (a weight), and the evidence so far."""

    title: str
    service: str | None
    cause: Cause
    prior_weight: float
    evidence: tuple[Evidence, ...] = ()
    runbook: str | None = None
    origin: str = "runbook"  # runbook | golden | scan

    def __post_init__(self) -> None:
        if not (math.isfinite(self.prior_weight) and self.prior_weight > 0):
            raise ValueError(f"prior weight must be positive, not {self.prior_weight}")

    @property
    def key(self) -> tuple[str | None, Cause]:
        """What makes two candidates the same hypothesis."""
        return (self.service, self.cause)


@dataclass(frozen=True, slots=True)
class Hypothesis:
    """A scored hypothesis (the shape of the hypotheses API, DESIGN.md 5)."""

    id: str
    title: str
    service: str | None
    cause: Cause
    prior: float
    posterior: float
    evidence: tuple[Evidence, ...]
    runbook: str | None = None
    origin: str = "runbook"
    status: Status = Status.OPEN


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """The hypotheses kept (highest posterior first) and the probability of "something else"."""

    hypotheses: tuple[Hypothesis, ...]
    something_else: float
    considered: int = 0  # candidates scored before keeping the best
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def total(self) -> float:
        """Posteriors of the kept hypotheses plus something else (1 up to rounding)."""
        return math.fsum(h.posterior for h in self.hypotheses) + self.something_else


def merge(candidates: Iterable[Candidate]) -> list[Candidate]:
    """One candidate per (service, cause): the largest prior weight and its title; evidence pooled (each query once)."""
    merged: dict[tuple[str | None, Cause], Candidate] = {}
    for c in candidates:
        old = merged.get(c.key)
        if old is None:
            merged[c.key] = c
            continue
        lead, other = (old, c) if old.prior_weight >= c.prior_weight else (c, old)
        seen = {e.query for e in lead.evidence}
        pooled = lead.evidence + tuple(e for e in other.evidence if e.query not in seen)
        merged[c.key] = replace(lead, evidence=pooled, runbook=lead.runbook or other.runbook)
    return list(merged.values())


def _log_lr(evidence: Sequence[Evidence]) -> float:
    return math.fsum(math.log(min(LR_MAX, max(LR_MIN, e.likelihood_ratio))) for e in evidence)


def posteriors(
    prior_weights: Sequence[float], log_lrs: Sequence[float], *, something_else: float = SOMETHING_ELSE_PRIOR
) -> tuple[list[float], list[float], float]:
    """(normalized priors, posteriors, posterior of something else) for hypotheses given as weights and log LRs.

    Priors: the weights scaled to sum to 1 - something_else. Posteriors: prior x exp(log LR), normalized over the
    hypotheses plus something else (which keeps its prior). Computed in log space so extreme LRs cannot overflow.
    """
    if not 0 < something_else < 1:
        raise ValueError("the prior of something else must be between 0 and 1")
    if not prior_weights:
        return [], [], 1.0
    total = math.fsum(prior_weights)
    priors = [(1 - something_else) * w / total for w in prior_weights]
    logs = [math.log(p) + lr for p, lr in zip(priors, log_lrs, strict=True)]
    logs.append(math.log(something_else))
    top = max(logs)
    weights = [math.exp(x - top) for x in logs]
    norm = math.fsum(weights)
    post = [w / norm for w in weights]
    return priors, post[:-1], post[-1]


def score(
    candidates: Iterable[Candidate],
    *,
    something_else: float = SOMETHING_ELSE_PRIOR,
    keep: int = MAX_HYPOTHESES,
    notes: Sequence[str] = (),
) -> Diagnosis:
    """Merge, score and keep the `keep` most probable hypotheses; the mass of the others joins something else."""
    merged = merge(candidates)
    priors, post, rest = posteriors(
        [c.prior_weight for c in merged], [_log_lr(c.evidence) for c in merged], something_else=something_else
    )
    order = sorted(range(len(merged)), key=lambda i: (-post[i], -priors[i], merged[i].title))
    kept = order[:keep]
    dropped = math.fsum(post[i] for i in order[keep:])
    hypotheses = tuple(
        Hypothesis(
            id=hypothesis_id(merged[i].service, merged[i].cause),
            title=merged[i].title,
            service=merged[i].service,
            cause=merged[i].cause,
            prior=priors[i],
            posterior=post[i],
            evidence=merged[i].evidence,
            runbook=merged[i].runbook,
            origin=merged[i].origin,
        )
        for i in kept
    )
    return Diagnosis(hypotheses, rest + dropped, len(merged), tuple(notes))
