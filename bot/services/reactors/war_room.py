"""The war-room reactor: opens the incident's room on declare and keeps its card, topic and timeline current."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime

from bot.domain.cards import CARD_CHANGING_TOPIC, ActionId, Button, topic_line, triage_card
from bot.domain.events import CARD_CHANGING, Event, EventKind
from bot.domain.incident import Incident, channel_name
from bot.domain.ports import ChatError, ChatRoom, NameTaken
from bot.domain.text import USER_ID, Icon, Strong, Text, visible
from bot.domain.timeline import timeline_line
from bot.plugins import GiveUp, RetryLater
from bot.services.deps import Deps
from bot.services.reactors.posting import chat_failure, post_once
from bot.services.uow import Conflict

MAX_NAME_TRIES = 20
# Bookkeeping the room does not show as lines: its own opening, and alert counts (those reach the card
# through the coalesced card refreshes).
SKIPPED = frozenset(
    {EventKind.ROOM_OPENED, EventKind.ALERTS_UPDATED, EventKind.ALERTS_RESOLVED, EventKind.DIAGNOSIS_REQUESTED}
)
CARD_CHANGING_KINDS = frozenset(k.value for k in CARD_CHANGING)


class WarRoomReactor:
    """Opens the war room on declare and keeps its card, topic and timeline current."""

    name = "slack-warroom"  # stored on delivery rows: kept from before the reactors were plugins
    kinds = frozenset(k.value for k in EventKind if k not in SKIPPED)

    def __init__(
        self, deps: Deps, chat: ChatRoom, *, prefix: str = "inc",
        oncall: list[str] | Callable[[], Sequence[str]] | None = None,
    ) -> None:  # fmt: skip
        self.deps = deps
        self.chat = chat
        self.prefix = prefix
        self.oncall = oncall if callable(oncall) else list(oncall or [])  # a callable: who is on call now

    async def handle(self, event: Event, *, attempt: int) -> None:
        """Apply one event to the room."""
        incident = await self._incident(event)
        try:
            if event.kind == EventKind.DECLARED.value:
                await self._open_room(incident, attempt)
                return
            if not incident.channel_id:
                raise RetryLater("war room not open yet")
            if event.kind == EventKind.ROLE_ASSIGNED.value:
                user = str(event.payload.get("user") or "")
                if USER_ID.match(user):
                    await self.chat.invite(incident.channel_id, [user])  # role holders belong in the room
            invite = [str(u) for u in event.payload.get("invite") or [] if USER_ID.match(str(u))]
            if invite:  # escalated to or paged: they belong in the room too
                await self.chat.invite(incident.channel_id, invite)
            if event.kind in CARD_CHANGING_KINDS:
                await self._refresh_card(incident)
                if event.kind in CARD_CHANGING_TOPIC:
                    await self.chat.set_topic(incident.channel_id, topic_line(incident))
            if event.kind == EventKind.ALL_ALERTS_RESOLVED.value:
                await self._offer_resolve(incident, event, attempt)
                return
            await self._post_line(incident, event, attempt)
        except ChatError as exc:
            raise chat_failure(exc) from exc

    async def _incident(self, event: Event) -> Incident:
        async with self.deps.store.read() as uow:
            incident = await uow.incidents.get_by_id(event.incident_id or 0)
            if incident is None:
                raise GiveUp(f"event {event.id} has no incident")
            return incident

    # -- declare ---------------------------------------------------------------------------

    async def _open_room(self, incident: Incident, attempt: int) -> None:
        if incident.channel_id is None:
            incident = await self._create_channel(incident)
        assert incident.channel_id is not None
        room = incident.channel_id
        await self.chat.set_topic(room, topic_line(incident))
        oncall = self.oncall() if callable(self.oncall) else self.oncall
        invitees = [u for u in dict.fromkeys([incident.declared_by, *oncall]) if USER_ID.match(u)]
        if invitees:
            await self.chat.invite(incident.channel_id, invitees)
        posted = incident.card_ts is None
        card_ts = incident.card_ts = incident.card_ts or await self._post_card(incident, attempt)
        # Pinned again on a retry: the attempt that posted (and saved) the card may have died before pinning
        # it. Pinning a pinned message changes nothing.
        await self.chat.pin(room, card_ts)
        if posted:
            incident = await self._catch_up_card(incident)
        await self._record_opened(incident)

    async def _post_card(self, incident: Incident, attempt: int) -> str:
        """Post the triage card once (whoever posts it first) and save its ts on the incident."""
        channel_id = incident.channel_id
        assert channel_id is not None
        card = triage_card(incident, self.deps.sla)
        ts = await self._post_once(
            card.marker,
            channel_id,
            lambda: self.chat.post_card(channel_id, card),
            since=incident.declared_at,
            attempt=attempt,
        )
        await self._save(incident.ref, lambda i: i.card_posted(ts))
        return ts

    async def _catch_up_card(self, posted: Incident) -> Incident:
        """Update the new card if the incident changed while the room was being opened; the current state.

        Alerts that joined after the card was rendered scheduled a card refresh, but one that fell due
        before the card existed had nothing to update, and nothing schedules another until more alerts
        come: without this look the first card of a storm could stay behind. A refresh due later sees the
        card (its ts is saved above) and needs no help.
        """
        async with self.deps.store.read() as uow:
            current = await uow.incidents.get_by_id(posted.id)
        if current is None:
            return posted
        assert posted.channel_id is not None and posted.card_ts is not None
        if triage_card(current, self.deps.sla) != triage_card(posted, self.deps.sla):
            await self.chat.update_card(posted.channel_id, posted.card_ts, triage_card(current, self.deps.sla))
        return current

    async def _create_channel(self, incident: Incident) -> Incident:
        bot = await self.chat.bot_user_id()
        suffix = 1
        name = incident.channel_name
        for _ in range(MAX_NAME_TRIES):
            if name is None:
                name = self.room_name(incident.declared_at.date(), incident.title, suffix)
                if not await self._reserve(incident.ref, name):
                    suffix += 1
                    name = None
                    continue
            try:
                info = await self.chat.create_channel(name)
            except NameTaken:
                existing = await self.chat.find_channel(name)
                if existing is not None and existing.creator == bot and await self._adopt_ok(incident, existing.id):
                    info = existing  # we created it before a crash or a lost reply
                else:
                    suffix += 1
                    name = None
                    await self._save(incident.ref, lambda i: i.room_named(None))
                    continue
            created = functools.partial(Incident.room_created, channel_id=info.id, name=info.name)
            await self._save(incident.ref, created)
            created(incident)
            return incident
        raise GiveUp(f"no free channel name for {incident.ref} after {MAX_NAME_TRIES} tries")

    def room_name(self, day: date, title: str, suffix: int = 0) -> str:
        """The war room's name, made from the title as chat shows it: redacted, invisible characters gone.

        A name that still holds something the redactor would hide (a configured secret the slug happens
        to spell) falls back to the plain `incident` slug rather than reach Slack.
        """
        name = channel_name(self.prefix, day, self.deps.redact(visible(title)), suffix)
        if self.deps.redact(name) != name:
            name = channel_name(self.prefix, day, "incident", suffix)
        return name

    async def _reserve(self, ref: str, name: str) -> bool:
        """Claim a channel name for this incident in the database (unique): no two incidents race for it."""
        try:
            await self._save(ref, lambda i: i.room_named(name))
        except Conflict:
            return False
        return True

    async def _adopt_ok(self, incident: Incident, channel_id: str) -> bool:
        async with self.deps.store.read() as uow:
            other = await uow.incidents.by_channel(channel_id)
            return other is None or other.ref == incident.ref

    async def _save(self, ref: str, change: Callable[[Incident], None]) -> None:
        async with self.deps.store.transaction() as uow:
            incident = await uow.incidents.get(ref, lock=True, roles=False)
            if incident is None:
                raise GiveUp(f"incident {ref} vanished")
            change(incident)
            await uow.save(incident)

    async def _record_opened(self, incident: Incident) -> None:
        """The room is ready: an event for the timeline, and for the reactors that point people to the room."""
        async with self.deps.store.transaction() as uow:
            current = await uow.incidents.get(incident.ref, lock=True, roles=False)
            if current is not None:
                await uow.save(current, current.room_opened(at=self.deps.clock.now()))

    # -- later events ----------------------------------------------------------------------

    async def refresh(self, incident_id: int) -> None:
        """Re-render the card from the current state (the coalesced refresh after alert bursts)."""
        async with self.deps.store.read() as uow:
            incident = await uow.incidents.get_by_id(incident_id)
        if incident is None or incident.channel_id is None or incident.card_ts is None:
            return  # the room is not open yet: the declare delivery posts a current card
        try:
            await self._refresh_card(incident)
        except ChatError as exc:
            raise chat_failure(exc) from exc

    async def _offer_resolve(self, incident: Incident, event: Event, attempt: int) -> None:
        channel_id = incident.channel_id
        assert channel_id is not None
        text = Text.of(
            Icon.ALL_CLEAR,
            f" All {incident.alert_count} alert(s) of ",
            Strong(incident.ref),
            " are resolved. Resolve the incident when you are satisfied it is over (warroom never resolves it by"
            " itself).",
        )
        buttons = (
            (Button("Resolve incident", ActionId.RESOLVE, incident.ref, style="primary"),) if incident.is_open else ()
        )
        marker = f"event:{event.id}"
        await self._post_once(
            marker,
            channel_id,
            lambda: self.chat.post_text(channel_id, text, marker=marker, buttons=buttons),
            since=event.at,
            attempt=attempt,
        )

    async def _refresh_card(self, incident: Incident) -> None:
        assert incident.channel_id is not None
        if incident.card_ts is None:
            await self._post_card(incident, attempt=2)  # the room exists without its card: look before posting
            return
        await self.chat.update_card(incident.channel_id, incident.card_ts, triage_card(incident, self.deps.sla))

    async def _post_line(self, incident: Incident, event: Event, attempt: int) -> None:
        channel_id = incident.channel_id
        assert channel_id is not None
        marker = f"event:{event.id}"
        line = timeline_line(event)
        await self._post_once(
            marker,
            channel_id,
            lambda: self.chat.post_text(channel_id, line, marker=marker),
            since=event.at,
            attempt=attempt,
        )

    async def _post_once(
        self, marker: str, channel_id: str, post: Callable[[], Awaitable[str]], *, since: datetime, attempt: int
    ) -> str:
        return await post_once(self.deps, self.chat, marker, channel_id, post, since=since, attempt=attempt)
