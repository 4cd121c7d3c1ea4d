"""What the neighbourhood scan asks: its signals, its scope, its settings, and its range queries (pure).

The queries are a fixed set whatever the size of the namespace: cAdvisor and kube-state-metrics by
`namespace`/`pod`, the HTTP conventions by the service label, client-side latency by the called peer. Each
query is a template with `SEL` where its selector goes, so the same template also gives the query that graphs
one series it returned (`ScanQuery.graph`): the expression a card links to and charts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class Signal(StrEnum):
    """What the scan looks at for each workload."""

    CPU = "cpu"
    MEMORY = "memory"
    RESTARTS = "restarts"
    ERRORS = "errors"
    LATENCY = "latency"
    TRAFFIC = "traffic"
    CALLER_LATENCY = "caller_latency"  # latency of the calls into the workload, as its callers see it
    CPU_LIMIT = "cpu_limit"  # context only: utilization of the limit
    MEMORY_LIMIT = "memory_limit"


# Kubernetes' generated name suffixes use this alphabet (no vowels, no 0, 1, 3: k8s.io/apimachinery util/rand).
_K8S = "[bcdfghjklmnpqrstvwxz2456789]"
_DEPLOYMENT_POD = re.compile(rf"^(.+)-{_K8S}{{6,10}}-{_K8S}{{5}}$")
_STATEFUL_POD = re.compile(r"^(.+)-\d+\Z")
_DAEMON_POD = re.compile(rf"^(.+)-{_K8S}{{5}}$")
_SAFE = re.compile(r"^[A-Za-z0-9_.:/@-]{1,253}\Z")
_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")


def workload_of(pod: str) -> str:
    """The workload a pod belongs to by Kubernetes naming: deployment-<rs hash>-<id>, statefulset-<n>, ds-<id>."""
    for pattern in (_DEPLOYMENT_POD, _STATEFUL_POD, _DAEMON_POD):
        match = pattern.match(pod)
        if match:
            return match.group(1)
    return pod


def peer_name(address: str) -> str:
    """The service a client-side peer address names: `cart.shop.svc.cluster.local:7070` -> `cart`."""
    host = address.split("://", 1)[-1].split("/", 1)[0]
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return host.split(".", 1)[0] if not host.replace(".", "").isdigit() else host


def _regex_literal(value: str) -> str:
    """A safe value as a PromQL regex literal (dots escaped; the value pattern allows no other metacharacter
    that matters, and no quote or backslash)."""
    return value.replace(".", "\\\\.")


def promql_string(value: str) -> str:
    """A label value as a double-quoted PromQL string literal (backslashes, quotes and newlines escaped)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


@dataclass(frozen=True, slots=True)
class ScanScope:
    """Where to look: the alert's namespace (if any), the alerting service, its configured dependencies."""

    service: str
    namespace: str | None = None
    dependencies: tuple[str, ...] = ()
    service_label: str = "service"

    def __post_init__(self) -> None:
        for value in (self.service, *(self.dependencies), *([self.namespace] if self.namespace else [])):
            if not _SAFE.match(value):
                raise ValueError(f"refusing an unsafe name in a query: {value[:40]!r}")
        if not _LABEL_NAME.match(self.service_label):
            raise ValueError(f"not a label name: {self.service_label!r}")

    @property
    def services(self) -> tuple[str, ...]:
        """The alerting service and its dependencies."""
        return tuple(dict.fromkeys((self.service, *self.dependencies)))


@dataclass(frozen=True, slots=True)
class ScanSettings:
    """Windows, step and thresholds of the scan."""

    baseline_seconds: float = 3600.0
    recent_seconds: float = 300.0
    step_seconds: float = 60.0
    rate_window: str = "2m"
    latency_quantile: float = 0.9
    hold_seconds: float = 120.0  # the change must still show this close to the anchor
    z_threshold: float = 3.0
    min_baseline_points: int = 8
    peer_label: str = "server_address"
    max_candidates: int = 3

    @property
    def start_offset(self) -> float:
        """How far before the anchor the range queries start."""
        return self.baseline_seconds + self.recent_seconds


