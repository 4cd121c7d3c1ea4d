"""How an event-log entry reads in chat: neutral text whose people are mentions and whose free text is data.

The line is built from the event's kind and payload, not from its stored `text`, so the stored sentence
(which the API shows) never has to carry chat markup, and text a user wrote stays data.
"""

from __future__ import annotations

from bot.domain.events import Event, EventKind
from bot.domain.incident import Severity
from bot.domain.text import Icon, Mention, Strong, Text

ICONS = {
    EventKind.ACKNOWLEDGED.value: Icon.ACKNOWLEDGED,
    EventKind.SEVERITY_CHANGED.value: Icon.ALERT,
    EventKind.STATUS_CHANGED.value: Icon.STATUS,
    EventKind.ROLE_ASSIGNED.value: Icon.PERSON,
    EventKind.NOTE_ADDED.value: Icon.NOTE,
    EventKind.STATUS_UPDATE.value: Icon.UPDATE,
    EventKind.MESSAGE_PINNED.value: Icon.PIN,
    EventKind.RESOLVED.value: Icon.DONE,
    EventKind.ESCALATED.value: Icon.ALERT,
    EventKind.PAGED.value: Icon.ALERT,
    EventKind.SLA_BREACHED.value: Icon.WARNING,
    EventKind.REMINDER.value: Icon.WORKING,
}
# Entries whose line mentions the people they are about (the ids in their payload), after the stored sentence.
MENTIONING = {
    EventKind.ESCALATED.value: ("users", "groups"),
    EventKind.PAGED.value: ("users", "groups"),
    EventKind.SLA_BREACHED.value: ("mention",),
    EventKind.REMINDER.value: ("mention",),
}


def actor(event: Event) -> Text:
    """Who did it: a mention for a user id, else the name (an alert source, `warroom`)."""
    who = Mention(event.actor)
    return Text.of(who if who.valid else event.actor)


def _with_detail(head: str, detail: object) -> Text:
    text = str(detail or "").strip()
    return Text.of(head + (": " if text else ""), text or None)


def _severity_change(p: dict[str, object]) -> Text:
    try:
        old, new = Severity(str(p.get("old"))), Severity(str(p.get("new")))
    except ValueError:
        return Text.of("changed severity")
    verb = "raised" if new.rank < old.rank else "lowered" if new.rank > old.rank else "confirmed"
    return _with_detail(f"{verb} severity {old.value} → {new.value}", p.get("reason"))


def action(event: Event) -> Text:
    """What happened, without the actor (e.g. `made @bob commander`)."""
    p = event.payload
    kind = event.kind
    if kind == EventKind.ROLE_ASSIGNED.value and p.get("user") and p.get("role"):
        user = Mention(str(p["user"]))
        return Text.of("made ", user if user.valid else str(p["user"]), f" {p['role']}")
    if kind == EventKind.SEVERITY_CHANGED.value:
        return _severity_change(p)
    if kind == EventKind.STATUS_CHANGED.value and p.get("old") and p.get("new"):
        return _with_detail(f"status {p['old']} → {p['new']}", p.get("note"))
    if kind == EventKind.RESOLVED.value:
        return _with_detail("resolved the incident", p.get("summary"))
    if kind == EventKind.DECLARED.value and p.get("severity"):
        return _with_detail(f"declared {p['severity']}", p.get("title"))
    if kind in MENTIONING:
        return Text.of(event.text, _mentions(p, MENTIONING[kind]))
    return Text.of(event.text)  # the stored sentence, shown as data


def _mentions(p: dict[str, object], keys: tuple[str, ...]) -> Text | None:
    """` — @a @b` for the user and group ids under `keys` (anything else in them is left out)."""
    ids = [str(x) for k in keys for x in (p.get(k) or []) if isinstance(x, str)]  # type: ignore[attr-defined]
    mentions = [m for m in map(Mention, ids) if m.valid]
    return Text.of(" — ", Text.join(" ", mentions)) if mentions else None


def timeline_line(event: Event) -> Text:
    """The short line a war room shows for an event."""
    icon = ICONS.get(event.kind, Icon.EVENT)
    if event.kind == EventKind.NOTE_ADDED.value:
        return Text.of(icon, " Note from ", actor(event), ": ", event.text)
    if event.kind == EventKind.STATUS_UPDATE.value:
        return Text.of(icon, " ", Strong("Status update"), " from ", actor(event), ": ", event.text)
    if event.kind == EventKind.MESSAGE_PINNED.value:
        return Text.of(icon, " ", actor(event), " added a message to the timeline")
    return Text.of(icon, " ", actor(event), " ", action(event))
