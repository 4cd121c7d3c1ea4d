"""Replies rendered for Slack: status, list, timeline, the declare modal."""

from __future__ import annotations

from typing import Any

from bot.domain.events import Event, EventKind
from bot.domain.incident import Incident, Role, Severity
from bot.domain.text import ChannelLink, Mention, Text
from bot.domain.timeline import action, actor
from handlers.slack.ids import (
    BLOCK_DESCRIPTION,
    BLOCK_SEVERITY,
    BLOCK_TITLE,
    BLOCK_UPDATE,
    CALLBACK_DECLARE,
    CALLBACK_UPDATE,
)

TIMELINE_MAX_LINES = 40
SHOWN_AS_WRITTEN = {EventKind.NOTE_ADDED.value, EventKind.STATUS_UPDATE.value, EventKind.MESSAGE_PINNED.value}


def ts(at: Any) -> str:
    """A compact UTC time."""
    return f"{at:%Y-%m-%d %H:%M} UTC" if at else "—"


def status_text(inc: Incident) -> Text:
    """Where an incident stands."""
    roles = [Text.of(f"{r.value}: ", Text.join(", ", map(Mention, inc.roles[r]))) for r in Role if inc.roles.get(r)]
    acked = f" · acknowledged {ts(inc.acknowledged_at)}" if inc.acknowledged_at else " · not acknowledged"
    lines = [
        Text.of(f"*{inc.ref}* · {inc.severity.value} · *{inc.status.value}* — ", inc.title),
        Text.of(f"Declared {ts(inc.declared_at)} by ", Mention(inc.declared_by), acked)
        + (f" · resolved {ts(inc.resolved_at)}" if inc.resolved_at else ""),
        Text.of("Roles: ", Text.join("; ", roles) if roles else "none yet — `/incident lead` to take command"),
    ]
    if inc.channel_id:
        lines.append(Text.of("War room: ", ChannelLink(inc.channel_id)))
    if inc.human_control:
        lines.append(Text.of(":lock: Under human control: nothing runs without approval (`/incident release`)"))
    if inc.frozen_since is not None:
        lines.append(Text.of(f":ice_cube: Deploys frozen since {ts(inc.frozen_since)} (`/incident unfreeze`)"))
    if inc.summary:
        lines.append(Text.of("Summary: ", inc.summary))
    return Text.join("\n", lines)


def list_text(incidents: list[Incident]) -> Text:
    """Open incidents, one line each."""
    if not incidents:
        return Text.of(":white_check_mark: No open incidents.")
    text = Text.of(f"*Open incidents ({len(incidents)})*")
    for i in incidents:
        ic = Text.of(" · IC ", Mention(i.commander)) if i.commander else None
        room = Text.of(" ", ChannelLink(i.channel_id)) if i.channel_id else None
        text = Text.of(text, f"\n• *{i.ref}* {i.severity.value} {i.status.value}", ic, " — ", i.title, room)
    return text


def timeline_text(inc: Incident, events: list[Event]) -> Text:
    """The timeline, newest last, capped."""
    shown = events[-TIMELINE_MAX_LINES:]
    text = Text.of(f"*Timeline of {inc.ref}* ({len(events)} entries)")
    if len(events) > len(shown):
        text += f"\n_…{len(events) - len(shown)} earlier entries in `GET /api/v1/incidents/{inc.ref}`_"
    for e in shown:
        text = Text.of(text, f"\n`{e.at:%H:%M:%S}` ", actor(e), " ", _entry(e))
    return text


def _entry(e: Event) -> Text:
    """Notes, updates and pinned messages show their text; other entries say what happened."""
    if e.kind in SHOWN_AS_WRITTEN:
        return Text.of(e.text)
    return action(e)


def declare_modal(channel_id: str, title: str = "") -> dict[str, Any]:
    """The declare form: title, severity, what is happening."""
    title_input: dict[str, Any] = {"type": "plain_text_input", "action_id": BLOCK_TITLE, "max_length": 200}
    if title:
        title_input["initial_value"] = title[:200]
    return {
        "type": "modal",
        "callback_id": CALLBACK_DECLARE,
        "private_metadata": channel_id,
        "title": {"type": "plain_text", "text": "Declare an incident"},
        "submit": {"type": "plain_text", "text": "Declare"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": BLOCK_TITLE,
                "label": {"type": "plain_text", "text": "What is broken?"},
                "element": title_input,
            },
            {
                "type": "input",
                "block_id": BLOCK_SEVERITY,
                "label": {"type": "plain_text", "text": "Severity"},
                "element": {
                    "type": "static_select",
                    "action_id": BLOCK_SEVERITY,
                    "initial_option": _sev_option(Severity.SEV3),
                    "options": [_sev_option(s) for s in Severity],
                },
            },
            {
                "type": "input",
                "block_id": BLOCK_DESCRIPTION,
                "optional": True,
                "label": {"type": "plain_text", "text": "What do you see? (goes into the timeline)"},
                "element": {"type": "plain_text_input", "action_id": BLOCK_DESCRIPTION, "multiline": True},
            },
        ],
    }


def update_modal(inc: Incident, template: str = "") -> dict[str, Any]:
    """The status-update form of an incident (its ref travels in private_metadata), offering the severity's
    stakeholder template."""
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": BLOCK_UPDATE,
        "multiline": True,
        "max_length": 3000,
    }
    if template:
        element["initial_value"] = template[:3000]
    return {
        "type": "modal",
        "callback_id": CALLBACK_UPDATE,
        "private_metadata": inc.ref,
        "title": {"type": "plain_text", "text": "Status update"},
        "submit": {"type": "plain_text", "text": "Post update"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"*{inc.ref}* · {inc.severity.value} · {inc.status.value}"}],
            },
            {
                "type": "input",
                "block_id": BLOCK_UPDATE,
                "label": {"type": "plain_text", "text": "What changed, what's next, when is the next update?"},
                "element": element,
            },
        ],
    }


def _sev_option(s: Severity) -> dict[str, Any]:
    labels = {
        Severity.SEV0: "SEV0 — critical, all hands",
        Severity.SEV1: "SEV1 — major customer impact",
        Severity.SEV2: "SEV2 — significant impact",
        Severity.SEV3: "SEV3 — minor impact",
        Severity.SEV4: "SEV4 — no impact",
    }
    return {"text": {"type": "plain_text", "text": labels[s]}, "value": s.value}
