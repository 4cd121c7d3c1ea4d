"""Pages: what the core asks a pager (PagerDuty) to do about an incident, independent of the vendor.

One incident is one alert on each paging service, identified by a stable deduplication key
(`warroom-<ref>`, DESIGN.md 5): the trigger, the acknowledgement and the resolution all carry it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.domain.incident import Incident, Severity

SUMMARY_MAX = 1024  # PagerDuty's limit on payload.summary


class PageAction(StrEnum):
    """The Events API v2 actions."""

    TRIGGER = "trigger"
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


# How urgent each severity is on the pager (PagerDuty's payload.severity).
URGENCY: dict[Severity, str] = {
    Severity.SEV0: "critical",
    Severity.SEV1: "critical",
    Severity.SEV2: "error",
    Severity.SEV3: "warning",
    Severity.SEV4: "info",
}


def dedup_key(ref: str) -> str:
    """The incident's stable key on the pager."""
    return f"warroom-{ref}"


@dataclass(frozen=True, slots=True)
class Page:
    """One event for one paging service (`service`: `oncall`, or a name from the rules file)."""

    action: PageAction
    dedup_key: str
    service: str = "oncall"
    summary: str = ""
    urgency: str = "error"
    component: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def trigger(incident: Incident, *, service: str, why: str, details: dict[str, Any] | None = None) -> Page:
    """The page that wakes someone up about an incident."""
    summary = f"[{incident.severity.value}] {incident.ref} {incident.title}"
    if why:
        summary += f" ({why})"
    body = {
        "incident": incident.ref,
        "severity": incident.severity.value,
        "status": incident.status.value,
        "services": list(incident.services),
        **(details or {}),
    }
    if incident.channel_name:
        body["war_room"] = f"#{incident.channel_name}"
    return Page(
        action=PageAction.TRIGGER,
        dedup_key=dedup_key(incident.ref),
        service=service,
        summary=summary[:SUMMARY_MAX],
        urgency=URGENCY[incident.severity],
        component=incident.services[0] if incident.services else None,
        details=body,
    )


def follow_up(incident: Incident, action: PageAction, *, service: str) -> Page:
    """The acknowledgement or resolution of an earlier trigger (same key, same service)."""
    return Page(action=action, dedup_key=dedup_key(incident.ref), service=service)
