"""Diagnose an incident: match runbooks, build hypotheses, run their queries and the neighbourhood scan in
parallel, score.

Every query runs through the `MetricsSource` / `LogSource` ports with a per-query timeout, and all of them
under one overall deadline (`bot.services.diagnosis_runner`). A query that fails, times out, is cut by the
deadline or cannot be rendered (a placeholder without a value) becomes inconclusive evidence: the other
hypotheses are still scored. Everything is anchored at the incident's time (the first alert's `startsAt`, else
the declare time), never at "now": alerts arrive late and investigations are re-run later.

The diagnosis reactor (`bot.services.reactors.diagnosis`) runs it and posts the hypothesis cards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.domain.golden_signals import GOLDEN_RUNBOOK, GOLDEN_SIGNALS
from bot.domain.hypotheses import Candidate, Diagnosis, Evidence, score
from bot.domain.neighbourhood import ScanResult, ScanScope, ScanSettings, scan_candidates
from bot.domain.ports import LogSource, MetricsSource
from bot.domain.runbook import HypothesisTemplate, Runbook, placeholder_values
from bot.domain.runbook_match import IncidentFacts, RunbookMatch, rank_runbooks
from bot.domain.symptoms import explain_away, share_symptoms
from bot.services.diagnosis_runner import Budget, QueryRun, Runner, blamed_by, evaluate, run_scan, title_of

__all__ = ["AlertView", "DiagnosisReport", "DiagnosisSettings", "IncidentView", "QueryRun", "diagnose"]

Plan = list[tuple[str, str | None, HypothesisTemplate, dict[str, str]]]


@dataclass(frozen=True, slots=True)
class DiagnosisSettings:
    """How diagnostics query and score (defaults suit a Prometheus scraped every 15 s to 1 min)."""

    service_labels: tuple[str, ...] = ("service", "job")  # the label that names a service, then its fallbacks
    dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # service -> what it depends on
    deployments: Mapping[str, str] = field(default_factory=dict)  # service -> deployment (default: same name)
    aliases: Mapping[str, str] = field(default_factory=dict)  # workload -> service, for the scan
    window: str = "5m"
    lookback: str = "30m"
    baseline: str = "1h"
    query_timeout: float = 2.0
    deadline: float = 5.0
    max_queries: int = 12  # hypothesis queries (the scan's fixed set comes on top)
    runbooks_matched: int = 2
    scan: ScanSettings = field(default_factory=ScanSettings)
    scan_enabled: bool = True
    something_else: float = 0.2
    keep: int = 5


@dataclass(frozen=True, slots=True)
class AlertView:
    """What diagnostics needs of one alert."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class IncidentView:
    """What diagnostics needs of an incident: its alerts, title and when it was declared."""

    alerts: tuple[AlertView, ...]
    title: str = ""
    declared_at: datetime | None = None

    @property
    def anchor(self) -> datetime:
        """The incident's time: the first alert's startsAt, else the declare time."""
        starts = [a.starts_at for a in self.alerts if a.starts_at is not None]
        if starts:
            return min(starts)
        if self.declared_at is None:
            raise ValueError("an incident without alert start or declare time cannot be diagnosed")
        return self.declared_at


@dataclass(frozen=True, slots=True)
class DiagnosisReport:
    """The scored hypotheses, the runbooks that matched, the scan, and every query that ran."""

    diagnosis: Diagnosis
    runbooks: tuple[RunbookMatch, ...]
    service: str | None
    anchor: datetime
    scan: ScanResult | None
    queries: tuple[QueryRun, ...]


def _service_of(incident: IncidentView, labels: Sequence[str]) -> tuple[str | None, str]:
    """The alerting service and the label that named it (the first label, when none did)."""
    for alert in incident.alerts:
        for label in labels:
            value = alert.labels.get(label)
            if value:
                return value, label
    return None, labels[0]


@dataclass(frozen=True, slots=True)
class _Context:
    """What every part of one diagnosis shares: the service, the label that named it, the first alert's labels."""

    service: str | None
    label: str
    fallback: list[str]
    labels: Mapping[str, str]
    matches: list[RunbookMatch]


