"""The tickets reactor: files one tracker ticket per incident, comments the key timeline events on it, keeps its
priority in step with the severity, and moves it on resolve, close and reopen.

Exactly one ticket per incident, however many attempts and processes try: the key is stored on the incident
(`ticket_filed`), and before creating, every attempt searches the tracker for the incident's label (a create
whose answer was lost is found, not made twice). The outbox hands this reactor an incident's events one after
the other, so comments wait for the ticket. When the tracker is down the incident goes on; the guard
(bot.services.tickets) defers the calls and the ticket is filed when it is back.
"""

from __future__ import annotations

from bot.domain.events import Event, EventKind
from bot.domain.incident import Incident
from bot.domain.outbound import Link, TicketTracker, TrackerDeferred, TrackerRefused, TrackerUnavailable, ticket_label
from bot.domain.text import Strong, Text
from bot.domain.timeline import timeline_line
from bot.plugins import GiveUp, Postpone, RetryLater
from bot.services.deps import Deps
from bot.services.tickets import TicketPolicy, draft, move_for

ALWAYS = frozenset({EventKind.DECLARED.value, EventKind.RESOLVED.value, EventKind.STATUS_CHANGED.value})


class TicketsReactor:
    """One ticket per incident in the tracker, kept current."""

    name = "tickets"

    def __init__(self, deps: Deps, tracker: TicketTracker, *, policy: TicketPolicy | None = None) -> None:
        self.deps = deps
        self.tracker = tracker
        self.policy = policy or TicketPolicy()
        self.kinds = frozenset(ALWAYS | self.policy.comment_on | {EventKind.SEVERITY_CHANGED.value})

    async def handle(self, event: Event, *, attempt: int) -> None:
        """File the ticket if it is not yet, then comment and move it as the event says."""
        incident = await self._incident(event)
        try:
            key = await self.ticket(incident)
            if event.kind == EventKind.DECLARED.value:
                return
            if event.kind == EventKind.SEVERITY_CHANGED.value:
                await self.tracker.update(key, draft(incident, self.policy.links))
            if event.kind in self.policy.comment_on:
                await self._comment_once(key, incident, event)
            move = move_for(event)
            if move is not None:
                await self.tracker.transition(key, self.policy.transitions.get(move, ()))
        except TrackerDeferred as exc:
            raise Postpone(str(exc), after=exc.retry_after or 60.0) from exc
        except TrackerUnavailable as exc:
            raise RetryLater(str(exc), after=exc.retry_after) from exc
        except TrackerRefused as exc:
            raise GiveUp(str(exc)) from exc

    async def ticket(self, incident: Incident) -> str:
        """The incident's ticket key: stored, else found by its label, else created; stored either way."""
        if incident.jira_key:
            return incident.jira_key
        key = await self.tracker.find(ticket_label(incident.ref))
        if key is None:
            key = await self.tracker.create(draft(incident, self.policy.links))
        async with self.deps.store.transaction() as uow:
            current = await uow.incidents.get(incident.ref, lock=True, roles=False)
            if current is None:
                raise GiveUp(f"incident {incident.ref} vanished")
            await uow.save(current, current.ticket_filed(key, at=self.deps.clock.now()))
            key = current.jira_key or key
        incident.jira_key = key
        return key

    async def _incident(self, event: Event) -> Incident:
        async with self.deps.store.read() as uow:
            incident = await uow.incidents.get_by_id(event.incident_id or 0, roles=False)
        if incident is None:
            raise GiveUp(f"event {event.id} has no incident")
        return incident

    async def _comment_once(self, key: str, incident: Incident, event: Event) -> None:
        """Comment once per event: the comment id is recorded, and a retry finds it (a crash between the comment
        and the record can leave a second copy: the tracker has no marker to search comments by)."""
        marker = f"ticket-comment:{event.id}"
        async with self.deps.store.read() as uow:
            if await uow.chat_post(marker) is not None:
                return
        links: tuple[Link, ...] = ()
        body = timeline_line(event)
        if event.kind == EventKind.ROOM_OPENED.value:
            body = Text.of(Strong("War room open"), f": #{incident.channel_name or incident.channel_id}")
            links = self.policy.links.for_incident(incident)
        comment_id = await self.tracker.comment(key, body, links)
        async with self.deps.store.transaction() as uow:
            await uow.record_chat_post(marker, channel_id=key[:32], ts=comment_id[:32], at=self.deps.clock.now())
