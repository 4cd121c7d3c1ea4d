"""The neighbourhood scan: which workload near the alerting service changed most when the incident started.

Candidates are the alerting service, its configured dependencies and every workload of the alert's namespace
found in the series (cAdvisor and kube-state-metrics by `namespace`/`pod`, the HTTP conventions by the service
label, client-side latency by the called peer). For each series, the scan compares the incident's start
(the `recent` window ending at the anchor, the first alert's `startsAt`) with the series' own baseline before
it, with robust statistics: the median and the MAD of the baseline, so that a spike or an earlier incident in
the baseline does not hide this one. A change counts when its robust z-score passes the threshold; its size
is the log2 ratio of the current value to the baseline median (so a CPU going from 1 to 20 millicores weighs
more than a memory going from 30 to 40 MiB).

Per workload, resource signals (CPU, memory, restarts) explain its own latency and errors: they decide the
cause when they changed. Latency that the callers see but the workload itself does not (client-side latency
into it rises, its server latency does not) is the network. A caller whose latency or errors are explained by
a callee that changed as much is discounted: the root cause is downstream.

Pure: the queries are built here, run elsewhere (`bot.services.diagnostics`), and their series come back here.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from bot.domain.causes import Cause
from bot.domain.hypotheses import Candidate, Evidence, Verdict
from bot.domain.metrics import Series


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


RESOURCE_SIGNALS = frozenset({Signal.CPU, Signal.MEMORY, Signal.RESTARTS})
SCORED_SIGNALS = (
    Signal.CPU,
    Signal.MEMORY,
    Signal.RESTARTS,
    Signal.ERRORS,
    Signal.LATENCY,
    Signal.TRAFFIC,
    Signal.CALLER_LATENCY,
)
# The smallest change worth a look, per signal (also the offset of the log ratio, so tiny baselines do not
# make huge ratios): 1 millicore, 1 MiB, one restart, 1 % errors, 1 ms, 0.1 request/s.
EPSILON: dict[Signal, float] = {
    Signal.CPU: 0.001,
    Signal.MEMORY: 1024.0 * 1024.0,
    Signal.RESTARTS: 1.0,
    Signal.ERRORS: 0.01,
    Signal.LATENCY: 0.001,
    Signal.TRAFFIC: 0.1,
    Signal.CALLER_LATENCY: 0.001,
}
REL_FLOOR = 0.05  # the baseline's spread is at least 5 % of its median
MAD_SCALE = 1.4826  # MAD -> standard deviation for normal data
CAUSE_OF: dict[Signal, Cause] = {
    Signal.CPU: Cause.CPU_SATURATION,
    Signal.MEMORY: Cause.MEMORY_PRESSURE,
    Signal.RESTARTS: Cause.CRASHLOOP,
    Signal.ERRORS: Cause.ERROR_SPIKE,
    Signal.LATENCY: Cause.LATENCY_REGRESSION,
    Signal.TRAFFIC: Cause.TRAFFIC_SURGE,
    Signal.CALLER_LATENCY: Cause.NETWORK_DELAY,
}
WHAT: dict[Signal, str] = {
    Signal.CPU: "CPU (cores)",
    Signal.MEMORY: "memory working set (bytes)",
    Signal.RESTARTS: "container restarts",
    Signal.ERRORS: "error ratio",
    Signal.LATENCY: "latency (s)",
    Signal.TRAFFIC: "requests/s",
    Signal.CALLER_LATENCY: "latency seen by callers (s)",
}
# Kubernetes' generated name suffixes use this alphabet (no vowels, no 0, 1, 3: k8s.io/apimachinery util/rand).
_K8S = "[bcdfghjklmnpqrstvwxz2456789]"
_DEPLOYMENT_POD = re.compile(rf"^(.+)-{_K8S}{{6,10}}-{_K8S}{{5}}$")
_STATEFUL_POD = re.compile(r"^(.+)-\d+$")
_DAEMON_POD = re.compile(rf"^(.+)-{_K8S}{{5}}$")
_SAFE = re.compile(r"^[A-Za-z0-9_.:/@-]{1,253}$")


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


# ---- the queries --------------------------------------------------------------------------------------


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
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.service_label):
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
    """One range query of the scan: which signal it feeds, and by which label its series name a workload."""

    name: str
    signal: Signal
    promql: str
    key: str  # "pod" (cAdvisor / kube-state), "service" (the service label), "peer" (client-side peer)


def scan_queries(scope: ScanScope, settings: ScanSettings = ScanSettings()) -> list[ScanQuery]:
    """The range queries of a scan (a fixed number, whatever the size of the namespace)."""
    sl, peer, w, q = scope.service_label, settings.peer_label, settings.rate_window, settings.latency_quantile
    names = "|".join(_regex_literal(s) for s in scope.services)
    k8s = [f'pod=~"({names})-.+"']
    http = [f'{sl}=~"{names}"']
    if scope.namespace:
        k8s.insert(0, f'namespace="{scope.namespace}"')
        http.insert(0, f'namespace="{scope.namespace}"')

    def union(template: str, selectors: list[str]) -> str:
        return " or ".join(template.replace("SEL", s) for s in selectors)

    by_pod = "namespace, pod"
    return [
        ScanQuery(
            "cpu",
            Signal.CPU,
            union(
                f"sum by ({by_pod}) (rate(container_cpu_usage_seconds_total"
                f'{{SEL, container!="", container!="POD"}}[{w}]))',
                k8s,
            ),
            "pod",
        ),
        ScanQuery(
            "cpu_limit",
            Signal.CPU_LIMIT,
            union(f'sum by ({by_pod}) (kube_pod_container_resource_limits{{SEL, resource="cpu"}})', k8s),
            "pod",
        ),
        ScanQuery(
            "memory",
            Signal.MEMORY,
            union(
                f'sum by ({by_pod}) (container_memory_working_set_bytes{{SEL, container!="", container!="POD"}})', k8s
            ),
            "pod",
        ),
        ScanQuery(
            "memory_limit",
            Signal.MEMORY_LIMIT,
            union(f'sum by ({by_pod}) (kube_pod_container_resource_limits{{SEL, resource="memory"}})', k8s),
            "pod",
        ),
        ScanQuery(
            "restarts",
            Signal.RESTARTS,
            union(f"sum by ({by_pod}) (kube_pod_container_status_restarts_total{{SEL}})", k8s),
            "pod",
        ),
        ScanQuery(
            "errors",
            Signal.ERRORS,
            union(
                f'(sum by ({sl}) (rate(http_requests_total{{SEL, code=~"5.."}}[{w}])) or sum by ({sl}) '
                f"(rate(http_requests_total{{SEL}}[{w}])) * 0) / sum by ({sl}) (rate(http_requests_total{{SEL}}[{w}]))",
                http,
            ),
            "service",
        ),
        ScanQuery(
            "traffic", Signal.TRAFFIC, union(f"sum by ({sl}) (rate(http_requests_total{{SEL}}[{w}]))", http), "service"
        ),
        ScanQuery(
            "latency_histogram",
            Signal.LATENCY,
            union(
                f"histogram_quantile({q}, sum by ({sl}, le) (rate(http_request_duration_seconds_bucket{{SEL}}[{w}])))",
                http,
            ),
            "service",
        ),
        ScanQuery(
            "latency_summary",
            Signal.LATENCY,
            union(f'max by ({sl}, quantile) (http_request_duration_seconds{{SEL, quantile!=""}})', http),
            "service",
        ),
        ScanQuery(
            "caller_latency_histogram",
            Signal.CALLER_LATENCY,
            union(
                f"histogram_quantile({q}, sum by ({sl}, {peer}, le) "
                f"(rate(http_client_request_duration_seconds_bucket{{SEL}}[{w}])))",
                http,
            ),
            "peer",
        ),
        ScanQuery(
            "caller_latency_summary",
            Signal.CALLER_LATENCY,
            union(f'max by ({sl}, {peer}, quantile) (http_client_request_duration_seconds{{SEL, quantile!=""}})', http),
            "peer",
        ),
    ]


# ---- the statistics -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignalChange:
    """How one signal of one workload moved at the incident's start against its own baseline."""

    workload: str
    signal: Signal
    baseline: float  # median of the baseline's extremes over windows as long as the held part
    current: float  # the most extreme value of the held part (the last `hold_seconds` before the anchor)
    z: float  # robust z-score (median / MAD)
    effect: float  # |log2| of current over baseline (offset by the signal's epsilon)
    threshold: float  # the value the current one had to pass (median + z_threshold x spread)
    direction: int  # +1 up, -1 down
    series: str  # which series (labels) it came from


