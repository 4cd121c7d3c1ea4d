"""Replies rendered for Slack: status, list, timeline, the declare modal."""

from __future__ import annotations

from typing import Any

from bot.domain.events import Event
from bot.domain.incident import Incident, Role, Severity
from handlers.slack.ids import (
    BLOCK_DESCRIPTION,
    BLOCK_SEVERITY,
    BLOCK_TITLE,
    BLOCK_UPDATE,
    CALLBACK_DECLARE,
    CALLBACK_UPDATE,
)

TIMELINE_MAX_LINES = 40


def ts(at: Any) -> str:
    """A compact UTC time."""
    return f"{at:%Y-%m-%d %H:%M} UTC" if at else "—"


def status_text(inc: Incident) -> str:
    """Where an incident stands."""
    roles = "; ".join(f"{r.value}: " + ", ".join(f"<@{u}>" for u in inc.roles[r]) for r in Role if inc.roles.get(r))
    lines = [
        f"*{inc.ref}* · {inc.severity.value} · *{inc.status.value}* — {inc.title}",
        f"Declared {ts(inc.declared_at)} by <@{inc.declared_by}>"
        + (f" · acknowledged {ts(inc.acknowledged_at)}" if inc.acknowledged_at else " · not acknowledged")
        + (f" · resolved {ts(inc.resolved_at)}" if inc.resolved_at else ""),
        f"Roles: {roles or 'none yet — `/incident lead` to take command'}",
    ]
    if inc.channel_id:
        lines.append(f"War room: <#{inc.channel_id}>")
    if inc.summary:
        lines.append(f"Summary: {inc.summary}")
    return "\n".join(lines)


def list_text(incidents: list[Incident]) -> str:
    """Open incidents, one line each."""
    if not incidents:
        return ":white_check_mark: No open incidents."
    lines = [f"*Open incidents ({len(incidents)})*"]
    for i in incidents:
        room = f" <#{i.channel_id}>" if i.channel_id else ""
        ic = f" · IC <@{i.commander}>" if i.commander else ""
        lines.append(f"• *{i.ref}* {i.severity.value} {i.status.value}{ic} — {i.title}{room}")
    return "\n".join(lines)


def timeline_text(inc: Incident, events: list[Event]) -> str:
    """The timeline, newest last, capped."""
    shown = events[-TIMELINE_MAX_LINES:]
    lines = [f"*Timeline of {inc.ref}* ({len(events)} entries)"]
    if len(events) > len(shown):
        lines.append(f"_…{len(events) - len(shown)} earlier entries in `GET /api/v1/incidents/{inc.ref}`_")
    for e in shown:
        who = f"<@{e.actor}>" if e.actor[:1] in "UW" else e.actor
        lines.append(f"`{e.at:%H:%M:%S}` {who} {e.text}")
    return "\n".join(lines)


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


def update_modal(inc: Incident) -> dict[str, Any]:
    """The status-update form of an incident (its ref travels in private_metadata)."""
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
                "element": {
                    "type": "plain_text_input",
                    "action_id": BLOCK_UPDATE,
                    "multiline": True,
                    "max_length": 3000,
                },
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
