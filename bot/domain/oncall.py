"""On-call: who is on call at a given moment, from simple rotations (daily or weekly hand-offs at a local
time in a time zone), their overrides, and the people always on call.

A rotation hands off every `period_days` at `handoff` local time; the shift that begins at the hand-off on
`start` is `users[0]`'s, the next one `users[1]`'s, and so on round the list. Shifts are counted in local
calendar days, so a hand-off stays at 09:00 local time across daylight-saving changes. An override (a
holiday swap) puts someone else on call between two instants.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Override:
    """`user` is on call instead of the rotation from `starts_at` (included) to `ends_at` (excluded)."""

    user: str
    starts_at: datetime
    ends_at: datetime

    def covers(self, at: datetime) -> bool:
        """True while the override is in force."""
        return self.starts_at <= at < self.ends_at


@dataclass(frozen=True, slots=True)
class Shift:
    """Who holds a rotation at a moment, until when, and who comes next."""

    rotation: str
    user: str
    until: datetime
    next_user: str
    override: bool = False


@dataclass(frozen=True, slots=True)
class Rotation:
    """A rotation of users, handing off every `period_days` days at `handoff` local time in `tz`."""

    name: str
    users: tuple[str, ...]
    start: date
    period_days: int = 7
    handoff: time = time(9, 0)
    tz: str = "UTC"
    overrides: tuple[Override, ...] = ()

    def __post_init__(self) -> None:
        if not self.users:
            raise ValueError(f"rotation {self.name!r} has no users")
        if self.period_days < 1:
            raise ValueError(f"rotation {self.name!r}: a shift lasts at least one day")
        ZoneInfo(self.tz)  # raises for an unknown zone

    def _handoff_at(self, day: date) -> datetime:
        """The instant of the hand-off on a local day (a hand-off in a DST gap moves forward, fold=0)."""
        local = datetime.combine(day, self.handoff, tzinfo=ZoneInfo(self.tz))
        return local.astimezone(UTC)

    def shift_index(self, at: datetime) -> int:
        """The number of the shift running at `at` (0: the one starting at `start`; negative before it)."""
        local = at.astimezone(ZoneInfo(self.tz))
        days = (local.date() - self.start).days
        if at < self._handoff_at(local.date()):
            days -= 1  # before today's hand-off: still yesterday's shift day
        return days // self.period_days

    def shift(self, at: datetime) -> Shift:
        """Who is on call for this rotation at `at` (an override wins), until the next hand-off."""
        index = self.shift_index(at)
        end = self._handoff_at(self.start + timedelta(days=(index + 1) * self.period_days))
        user = self.users[index % len(self.users)]
        next_user = self.users[(index + 1) % len(self.users)]
        for o in self.overrides:
            if o.covers(at):
                return Shift(self.name, o.user, o.ends_at, user, override=True)
        return Shift(self.name, user, end, next_user)


@dataclass(frozen=True, slots=True)
class OnCall:
    """Everyone on call: the users always on call, the rotations' current holders, and the Slack user group
    mentioned with them."""

    users: tuple[str, ...] = ()
    group: str | None = None
    rotations: tuple[Rotation, ...] = ()

    def shifts(self, at: datetime) -> list[Shift]:
        """Each rotation's current shift."""
        return [r.shift(at) for r in self.rotations]

    def now(self, at: datetime) -> tuple[str, ...]:
        """The user ids on call at `at`: the always-on-call users, then each rotation's holder, once each."""
        return tuple(dict.fromkeys([*self.users, *(s.user for s in self.shifts(at))]))


def rotation_days(every: str) -> int:
    """`daily` -> 1, `weekly` -> 7."""
    days = {"daily": 1, "weekly": 7}
    if every not in days:
        raise ValueError(f"unknown rotation period {every!r} (daily or weekly)")
    return days[every]


def merged(*lists: Sequence[str]) -> tuple[str, ...]:
    """The ids of several lists, in order, each once."""
    return tuple(dict.fromkeys(x for lst in lists for x in lst))
