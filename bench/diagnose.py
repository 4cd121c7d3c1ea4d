"""How long a diagnosis takes against a real Prometheus, and what the neighbourhood scan costs as a namespace grows.

Starts Debian's `prometheus` over a promtool-backfilled history (tests/servers/prometheus.py): three namespaces
of 10, 50 and 200 workloads (cAdvisor CPU/memory, kube-state limits/restarts/generation, HTTP requests,
latency summaries, client-side latency), one point a minute for 75 minutes, one workload burning CPU
at the end. Then:

1. `diagnose()` end to end (runbook + golden-signal queries capped at 5 and at 15, plus the scan's 11 range
   queries), p50 / p99 over `--runs` runs, for an alert in the 10-workload namespace (target p99 < 2 s);
2. declared -> all hypothesis cards posted: the real bot (uvicorn, slack_sdk) against the Slack emulator
   and this Prometheus, one new incident per run from an Alertmanager webhook, timed from the webhook's 202
   to the last hypothesis card in the war room (the room, its triage card and the diagnosis included; the
   charts come after the cards, and while the next incident runs), with the hypothesis queries capped at 5
   and at 15, after two warm-up incidents;
3. the scan alone per namespace size: wall time of its range queries, and CPU time of the pure `scan()`
   over what they returned.

    .venv/bin/python bench/diagnose.py [--runs 40]
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

WARMUP = 2
CARDS_CONFIG = """
diagnosis:
  max_queries: {cap}
  query_timeout_seconds: 2
  deadline_seconds: 5
"""

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


async def cards_posted(prometheus_url: str, runs: int, tmp: Path) -> None:
    """Declared -> all hypothesis cards posted, through the real bot and the Slack emulator."""
    import json

    import httpx

    from bot.config import parse_config
    from integrations.local_workspace import EmulatorServer, Workspace
    from tests.alert_builders import am_alert, am_body
    from tests.e2e.harness import ALERT_TOKEN, bot_settings, start_bot

    starts = datetime.fromtimestamp(T0, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    headers = {"Authorization": f"Bearer {ALERT_TOKEN}", "Content-Type": "application/json"}
    for cap in (5, 15):
        ws = Workspace(token="xoxb-test-token", signing_secret="test-signing-secret", rate_limit_scale=None)
        emulator = EmulatorServer(ws)
        await emulator.start()
        db = tmp / f"bench-cards-{cap}.db"
        settings = bot_settings(f"sqlite+aiosqlite:///{db}", emulator.api_url, PROMETHEUS_URL=prometheus_url)
        bot = await start_bot(settings, ws, parse_config(CARDS_CONFIG.format(cap=cap)))
        times, counts = [], []
        try:
            async with httpx.AsyncClient(base_url=bot.url, timeout=30) as http:
                for i in range(runs + WARMUP):
                    labels = {"alertname": f"HighLatency{cap}x{i}", "service": f"svc{i % 10:03d}", "namespace": "ns10"}
                    body = am_body({**am_alert(severity="critical", **labels), "startsAt": starts})
                    began = time.perf_counter()
                    r = await http.post("/webhooks/alertmanager", content=json.dumps(body), headers=headers)
                    ref = r.json()["incidents"][0]
                    n = await _all_cards(ws, http, ref)
                    if i >= WARMUP:  # the first incidents also pay for connections and the chart fonts
                        times.append(time.perf_counter() - began)
                        counts.append(n)
        finally:
            await bot.stop()
            await emulator.stop()
        print(
            f"declared -> all hypothesis cards posted, {cap:>2} hypothesis queries + scan: "
            f"p50 {statistics.median(times) * 1000:.0f} ms, p99 {pct(times, 99) * 1000:.0f} ms "
            f"({statistics.median(counts):.0f} cards per incident, {runs} incidents)"
        )


async def _all_cards(ws: object, http: object, ref: str) -> int:
    """Wait until the incident's room shows as many hypothesis cards as its diagnosis kept; how many. (The
    room is found through the API, then only its messages are looked at: the bench's own polling stays cheap
    however many rooms the workspace holds.)"""
    deadline = time.monotonic() + 30
    channel = None
    while time.monotonic() < deadline:
        if channel is None:
            channel = (await http.get(f"/api/v1/incidents/{ref}")).json().get("channel_id")  # type: ignore[attr-defined]
        if channel is not None:
            cards = [m for m in ws.messages(channel) if _first_block(m).startswith("hypothesis:")]  # type: ignore[attr-defined]
            if len(cards) >= 3:
                kept = (await http.get(f"/api/v1/incidents/{ref}/hypotheses")).json()["hypotheses"]  # type: ignore[attr-defined]
                if len([h for h in kept if h["rank"]]) == len(cards):
                    return len(cards)
        await asyncio.sleep(0.01)
    raise TimeoutError(f"the cards of {ref} were not all posted within 30 s")


def _first_block(message: object) -> str:
    blocks = getattr(message, "blocks", None) or [{}]
    return str(blocks[0].get("block_id", ""))


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
        import tempfile

        with tempfile.TemporaryDirectory(prefix="warroom-bench-") as tmp:
            await cards_posted(server.url, runs, Path(tmp))
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
