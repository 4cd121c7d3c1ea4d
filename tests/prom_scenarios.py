"""Five classic incidents in one deterministic 120-minute Prometheus history (30 s resolution), each in its own
namespace: an error spike after a deploy (s1/web), a latency regression (s2/api), CPU saturation (s3/search),
a disk filling up (node-1:9100 /var) and a failing dependency (s5/store calls payments). Every first alert
fires at T0; `promtool` backfills the text (tests/servers/prometheus.py)."""

from __future__ import annotations

import math

from tests.promdata import History

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
