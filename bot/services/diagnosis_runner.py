"""Running the queries of one diagnosis through the ports: a per-query timeout under one overall deadline, and
every failure (an error, a timeout, the deadline, a query that cannot be rendered) recorded as what it was and
turned into inconclusive evidence, never an exception."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from bot.domain.hypotheses import Evidence, judge
from bot.domain.metrics import Series, reduce_values
from bot.domain.neighbourhood import ScanResult, ScanScope, ScanSettings, scan, scan_queries
from bot.domain.ports import LogSource, MetricsSource, QueryError
from bot.domain.runbook import SAFE_VALUE, HypothesisTemplate, Query, UndefinedPlaceholder, render, render_query

log = logging.getLogger("bot.services.diagnostics")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class QueryRun:
    """One query that ran (or not): what, how long, how it ended."""

    name: str
    text: str
    seconds: float
    outcome: str  # ok | empty | error | timeout | deadline | skipped


class Budget:
    """The per-query timeout, never past the overall deadline."""

    def __init__(self, per_query: float, deadline: float) -> None:
        self.per_query = per_query
        self.ends = time.monotonic() + deadline

    def remaining(self) -> float:
        return max(0.0, self.ends - time.monotonic())


async def _timed(
    runs: list[QueryRun], name: str, text: str, budget: Budget, call: Callable[[float], Awaitable[T]]
) -> T | None:
    """Run one query under the budget; record how it ended; None for any failure."""
    start = time.monotonic()
    limit = min(budget.per_query, budget.remaining())
    if limit <= 0:
        runs.append(QueryRun(name, text, 0.0, "deadline"))
        return None
    try:
        async with asyncio.timeout(limit):  # not wait_for: on 3.11 it can drop a cancel that lands at the end
            result = await call(limit)
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


def describe_query(query: Query) -> str:
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


class Runner:
    """Runs the queries of one diagnosis through the ports."""

    def __init__(self, metrics: MetricsSource | None, logs: LogSource | None, at: datetime, budget: Budget) -> None:
        self.metrics = metrics
        self.logs = logs
        self.at = at
        self.budget = budget
        self.runs: list[QueryRun] = []

    async def value(self, name: str, query: Query) -> float | None:
        """One number from a rendered query (reduced over series / datapoints), None for no evidence."""
        text = describe_query(query)
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


async def evaluate(
    runner: Runner,
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
            describe_query(template.query),
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
        return Evidence.inconclusive(
            describe_query(query), why, source=query.kind, threshold=template.supports.threshold
        )
    return judge(
        describe_query(query),
        observed,
        template.supports,
        template.contradicts,
        lr_supports=template.lr_supports,
        lr_contradicts=template.lr_contradicts,
        source=query.kind,
    )


def title_of(template: HypothesisTemplate, values: Mapping[str, str]) -> str:
    try:
        return render(template.title, values)
    except UndefinedPlaceholder:
        return template.title.replace("{{", "").replace("}}", "")


def blamed_by(template: HypothesisTemplate, values: Mapping[str, str], service: str | None) -> str | None:
    try:
        blamed = render(template.blames, values)
    except UndefinedPlaceholder:
        return service
    return blamed if SAFE_VALUE.match(blamed) else service


async def run_scan(
    runner: Runner,
    scope: ScanScope,
    fallback_labels: Sequence[str],
    s: ScanSettings,
    aliases: Mapping[str, str],
) -> ScanResult:
    """The neighbourhood scan's range queries (again with a fallback service label when the first finds no
    service series), then the pure scan over their series."""
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
    return scan(results, anchor=runner.at.timestamp(), scope=scope, settings=s, aliases=aliases)
