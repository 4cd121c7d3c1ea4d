"""The neighbourhood scan: robust changes at the incident's start, causes, network vs own latency, explaining away."""

from __future__ import annotations

import math
import random

import pytest

from bot.domain.causes import Cause
from bot.domain.hypotheses import Verdict
from bot.domain.metrics import Series
from bot.domain.neighbourhood import (
    ScanScope,
    ScanSettings,
    Signal,
    peer_name,
    scan,
    scan_candidates,
    scan_queries,
    workload_of,
)

T0 = 1_700_000_000.0  # the anchor: the first alert's startsAt
STEP = 60.0
SCOPE = ScanScope("frontend", "shop")


def series(labels: dict[str, str], value, *, start: float = T0 - 80 * 60, end: float = T0 + 20 * 60) -> Series:
    """One point a minute; `value(t)` gives the value at time t."""
    points = []
    t = start
    while t <= end:
        points.append((t, float(value(t))))
        t += STEP
    return Series(labels, tuple(points))


def noisy(level: float, seed: int, jitter: float = 0.05):
    rng = random.Random(seed)
    cache: dict[float, float] = {}

    def value(t: float) -> float:
        if t not in cache:
            cache[t] = level * (1 + rng.uniform(-jitter, jitter))
        return cache[t]

    return value


def step_up(base, factor: float, at: float = T0 - 90):
    return lambda t: base(t) * (factor if t >= at else 1)


def pod(name: str) -> dict[str, str]:
    return {"namespace": "shop", "pod": name}


def quiet_world() -> dict[str, list[Series]]:
    """Three workloads with steady CPU, memory and latency."""
    return {
        "cpu": [
            series(pod("frontend-7d9c8b6f5-x2kpq"), noisy(0.2, 1)),
            series(pod("cart-5f6585d649-fnmft"), noisy(0.05, 2)),
            series(pod("redis-0"), noisy(0.02, 3)),
        ],
        "memory": [
            series(pod("frontend-7d9c8b6f5-x2kpq"), noisy(200e6, 4)),
            series(pod("cart-5f6585d649-fnmft"), noisy(80e6, 5)),
        ],
        "latency_summary": [
            series({"service": "frontend", "quantile": "0.9"}, noisy(0.3, 6)),
            series({"service": "cart", "quantile": "0.9"}, noisy(0.01, 7)),
        ],
    }


def test_workload_and_peer_names() -> None:
    assert workload_of("cartservice-579f59597d-wc2lz") == "cartservice"
    assert workload_of("postgres-0") == "postgres"
    assert workload_of("node-exporter-x7k2p") == "node-exporter"
    assert workload_of("standalone") == "standalone"
    assert peer_name("cart.shop.svc.cluster.local:7070") == "cart"
    assert peer_name("http://payments:8080/charge") == "payments"
    assert peer_name("10.0.0.7:5432") == "10.0.0.7"


def test_a_quiet_namespace_blames_nobody() -> None:
    result = scan(quiet_world(), anchor=T0, scope=SCOPE)
    assert result.changes == ()
    assert {"frontend", "cart", "redis"} <= result.workloads


def test_cpu_of_a_dependency_is_blamed_with_cpu_saturation() -> None:
    world = quiet_world()
    world["cpu"][1] = series(pod("cart-5f6585d649-fnmft"), step_up(noisy(0.05, 2), 8))
    world["latency_summary"][0] = series({"service": "frontend", "quantile": "0.9"}, step_up(noisy(0.3, 6), 1.6))
    result = scan(world, anchor=T0, scope=SCOPE)
    top = result.changes[0]
    assert (top.workload, top.cause) == ("cart", Cause.CPU_SATURATION)
    assert top.signals[0].current > top.signals[0].threshold > top.signals[0].baseline
    (candidate, *_) = scan_candidates(result)
    assert (candidate.service, candidate.cause) == ("cart", Cause.CPU_SATURATION)
    assert candidate.evidence[0].verdict is Verdict.SUPPORTS and candidate.evidence[0].likelihood_ratio > 1


def test_one_spike_in_the_baseline_does_not_hide_the_fault() -> None:
    world = quiet_world()
    base = step_up(noisy(0.05, 2), 8)
    world["cpu"][1] = series(
        pod("cart-5f6585d649-fnmft"), lambda t: base(t) * (20 if abs(t - (T0 - 40 * 60)) < 1 else 1)
    )
    result = scan(world, anchor=T0, scope=SCOPE)
    assert result.changes[0].workload == "cart"


def test_the_scan_is_anchored_at_the_incident_not_now() -> None:
    world = quiet_world()
    # cart burns CPU only ten minutes AFTER the incident started: not the cause
    world["cpu"][1] = series(pod("cart-5f6585d649-fnmft"), step_up(noisy(0.05, 2), 8, at=T0 + 600))
    assert scan(world, anchor=T0, scope=SCOPE).changes == ()
    # and seen from then, it is
    assert scan(world, anchor=T0 + 660, scope=SCOPE).changes[0].workload == "cart"