@dataclass(frozen=True, slots=True)
class WorkloadChange:
    """A workload that changed at the incident's start: its score, the cause its signals imply, and why."""

    workload: str
    score: float
    cause: Cause
    signals: tuple[SignalChange, ...]
    explained_by: str | None = None
    utilization: Mapping[Signal, float] = field(default_factory=dict)
    resource_change: bool = False  # a change of its own resources (CPU, restarts, memory near its limit)


@dataclass(frozen=True, slots=True)
class ScanResult:
    """Every workload seen, the ones that changed (largest score first), and notes (what could not be judged)."""

    changes: tuple[WorkloadChange, ...]
    workloads: frozenset[str]
    edges: frozenset[tuple[str, str]]
    notes: tuple[str, ...] = ()


def robust_change(
    series: Series, signal: Signal, anchor: float, settings: ScanSettings, workload: str
) -> SignalChange | None:
    """The change of one series at the anchor against its baseline; None when not significant or unjudgeable."""
    recent_start = anchor - settings.recent_seconds
    baseline = series.values_between(recent_start - settings.baseline_seconds, recent_start - 1e-6)
    recent = series.values_between(recent_start, anchor)
    if len(baseline) < settings.min_baseline_points or not recent:
        return None
    eps = EPSILON[signal]
    if signal is Signal.RESTARTS:  # a counter: compare the increase now with the increases of the baseline
        steps = [b - a for a, b in itertools.pairwise(baseline) if b >= a]
        expected = (statistics.fmean(steps) if steps else 0.0) * max(1, len(recent))
        now = max(0.0, recent[-1] - baseline[-1])
        if now < 2 or now <= 3 * expected:
            return None
        effect = math.log2((now + eps) / (expected + eps))
        label = _describe(series.labels)
        return SignalChange(workload, signal, expected, now, math.inf, effect, 3 * expected, 1, label)
    # The recent window's extremes are compared with the extremes of baseline windows of the same length, so
    # a series that spikes now and then (a batch job, a bursty caller) is judged against its usual spikes.
    tail = series.values_between(anchor - settings.hold_seconds, anchor) or recent[-1:]
    width = len(tail)
    highs = [max(baseline[i : i + width]) for i in range(len(baseline) - width + 1)]
    lows = [min(baseline[i : i + width]) for i in range(len(baseline) - width + 1)]
    high, low = max(tail), min(tail)
    median_high, median_low = statistics.median(highs), statistics.median(lows)
    spread_high = max(
        MAD_SCALE * statistics.median(abs(v - median_high) for v in highs), REL_FLOOR * abs(median_high), eps
    )
    spread_low = max(MAD_SCALE * statistics.median(abs(v - median_low) for v in lows), REL_FLOOR * abs(median_low), eps)
    z_up, z_down = (high - median_high) / spread_high, (median_low - low) / spread_low
    if z_up >= z_down:
        z, current, direction, median, spread = z_up, high, 1, median_high, spread_high
    else:
        z, current, direction, median, spread = z_down, low, -1, median_low, spread_low
    if direction < 0 and signal is not Signal.TRAFFIC:
        return None  # less CPU, fewer errors, faster answers: not what breaks things
    if z < settings.z_threshold:
        return None
    effect = abs(math.log2((max(current, 0.0) + eps) / (max(median, 0.0) + eps)))
    if effect <= 0:
        return None
    threshold = median + direction * settings.z_threshold * spread
    return SignalChange(workload, signal, median, current, z, effect, threshold, direction, _describe(series.labels))


