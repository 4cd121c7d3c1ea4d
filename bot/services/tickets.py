"""Incident tickets: what a ticket says (drafted from the incident), which events become comments and which
move the ticket, and the guard every tracker call passes (a circuit breaker and the create rate).

The guard is a TicketTracker around the adapter: when the breaker is open or the hourly creates are used up it
does not call at all and raises `TrackerDeferred` with the time to come back; the tickets reactor turns that
into `Postpone`, so an outage of any length delays tickets but never dead-letters them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar

from bot.domain.events import Event, EventKind
from bot.domain.incident import Incident, Status
from bot.domain.outbound import (
    Attachment,
    Link,
    TicketDraft,
    TicketTracker,
    TrackerDeferred,
    TrackerRefused,
    TrackerUnavailable,
    ticket_label,
)
from bot.domain.ports import Clock
from bot.domain.text import Mention, Part, Strong, Text
from bot.domain.throttle import CircuitBreaker, SlidingWindow
from bot.services.deps import Deps

T = TypeVar("T")

DEFAULT_COMMENT_ON = frozenset(
    k.value
    for k in (
        EventKind.ACKNOWLEDGED, EventKind.SEVERITY_CHANGED, EventKind.ROLE_ASSIGNED, EventKind.STATUS_UPDATE,
        EventKind.STATUS_CHANGED, EventKind.RESOLVED, EventKind.ROOM_OPENED,
    )
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class LinkTemplates:
    """URL templates (warroom.yml `links`): `{channel_id}`, `{channel_name}`, `{ref}`, `{service}`, `{alertname}`."""

    war_room: str | None = "https://slack.com/app_redirect?channel={channel_id}"
    runbook: str | None = None

    def for_incident(self, incident: Incident) -> tuple[Link, ...]:
        """The links of an incident that can be made now (the war room once it is open)."""
        values = {
            "channel_id": incident.channel_id or "", "channel_name": incident.channel_name or "", "ref": incident.ref,
            "service": (incident.services or [""])[0], "alertname": (incident.alertnames or [""])[0],
        }  # fmt: skip
        links = []
        if self.war_room and incident.channel_id:
            links.append(Link("War room", self.war_room.format_map(values)))
        if self.runbook and (values["service"] or values["alertname"] or "{ref}" in self.runbook):
            links.append(Link("Runbook", self.runbook.format_map(values)))
        return tuple(links)


@dataclass(frozen=True, slots=True)
class TicketPolicy:
    """Which events become comments, and the transition names tried for each move (warroom.yml `jira`)."""

    comment_on: frozenset[str] = DEFAULT_COMMENT_ON
    transitions: Mapping[str, Sequence[str]] = field(
        default_factory=lambda: {
            "resolved": ("Resolve Issue", "Resolve", "Done", "Resolved"),
            "closed": ("Close Issue", "Close", "Closed", "Done"),
            "reopened": ("Reopen Issue", "Reopen", "To Do", "Open"),
        }
    )
    links: LinkTemplates = field(default_factory=LinkTemplates)


def draft(incident: Incident, links: LinkTemplates) -> TicketDraft:
    """The ticket of an incident as it stands."""
    body: list[Part] = [Strong("Severity"), f" {incident.severity.value}: {incident.severity_reason or 'n/a'}\n"]
    who = Mention(incident.declared_by)
    body += [Strong("Declared by"), " ", who if who.valid else incident.declared_by, "\n"]
    if incident.alert_count:
        body += [Strong("Alerts"), f" {incident.alert_count} ({incident.alerts_firing} firing)"]
        body += [": " + ", ".join(incident.alertnames[:20]) if incident.alertnames else "", "\n"]
    if incident.regions:
        body += [Strong("Regions"), " " + ", ".join(incident.regions[:20]), "\n"]
    if incident.summary:
        body += ["\n", Strong("Summary"), "\n", incident.summary]
    return TicketDraft(
        ref=incident.ref, label=ticket_label(incident.ref), title=incident.title, severity=incident.severity,
        status=incident.status, services=tuple(incident.services), description=Text.of(*body),
        links=links.for_incident(incident), declared_at=incident.declared_at,
    )  # fmt: skip


def move_for(event: Event) -> str | None:
    """The ticket move an event asks for: `resolved`, `closed`, `reopened`, or none."""
    if event.kind == EventKind.RESOLVED.value:
        return "resolved"
    if event.kind == EventKind.STATUS_CHANGED.value:
        new, old = event.payload.get("new"), event.payload.get("old")
        if new == Status.CLOSED.value:
            return "closed"
        if old in (Status.RESOLVED.value, Status.CLOSED.value) and new in (Status.ACKNOWLEDGED.value,):
            return "reopened"
    return None


async def attach_to_ticket(deps: Deps, tracker: TicketTracker, *, ref: str, attachment: Attachment) -> str | None:
    """Attach a file (the post-mortem) to the incident's ticket: its key, or None while the incident has no ticket
    yet. Raises the tracker's errors (`TrackerDeferred` while the breaker is open: try again after it)."""
    async with deps.store.read() as uow:
        incident = await uow.incidents.get(ref, roles=False)
    if incident is None or incident.jira_key is None:
        return None
    await tracker.attach(incident.jira_key, attachment)
    return incident.jira_key


