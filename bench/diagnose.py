"""How long a diagnosis takes against a real Prometheus, and what the neighbourhood scan costs as a namespace grows.

Starts Debian's `prometheus` over a promtool-backfilled history (tests/servers/prometheus.py): three namespaces
of 10, 50 and 200 workloads (cAdvisor CPU/memory, kube-state limits/restarts/generation, HTTP requests,
latency summaries, client-side latency), one point a minute for 75 minutes, one workload burning CPU
at the end. Then:

1. `diagnose()` end to end (runbook + golden-signal queries capped at 5 and at 15, plus the scan's 11 range
   queries), p50 / p99 over `--runs` runs, for an alert in the 10-workload namespace (target p99 < 2 s);
2. the scan alone per namespace size: wall time of its range queries, and CPU time of the pure `scan()`
   over what they returned.

    .venv/bin/python bench/diagnose.py [--runs 40]

Not measured yet: "declared -> all hypothesis cards posted" (the cards are not wired to diagnostics yet).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.domain.neighbourhood import ScanScope, ScanSettings, scan, scan_queries  # noqa: E402
from bot.domain.runbook import Query  # noqa: E402
from bot.runbooks import load_paths  # noqa: E402
from bot.services.diagnostics import AlertView, DiagnosisSettings, IncidentView, diagnose  # noqa: E402
from integrations.prometheus_metrics import PrometheusMetrics  # noqa: E402
from tests.promdata import History  # noqa: E402
from tests.servers.prometheus import PrometheusServer  # noqa: E402

T0 = 1_767_960_000.0
SIZES = (10, 50, 200)


def history() -> str:
    h = History(T0 - 75 * 60, T0 + 60, step=60)
    for size in SIZES:
        ns = f"ns{size}"
        for i in range(size):
            name = f"svc{i:03d}"
            pod = f"{name}-6d5f8b7c9d-x2kpq"
            k8s = {"namespace": ns, "pod": pod, "container": name}
            hot = i == 3
            h.counter(
                "container_cpu_usage_seconds_total",
                k8s,
                lambda t, i=i, hot=hot: (0.9 if hot and t > T0 - 240 else 0.1) * (1 + 0.05 * math.sin(t / 97 + i)),
            )
            h.gauge("container_memory_working_set_bytes", k8s, lambda t, i=i: 2e8 * (1 + 0.02 * math.sin(t / 89 + i)))
            h.gauge("kube_pod_container_resource_limits", {**k8s, "resource": "cpu"}, lambda t: 1.0)
            h.gauge("kube_pod_container_resource_limits", {**k8s, "resource": "memory"}, lambda t: 1e9)
            h.gauge("kube_pod_container_status_restarts_total", k8s, lambda t: 0.0)
            h.gauge("kube_deployment_metadata_generation", {"namespace": ns, "deployment": name}, lambda t: 3.0)
            http = {"namespace": ns, "service": name}
            h.counter("http_requests_total", {**http, "code": "200"}, lambda t, i=i: 20 + math.sin(t / 61 + i))
            h.counter("http_requests_total", {**http, "code": "500"}, lambda t: 0.01)
            h.gauge(
                "http_request_duration_seconds",
                {**http, "quantile": "0.9"},
                lambda t, i=i, hot=hot: (0.5 if hot and t > T0 - 240 else 0.05) * (1 + 0.05 * math.sin(t / 71 + i)),
            )
            if i:
                h.gauge(
                    "http_client_request_duration_seconds",
                    {**http, "server_address": f"svc{i - 1:03d}", "quantile": "0.5"},
                    lambda t, i=i: 0.01 * (1 + 0.05 * math.sin(t / 67 + i)),
                )
    return h.openmetrics()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1)]


async def main(runs: int) -> None:
    began = time.monotonic()
    text = history()
    server = PrometheusServer(text).start()
    print(
        f"history: {text.count(chr(10)):,} lines, promtool backfill {server.backfill_seconds:.1f} s, "
        f"ready after {time.monotonic() - began:.1f} s"
    )
    metrics = PrometheusMetrics(server.url)
    runbooks = load_paths([ROOT / "runbooks"]).runbooks
    anchor = datetime.fromtimestamp(T0, UTC)
    alert = IncidentView(
        (AlertView({"alertname": "HighLatency", "service": "svc003", "namespace": "ns10"}, {}, anchor),)
    )
    try:
        for cap in (5, 15):
            settings = DiagnosisSettings(max_queries=cap, query_timeout=2.0, deadline=5.0)
            times, queries, top = [], 0, None
            for _ in range(runs):
                start = time.perf_counter()
                report = await diagnose(alert, metrics=metrics, runbooks=runbooks, settings=settings)
                times.append(time.perf_counter() - start)
                queries = len(report.queries)
                top = report.diagnosis.hypotheses[0]
            assert top is not None
            print(
                f"diagnose, {cap:>2} hypothesis queries + scan ({queries} queries in all): "
                f"p50 {statistics.median(times) * 1000:.0f} ms, p99 {pct(times, 99) * 1000:.0f} ms "
                f"(top: {top.service} {top.cause.value} {top.posterior:.2f})"
            )
        print("scan cost by namespace size (11 range queries, 65 min at 1 min):")
        settings = ScanSettings()
        for size in SIZES:
            scope = ScanScope("svc003", f"ns{size}")
            walls, cpus, series = [], [], 0
            for _ in range(max(5, runs // 4)):
                start = time.perf_counter()
                results = await asyncio.gather(
                    *(
                        metrics.query_range(
                            Query(promql=q.promql),
                            start=anchor - timedelta(seconds=settings.start_offset),
                            end=anchor,
                            step=settings.step_seconds,
                            time_limit=5,
                        )
                        for q in scan_queries(scope, settings)
                    )
                )
                walls.append(time.perf_counter() - start)
                named = {q.name: r for q, r in zip(scan_queries(scope, settings), results, strict=True)}
                series = sum(len(r) for r in results)
                cpu = time.process_time()
                result = scan(named, anchor=T0, scope=scope, settings=settings)
                cpus.append(time.process_time() - cpu)
            print(
                f"  {size:>3} workloads: {series:>4} series, queries p50 {statistics.median(walls) * 1000:.0f} ms, "
                f"scan() CPU p50 {statistics.median(cpus) * 1000:.1f} ms "
                f"(top: {result.changes[0].workload if result.changes else None})"
            )
    finally:
        metrics.close()
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    asyncio.run(main(parser.parse_args().runs))
