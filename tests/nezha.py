"""The Nezha Online Boutique day (tests/data/nezha_ob_2022_08_22) as the series users' exporters give.

Per pod (namespace `boutique`): cAdvisor `container_cpu_usage_seconds_total` (a counter integrated from the
per-minute millicores) and `container_memory_working_set_bytes`; kube-state-metrics
`kube_pod_container_resource_limits` (cpu, memory: usage over its usage-of-limit ratio); the HTTP conventions
`http_requests_total{service, code}` (the front end's 5xx from its success rate; other pods' success rate was
not measured) and a summary `http_request_duration_seconds{service, quantile="0.9"}` (server side); and the
caller's view of each call, `http_client_request_duration_seconds{service=<caller>, server_address=<callee>,
quantile="0.5"}` (OpenTelemetry's client duration; NaN when no call was made that minute).
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bot.domain.causes import Cause
from bot.domain.neighbourhood import workload_of
from tests.promdata import History

DATA = Path(__file__).resolve().parent / "data" / "nezha_ob_2022_08_22"
NAMESPACE = "boutique"
ENTRY = "frontend"
# What each injected fault type is, in the contract's causes.
EXPECTED_CAUSE = {
    "cpu_contention": Cause.CPU_SATURATION,
    "cpu_consumed": Cause.CPU_SATURATION,
    "network_delay": Cause.NETWORK_DELAY,
    "return": Cause.ERROR_SPIKE,
    "exception": Cause.ERROR_SPIKE,
}


@dataclass(frozen=True)
class Fault:
    """One injected fault: when, where (service), what."""

    at: float
    service: str
    kind: str

    @property
    def cause(self) -> Cause:
        return EXPECTED_CAUSE[self.kind]


def _rows(name: str) -> list[dict[str, str]]:
    with gzip.open(DATA / name, "rt", newline="") as f:
        return list(csv.DictReader(f))


def faults() -> list[Fault]:
    raw = json.loads((DATA / "faults.json").read_text())
    return [Fault(float(f["inject_timestamp"]), workload_of(f["inject_pod"]), f["inject_type"]) for f in raw]


def front_success() -> dict[float, float]:
    """The entry SLI: time -> success ratio (0..1)."""
    return {float(r["time"]): float(r["SuccessRate(%)"]) / 100 for r in _rows("front.csv.gz")}


def _value(text: str) -> float:
    return float(text) if text else math.nan


def history() -> History:
    pods: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in _rows("pods.csv.gz"):
        pods[row["pod"]].append(row)
    times = sorted({float(r["time"]) for rows in pods.values() for r in rows})
    h = History(times[0], times[-1], step=60)
    success = front_success()
    for pod, rows in pods.items():
        rows.sort(key=lambda r: float(r["time"]))
        service = workload_of(pod)
        k8s = {"namespace": NAMESPACE, "pod": pod, "container": service}
        cpu, total, last = [], 0.0, None
        for r in rows:
            t = float(r["time"])
            if last is not None:
                total += _value(r["CpuUsage(m)"]) / 1000 * (t - last)
            cpu.append((t, total))
            last = t
        h.points("container_cpu_usage_seconds_total", k8s, cpu)
        h.points(
            "container_memory_working_set_bytes",
            k8s,
            [(float(r["time"]), _value(r["MemoryUsage(Mi)"]) * 1048576) for r in rows],
        )
        for resource, used, ratio, unit in (
            ("cpu", "CpuUsage(m)", "CpuUsageRate(%)", 1 / 1000),
            ("memory", "MemoryUsage(Mi)", "MemoryUsageRate(%)", 1048576),
        ):
            limits = [_value(r[used]) / _value(r[ratio]) * 100 * unit for r in rows if _value(r[ratio]) > 0]
            limit = statistics.median(limits)
            h.points(
                "kube_pod_container_resource_limits",
                {**k8s, "resource": resource},
                [(float(r["time"]), limit) for r in rows],
            )
        http = {"namespace": NAMESPACE, "service": service}
        ok, failed, count_ok, count_failed, last = [], [], 0.0, 0.0, None
        for r in rows:
            t = float(r["time"])
            if last is not None:
                n = _value(r["PodWorkload(Ops)"]) * (t - last)
                s = success.get(min(success, key=lambda x: abs(x - t)), 1.0) if service == ENTRY else 1.0
                count_ok += n * s
                count_failed += n * (1 - s)
            ok.append((t, count_ok))
            failed.append((t, count_failed))
            last = t
        h.points("http_requests_total", {**http, "code": "200"}, ok)
        h.points("http_requests_total", {**http, "code": "500"}, failed)
        h.points(
            "http_request_duration_seconds",
            {**http, "quantile": "0.9"},
            [(float(r["time"]), _value(r["PodServerLatencyP90(s)"])) for r in rows],
        )
    edges = _rows("client_p50.csv.gz")
    for column in edges[0]:
        if column == "time":
            continue
        caller, callee = column.split("_", 1)
        labels = {"namespace": NAMESPACE, "service": caller, "server_address": callee, "quantile": "0.5"}
        h.points("http_client_request_duration_seconds", labels, [(float(r["time"]), _value(r[column])) for r in edges])
    return h
