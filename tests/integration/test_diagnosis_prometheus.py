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
from tests.promdata import History
from tests.servers.prometheus import PrometheusServer, require_prometheus
from tests.servers.slow_proxy import SlowProxy

LIBRARY = load_paths([Path(__file__).resolve().parents[2] / "runbooks"]).runbooks
T0 = 1_767_960_000.0  # 2026-01-09 12:00 UTC: every scenario's first alert fires here
ONSET = T0 - 240  # the fault starts four minutes earlier


def wobble(seed: int):
    return lambda t: 1 + 0.05 * math.sin(t / 170 + seed) + 0.03 * math.sin(t / 53 + 2 * seed)


def after(at: float, before: float, then: float, seed: int):
    w = wobble(seed)
    return lambda t: (then if t >= at else before) * w(t)


def workload(h: History, ns: str, service: str, seed: int, *, cpu=None, latency=None, rps=None, errors=None) -> None:
    """One workload's usual series: cAdvisor CPU/memory, kube-state limits/restarts/generation, HTTP."""
    pod = f"{service}-6d5f8b7c9d-x2kpq"
    k8s = {"namespace": ns, "pod": pod, "container": service}
    h.counter("container_cpu_usage_seconds_total", k8s, cpu or after(0, 0.1, 0.1, seed))
    h.gauge("container_memory_working_set_bytes", k8s, after(0, 200e6, 200e6, seed + 1))
    h.gauge("kube_pod_container_resource_limits", {**k8s, "resource": "cpu"}, lambda t: 1.0)
    h.gauge("kube_pod_container_resource_limits", {**k8s, "resource": "memory"}, lambda t: 1e9)
    h.gauge("kube_pod_container_status_restarts_total", k8s, lambda t: 0.0)
    rate = rps or after(0, 20, 20, seed + 2)
    err = errors or (lambda t: 0.0)
    http = {"namespace": ns, "service": service}
    h.counter("http_requests_total", {**http, "code": "200"}, lambda t: rate(t) * (1 - err(t)))
    h.counter("http_requests_total", {**http, "code": "500"}, lambda t: rate(t) * err(t))
    h.histogram(
        "http_request_duration_seconds",
        http,
        rate,
        latency or after(0, 0.08, 0.08, seed + 3),
        (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    )


def generation(h: History, ns: str, service: str, changed_at: float | None) -> None:
    h.gauge(
        "kube_deployment_metadata_generation",
        {"namespace": ns, "deployment": service},
        lambda t: 4.0 if changed_at is not None and t >= changed_at else 3.0,
    )


def build_history() -> str:
    h = History(T0 - 110 * 60, T0 + 10 * 60, step=30)
    # 1. error spike after a deploy: web rolled out at ONSET - 60 s, then 20 % of its answers are 500s
    workload(h, "s1", "web", 1, errors=lambda t: 0.2 if t >= ONSET else 0.0)
    workload(h, "s1", "cart", 2)
    generation(h, "s1", "web", ONSET - 60)
    generation(h, "s1", "cart", None)
    # 2. latency regression: api's p90 goes from 80 ms to 600 ms, nothing else moves, no rollout
    workload(h, "s2", "api", 3, latency=after(ONSET, 0.08, 0.6, 3))
    workload(h, "s2", "worker", 4)
    generation(h, "s2", "api", None)
    generation(h, "s2", "worker", None)
    # 3. CPU saturation: search burns its whole 1-core limit; its latency follows
    workload(h, "s3", "search", 5, cpu=after(ONSET, 0.15, 0.97, 5), latency=after(ONSET, 0.05, 0.3, 6))
    workload(h, "s3", "indexer", 6)
    generation(h, "s3", "search", None)
    # 4. disk full: /var on node-1 fills to 2 % free
    for mount, free in (("/", 0.6), ("/var", 0.02)):
        labels = {"instance": "node-1:9100", "job": "node", "mountpoint": mount, "fstype": "ext4", "device": "sda"}
        h.gauge("node_filesystem_size_bytes", labels, lambda t: 100e9)
        fill = (
            (lambda t, f=free: 100e9 * (0.5 if t < ONSET else f)) if mount == "/var" else (lambda t, f=free: 100e9 * f)
        )
        h.gauge("node_filesystem_avail_bytes", labels, fill)
    # 5. a failing dependency: store calls payments, payments starts answering 500s and slowly; store's errors follow
    workload(h, "s5", "store", 7, errors=lambda t: 0.15 if t >= ONSET + 30 else 0.0)
    workload(h, "s5", "payments", 8, errors=lambda t: 0.5 if t >= ONSET else 0.0, latency=after(ONSET, 0.05, 0.4, 9))
    generation(h, "s5", "store", None)
    generation(h, "s5", "payments", None)
    h.histogram(
        "http_client_request_duration_seconds",
        {"namespace": "s5", "service": "store", "server_address": "payments.s5.svc:8080"},
        after(0, 10, 10, 10),
        after(ONSET, 0.06, 0.45, 11),
        (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    )
    return h.openmetrics()


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
