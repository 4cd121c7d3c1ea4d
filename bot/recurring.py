"""Recurring timers: a cron expression read in a time zone (croniter), for the daily digest and reminders.

A recurring timer is one row of the timers table whose payload holds its schedule. When an occurrence is
over (fired, or given up after its retries), the scheduler computes the next due time from the cron
expression, after the moment it fired, and makes the same row pending again in the same statement that
records the occurrence: the claim of issue 9 makes each occurrence fire once across replicas, and a
restart finds the next one in the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter


@dataclass(frozen=True, slots=True)
class Recurrence:
    """When a recurring timer fires: a 5-field cron expression, read in an IANA time zone."""

    cron: str
    tz: str = "UTC"

    def __post_init__(self) -> None:
        if not croniter.is_valid(self.cron) or len(self.cron.split()) != 5:
            raise ValueError(f"{self.cron!r} is not a cron expression of 5 fields (minute hour day month weekday)")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.tz!r} (an IANA name, e.g. Europe/Paris)") from None

    def next_after(self, at: datetime) -> datetime:
        """The first occurrence strictly after `at`, in UTC (daylight saving time handled in the zone)."""
        local = at.astimezone(ZoneInfo(self.tz))
        nxt: datetime = croniter(self.cron, local).get_next(datetime)
        return nxt.astimezone(UTC)

    def payload(self) -> dict[str, Any]:
        """How the schedule is stored on its timer row."""
        return {"cron": self.cron, "tz": self.tz}

    @classmethod
    def of(cls, payload: dict[str, Any]) -> Recurrence | None:
        """The schedule stored on a timer row, or None for a one-off timer."""
        cron = payload.get("cron")
        return cls(str(cron), str(payload.get("tz") or "UTC")) if cron else None
