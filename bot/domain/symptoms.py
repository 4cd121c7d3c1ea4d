"""How symptoms are shared between explanations before scoring (pure).

A symptom (latency, errors, traffic of a service) is what several explanations predict: a change that did
happen to the same service (a rollout, a configuration change), or a fault in a workload that changed more
than the alerting service at the incident's start. These rules hand the symptom evidence to each explanation
that predicts it, so the symptoms do not speak for one explanation only.
"""

from __future__ import annotations

from bot.domain.causes import Cause
from bot.domain.hypotheses import Candidate, Evidence, Verdict
from bot.domain.neighbourhood import ScanResult

SYMPTOMS = frozenset({Cause.LATENCY_REGRESSION, Cause.ERROR_SPIKE, Cause.TRAFFIC_SURGE})
EXPLAINED_AWAY_LR = 0.5
CHANGES = frozenset({Cause.BAD_DEPLOY, Cause.CONFIG_CHANGE})


def share_symptoms(candidates: list[Candidate]) -> list[Candidate]:
    """A change that did happen (a rollout, a config change: supported by its own evidence) predicts the
    symptoms of its service as well as "the service itself broke" does: give it that evidence too, so the
    symptoms do not speak for one explanation only."""
    symptoms: dict[str | None, list[Evidence]] = {}
    for c in candidates:
        if c.cause in SYMPTOMS:
            symptoms.setdefault(c.service, []).extend(e for e in c.evidence if e.verdict is Verdict.SUPPORTS)
    out = []
    for c in candidates:
        happened = any(e.verdict is Verdict.SUPPORTS for e in c.evidence)
        if c.cause in CHANGES and happened and symptoms.get(c.service):
            have = {e.query for e in c.evidence}
            extra = tuple(e for e in symptoms[c.service] if e.query not in have)
            c = Candidate(c.title, c.service, c.cause, c.prior_weight, (*c.evidence, *extra), c.runbook, c.origin)
        out.append(c)
    return out


def explain_away(candidates: list[Candidate], service: str | None, result: ScanResult | None) -> list[Candidate]:
    """When other workloads changed more than the alerting service at the incident's start, the alert's own
    symptoms (latency, errors, traffic of the alerting service) are what their faults predict as well:

    - each such workload's hypothesis gets the alert's supporting symptom evidence too (it explains it), and
    - the alerting service's symptom hypotheses get a contradicting "X changed more" evidence.
    """
    if result is None or not result.changes or service is None:
        return candidates
    own = next((c.score for c in result.changes if c.workload == service), 0.0)
    explainers = {c.workload: c for c in result.changes if c.workload != service and c.score > own}
    if not explainers:
        return candidates
    top = max(explainers.values(), key=lambda c: c.score)
    symptoms = [
        e
        for c in candidates
        if c.service == service and c.cause in SYMPTOMS
        for e in c.evidence
        if e.verdict is Verdict.SUPPORTS
    ]
    against = Evidence(
        f"scan:top-change {top.workload}",
        Verdict.CONTRADICTS,
        top.score,
        own,
        EXPLAINED_AWAY_LR,
        f"{top.workload} changed more than {service} at the incident's start ({top.cause.value})",
        "scan",
    )
    out = []
    for c in candidates:
        if c.service == service and c.cause in SYMPTOMS:
            c = Candidate(c.title, c.service, c.cause, c.prior_weight, (*c.evidence, against), c.runbook, c.origin)
        elif c.origin == "scan" and c.service in explainers and symptoms:
            have = {e.query for e in c.evidence}
            extra = tuple(dict((e.query, e) for e in symptoms if e.query not in have).values())
            c = Candidate(c.title, c.service, c.cause, c.prior_weight, (*c.evidence, *extra), c.runbook, c.origin)
        out.append(c)
    return out
