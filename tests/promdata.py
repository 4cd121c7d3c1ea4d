"""Deterministic metric history for tests, written as OpenMetrics for `promtool tsdb create-blocks-from openmetrics`.

Series are built from functions of time; counters from a rate function (integrated step by step). Every
family is typed `unknown` (PromQL does not care, and OpenMetrics then puts no rule on suffixes).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping

Fn = Callable[[float], float]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _fmt(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(float(v))


class History:
    """Collects samples per series; `openmetrics()` renders them, families contiguous, time ascending."""

    def __init__(self, start: float, end: float, step: float = 30.0) -> None:
        self.start, self.end, self.step = start, end, step
        self._series: dict[str, dict[tuple[tuple[str, str], ...], list[tuple[float, float]]]] = defaultdict(dict)

    def times(self) -> list[float]:
        n = int((self.end - self.start) // self.step)
        return [self.start + i * self.step for i in range(n + 1)]

    def gauge(self, name: str, labels: Mapping[str, str], fn: Fn) -> None:
        """A gauge sampled every step."""
        key = tuple(sorted(labels.items()))
        self._series[name][key] = [(t, fn(t)) for t in self.times()]

    def counter(self, name: str, labels: Mapping[str, str], rate: Fn, initial: float = 0.0) -> None:
        """A counter that grows by rate(t) per second."""
        key = tuple(sorted(labels.items()))
        total, points, last = initial, [], None
        for t in self.times():
            if last is not None:
                total += max(0.0, rate(t)) * (t - last)
            points.append((t, total))
            last = t
        self._series[name][key] = points

    def points(self, name: str, labels: Mapping[str, str], points: list[tuple[float, float]]) -> None:
        """Explicit (time, value) points (time ascending)."""
        self._series[name][tuple(sorted(labels.items()))] = sorted(points)

    def histogram(
        self, name: str, labels: Mapping[str, str], rate: Fn, quantile_90: Fn, buckets: tuple[float, ...]
    ) -> None:
        """`<name>_bucket/_count/_sum` counters whose p90 (by histogram_quantile) is about quantile_90(t):
        90 % of requests just under it, 10 % at twice it."""
        cumulative = {le: 0.0 for le in (*buckets, math.inf)}
        count = total = 0.0
        series: dict[str, list[tuple[float, float]]] = defaultdict(list)
        last = None
        for t in self.times():
            if last is not None:
                n = max(0.0, rate(t)) * (t - last)
                q = quantile_90(t)
                for le in cumulative:
                    cumulative[le] += 0.9 * n * (q * 0.95 <= le) + 0.1 * n * (2 * q <= le)
                count += n
                total += n * q
            for le, v in cumulative.items():
                series["+Inf" if math.isinf(le) else repr(le)].append((t, v))
            series["_count"].append((t, count))
            series["_sum"].append((t, total))
            last = t
        for le, pts in series.items():
            if le in ("_count", "_sum"):
                self._series[name + le][tuple(sorted(labels.items()))] = pts
            else:
                self._series[name + "_bucket"][tuple(sorted({**labels, "le": le}.items()))] = pts

    def openmetrics(self) -> str:
        lines = []
        for name in sorted(self._series):
            lines.append(f"# TYPE {name} unknown")
            for key, pts in self._series[name].items():
                labels = ",".join(f'{k}="{_escape(v)}"' for k, v in key)
                head = f"{name}{{{labels}}}" if labels else name
                lines.extend(f"{head} {_fmt(v)} {t:.3f}" for t, v in pts)
        lines.append("# EOF")
        return "\n".join(lines) + "\n"
