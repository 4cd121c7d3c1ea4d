"""Time series as the core sees them, whatever store they came from (Prometheus, CloudWatch)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Series:
    """One labelled series: (unix seconds, value) points in time order."""

    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...] = field(default_factory=tuple)

    def values_between(self, start: float, end: float) -> list[float]:
        """The finite values with start <= t <= end."""
        return [v for t, v in self.points if start <= t <= end and math.isfinite(v)]

    def last(self) -> float | None:
        """The newest finite value, if any."""
        for _, v in reversed(self.points):
            if math.isfinite(v):
                return v
        return None


def reduce_values(values: list[float], how: str) -> float | None:
    """max / min / sum / avg of finite values; None when there are none."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return None
    if how == "max":
        return max(finite)
    if how == "min":
        return min(finite)
    if how == "sum":
        return math.fsum(finite)
    if how == "avg":
        return math.fsum(finite) / len(finite)
    raise ValueError(f"unknown reduction {how!r}")