class GuardedTracker:
    """A TicketTracker that calls the one it wraps only while its circuit breaker lets it, and creates at most
    `creates.limit` tickets per `creates.period`. Unavailable answers count as failures; any other answer
    (a refusal too: the tracker is up) closes the breaker. The failure that opens the breaker is reported as
    deferred too: from then on the outage is known, and waiting it out is not a failed attempt."""

    def __init__(
        self, inner: TicketTracker, *, clock: Clock, breaker: CircuitBreaker | None = None,
        creates: SlidingWindow | None = None,
    ) -> None:  # fmt: skip
        self.inner = inner
        self.clock = clock
        self.breaker = breaker or CircuitBreaker(failures=3, cool_down=timedelta(minutes=15))
        self.creates = creates or SlidingWindow(20, timedelta(hours=1))

    async def _guard(self, call: Callable[[], Awaitable[T]]) -> T:
        now = self.clock.now()
        if not self.breaker.allow(now):
            raise TrackerDeferred("tracker circuit open", retry_after=max(self.breaker.retry_in(now), 1.0))
        try:
            result = await call()
        except TrackerUnavailable as exc:
            now = self.clock.now()
            self.breaker.failed(now)
            if not self.breaker.is_closed(now):  # this failure opened the breaker: the outage is known now
                raise TrackerDeferred(f"{exc} (circuit open)", retry_after=self.breaker.retry_in(now)) from exc
            raise
        except TrackerRefused:
            self.breaker.succeeded()
            raise
        self.breaker.succeeded()
        return result

    async def find(self, label: str) -> str | None:
        """Guarded."""
        return await self._guard(lambda: self.inner.find(label))

    async def create(self, ticket: TicketDraft) -> str:
        """Guarded, and at most `creates.limit` per period (refused calls do not count)."""
        now = self.clock.now()
        wait = self.creates.wait(now)
        if wait > 0:
            raise TrackerDeferred(f"ticket creates used up ({self.creates.limit} per period)", retry_after=wait)

        async def create() -> str:
            self.creates.try_acquire(self.clock.now())
            return await self.inner.create(ticket)

        return await self._guard(create)

    async def update(self, key: str, ticket: TicketDraft) -> None:
        """Guarded."""
        await self._guard(lambda: self.inner.update(key, ticket))

    async def comment(self, key: str, body: Text | str, links: Sequence[Link] = ()) -> str:
        """Guarded."""
        return await self._guard(lambda: self.inner.comment(key, body, links))

    async def transition(self, key: str, names: Sequence[str]) -> str | None:
        """Guarded."""
        return await self._guard(lambda: self.inner.transition(key, names))

    async def attach(self, key: str, attachment: Attachment) -> None:
        """Guarded."""
        await self._guard(lambda: self.inner.attach(key, attachment))
