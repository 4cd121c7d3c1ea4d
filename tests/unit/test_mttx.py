"""MTTD / MTTA / MTTI / MTTR from an event log (pure): the definitions, reopen, a rejected root cause."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.events import Event, EventKind
from bot.domain.mttx import human, milestones

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def log(*entries: tuple[float, EventKind, dict]) -> list[Event]:
    """Entries at `minutes` after T0."""
    return [
        Event(i, 1, "c", i, T0 + timedelta(minutes=m), "U0ALICE", kind.value, kind.value, payload)
        for i, (m, kind, payload) in enumerate(entries, start=1)
    ]


def test_figures_from_a_scripted_log_match_hand_computed_values():
    started = (T0 - timedelta(minutes=6, seconds=30)).isoformat()
    events = log(
        (0, EventKind.DECLARED, {"severity": "SEV2", "started_at": started}),
        (4.25, EventKind.ACKNOWLEDGED, {}),
        (9, EventKind.ACKNOWLEDGED, {}),  # a later one does not count
        (10, EventKind.HYPOTHESIS_CONFIRMED, {"hypothesis": "h-a"}),
        (12, EventKind.HYPOTHESIS_REJECTED, {"hypothesis": "h-a"}),  # not the root cause after all
        (20.5, EventKind.HYPOTHESIS_CONFIRMED, {"hypothesis": "h-b"}),
        (47 + 5 / 60, EventKind.RESOLVED, {}),
    )
    m = milestones(events)
    assert m.mttd == timedelta(minutes=6, seconds=30)
    assert m.mtta == timedelta(minutes=4, seconds=15)
    assert m.mtti == timedelta(minutes=20, seconds=30)
    assert m.mttr == timedelta(minutes=47, seconds=5)
    assert m.impact == timedelta(minutes=53, seconds=35)
    assert [human(x) for x in (m.mttd, m.mtta, m.mtti, m.mttr)] == ["6m 30s", "4m 15s", "20m 30s", "47m 05s"]


def test_order_of_the_log_not_of_the_list():
    events = log((0, EventKind.DECLARED, {}), (3, EventKind.ACKNOWLEDGED, {}), (8, EventKind.RESOLVED, {}))
    assert milestones(reversed(events)).mtta == timedelta(minutes=3)


def test_by_hand_no_alert_no_ack_no_root_cause_is_na():
    m = milestones(log((0, EventKind.DECLARED, {}), (30, EventKind.RESOLVED, {})))
    assert (m.mttd, m.mtta, m.mtti) == (None, None, None)
    assert m.mttr == timedelta(minutes=30) and m.impact == timedelta(minutes=30)
    assert human(m.mtti) == "n/a"


def test_the_alert_rows_start_is_used_only_when_the_declaration_has_none():
    rows_start = T0 - timedelta(minutes=2)
    assert milestones(log((0, EventKind.DECLARED, {})), first_alert_at=rows_start).mttd == timedelta(minutes=2)
    logged = (T0 - timedelta(minutes=5)).isoformat()
    events = log((0, EventKind.DECLARED, {"started_at": logged}))
    assert milestones(events, first_alert_at=rows_start).mttd == timedelta(minutes=5)


def test_reopened_is_not_resolved_and_the_last_resolve_counts():
    entries = [
        (0, EventKind.DECLARED, {}),
        (10, EventKind.RESOLVED, {}),
        (15, EventKind.STATUS_CHANGED, {"old": "resolved", "new": "acknowledged"}),
    ]
    assert milestones(log(*entries)).mttr is None
    assert milestones(log(*entries, (90, EventKind.RESOLVED, {}))).mttr == timedelta(minutes=90)


def test_a_start_ahead_of_the_clock_counts_as_zero_and_a_bad_one_as_unknown():
    ahead = (T0 + timedelta(minutes=1)).isoformat()
    assert milestones(log((0, EventKind.DECLARED, {"started_at": ahead}))).mttd == timedelta(0)
    assert milestones(log((0, EventKind.DECLARED, {"started_at": "yesterday"}))).mttd is None
    assert milestones(log((0, EventKind.DECLARED, {"started_at": "2026-11-23T08:00:00"}))).mttd is None  # naive


def test_human_durations():
    assert human(timedelta(seconds=45)) == "45s"
    assert human(timedelta(hours=1, minutes=2, seconds=5)) == "1h 02m 05s"
    assert human(timedelta(days=2, hours=3)) == "2d 03h 00m"