def _context(incident: IncidentView, runbooks: Sequence[Runbook], settings: DiagnosisSettings) -> _Context:
    facts = IncidentFacts.of(
        [a.labels for a in incident.alerts],
        [a.annotations for a in incident.alerts],
        title=incident.title,
        service_labels=settings.service_labels,
    )
    matches = rank_runbooks(runbooks, facts, limit=settings.runbooks_matched)
    service, label = _service_of(incident, settings.service_labels)
    fallback = [x for x in settings.service_labels if x != label]
    labels = incident.alerts[0].labels if incident.alerts else {}
    return _Context(service, label, fallback, labels, matches)


def _plan(ctx: _Context, settings: DiagnosisSettings) -> Plan:
    """The hypothesis templates to test, with their placeholder values: the matched runbooks', then the
    golden signals', capped at `max_queries`."""
    durations = {"window": settings.window, "lookback": settings.lookback, "baseline": settings.baseline}
    deployment = settings.deployments.get(ctx.service, ctx.service) if ctx.service else None

    def values_for(runbook: Runbook | None) -> dict[str, str]:
        return placeholder_values(
            labels=ctx.labels, service=ctx.service, service_label=ctx.label, deployment=deployment,
            durations=durations, params=runbook.params if runbook else None,
        )  # fmt: skip

    plan: Plan = []
    for match in ctx.matches:
        values = values_for(match.runbook)
        plan.extend((f"{match.runbook.id}:{t.id}", match.runbook.id, t, values) for t in match.runbook.hypotheses)
    golden = values_for(None)
    plan.extend((f"{GOLDEN_RUNBOOK}:{t.id}", None, t, golden) for t in GOLDEN_SIGNALS)
    return plan[: settings.max_queries]


def _scan_scope(
    ctx: _Context, metrics: MetricsSource | None, settings: DiagnosisSettings, notes: list[str]
) -> ScanScope | None:
    """Where the neighbourhood scan looks, or None (with a note saying why not)."""
    if ctx.service is None:
        labels = ", ".join(settings.service_labels)
        notes.append(f"no neighbourhood scan: the alerts carry none of the labels {labels}")
        return None
    if not settings.scan_enabled or metrics is None or not metrics.supports("promql"):
        return None
    try:
        deps = tuple(settings.dependencies.get(ctx.service, ()))
        return ScanScope(ctx.service, ctx.labels.get("namespace") or None, deps, ctx.label)
    except ValueError as exc:
        notes.append(f"no neighbourhood scan: {exc}")
        return None


async def diagnose(
    incident: IncidentView,
    *,
    metrics: MetricsSource | None,
    logs: LogSource | None = None,
    runbooks: Sequence[Runbook] = (),
    settings: DiagnosisSettings | None = None,
) -> DiagnosisReport:
    """Scored hypotheses for an incident (never raises for a failed query: that is inconclusive evidence)."""
    settings = settings or DiagnosisSettings()
    anchor = incident.anchor.astimezone(UTC)
    ctx = _context(incident, runbooks, settings)
    plan = _plan(ctx, settings)
    runner = Runner(metrics, logs, anchor, Budget(settings.query_timeout, settings.deadline))
    notes: list[str] = []
    scope = _scan_scope(ctx, metrics, settings, notes)
    jobs: list[Awaitable[object]] = [evaluate(runner, name, t, v, ctx.fallback) for name, _, t, v in plan]
    if scope is not None:
        jobs.append(run_scan(runner, scope, ctx.fallback, settings.scan, settings.aliases))
    results = await asyncio.gather(*jobs)
    scanned = results[len(plan)] if scope is not None else None
    assert scanned is None or isinstance(scanned, ScanResult)
    candidates = [
        Candidate(title_of(t, v), blamed_by(t, v, ctx.service), t.cause, t.prior, (ev,), runbook,
                  "runbook" if runbook else "golden")
        for (_, runbook, t, v), ev in zip(plan, results[: len(plan)], strict=True)
        if isinstance(ev, Evidence)
    ]  # fmt: skip
    if scanned is not None:
        candidates.extend(scan_candidates(scanned, limit=settings.scan.max_candidates))
        notes.extend(scanned.notes)
    candidates = explain_away(share_symptoms(candidates), ctx.service, scanned)
    diagnosis = score(candidates, something_else=settings.something_else, keep=settings.keep, notes=notes)
    return DiagnosisReport(diagnosis, tuple(ctx.matches), ctx.service, anchor, scanned, tuple(runner.runs))
