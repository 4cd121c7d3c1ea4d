"""On-call rotations: weekly and daily hand-offs at a local time across DST, overrides, before the start."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.domain.oncall import OnCall, Override, Rotation

PARIS = "Europe/Paris"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def weekly() -> Rotation:
    # Monday 2026-01-05, hand-off at 09:00 Paris time.
    return Rotation("primary", ("U0A", "U0B", "U0C"), date(2026, 1, 5), 7, time(9, 0), PARIS)


@pytest.mark.parametrize(
    ("when", "user"),
    [
        ("2026-01-05T09:00:00+01:00", "U0A"),
        ("2026-01-12T08:59:59+01:00", "U0A"),
        ("2026-01-12T09:00:00+01:00", "U0B"),
        ("2026-01-19T09:00:00+01:00", "U0C"),
        ("2026-01-26T09:00:00+01:00", "U0A"),
        ("2026-01-05T08:59:00+01:00", "U0C"),  # before the start: the turn before U0A's
        # Across the switch to summer time (29 March 2026): the hand-off stays at 09:00 local.
        ("2026-03-30T08:59:00+02:00", "U0C"),
        ("2026-03-30T09:00:00+02:00", "U0A"),  # week 12: U0A again
    ],
)
def test_weekly_rotation_hands_off_at_the_local_time(when, user):
    assert weekly().shift(at(when)).user == user


def test_shift_says_until_when_and_who_is_next():
    s = weekly().shift(at("2026-01-07T12:00:00+01:00"))
    assert (s.user, s.next_user) == ("U0A", "U0B")
    assert s.until == at("2026-01-12T09:00:00+01:00")


def test_daily_rotation():
    r = Rotation("daily", ("U0A", "U0B"), date(2026, 1, 1), 1, time(18, 30), "America/New_York")
    assert r.shift(at("2026-01-01T18:30:00-05:00")).user == "U0A"
    assert r.shift(at("2026-01-02T18:29:00-05:00")).user == "U0A"
    assert r.shift(at("2026-01-02T18:30:00-05:00")).user == "U0B"


def test_an_override_wins_while_it_lasts():
    holiday = Override("U0Z", at("2026-01-07T00:00:00+01:00"), at("2026-01-08T00:00:00+01:00"))
    r = Rotation("primary", ("U0A", "U0B"), date(2026, 1, 5), 7, time(9, 0), PARIS, (holiday,))
    assert r.shift(at("2026-01-07T10:00:00+01:00")).user == "U0Z"
    assert r.shift(at("2026-01-07T10:00:00+01:00")).override
    assert r.shift(at("2026-01-08T00:00:00+01:00")).user == "U0A"


def test_on_call_now_is_the_always_on_call_users_and_each_rotation_once():
    oncall = OnCall(("U0A", "U0X"), "S0GROUP", (weekly(),))
    assert oncall.now(at("2026-01-06T10:00:00+01:00")) == ("U0A", "U0X")
    assert oncall.now(at("2026-01-13T10:00:00+01:00")) == ("U0A", "U0X", "U0B")


def test_a_rotation_needs_users_and_a_known_zone():
    with pytest.raises(ValueError, match="no users"):
        Rotation("empty", (), date(2026, 1, 1))
    with pytest.raises(Exception):  # noqa: B017 - zoneinfo's own error
        Rotation("x", ("U0A",), date(2026, 1, 1), tz="Mars/Olympus")