def test_callers_seeing_latency_the_callee_does_not_is_the_network() -> None:
    world = quiet_world()
    world["caller_latency_summary"] = [
        series({"service": "frontend", "server_address": "cart:7070", "quantile": "0.5"}, step_up(noisy(0.004, 8), 50)),
    ]
    result = scan(world, anchor=T0, scope=SCOPE)
    assert (result.changes[0].workload, result.changes[0].cause) == ("cart", Cause.NETWORK_DELAY)
    assert ("frontend", "cart") in result.edges
    # when cart itself got as slow, it is its own latency, not the network
    world["latency_summary"][1] = series({"service": "cart", "quantile": "0.9"}, step_up(noisy(0.01, 7), 50))
    result = scan(world, anchor=T0, scope=SCOPE)
    assert (result.changes[0].workload, result.changes[0].cause) == ("cart", Cause.LATENCY_REGRESSION)


def test_a_caller_whose_latency_a_callee_explains_is_discounted() -> None:
    world = quiet_world()
    world["latency_summary"] = [
        series({"service": "frontend", "quantile": "0.9"}, step_up(noisy(0.3, 6), 6)),
        series({"service": "cart", "quantile": "0.9"}, step_up(noisy(0.01, 7), 5)),
    ]
    world["caller_latency_summary"] = [
        series({"service": "frontend", "server_address": "cart", "quantile": "0.5"}, step_up(noisy(0.012, 9), 5)),
    ]
    result = scan(world, anchor=T0, scope=SCOPE)
    ranked = [c.workload for c in result.changes]
    assert ranked[:2] == ["cart", "frontend"]
    assert result.changes[1].explained_by == "cart"


def test_memory_far_below_its_limit_loses_to_cpu_at_its_limit() -> None:
    world = quiet_world()
    world["cpu"][1] = series(pod("cart-5f6585d649-fnmft"), step_up(noisy(0.05, 2), 4))
    world["memory"][1] = series(pod("cart-5f6585d649-fnmft"), step_up(noisy(80e6, 5), 6))
    world["cpu_limit"] = [series(pod("cart-5f6585d649-fnmft"), lambda t: 0.2)]
    world["memory_limit"] = [series(pod("cart-5f6585d649-fnmft"), lambda t: 4e9)]
    top = scan(world, anchor=T0, scope=SCOPE).changes[0]
    assert (top.workload, top.cause) == ("cart", Cause.CPU_SATURATION)
    assert top.utilization[Signal.CPU] == pytest.approx(1.0, rel=0.1)


def test_errors_and_restarts_imply_their_causes() -> None:
    world = quiet_world()
    world["errors"] = [series({"service": "frontend"}, lambda t: 0.2 if t >= T0 - 90 else 0.0)]
    result = scan(world, anchor=T0, scope=SCOPE)
    assert (result.changes[0].workload, result.changes[0].cause) == ("frontend", Cause.ERROR_SPIKE)
    world = quiet_world()
    world["restarts"] = [series(pod("redis-0"), lambda t: 3.0 if t < T0 - 120 else 3.0 + (t - (T0 - 120)) / 30)]
    result = scan(world, anchor=T0, scope=SCOPE)
    assert (result.changes[0].workload, result.changes[0].cause) == ("redis", Cause.CRASHLOOP)


def test_traffic_that_stops_is_a_dependency_failure_and_a_small_drop_is_nothing() -> None:
    world = quiet_world()
    world["traffic"] = [series({"service": "cart"}, lambda t: 0.0 if t >= T0 - 150 else 40.0 + math.sin(t))]
    result = scan(world, anchor=T0, scope=SCOPE)
    assert (result.changes[0].workload, result.changes[0].cause) == ("cart", Cause.DEPENDENCY_FAILURE)
    world["traffic"] = [series({"service": "cart"}, lambda t: 30.0 if t >= T0 - 150 else 40.0 + math.sin(t))]
    assert scan(world, anchor=T0, scope=SCOPE).changes == ()


def test_no_baseline_is_a_note_not_a_guess() -> None:
    world = {"cpu": [series(pod("cart-5f6585d649-fnmft"), lambda t: 1.0, start=T0 - 240)]}
    result = scan(world, anchor=T0, scope=SCOPE)
    assert result.changes == ()
    assert result.notes and "no baseline" in result.notes[0]


def test_the_summary_quantile_nearest_the_wanted_one_is_used() -> None:
    world = {
        "latency_summary": [
            series({"service": "cart", "quantile": "0.99"}, step_up(noisy(0.01, 7), 50)),
            series({"service": "cart", "quantile": "0.9"}, noisy(0.01, 8)),
        ]
    }
    assert scan(world, anchor=T0, scope=SCOPE).changes == ()
    assert (
        scan(world, anchor=T0, scope=SCOPE, settings=ScanSettings(latency_quantile=0.99)).changes[0].workload == "cart"
    )


def test_the_queries_do_not_grow_with_the_namespace_and_refuse_unsafe_names() -> None:
    small = scan_queries(ScanScope("a", "ns"))
    large = scan_queries(ScanScope("a", "ns", tuple(f"dep{i}" for i in range(200))))
    assert len(small) == len(large) == 11
    assert all('namespace="ns"' in q.promql for q in small)
    with pytest.raises(ValueError):
        ScanScope('x"} or vector(1) or {a="')
    with pytest.raises(ValueError):
        ScanScope("x", service_label="bad-label")
    assert "payments\\\\.api" in scan_queries(ScanScope("payments.api"))[0].promql


def test_aliases_map_workloads_to_services() -> None:
    world = quiet_world()
    world["cpu"][1] = series(pod("cart-5f6585d649-fnmft"), step_up(noisy(0.05, 2), 8))
    result = scan(world, anchor=T0, scope=SCOPE, aliases={"cart": "cartservice"})
    assert result.changes[0].workload == "cartservice"