def _spread(values: list[float], median: float, eps: float) -> float:
    """Robust spread: 1.4826 x MAD, at least 5 % of the median and the signal's epsilon."""
    mad = statistics.median(abs(v - median) for v in values)
    return max(MAD_SCALE * mad, REL_FLOOR * abs(median), eps)


def _describe(labels: Mapping[str, str]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__") + "}"


def _nearest_quantile(series: Sequence[Series], wanted: float, key_of: Mapping[int, str]) -> list[int]:
    """Indexes of the summary series to keep: per key, the quantile nearest the wanted one."""
    best: dict[str, tuple[float, list[int]]] = {}
    for i, s in enumerate(series):
        try:
            distance = abs(float(s.labels.get("quantile", "nan")) - wanted)
        except ValueError:
            continue
        if math.isnan(distance):
            continue
        k = key_of[i]
        if k not in best or distance < best[k][0]:
            best[k] = (distance, [i])
        elif distance == best[k][0]:
            best[k][1].append(i)
    return sorted(i for _, idx in best.values() for i in idx)


def scan(
    results: Mapping[str, Sequence[Series]],
    *,
    anchor: float,
    scope: ScanScope,
    settings: ScanSettings = ScanSettings(),
    aliases: Mapping[str, str] | None = None,
) -> ScanResult:
    """Score every workload found in the results of `scan_queries` (by query name) at the anchor time."""
    aliases = aliases or {}
    queries = {q.name: q for q in scan_queries(scope, settings)}
    sl, peer = scope.service_label, settings.peer_label
    notes: list[str] = []
    workloads: set[str] = set(scope.services)
    edges: set[tuple[str, str]] = set()
    per: dict[str, dict[Signal, SignalChange]] = {}
    levels: dict[str, dict[Signal, float]] = {}

    def name_of(query: ScanQuery, labels: Mapping[str, str]) -> str | None:
        if query.key == "pod":
            pod = labels.get("pod")
            raw = workload_of(pod) if pod else None
        elif query.key == "peer":
            address = labels.get(peer)
            raw = peer_name(address) if address else None
        else:
            raw = labels.get(sl) or None
        return aliases.get(raw, raw) if raw else None

    for qname, series_list in results.items():
        query = queries.get(qname)
        if query is None:
            continue
        keys = {i: name_of(query, s.labels) for i, s in enumerate(series_list)}
        if qname.endswith("_summary"):
            keep = _nearest_quantile(series_list, settings.latency_quantile, {i: k or "" for i, k in keys.items()})
        else:
            keep = list(range(len(series_list)))
        for i in keep:
            s, workload = series_list[i], keys[i]
            if workload is None:
                continue
            workloads.add(workload)
            if query.key == "peer" and s.labels.get(sl):
                caller = aliases.get(s.labels[sl], s.labels[sl])
                if caller != workload:
                    edges.add((caller, workload))
                    workloads.add(caller)
            if query.signal in (Signal.CPU_LIMIT, Signal.MEMORY_LIMIT):
                value = s.last()
                if value is not None and value > 0:
                    levels.setdefault(workload, {})[query.signal] = value
                continue
            if query.signal in (Signal.CPU, Signal.MEMORY):
                value = s.last()
                if value is not None:
                    peak = max(s.values_between(anchor - settings.recent_seconds, anchor), default=value)
                    cur = levels.setdefault(workload, {})
                    cur[query.signal] = max(cur.get(query.signal, 0.0), peak)
            change = robust_change(s, query.signal, anchor, settings, workload)
            if change is None:
                continue
            known = per.setdefault(workload, {})
            if query.signal not in known or change.effect > known[query.signal].effect:
                known[query.signal] = change
    if not per:
        notes.append("the scan found no workload that changed at the incident's start (or no baseline to compare)")
    found = [_workload_change(w, signals, levels.get(w, {})) for w, signals in per.items()]
    changes = _explain_away([c for c in found if c is not None], edges)
    changes.sort(key=lambda c: (-c.score, c.workload))
    return ScanResult(tuple(changes), frozenset(workloads), frozenset(edges), tuple(notes))


