"""The outbound throttles: a sliding-window rate limit and a circuit breaker, on an injected time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.throttle import TRIAL_WAIT, BreakerState, CircuitBreaker, SlidingWindow

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_window_allows_limit_uses_per_period_then_frees_the_oldest():
    w = SlidingWindow(20, timedelta(hours=1))
    assert all(w.try_acquire(T0 + timedelta(minutes=i)) for i in range(20))
    now = T0 + timedelta(minutes=30)
    assert not w.try_acquire(now)
    assert w.wait(now) == 30 * 60, "the first use leaves the window at T0 + 1 h"
    assert w.try_acquire(T0 + timedelta(hours=1))
    assert not w.try_acquire(T0 + timedelta(hours=1))


@given(st.lists(st.integers(min_value=0, max_value=7200), max_size=200), st.integers(min_value=1, max_value=10))
def test_window_never_allows_more_than_limit_in_any_period(offsets, limit):
    w = SlidingWindow(limit, timedelta(seconds=60))
    taken = [T0 + timedelta(seconds=s) for s in sorted(offsets) if w.try_acquire(T0 + timedelta(seconds=s))]
    for t in taken:
        assert sum(1 for u in taken if t <= u < t + timedelta(seconds=60)) <= limit


def test_window_refuses_a_zero_limit():
    with pytest.raises(ValueError, match="at least 1"):
        SlidingWindow(0, timedelta(minutes=1))


def test_breaker_opens_after_three_consecutive_failures_and_half_opens_after_fifteen_minutes():
    b = CircuitBreaker(failures=3, cool_down=timedelta(minutes=15))
    b.failed(T0)
    b.failed(T0)
    b.succeeded()  # not consecutive
    b.failed(T0)
    b.failed(T0)
    assert b.allow(T0) and b.state(T0) is BreakerState.CLOSED
    b.failed(T0)
    assert b.state(T0) is BreakerState.OPEN
    assert not b.allow(T0 + timedelta(minutes=14, seconds=59))
    assert b.retry_in(T0 + timedelta(minutes=10)) == 5 * 60
    later = T0 + timedelta(minutes=15)
    assert b.state(later) is BreakerState.HALF_OPEN
    assert b.allow(later), "one trial"
    assert not b.allow(later), "only one trial at a time"
    assert b.retry_in(later) == TRIAL_WAIT.total_seconds()
    b.succeeded()
    assert b.state(later) is BreakerState.CLOSED and b.allow(later)


def test_a_failed_trial_opens_the_breaker_for_another_cool_down():
    b = CircuitBreaker(failures=3, cool_down=timedelta(minutes=15))
    for _ in range(3):
        b.failed(T0)
    trial = T0 + timedelta(minutes=15)
    assert b.allow(trial)
    b.failed(trial)
    assert b.state(trial) is BreakerState.OPEN
    assert not b.allow(trial + timedelta(minutes=14))
    assert b.allow(trial + timedelta(minutes=15))


def test_a_trial_that_never_reports_back_frees_the_way_after_a_while():
    b = CircuitBreaker(failures=1, cool_down=timedelta(minutes=15))
    b.failed(T0)
    trial = T0 + timedelta(minutes=15)
    assert b.allow(trial)
    assert not b.allow(trial + TRIAL_WAIT - timedelta(seconds=1))
    assert b.allow(trial + TRIAL_WAIT)
