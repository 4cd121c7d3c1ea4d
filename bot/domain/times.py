"""Times as the outside world writes them: ISO 8601 / RFC 3339 text in and out."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(at: datetime | None) -> str | None:
    """ISO 8601 in UTC with microseconds and a Z (`2026-11-23T09:12:00.000000Z`), or None.

    A naive time is taken as UTC (the database stores UTC); an aware one is converted.
    """
    if at is None:
        return None
    if at.tzinfo is not None:
        at = at.astimezone(UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    """RFC 3339 / ISO 8601 text (`Z` or an offset; without either the result is naive); ValueError otherwise."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