def _utilization(levels: Mapping[Signal, float]) -> dict[Signal, float]:
    out: dict[Signal, float] = {}
    for used, limit in ((Signal.CPU, Signal.CPU_LIMIT), (Signal.MEMORY, Signal.MEMORY_LIMIT)):
        if used in levels and limit in levels:
            out[used] = levels[used] / levels[limit]
    return out


def _weight(change: SignalChange, utilization: Mapping[Signal, float]) -> float:
    """How much a change says about harm: a resource at its limit says more, a rise far below it less,
    traffic (usually a symptom) less."""
    u = utilization.get(change.signal)
    if change.signal is Signal.CPU and u is not None:
        return 1.5 if u >= 0.8 else 1.0
    if change.signal is Signal.MEMORY and u is not None:
        return 1.5 if u >= 0.85 else 0.5
    if change.signal is Signal.TRAFFIC:
        return 0.5
    return 1.0


def _harmful(change: SignalChange, utilization: Mapping[Signal, float]) -> bool:
    """A resource change that can hurt the workload by itself: CPU, restarts, memory near its limit (or with
    no known limit). A memory rise far below its limit explains nothing."""
    if change.signal is Signal.MEMORY:
        u = utilization.get(Signal.MEMORY)
        return u is None or u >= 0.85
    return change.signal in RESOURCE_SIGNALS


