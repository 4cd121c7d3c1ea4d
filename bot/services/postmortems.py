"""Post-mortem use cases: draft an incident's post-mortem (as of an entry of its log), ask for a new version, and
add follow-up action items (each with its due-date reminder).

A draft is drawn from the event log, never from columns people can change, and is redacted as a view model,
before any renderer escapes it (escaping can split an e-mail address or a secret apart). Each resolve and each
`/incident postmortem` is a log entry; the post-mortem reactors render one version per such entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from bot.domain.events import Event, EventKind, NewEvent
from bot.domain.incident import Incident
from bot.domain.postmortem import PostmortemDoc, Sources, postmortem
from bot.domain.text import USER_ID
from bot.redact import redact_json
from bot.services.action_items import TEXT_MAX, schedule_in
from bot.services.deps import Deps
from bot.services.errors import BadRequest, IncidentNotFound
from bot.services.incidents import Outcome
from bot.services.uow import UnitOfWork

VERSIONED = frozenset({EventKind.RESOLVED.value, EventKind.POSTMORTEM_REQUESTED.value})
"""The log entries that each make a new version of the post-mortem."""
REMIND_AT = time(9, 0, tzinfo=UTC)
"""When on its due date an action item's owner is reminded."""
_DUE = re.compile(r"(?:^|\s)due[:\s]\s*(\S+)\s*$", re.IGNORECASE)


async def _incident(uow: UnitOfWork, ref: str, *, lock: bool = False) -> Incident:
    incident = await uow.incidents.get(ref, lock=lock)
    if incident is None:
        raise IncidentNotFound(f"no incident {ref.upper()}")
    return incident


def version_of(events: list[Event]) -> int:
    """The version a draft of this log is: how many resolves and regenerations it holds (at least 1)."""
    return max(1, sum(1 for e in events if e.kind in VERSIONED))


async def draft(deps: Deps, *, ref: str | None = None, incident_id: int | None = None,
                upto: Event | None = None) -> PostmortemDoc:  # fmt: skip
    """The post-mortem of an incident (by ref or id) as of the log entry `upto` (default: now), redacted."""
    async with deps.store.read() as uow:
        if incident_id is not None:
            found = await uow.incidents.get_by_id(incident_id)
            if found is None:
                raise IncidentNotFound(f"no incident with id {incident_id}")
            incident = found
        else:
            incident = await _incident(uow, ref or "")
        events = await uow.incidents.timeline(incident.id, before_seq=upto.seq + 1 if upto is not None else None)
        hypotheses = await uow.hypotheses.of_incident(incident.id)
        first_alert = await uow.alerts.first_started(incident.id) if incident.alert_count else None
    src = Sources(incident, events, hypotheses, first_alert, deps.sla.get(incident.severity))
    doc = postmortem(src, version=version_of(events), generated_at=upto.at if upto else deps.clock.now())
    redacted: PostmortemDoc = redact_json(doc, deps.redact)
    return redacted


async def regenerate(deps: Deps, *, ref: str, actor: str, request_key: str | None = None) -> Outcome:
    """Ask for a new version of the post-mortem, posted to the war room and attached to the ticket."""
    key = f"{EventKind.POSTMORTEM_REQUESTED.value}:{request_key}" if request_key else None
    async with deps.store.transaction() as uow:
        incident = await _incident(uow, ref, lock=True)
        event = incident.add_text(
            EventKind.POSTMORTEM_REQUESTED, "asked for the post-mortem draft", actor=actor, at=deps.clock.now(),
            key=key,
        )  # fmt: skip
        if not await uow.save(incident, event):
            return Outcome(incident, False, f"the post-mortem of {incident.ref} is already on its way")
        return Outcome(incident, True, f"writing the post-mortem of {incident.ref}: it will be posted in its war room")


@dataclass(frozen=True, slots=True)
class ItemRequest:
    """`<text> [@owner] [due YYYY-MM-DD]` read: what, who, by when."""

    text: str
    owner: str | None
    due: date | None


def parse_item(text: str, owner: str | None = None) -> ItemRequest:
    """Read an action item's text and `due YYYY-MM-DD` (at its end); BadRequest saying how otherwise."""
    text = " ".join(text.split())
    due: date | None = None
    m = _DUE.search(text)
    if m is not None:
        try:
            due = date.fromisoformat(m.group(1))
        except ValueError:
            raise BadRequest(f"`{m.group(1)[:20]}` is not a date: write `due YYYY-MM-DD`") from None
        text = text[: m.start()].strip()
    if not text:
        raise BadRequest("an action item needs a text, e.g. `/incident postmortem action Add a canary @bob "
                         "due 2026-12-31`")  # fmt: skip
    if owner is not None and not USER_ID.match(owner):
        raise BadRequest(f"{owner!r} is not a user id")
    return ItemRequest(text[:TEXT_MAX], owner, due)


async def add_action_item(
    deps: Deps, *, ref: str, actor: str, item: ItemRequest, request_key: str | None = None
) -> Outcome:
    """Add a follow-up action item to the post-mortem; its owner (the room, when none) is reminded on its due
    date. Once per `request_key`."""
    now = deps.clock.now()
    key = f"{EventKind.ACTION_ITEM_ADDED.value}:{request_key}" if request_key else None
    async with deps.store.transaction() as uow:
        incident = await _incident(uow, ref, lock=True)
        known = await uow.incidents.timeline(incident.id, kinds={EventKind.ACTION_ITEM_ADDED.value})
        item_id = f"ai-{len(known) + 1}"
        due = item.due.isoformat() if item.due else None
        words = f"added action item {item_id}: {item.text}" + (f" (due {due})" if due else "")
        payload = {"item": item_id, "text": item.text, "owner": item.owner, "due": due}
        event = NewEvent(EventKind.ACTION_ITEM_ADDED, actor, now, words, payload, dedupe_key=key)
        if not await uow.save(incident, [event]):
            return Outcome(incident, False, "this action item was added already")
        due_at = datetime.combine(item.due, REMIND_AT) if item.due is not None else None
        if due_at is not None and due_at > now:
            await schedule_in(uow, incident, item_id=item_id, text=item.text, owner=item.owner, due_at=due_at)
        return Outcome(incident, True, f"action item {item_id} added to the post-mortem of {incident.ref}")
