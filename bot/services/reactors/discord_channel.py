"""The Discord alert channel: new incidents, severity changes and resolutions as notices (embeds), at most
`per_minute` messages a minute; a storm beyond that becomes one summary message.

An event that finds the minute's messages used up is held (in this process) and its delivery postponed until a
message is free again; the first delivery that gets one posts every notice held by then in one summary, and the
held deliveries, when they come due, find theirs sent. Nothing is lost to a restart: a held delivery is still
pending in the outbox and is sent (or held again) when it comes due. Each event is sent once in effect: its
delivery records it as soon as Discord took the message. The on-call role is pinged only for incidents at
`ping_at` or worse (SEV0-SEV2 by default): a new one, or one raised that far.
"""

from __future__ import annotations

from datetime import timedelta

from bot.domain.events import Event, EventKind
from bot.domain.incident import Incident, Severity
from bot.domain.outbound import Broadcaster, Notice, NoticeField
from bot.domain.ports import ChatError
from bot.domain.text import Icon, Part, Strong, Text
from bot.domain.throttle import SlidingWindow
from bot.plugins import GiveUp, Postpone
from bot.services.deps import Deps
from bot.services.reactors.posting import chat_failure
from bot.services.tickets import LinkTemplates

SUMMARY_LINES = 60
HELD_MAX = 5000  # notices held in memory at most (the rest wait in the outbox and are held when they come due)
SENDING_RECHECK = 5.0  # seconds after which a delivery whose notice was in a summary being sent looks again


def _severity(value: object) -> Severity | None:
    try:
        return Severity(str(value))
    except ValueError:
        return None


def notice_for(incident: Incident, event: Event, links: LinkTemplates) -> Notice:
    """The notice of one event: what happened, the incident's title, services, commander and links."""
    fields = (
        NoticeField("Severity", Text.of(incident.severity.value)),
        NoticeField("Services", Text.of(", ".join(incident.services) or "—")),
        NoticeField("Commander", Text.of(incident.commander or "unassigned")),
    )

    def notice(title: str, body: Text, severity: Severity | None, *, resolved: bool = False) -> Notice:
        return Notice(title, body, fields, severity, at=event.at, footer=incident.ref,
                      links=links.for_incident(incident), resolved=resolved)  # fmt: skip

    def detail(label: str, key: str) -> tuple[Part, ...]:
        value = str(event.payload.get(key) or "")
        return ("\n", Strong(label), " ", value) if value else ()

    if event.kind == EventKind.SEVERITY_CHANGED.value:
        old, new = event.payload.get("old"), event.payload.get("new")
        body = Text.of(incident.title, *detail("Why", "reason"))
        return notice(f"{incident.ref} severity {old} → {new}", body, _severity(new))
    if event.kind == EventKind.RESOLVED.value:
        body = Text.of(incident.title, *detail("Summary", "summary"))
        return notice(f"{incident.ref} resolved", body, incident.severity, resolved=True)
    severity = _severity(event.payload.get("severity")) or incident.severity
    title = str(event.payload.get("title") or incident.title)
    return notice(f"{incident.ref} declared · {severity.value}", Text.of(title), severity)


def pings(event: Event, ping_at: Severity) -> bool:
    """A new incident at `ping_at` or worse, or one raised to it."""
    if event.kind == EventKind.DECLARED.value:
        sev = _severity(event.payload.get("severity"))
        return sev is not None and sev.rank <= ping_at.rank
    if event.kind == EventKind.SEVERITY_CHANGED.value:
        old, new = _severity(event.payload.get("old")), _severity(event.payload.get("new"))
        return new is not None and new.rank <= ping_at.rank and (old is None or new.rank < old.rank)
    return False


def summary(notices: list[Notice]) -> Notice:
    """One notice for many: a line each (the adapter cuts to Discord's limits), coloured by the worst."""
    lines: list[Part] = []
    for n in notices[:SUMMARY_LINES]:
        lines += [
            Icon.DONE if n.resolved else Icon.ALERT,
            " ",
            Strong(n.title),
            " — ",
            n.body.data().split("\n")[0],
            "\n",
        ]
    if len(notices) > SUMMARY_LINES:
        lines.append(f"… and {len(notices) - SUMMARY_LINES} more")
    worst = min((n.severity for n in notices if n.severity is not None), key=lambda s: s.rank, default=None)
    return Notice(f"{len(notices)} incident updates", Text.of(*lines), severity=worst, at=notices[-1].at)


class DiscordAlerts:
    """Mirrors incidents to the Discord alert channel."""

    name = "discord"
    kinds = frozenset({EventKind.DECLARED.value, EventKind.SEVERITY_CHANGED.value, EventKind.RESOLVED.value})

    def __init__(
        self, deps: Deps, channel: Broadcaster, *, per_minute: int = 5, ping_at: Severity = Severity.SEV2,
        links: LinkTemplates | None = None,
    ) -> None:  # fmt: skip
        self.deps = deps
        self.channel = channel
        self.window = SlidingWindow(per_minute, timedelta(minutes=1))
        self.ping_at = ping_at
        self.links = links or LinkTemplates()
        self.held: dict[int, tuple[Notice, bool]] = {}
        self.sending: set[int] = set()

    async def handle(self, event: Event, *, attempt: int) -> None:
        """Send the event's notice (with the held ones, as a summary), or hold it until a message is free."""
        if await self._sent(event.id):
            self.held.pop(event.id, None)
            return
        incident = await self._incident(event)
        mine = (notice_for(incident, event, self.links), pings(event, self.ping_at))
        now = self.deps.clock.now()
        if event.id in self.sending:  # in a summary going out right now: its record follows
            raise Postpone("in a summary being sent", after=SENDING_RECHECK)
        if not self.window.try_acquire(now):
            if len(self.held) < HELD_MAX:
                self.held[event.id] = mine
            raise Postpone("Discord messages for this minute used up", after=max(self.window.wait(now), 1.0))
        batch = {**self.held, event.id: mine}
        self.held = {}
        claimed = set(batch)
        self.sending |= claimed
        try:
            batch = {k: v for k, v in batch.items() if k == event.id or not await self._sent(k)}
            await self._send(list(batch.values()))
            async with self.deps.store.transaction() as uow:
                for event_id in batch:
                    await uow.record_chat_post(f"discord:{event_id}", channel_id="discord", ts=str(event.id), at=now)
        except ChatError as exc:
            self.held.update({k: v for k, v in batch.items() if k != event.id})
            raise chat_failure(exc) from exc
        finally:
            self.sending -= claimed

    async def _send(self, batch: list[tuple[Notice, bool]]) -> None:
        ping = any(p for _, p in batch)
        if len(batch) == 1:
            ((notice, _),) = batch
            await self.channel.broadcast([notice], ping=ping)
            return
        notices = [n for n, _ in batch]
        headline = Text.of(Icon.ALERT, f" {len(notices)} incident updates while the channel was busy")
        await self.channel.broadcast([summary(notices)], headline=headline, ping=ping)

    async def _sent(self, event_id: int) -> bool:
        async with self.deps.store.read() as uow:
            return await uow.chat_post(f"discord:{event_id}") is not None

    async def _incident(self, event: Event) -> Incident:
        async with self.deps.store.read() as uow:
            incident = await uow.incidents.get_by_id(event.incident_id or 0)
        if incident is None:
            raise GiveUp(f"event {event.id} has no incident")
        return incident
