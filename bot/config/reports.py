"""The `reports:` section of warroom.yml: the daily digest (when, in which zone, where)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DigestConfig(_Section):
    """The daily digest: posted at `time` in `timezone` to the announcements channel (or `channel`) and to the
    Discord reports channel (DISCORD_REPORTS_WEBHOOK_URL), with its chart when `chart` is on."""

    enabled: bool = True
    time: dt.time = Field(default_factory=lambda: dt.time(23, 0))
    timezone: str = "UTC"
    channel: str | None = None
    chart: bool = True

    @field_validator("time", mode="before")
    @classmethod
    def _sexagesimal(cls, value: object) -> object:
        """YAML 1.1 reads an unquoted `23:00` as the base-60 number 1380: take it as the time it was written as."""
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
            return dt.time(value // 60, value % 60)
        return value

    @field_validator("time")
    @classmethod
    def _check_time(cls, value: dt.time) -> dt.time:
        """A wall-clock time in whole minutes (the schedule is a cron expression)."""
        if value.second or value.microsecond or value.tzinfo is not None:
            raise ValueError('a time of day in whole minutes, without a zone (e.g. "23:00"; the zone is `timezone`)')
        return value

    @field_validator("timezone")
    @classmethod
    def _check_zone(cls, value: str) -> str:
        """An IANA time zone name."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name, e.g. Europe/Paris)") from None
        return value

    @field_validator("channel")
    @classmethod
    def _check_channel(cls, value: str | None) -> str | None:
        """A Slack channel name (a leading `#` is dropped)."""
        if value is None:
            return None
        name = value.removeprefix("#")
        if not name or len(name) > 80 or not all(c.islower() or c.isdigit() or c in "-_" for c in name):
            raise ValueError(f"{value!r} is not a Slack channel name (lowercase a-z, 0-9, - and _, at most 80)")
        return name

    @property
    def cron(self) -> str:
        """The schedule as a cron expression (every day at `time`)."""
        return f"{self.time.minute} {self.time.hour} * * *"


class ReportsConfig(_Section):
    """Reports the bot posts on its own."""

    digest: DigestConfig = Field(default_factory=DigestConfig)
