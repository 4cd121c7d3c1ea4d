"""Diagnose an incident: match runbooks, build hypotheses, run their queries and the neighbourhood scan in
parallel, score.

Every query runs through the `MetricsSource` / `LogSource` ports with a per-query timeout, and all of them
under one overall deadline. A query that fails, times out, is cut by the deadline or cannot be rendered
(a placeholder without a value) becomes inconclusive evidence: the other hypotheses are still scored.
Everything is anchored at the incident's time (the first alert's `startsAt`, else the declare time), never
at "now": alerts arrive late and investigations are re-run later.

Not wired into reactors or cards yet: `diagnose()` returns the scored hypotheses.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from bot.domain.causes import Cause
from bot.domain.golden_signals import GOLDEN_RUNBOOK, GOLDEN_SIGNALS
from bot.domain.hypotheses import Candidate, Diagnosis, Evidence, Verdict, judge, score
from bot.domain.metrics import Series, reduce_values
from bot.domain.neighbourhood import ScanResult, ScanScope, ScanSettings, scan, scan_candidates, scan_queries
from bot.domain.ports import LogSource, MetricsSource, QueryError
from bot.domain.runbook import (
    SAFE_VALUE,
    HypothesisTemplate,
    Query,
    Runbook,
    UndefinedPlaceholder,
    placeholder_values,
    render,
    render_query,
)
from bot.domain.runbook_match import IncidentFacts, RunbookMatch, rank_runbooks

log = logging.getLogger(__name__)
T = TypeVar("T")
SYMPTOMS = frozenset({Cause.LATENCY_REGRESSION, Cause.ERROR_SPIKE, Cause.TRAFFIC_SURGE})
EXPLAINED_AWAY_LR = 0.5


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
class QueryRun:
    """One query that ran (or not): what, how long, how it ended."""

    name: str
    text: str
    seconds: float
    outcome: str  # ok | empty | error | timeout | deadline | skipped


@dataclass(frozen=True, slots=True)
class DiagnosisReport:
    """The scored hypotheses, the runbooks that matched, the scan, and every query that ran."""

    diagnosis: Diagnosis
    runbooks: tuple[RunbookMatch, ...]
    service: str | None
    anchor: datetime
    scan: ScanResult | None
    queries: tuple[QueryRun, ...]


class _Budget:
    """The per-query timeout, never past the overall deadline."""

    def __init__(self, per_query: float, deadline: float) -> None:
        self.per_query = per_query
        self.ends = time.monotonic() + deadline

    def remaining(self) -> float:
        return max(0.0, self.ends - time.monotonic())


async def _timed(
    runs: list[QueryRun], name: str, text: str, budget: _Budget, call: Callable[[float], Awaitable[T]]
) -> T | None:
    """Run one query under the budget; record how it ended; None for any failure."""
    start = time.monotonic()
    limit = min(budget.per_query, budget.remaining())
    if limit <= 0:
        runs.append(QueryRun(name, text, 0.0, "deadline"))
        return None
    try:
        result = await asyncio.wait_for(call(limit), timeout=limit)
    except TimeoutError:
        outcome = "timeout" if limit >= budget.per_query else "deadline"
        runs.append(QueryRun(name, text, time.monotonic() - start, outcome))
        return None
    except QueryError as exc:
        log.info("diagnostic query %s failed: %s", name, exc)
        runs.append(QueryRun(name, text, time.monotonic() - start, "error"))
        return None
    except Exception:  # an adapter bug must not take the diagnosis down: the query is no evidence
        log.exception("diagnostic query %s crashed", name)
        runs.append(QueryRun(name, text, time.monotonic() - start, "error"))
        return None
    empty = isinstance(result, list) and not result
    runs.append(QueryRun(name, text, time.monotonic() - start, "empty" if empty else "ok"))
    return result


def _why_not(runs: list[QueryRun], name: str) -> str:
    for run in reversed(runs):
        if run.name == name:
            return {
                "timeout": "timed out",
                "deadline": "cut by the diagnosis deadline",
                "error": "the query failed",
                "empty": "no data",
                "skipped": "no source for this kind of query",
            }.get(run.outcome, "no data")
    return "no data"


def _what(query: Query) -> str:
    if query.promql is not None:
        return query.promql
    if query.cloudwatch_metric is not None:
        m = query.cloudwatch_metric
        dims = ",".join(f"{k}={v}" for k, v in sorted(m.dimensions.items()))
        return f"cloudwatch:{m.namespace}/{m.metric}{{{dims}}} {m.stat} {m.period}s"
    assert query.cloudwatch_logs is not None
    return f"logs:{query.cloudwatch_logs.log_group} {query.cloudwatch_logs.filter}"


def _seconds(duration: str) -> float:
    return float(duration[:-1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[duration[-1]]


class _Runner:
    """Runs the queries of one diagnosis through the ports."""

    def __init__(self, metrics: MetricsSource | None, logs: LogSource | None, at: datetime, budget: _Budget) -> None:
        self.metrics = metrics
        self.logs = logs
        self.at = at
        self.budget = budget
        self.runs: list[QueryRun] = []

    async def value(self, name: str, query: Query) -> float | None:
        """One number from a rendered query (reduced over series / datapoints), None for no evidence."""
        text = _what(query)
        if query.cloudwatch_logs is not None:
            logs = self.logs
            if logs is None or not logs.supports("cloudwatch_logs"):
                self.runs.append(QueryRun(name, text, 0.0, "skipped"))
                return None
            start = self.at - timedelta(seconds=_seconds(query.window))
            count = await _timed(
                self.runs, name, text, self.budget, lambda t: logs.count(query, start=start, end=self.at, time_limit=t)
            )
            return None if count is None else float(count)
        metrics = self.metrics
        if metrics is None or not metrics.supports(query.kind):
            self.runs.append(QueryRun(name, text, 0.0, "skipped"))
            return None
        series = await _timed(
            self.runs, name, text, self.budget, lambda t: metrics.query(query, at=self.at, time_limit=t)
        )
        if not series:
            return None
        return reduce_values([v for s in series for _, v in s.points], query.reduce)

    async def series_range(self, name: str, promql: str, start: datetime, end: datetime, step: float) -> list[Series]:
        """A PromQL range query; [] for no evidence."""
        metrics = self.metrics
        query = Query(promql=promql)
        if metrics is None or not metrics.supports("promql"):
            self.runs.append(QueryRun(name, promql, 0.0, "skipped"))
            return []
        result = await _timed(
            self.runs,
            name,
            promql,
            self.budget,
            lambda t: metrics.query_range(query, start=start, end=end, step=step, time_limit=t),
        )
        return result or []


def _service_of(incident: IncidentView, labels: Sequence[str]) -> tuple[str | None, str]:
    """The alerting service and the label that named it (the first label, when none did)."""
    for alert in incident.alerts:
        for label in labels:
            value = alert.labels.get(label)
            if value:
                return value, label
    return None, labels[0]


async def _evaluate(
    runner: _Runner,
    name: str,
    template: HypothesisTemplate,
    values: Mapping[str, str],
    fallback_labels: Sequence[str],
) -> Evidence:
    """The evidence one hypothesis template gives: rendered, run (again with the fallback service label when
    the first gives no data and the query selects by it), judged."""
    try:
        query = render_query(template.query, values)
    except UndefinedPlaceholder as missing:
        return Evidence.inconclusive(
            _what(template.query),
            f"needs {missing.args[0]}, which this incident does not give",
            source=template.query.kind,
        )
    uses_label = "service_label" in (template.query.promql or "")
    observed: float | None = None
    last = name
    for label in (None, *fallback_labels):
        if label is not None:
            outcome = next((r.outcome for r in reversed(runner.runs) if r.name == last), "")
            if not uses_label or outcome != "empty":
                break  # only "no data" is worth asking again with the other label, not a failure
            query = render_query(template.query, {**values, "service_label": label})
            last = f"{name}[{label}]"
        observed = await runner.value(last, query)
        if observed is not None:
            break
    if observed is None:
        why = _why_not(runner.runs, last)
        return Evidence.inconclusive(_what(query), why, source=query.kind, threshold=template.supports.threshold)
    return judge(
        _what(query),
        observed,
        template.supports,
        template.contradicts,
        lr_supports=template.lr_supports,
        lr_contradicts=template.lr_contradicts,
        source=query.kind,
    )


def _title(template: HypothesisTemplate, values: Mapping[str, str]) -> str:
    try:
        return render(template.title, values)
    except UndefinedPlaceholder:
        return template.title.replace("{{", "").replace("}}", "")


def _blamed(template: HypothesisTemplate, values: Mapping[str, str], service: str | None) -> str | None:
    try:
        blamed = render(template.blames, values)
    except UndefinedPlaceholder:
        return service
    return blamed if SAFE_VALUE.match(blamed) else service


async def _scan(
    runner: _Runner, scope: ScanScope, fallback_labels: Sequence[str], settings: DiagnosisSettings
) -> ScanResult:
    s = settings.scan
    start = runner.at - timedelta(seconds=s.start_offset)
    queries = scan_queries(scope, s)

    async def run(label_scope: ScanScope, names: set[str] | None) -> dict[str, list[Series]]:
        qs = [q for q in scan_queries(label_scope, s) if names is None or q.name in names]
        got = await asyncio.gather(
            *(runner.series_range(f"scan:{q.name}", q.promql, start, runner.at, s.step_seconds) for q in qs)
        )
        return {q.name: series for q, series in zip(qs, got, strict=True)}

    results = await run(scope, None)
    by_service = {q.name for q in queries if q.key != "pod"}
    for label in fallback_labels:
        if any(results.get(n) for n in by_service):
            break
        fallback = ScanScope(scope.service, scope.namespace, scope.dependencies, label)
        results.update(await run(fallback, by_service))
        scope = fallback
    return scan(results, anchor=runner.at.timestamp(), scope=scope, settings=s, aliases=settings.aliases)


CHANGES = frozenset({Cause.BAD_DEPLOY, Cause.CONFIG_CHANGE})


def _share_symptoms(candidates: list[Candidate]) -> list[Candidate]:
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


def _explain_away(candidates: list[Candidate], service: str | None, result: ScanResult | None) -> list[Candidate]:
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
    labels_list = [a.labels for a in incident.alerts]
    facts = IncidentFacts.of(
        labels_list,
        [a.annotations for a in incident.alerts],
        title=incident.title,
        service_labels=settings.service_labels,
    )
    matches = rank_runbooks(runbooks, facts, limit=settings.runbooks_matched)
    service, label = _service_of(incident, settings.service_labels)
    fallback = [x for x in settings.service_labels if x != label]
    first_labels = incident.alerts[0].labels if incident.alerts else {}
    durations = {"window": settings.window, "lookback": settings.lookback, "baseline": settings.baseline}
    deployment = settings.deployments.get(service, service) if service else None

    def values_for(runbook: Runbook | None) -> dict[str, str]:
        return placeholder_values(
            labels=first_labels,
            service=service,
            service_label=label,
            deployment=deployment,
            durations=durations,
            params=runbook.params if runbook else None,
        )

    plan: list[tuple[str, str | None, HypothesisTemplate, dict[str, str]]] = []
    for match in matches:
        values = values_for(match.runbook)
        plan.extend((f"{match.runbook.id}:{t.id}", match.runbook.id, t, values) for t in match.runbook.hypotheses)
    golden = values_for(None)
    plan.extend((f"{GOLDEN_RUNBOOK}:{t.id}", None, t, golden) for t in GOLDEN_SIGNALS)
    plan = plan[: settings.max_queries]

    runner = _Runner(metrics, logs, anchor, _Budget(settings.query_timeout, settings.deadline))
    scope: ScanScope | None = None
    notes: list[str] = []
    if settings.scan_enabled and service is not None and metrics is not None and metrics.supports("promql"):
        try:
            scope = ScanScope(
                service,
                first_labels.get("namespace") or None,
                tuple(settings.dependencies.get(service, ())),
                label,
            )
        except ValueError as exc:
            notes.append(f"no neighbourhood scan: {exc}")
    elif service is None:
        notes.append(f"no neighbourhood scan: the alerts carry none of the labels {', '.join(settings.service_labels)}")

    jobs: list[Awaitable[object]] = [_evaluate(runner, name, t, v, fallback) for name, _, t, v in plan]
    if scope is not None:
        jobs.append(_scan(runner, scope, fallback, settings))
    results = await asyncio.gather(*jobs)
    evidence = results[: len(plan)]
    scanned = results[len(plan)] if scope is not None else None
    assert scanned is None or isinstance(scanned, ScanResult)

    candidates = [
        Candidate(
            _title(t, v),
            _blamed(t, v, service),
            t.cause,
            t.prior,
            (ev,),
            runbook,
            "runbook" if runbook else "golden",
        )
        for (name, runbook, t, v), ev in zip(plan, evidence, strict=True)
        if isinstance(ev, Evidence)
    ]
    if scanned is not None:
        candidates.extend(scan_candidates(scanned, limit=settings.scan.max_candidates))
        notes.extend(scanned.notes)
    candidates = _explain_away(_share_symptoms(candidates), service, scanned)
    diagnosis = score(candidates, something_else=settings.something_else, keep=settings.keep, notes=notes)
    return DiagnosisReport(diagnosis, tuple(matches), service, anchor, scanned, tuple(runner.runs))
