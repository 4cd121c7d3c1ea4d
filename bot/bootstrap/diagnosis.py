"""The diagnosis side of the composition root: the metrics and log stores (Prometheus at PROMETHEUS_URL,
CloudWatch when an AWS region is set), the runbook library, the settings from `warroom.yml`, the chart
renderer; and the diagnosis reactor's re-run timers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.config import AppConfig, Settings
from bot.db.store import ClaimedTimer
from bot.domain.evidence_links import EvidenceLinks
from bot.domain.metrics import Series
from bot.domain.ports import LogSource, MetricsSource, QueryError
from bot.domain.runbook import Query, Runbook
from bot.runbooks import default_directory, load_paths
from bot.scheduler import Scheduler
from bot.services.diagnosis_deps import DiagnosisDeps
from bot.services.diagnostics import DiagnosisSettings
from bot.services.reactors.diagnosis import DIAGNOSIS_REFRESH, DiagnosisReactor

log = logging.getLogger("warroom")


@dataclass(slots=True)
class RoutedMetrics:
    """One MetricsSource over several: each query goes to the first source that answers its kind."""

    sources: list[MetricsSource] = field(default_factory=list)

    def _for(self, kind: str) -> MetricsSource:
        for s in self.sources:
            if s.supports(kind):
                return s
        raise QueryError(f"no metrics source answers {kind} queries")

    def supports(self, kind: str) -> bool:
        """Whether any source answers this kind."""
        return any(s.supports(kind) for s in self.sources)

    async def query(self, query: Query, *, at: datetime, time_limit: float) -> list[Series]:
        """The instant query, by the source of its kind."""
        return await self._for(query.kind).query(query, at=at, time_limit=time_limit)

    async def query_range(
        self, query: Query, *, start: datetime, end: datetime, step: float, time_limit: float
    ) -> list[Series]:
        """The range query, by the source of its kind."""
        return await self._for(query.kind).query_range(query, start=start, end=end, step=step, time_limit=time_limit)


def diagnosis_settings(config: AppConfig) -> DiagnosisSettings:
    """The diagnostics' knobs from the rules file's `diagnosis` section."""
    d = config.diagnosis
    return DiagnosisSettings(
        service_labels=tuple(d.service_labels), dependencies={k: tuple(v) for k, v in d.dependencies.items()},
        deployments=dict(d.deployments), aliases=dict(d.aliases), window=d.window, lookback=d.lookback,
        baseline=d.baseline, query_timeout=d.query_timeout_seconds, deadline=d.deadline_seconds,
        max_queries=d.max_queries,
    )  # fmt: skip


def load_runbooks(path: Path | None) -> tuple[Runbook, ...]:
    """The runbook library (problems are logged: a broken file is left out, the others load)."""
    loaded = load_paths([path or default_directory()])
    for finding in loaded.findings:
        log.warning("runbook library: %s", finding)
    return tuple(loaded.runbooks)


def build_diagnosis(settings: Settings, config: AppConfig) -> tuple[DiagnosisDeps, list[Callable[[], None]]]:
    """The diagnosis' dependencies (off without a source or with `diagnosis.enabled: false`) and what to
    close at shutdown (the adapters' worker threads)."""
    closers: list[Callable[[], None]] = []
    d = config.diagnosis
    runbooks = load_runbooks(d.runbooks)  # `/incident runbook` reads them with the diagnosis off too
    if not d.enabled:
        return DiagnosisDeps(runbooks=runbooks), closers
    sources: list[MetricsSource] = []
    logs: LogSource | None = None
    if settings.prometheus_url:
        from integrations.prometheus_metrics import PrometheusMetrics

        prometheus = PrometheusMetrics(settings.prometheus_url)
        sources.append(prometheus)
        closers.append(prometheus.close)
    if settings.region:
        from integrations.cloudwatch_metrics import CloudWatchSource

        cloudwatch = CloudWatchSource(region=settings.region, endpoint_url=settings.aws_endpoint_url)
        sources.append(cloudwatch)
        logs = cloudwatch
        closers.append(cloudwatch.close)
    if not sources:
        return DiagnosisDeps(runbooks=runbooks), closers
    charts = None
    if d.charts:
        from integrations.charts import MatplotlibCharts

        charts = MatplotlibCharts()
    diagnosis = DiagnosisDeps(
        metrics=sources[0] if len(sources) == 1 else RoutedMetrics(sources), logs=logs,
        runbooks=runbooks, settings=diagnosis_settings(config),
        links=EvidenceLinks(settings.prometheus_url, settings.region), charts=charts,
        refresh_seconds=d.refresh_seconds,
    )  # fmt: skip
    return diagnosis, closers


def register_rerun(scheduler: Scheduler, reactor: DiagnosisReactor) -> None:
    """The coalesced re-diagnosis after alert changes runs when its timer fires."""

    async def rerun(timer: ClaimedTimer) -> None:
        if timer.incident_id is not None:
            await reactor.run(timer.incident_id, attempt=2)

    scheduler.register(DIAGNOSIS_REFRESH, rerun)