@dataclass(frozen=True, slots=True)
class ScanQuery:
    """One range query of the scan: which signal it feeds, and by which label its series name a workload.

    `template` holds `SEL` where a selector goes; `promql` is the template over the scan's selectors.
    """

    name: str
    signal: Signal
    promql: str
    key: str  # "pod" (cAdvisor / kube-state), "service" (the service label), "peer" (client-side peer)
    template: str = ""
    namespace: str | None = None

    def graph(self, labels: Mapping[str, str]) -> str:
        """The query narrowed to one series it returned (by that series' labels): what a card graphs."""
        if not self.template:
            return self.promql
        parts = [f"namespace={promql_string(self.namespace)}"] if self.namespace and "namespace" not in labels else []
        parts += [f"{k}={promql_string(v)}" for k, v in sorted(labels.items()) if _LABEL_NAME.match(k)]
        return self.template.replace("SEL", ", ".join(parts) or '__name__!=""')


def _templates(sl: str, peer: str, w: str, q: float) -> list[tuple[str, Signal, str, str]]:
    """(name, signal, template, key) of every scan query; `SEL` is where the selector goes."""
    by_pod = "namespace, pod"
    own = 'container!="", container!="POD"'
    rate = f"rate(http_requests_total{{SEL}}[{w}])"
    return [
        ("cpu", Signal.CPU, f"sum by ({by_pod}) (rate(container_cpu_usage_seconds_total{{SEL, {own}}}[{w}]))", "pod"),
        ("cpu_limit", Signal.CPU_LIMIT,
         f'sum by ({by_pod}) (kube_pod_container_resource_limits{{SEL, resource="cpu"}})', "pod"),
        ("memory", Signal.MEMORY, f"sum by ({by_pod}) (container_memory_working_set_bytes{{SEL, {own}}})", "pod"),
        ("memory_limit", Signal.MEMORY_LIMIT,
         f'sum by ({by_pod}) (kube_pod_container_resource_limits{{SEL, resource="memory"}})', "pod"),
        ("restarts", Signal.RESTARTS, f"sum by ({by_pod}) (kube_pod_container_status_restarts_total{{SEL}})", "pod"),
        ("errors", Signal.ERRORS,
         f'(sum by ({sl}) (rate(http_requests_total{{SEL, code=~"5.."}}[{w}])) or sum by ({sl}) ({rate}) * 0)'
         f" / sum by ({sl}) ({rate})", "service"),
        ("traffic", Signal.TRAFFIC, f"sum by ({sl}) ({rate})", "service"),
        ("latency_histogram", Signal.LATENCY,
         f"histogram_quantile({q}, sum by ({sl}, le) (rate(http_request_duration_seconds_bucket{{SEL}}[{w}])))",
         "service"),
        ("latency_summary", Signal.LATENCY,
         f'max by ({sl}, quantile) (http_request_duration_seconds{{SEL, quantile!=""}})', "service"),
        ("caller_latency_histogram", Signal.CALLER_LATENCY,
         f"histogram_quantile({q}, sum by ({sl}, {peer}, le) "
         f"(rate(http_client_request_duration_seconds_bucket{{SEL}}[{w}])))", "peer"),
        ("caller_latency_summary", Signal.CALLER_LATENCY,
         f'max by ({sl}, {peer}, quantile) (http_client_request_duration_seconds{{SEL, quantile!=""}})', "peer"),
    ]  # fmt: skip


def scan_queries(scope: ScanScope, settings: ScanSettings = ScanSettings()) -> list[ScanQuery]:
    """The range queries of a scan (a fixed number, whatever the size of the namespace)."""
    sl = scope.service_label
    names = "|".join(_regex_literal(s) for s in scope.services)
    selectors = {"pod": [f'pod=~"({names})-.+"'], "service": [f'{sl}=~"{names}"']}
    selectors["peer"] = selectors["service"]
    if scope.namespace:
        for key in ("pod", "service"):
            selectors[key].insert(0, f'namespace="{scope.namespace}"')
    out = []
    for name, signal, template, key in _templates(
        sl, settings.peer_label, settings.rate_window, settings.latency_quantile
    ):
        promql = " or ".join(template.replace("SEL", s) for s in selectors[key])
        out.append(ScanQuery(name, signal, promql, key, template, scope.namespace))
    return out
