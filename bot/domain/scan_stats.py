"""The statistics of the neighbourhood scan: how one series moved at the incident's start against its own
baseline (pure).

The incident's start is the `recent` window ending at the anchor (the first alert's `startsAt`); the
baseline is the stretch before it. Robust statistics (the median and the MAD of the baseline) keep a spike or
an earlier incident in the baseline from hiding this one. A change counts when its robust z-score passes the
threshold; its size is the log2 ratio of the current value to the baseline median (so a CPU going from 1 to
20 millicores weighs more than a memory going from 30 to 40 MiB).
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.domain.metrics import Series
from bot.domain.scan_queries import ScanSettings, Signal

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
    expr: str = ""  # the query that graphs that series


def robust_change(
    series: Series, signal: Signal, anchor: float, settings: ScanSettings, workload: str, *, expr: str = ""
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
        label = describe_labels(series.labels)
        return SignalChange(workload, signal, expected, now, math.inf, effect, 3 * expected, 1, label, expr)
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
    return SignalChange(
        workload, signal, median, current, z, effect, threshold, direction, describe_labels(series.labels), expr
    )


def _spread(values: list[float], median: float, eps: float) -> float:
    """Robust spread: 1.4826 x MAD, at least 5 % of the median and the signal's epsilon."""
    mad = statistics.median(abs(v - median) for v in values)
    return max(MAD_SCALE * mad, REL_FLOOR * abs(median), eps)


def describe_labels(labels: Mapping[str, str]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__") + "}"


def nearest_quantile(series: Sequence[Series], wanted: float, key_of: Mapping[int, str]) -> list[int]:
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
