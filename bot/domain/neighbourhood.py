"""The neighbourhood scan: which workload near the alerting service changed most when the incident started.

Candidates are the alerting service, its configured dependencies and every workload of the alert's namespace
found in the series of the scan's range queries (`bot.domain.scan_queries`). Each series is compared with its
own baseline at the incident's start (`bot.domain.scan_stats`).

Per workload, resource signals (CPU, memory, restarts) explain its own latency and errors: they decide the
cause when they changed. Latency that the callers see but the workload itself does not (client-side latency
into it rises, its server latency does not) is the network. A caller whose latency or errors are explained by
a callee that changed as much is discounted: the root cause is downstream.

Pure: the queries are built here, run elsewhere (`bot.services.diagnostics`), and their series come back here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from bot.domain.causes import Cause
from bot.domain.hypotheses import Candidate, Evidence, Verdict
from bot.domain.metrics import Series
from bot.domain.scan_queries import ScanQuery, ScanScope, ScanSettings, Signal, peer_name, scan_queries, workload_of
from bot.domain.scan_stats import SignalChange, nearest_quantile, robust_change

__all__ = [
    "CAUSE_OF",
    "ScanQuery",
    "ScanResult",
    "ScanScope",
    "ScanSettings",
    "Signal",
    "SignalChange",
    "WorkloadChange",
    "peer_name",
    "robust_change",
    "scan",
    "scan_candidates",
    "scan_queries",
    "workload_of",
]

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


class _Seen:
    """What a scan gathers from the series: workloads, call edges, significant changes, resource levels."""

    def __init__(self, scope: ScanScope, settings: ScanSettings, aliases: Mapping[str, str], anchor: float) -> None:
        self.scope, self.settings, self.aliases, self.anchor = scope, settings, aliases, anchor
        self.workloads: set[str] = set(scope.services)
        self.edges: set[tuple[str, str]] = set()
        self.per: dict[str, dict[Signal, SignalChange]] = {}
        self.levels: dict[str, dict[Signal, float]] = {}

    def name_of(self, query: ScanQuery, labels: Mapping[str, str]) -> str | None:
        """The workload a series is about (by pod, service label or called peer), aliases applied."""
        if query.key == "pod":
            pod = labels.get("pod")
            raw = workload_of(pod) if pod else None
        elif query.key == "peer":
            address = labels.get(self.settings.peer_label)
            raw = peer_name(address) if address else None
        else:
            raw = labels.get(self.scope.service_label) or None
        return self.aliases.get(raw, raw) if raw else None

    def add(self, query: ScanQuery, series_list: Sequence[Series]) -> None:
        """Take in the series of one query."""
        keys = {i: self.name_of(query, s.labels) for i, s in enumerate(series_list)}
        if query.name.endswith("_summary"):
            keep = nearest_quantile(series_list, self.settings.latency_quantile, {i: k or "" for i, k in keys.items()})
        else:
            keep = list(range(len(series_list)))
        for i in keep:
            workload = keys[i]
            if workload is not None:
                self._one(query, series_list[i], workload)

    def _one(self, query: ScanQuery, s: Series, workload: str) -> None:
        sl, anchor, settings = self.scope.service_label, self.anchor, self.settings
        self.workloads.add(workload)
        if query.key == "peer" and s.labels.get(sl):
            caller = self.aliases.get(s.labels[sl], s.labels[sl])
            if caller != workload:
                self.edges.add((caller, workload))
                self.workloads.add(caller)
        if query.signal in (Signal.CPU_LIMIT, Signal.MEMORY_LIMIT):
            value = s.last()
            if value is not None and value > 0:
                self.levels.setdefault(workload, {})[query.signal] = value
            return
        if query.signal in (Signal.CPU, Signal.MEMORY):
            value = s.last()
            if value is not None:
                peak = max(s.values_between(anchor - settings.recent_seconds, anchor), default=value)
                cur = self.levels.setdefault(workload, {})
                cur[query.signal] = max(cur.get(query.signal, 0.0), peak)
        change = robust_change(s, query.signal, anchor, settings, workload, expr=query.graph(s.labels))
        if change is None:
            return
        known = self.per.setdefault(workload, {})
        if query.signal not in known or change.effect > known[query.signal].effect:
            known[query.signal] = change


def scan(
    results: Mapping[str, Sequence[Series]],
    *,
    anchor: float,
    scope: ScanScope,
    settings: ScanSettings = ScanSettings(),
    aliases: Mapping[str, str] | None = None,
) -> ScanResult:
    """Score every workload found in the results of `scan_queries` (by query name) at the anchor time."""
    queries = {q.name: q for q in scan_queries(scope, settings)}
    seen = _Seen(scope, settings, aliases or {}, anchor)
    for qname, series_list in results.items():
        query = queries.get(qname)
        if query is not None:
            seen.add(query, series_list)
    notes: list[str] = []
    if not seen.per:
        notes.append("the scan found no workload that changed at the incident's start (or no baseline to compare)")
    found = [_workload_change(w, signals, seen.levels.get(w, {})) for w, signals in seen.per.items()]
    changes = _explain_away([c for c in found if c is not None], seen.edges)
    changes.sort(key=lambda c: (-c.score, c.workload))
    return ScanResult(tuple(changes), frozenset(seen.workloads), frozenset(seen.edges), tuple(notes))


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
        change.expr or None,
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
