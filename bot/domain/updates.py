"""Stakeholder updates: the template each severity offers in `/incident update` (what happened, impact, what
we are doing, next update at), filled with the incident's facts.

Templates use `$name` placeholders (string.Template: no attribute access, unknown names stay as written):
`$ref`, `$title`, `$severity`, `$status`, `$services`, `$next_update`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from string import Template

from bot.domain.incident import Incident, Severity

_MAJOR = """[$severity] $ref: $title
Status: $status
What happened:
Customer impact:
What we are doing:
Next update at: $next_update"""

_MINOR = """[$severity] $ref: $title
Status: $status
What happened:
Impact:
What we are doing:
Next update at: $next_update"""

DEFAULT_TEMPLATES: dict[Severity, str] = {
    Severity.SEV0: _MAJOR,
    Severity.SEV1: _MAJOR,
    Severity.SEV2: _MINOR,
    Severity.SEV3: _MINOR,
    Severity.SEV4: _MINOR.replace("$next_update", "when there is news"),
}


def next_update_at(now: datetime, cadence_minutes: int | None) -> str:
    """When the next update is due, as people read it (`09:45 UTC`), or `when there is news`."""
    if cadence_minutes is None:
        return "when there is news"
    return f"{now + timedelta(minutes=cadence_minutes):%H:%M} UTC"


def unfilled(text: str, template: str) -> bool:
    """Whether an update says nothing the template did not already say (its placeholders filled or not, its
    `Next update at:` time aside): the form submitted as it was offered."""

    def lines(t: str) -> set[str]:
        return {x.strip() for x in t.splitlines() if x.strip() and not x.strip().startswith("Next update at:")}

    return lines(text) <= lines(template)


def fill(template: str, incident: Incident, *, now: datetime, cadence_minutes: int | None) -> str:
    """The template with the incident's facts in place of its placeholders."""
    values = {
        "ref": incident.ref,
        "title": incident.title,
        "severity": incident.severity.value,
        "status": incident.status.value,
        "services": ", ".join(incident.services) or "-",
        "next_update": next_update_at(now, cadence_minutes),
    }
    return Template(template).safe_substitute(values)
