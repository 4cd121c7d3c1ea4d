"""The announcer: tells the announcements channel (`#incidents`) about new incidents, severity changes,
stakeholder status updates and resolutions, each once, in the order they happened."""

from __future__ import annotations

from datetime import datetime

from bot.domain.events import Event, EventKind
from bot.domain.incident import Incident
from bot.domain.ports import ChatError, ChatRoom
from bot.domain.text import ChannelLink, Icon, Strong, Text
from bot.domain.timeline import action, actor
from bot.plugins import GiveUp
from bot.services.deps import Deps
from bot.services.reactors.posting import chat_failure, post_once


def declared_marker(ref: str) -> str:
    """Block id of an incident's "declared" announcement."""
    return f"announce:{ref}"


ANNOUNCED = frozenset({EventKind.SEVERITY_CHANGED.value, EventKind.RESOLVED.value, EventKind.STATUS_UPDATE.value})


def _announcement(incident: Incident, e: Event) -> Text:
    """One change as #incidents reads it; a status update in full, as its author wrote it."""
    if e.kind == EventKind.STATUS_UPDATE.value:
        return Text.of(Icon.UPDATE, " ", Strong(f"{incident.ref} status update"), " from ", actor(e), ":\n", e.text)
    return Text.of(Strong(incident.ref), " ", action(e), " (", actor(e), ")")


class Announcer:
    """Announces an incident once its war room is open (with a link to it), then its severity changes and
    its resolution, in order.

    A change made before the room opened is announced when it opens, after the incident itself: the
    announcement of the room catches up with the changes the timeline holds before it.
    """

    name = "announcer"
    kinds = frozenset({EventKind.ROOM_OPENED.value, *ANNOUNCED})

    def __init__(self, deps: Deps, chat: ChatRoom, *, channel: str = "incidents") -> None:
        self.deps = deps
        self.chat = chat
        self.channel = channel

    async def handle(self, event: Event, *, attempt: int) -> None:
        """Announce the incident if not yet done, then the change(s) up to this event."""
        incident, earlier = await self._incident(event)
        if not incident.channel_id:
            return  # the room's opening announces it, with this change
        try:
            await self._declared(incident, attempt)
            for e in [*earlier, event]:
                if e.kind in ANNOUNCED:
                    text = _announcement(incident, e)
                    await self._post(text, f"announce:{e.id}", since=e.at, attempt=attempt)
        except ChatError as exc:
            raise chat_failure(exc) from exc

    async def _incident(self, event: Event) -> tuple[Incident, list[Event]]:
        """The incident; with the room's opening, the changes before it (announced now if not yet)."""
        async with self.deps.store.read() as uow:
            incident = await uow.incidents.get_by_id(event.incident_id or 0, roles=False)
            if incident is None:
                raise GiveUp(f"event {event.id} has no incident")
            earlier: list[Event] = []
            if event.kind == EventKind.ROOM_OPENED.value:
                earlier = await uow.incidents.timeline(incident.id, kinds=ANNOUNCED, before_seq=event.seq)
            return incident, earlier

    async def _declared(self, incident: Incident, attempt: int) -> None:
        assert incident.channel_id is not None
        text = Text.of(
            Icon.ALERT,
            " ",
            Strong(incident.ref),
            f" {incident.severity.value} declared: ",
            incident.title,
            " — join ",
            ChannelLink(incident.channel_id),
        )
        await self._post(text, declared_marker(incident.ref), since=incident.declared_at, attempt=attempt)

    async def _post(self, text: Text, marker: str, *, since: datetime, attempt: int) -> None:
        channel = await self.chat.ensure_channel(self.channel)
        await post_once(
            self.deps,
            self.chat,
            marker,
            channel.id,
            lambda: self.chat.post_text(channel.id, text, marker=marker),
            since=since,
            attempt=attempt,
        )