def _workload_change(
    workload: str, signals: dict[Signal, SignalChange], levels: Mapping[Signal, float]
) -> WorkloadChange | None:
    caller = signals.get(Signal.CALLER_LATENCY)
    own = signals.get(Signal.LATENCY)
    if caller is not None and own is not None and own.effect >= 0.5 * caller.effect:
        signals = {k: v for k, v in signals.items() if k is not Signal.CALLER_LATENCY}  # its own slowness
    if not signals:
        return None
    utilization = _utilization(levels)
    weighted = {s: c.effect * _weight(c, utilization) for s, c in signals.items()}
    resources = {s: v for s, v in weighted.items() if _harmful(signals[s], utilization)}
    pool = resources or weighted
    winner = max(pool, key=lambda s: (pool[s], s.value))
    cause = CAUSE_OF[winner]
    change = signals[winner]
    if winner is Signal.TRAFFIC and change.direction < 0:
        if change.current > 0.1 * change.baseline:
            return None  # a drop that is not an outage: a symptom of something upstream
        cause = Cause.DEPENDENCY_FAILURE
    ordered = tuple(sorted(signals.values(), key=lambda c: -weighted[c.signal]))
    harmful = any(_harmful(c, utilization) for c in signals.values())
    return WorkloadChange(workload, max(weighted.values()), cause, ordered, None, utilization, harmful)


def _explain_away(changes: list[WorkloadChange], edges: Iterable[tuple[str, str]]) -> list[WorkloadChange]:
    """Halve the score of a caller whose own change is only latency, errors or traffic when one of its
    callees changed at least half as much (the callee is closer to the root cause)."""
    score = {c.workload: c.score for c in changes}
    callees: dict[str, set[str]] = {}
    for a, b in edges:
        callees.setdefault(a, set()).add(b)
    out = []
    for c in changes:
        symptom_only = not c.resource_change
        culprit = max(
            (b for b in callees.get(c.workload, ()) if score.get(b, 0.0) >= 0.5 * c.score),
            key=lambda b: score[b],
            default=None,
        )
        if symptom_only and culprit is not None:
            out.append(replace(c, score=c.score * 0.5, explained_by=culprit))
        else:
            out.append(c)
    return out


# ---- hypotheses from the scan -------------------------------------------------------------------------

SCAN_PRIOR = 0.15
LR_CAP = 20.0


def likelihood_ratio(change: SignalChange) -> float:
    """The evidence a change gives: its ratio to the baseline (2**effect), between 1.5 and 20."""
    return min(LR_CAP, max(1.5, math.pow(2.0, change.effect)))


def scan_evidence(change: SignalChange) -> Evidence:
    """One significant change as supporting evidence (observed value against the threshold it passed)."""
    direction = "rose" if change.direction > 0 else "fell"
    detail = (
        f"{WHAT[change.signal]} of {change.workload} {direction} to {change.current:.4g} "
        f"(baseline median {change.baseline:.4g}, robust z {change.z:.1f})"
    )
    return Evidence(
        f"scan:{change.signal.value} {change.series}",
        Verdict.SUPPORTS,
        change.current,
        change.threshold,
        likelihood_ratio(change),
        detail,
        "scan",
    )


TITLES: dict[Cause, str] = {
    Cause.CPU_SATURATION: "{w} is short of CPU",
    Cause.MEMORY_PRESSURE: "{w} is under memory pressure",
    Cause.CRASHLOOP: "{w} keeps restarting",
    Cause.ERROR_SPIKE: "{w} fails its requests",
    Cause.LATENCY_REGRESSION: "{w} got slower",
    Cause.TRAFFIC_SURGE: "{w} gets a surge of requests",
    Cause.NETWORK_DELAY: "Calls to {w} are delayed in the network",
    Cause.DEPENDENCY_FAILURE: "{w} stopped answering",
}


def scan_candidates(result: ScanResult, *, limit: int = 3, evidence_per_candidate: int = 2) -> list[Candidate]:
    """The workloads that changed most, as hypotheses that blame them for the cause their signals imply."""
    out = []
    for change in result.changes[:limit]:
        lead = [s for s in change.signals if CAUSE_OF[s.signal] is change.cause][:1]  # the signal behind the cause
        rest = [s for s in change.signals if s not in lead]
        evidence = tuple(scan_evidence(s) for s in (lead + rest)[:evidence_per_candidate])
        title = TITLES.get(change.cause, "{w} changed at the incident's start").format(w=change.workload)
        if change.explained_by:
            title += f" (or its dependency {change.explained_by})"
        out.append(Candidate(title, change.workload, change.cause, SCAN_PRIOR, evidence, None, "scan"))
    return out
