"""Diagnosis against a REAL Prometheus holding backfilled history: five classic incidents, one server.

Each scenario lives in its own namespace of one deterministic 110-minute history (30 s resolution) that
`promtool` turns into blocks; the alert's startsAt is the anchor, long in the past (queries pass `time`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.causes import Cause
from bot.domain.hypotheses import Verdict
from bot.runbooks import load_paths
from bot.services.diagnostics import AlertView, DiagnosisSettings, IncidentView, diagnose
from integrations.prometheus_metrics import PrometheusMetrics
from tests.prom_scenarios import T0, build_history
from tests.servers.prometheus import PrometheusServer, require_prometheus
from tests.servers.slow_proxy import SlowProxy

LIBRARY = load_paths([Path(__file__).resolve().parents[2] / "runbooks"]).runbooks


@pytest.fixture(scope="module")
def prometheus() -> Iterator[PrometheusServer]:
    require_prometheus()
    server = PrometheusServer(build_history()).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def source(prometheus: PrometheusServer) -> Iterator[PrometheusMetrics]:
    metrics = PrometheusMetrics(prometheus.url)
    yield metrics
    metrics.close()


def alert(alertname: str, **labels: str) -> IncidentView:
    return IncidentView((AlertView({"alertname": alertname, **labels}, {}, datetime.fromtimestamp(T0, UTC)),))


SETTINGS = DiagnosisSettings(query_timeout=5.0, deadline=15.0)


@pytest.mark.parametrize(
    ("incident", "service", "cause"),
    [
        pytest.param(alert("HighErrorRate", service="web", namespace="s1"), "web", Cause.BAD_DEPLOY, id="deploy"),
        pytest.param(
            alert("HighLatency", service="api", namespace="s2"), "api", Cause.LATENCY_REGRESSION, id="latency"
        ),
        pytest.param(alert("HighLatency", service="search", namespace="s3"), "search", Cause.CPU_SATURATION, id="cpu"),
        pytest.param(
            alert("NodeFilesystemAlmostOutOfSpace", job="node", instance="node-1:9100", mountpoint="/var"),
            "node-1:9100",
            Cause.DISK_FULL,
            id="disk",
        ),
        pytest.param(
            alert("HighErrorRate", service="store", namespace="s5"), "payments", Cause.ERROR_SPIKE, id="dependency"
        ),
    ],
)
async def test_the_right_hypothesis_ranks_first(
    source: PrometheusMetrics, incident: IncidentView, service: str, cause: Cause
) -> None:
    report = await diagnose(incident, metrics=source, runbooks=LIBRARY, settings=SETTINGS)
    ranked = [(h.service, h.cause.value, round(h.posterior, 3)) for h in report.diagnosis.hypotheses]
    top = report.diagnosis.hypotheses[0]
    assert (top.service, top.cause) == (service, cause), ranked
    assert 3 <= len(report.diagnosis.hypotheses) <= 5
    assert math.isclose(report.diagnosis.total, 1.0)
    assert top.posterior > top.prior
    shown = [e for e in top.evidence if e.verdict is Verdict.SUPPORTS]
    assert shown and all(e.observed is not None and e.threshold is not None for e in shown)
    assert not [r for r in report.queries if r.outcome in ("error", "timeout", "deadline")]


async def test_a_query_that_times_out_is_inconclusive_and_the_others_still_score(
    prometheus: PrometheusServer,
) -> None:
    proxy = SlowProxy(prometheus.url, ("kube_deployment_metadata_generation",)).start()
    metrics = PrometheusMetrics(proxy.url)
    try:
        settings = DiagnosisSettings(query_timeout=0.5, deadline=10.0)
        report = await diagnose(
            alert("HighErrorRate", service="web", namespace="s1"), metrics=metrics, runbooks=LIBRARY, settings=settings
        )
    finally:
        proxy.stop()
        metrics.close()
    assert proxy.held >= 1
    slow = [
        e for h in report.diagnosis.hypotheses for e in h.evidence if "kube_deployment_metadata_generation" in e.query
    ]
    assert slow and {(e.verdict, e.detail) for e in slow} == {(Verdict.INCONCLUSIVE, "timed out")}
    top = report.diagnosis.hypotheses[0]
    assert (top.service, top.cause) == ("web", Cause.ERROR_SPIKE)  # without the deploy evidence, the errors win
    assert any(e.verdict is Verdict.SUPPORTS for e in top.evidence)
    assert math.isclose(report.diagnosis.total, 1.0)


async def test_an_unreachable_prometheus_gives_inconclusive_hypotheses(prometheus: PrometheusServer) -> None:
    metrics = PrometheusMetrics("http://127.0.0.1:9")  # discard port: nothing listens
    try:
        report = await diagnose(
            alert("HighErrorRate", service="web", namespace="s1"), metrics=metrics, runbooks=LIBRARY, settings=SETTINGS
        )
    finally:
        metrics.close()
    assert 3 <= len(report.diagnosis.hypotheses) <= 5
    assert all(e.verdict is Verdict.INCONCLUSIVE for h in report.diagnosis.hypotheses for e in h.evidence)
    assert {r.outcome for r in report.queries} == {"error"}
