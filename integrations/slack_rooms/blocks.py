"""Cards -> Block Kit. Keeps within Slack's limits (50 blocks, 3000-char sections, 150-char headers).

Every piece of data goes into a mrkdwn field through `escape` and into a plain_text field through `plain_text`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain.cards import ActionId, Button, TriageCard
from bot.domain.incident import Role, Severity
from bot.domain.text import Mention, Text
from integrations.slack_rooms.mrkdwn import clip, cut, escape, plain_text, render

SECTION_MAX = 3000
FIELD_MAX = 2000
HEADER_MAX = 150
SEVERITY_ICON = {
    Severity.SEV0: ":red_circle:",
    Severity.SEV1: ":red_circle:",
    Severity.SEV2: ":large_orange_circle:",
    Severity.SEV3: ":large_yellow_circle:",
    Severity.SEV4: ":white_circle:",
}
SEVERITY_HELP = {
    Severity.SEV0: "SEV0 · critical, all hands",
    Severity.SEV1: "SEV1 · major customer impact",
    Severity.SEV2: "SEV2 · significant impact",
    Severity.SEV3: "SEV3 · minor impact",
    Severity.SEV4: "SEV4 · no impact / informational",
}


def slack_date(at: datetime) -> str:
    """A Slack date token that each reader sees in their own time zone (fallback: UTC ISO)."""
    ts = int(at.timestamp())
    return f"<!date^{ts}^{{date_short_pretty}} {{time}}|{at:%Y-%m-%d %H:%M} UTC>"


def user(uid: str | None) -> str:
    """A mention of a user id, a name shown as text (e.g. an alert source), or a dash."""
    return render(Text.of(Mention(uid))) if uid else "_unassigned_"


def card_fallback(card: TriageCard) -> str:
    """Notification text of the card (mrkdwn: the title is escaped)."""
    return clip(f"{card.ref} {card.severity.value} [{card.status.value}] {escape(card.title)}", 3000)


def triage_blocks(card: TriageCard) -> list[dict[str, Any]]:
    """The triage card: header, facts, roles, and the buttons while the incident is open."""
    sev = f"{SEVERITY_ICON[card.severity]} *{card.severity.value}*"
    if not card.severity_confirmed:
        sev += " _(unconfirmed: please confirm or change)_"
    reason = clip(escape(card.severity_reason), 300) if card.severity_reason else ""
    fields = [
        f"*Severity*\n{sev}" + (f"\n{reason}" if reason else ""),
        f"*Status*\n{card.status.value}",
        f"*Commander*\n{user(card.commander)}",
        f"*Declared*\n{slack_date(card.declared_at)} by {user(card.declared_by)}",
    ]
    if card.ack_by is not None:
        fields.append(f"*Ack by*\n{slack_date(card.ack_by)}")
    elif card.acknowledged_at is not None:
        fields.append(f"*Acknowledged*\n{slack_date(card.acknowledged_at)}")
    if card.resolved_at is not None:
        fields.append(f"*Resolved*\n{slack_date(card.resolved_at)}")
    elif card.resolve_by is not None:
        fields.append(f"*Resolve by*\n{slack_date(card.resolve_by)}")
    if card.services:
        fields.append("*Services*\n" + clip(escape(", ".join(card.services)), 500))
    if card.alert_count or card.regions:
        radius = f"{card.alert_count} alerts · {len(card.services)} services"
        if card.regions:
            radius += " · " + escape(", ".join(card.regions))
        fields.append(f"*Blast radius*\n{clip(radius, 500)}")
    if card.runbook:
        fields.append(f"*Runbook*\n{clip(escape(card.runbook), 500)}")
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "block_id": f"card:{card.ref}",
            "text": {
                "type": "plain_text",
                "text": cut(f"{card.ref} · {plain_text(card.title)}", HEADER_MAX),
                "emoji": True,
            },
        },
        {
            "type": "section",
            "block_id": "card-facts",
            "fields": [{"type": "mrkdwn", "text": clip(f, FIELD_MAX)} for f in fields[:10]],
        },
    ]
    others = [
        f"*{role.value}*: " + ", ".join(user(u) for u in users)
        for role, users in card.roles
        if role is not Role.COMMANDER
    ]
    context = list(others)
    if card.human_control:
        context.append(":lock: under human control: nothing runs without explicit approval")
    if context:
        blocks.append(
            {
                "type": "context",
                "block_id": "card-roles",
                "elements": [{"type": "mrkdwn", "text": clip(t, SECTION_MAX)} for t in context[:10]],
            }
        )
    if card.summary:
        blocks.append(
            {
                "type": "section",
                "block_id": "card-summary",
                "text": {"type": "mrkdwn", "text": clip(f"*Summary*\n{escape(card.summary)}", SECTION_MAX)},
            }
        )
    if card.actionable:
        blocks.append(actions_block(card))
    else:
        blocks.append(
            {
                "type": "context",
                "block_id": "card-closed",
                "elements": [{"type": "mrkdwn", "text": f":white_check_mark: {card.ref} is {card.status.value}."}],
            }
        )
    return blocks


def actions_block(card: TriageCard) -> dict[str, Any]:
    """Acknowledge, I'm commander, Change severity, Resolve."""
    elements: list[dict[str, Any]] = []
    if card.acknowledged_at is None:
        elements.append(button("Acknowledge", ActionId.ACK, card.ref, style="primary"))
    if card.commander is None:
        elements.append(button("I'm commander", ActionId.LEAD, card.ref))
    elements.append(
        {
            "type": "static_select",
            "action_id": ActionId.SEVERITY.value,
            "placeholder": {"type": "plain_text", "text": "Change severity"},
            "options": [
                {
                    "text": {"type": "plain_text", "text": SEVERITY_HELP[s]},
                    "value": f"{card.ref}:{s.value}",
                }
                for s in card.severities
            ],
        }
    )
    elements.append(
        {
            **button("Resolve", ActionId.RESOLVE, card.ref, style="danger"),
            "confirm": {
                "title": {"type": "plain_text", "text": "Resolve incident?"},
                "text": {"type": "mrkdwn", "text": f"Mark *{card.ref}* as resolved."},
                "confirm": {"type": "plain_text", "text": "Resolve"},
                "deny": {"type": "plain_text", "text": "Cancel"},
            },
        }
    )
    return {"type": "actions", "block_id": f"card-actions:{card.ref}", "elements": elements}


def button(text: str, action: ActionId, value: str, *, style: str | None = None) -> dict[str, Any]:
    """A Block Kit button whose value is the object's id."""
    b: dict[str, Any] = {
        "type": "button",
        "action_id": action.value,
        "text": {"type": "plain_text", "text": cut(plain_text(text), 75), "emoji": True},
        "value": value,
    }
    if style:
        b["style"] = style
    return b


def text_blocks(markup: str, marker: str | None, buttons: tuple[Button, ...] = ()) -> list[dict[str, Any]]:
    """One mrkdwn section (`markup`: already rendered), with `marker` as its block id so the message can be
    found again; then buttons."""
    block: dict[str, Any] = {"type": "section", "text": {"type": "mrkdwn", "text": clip(markup, SECTION_MAX)}}
    if marker:
        block["block_id"] = clip(marker, 255)
    blocks = [block]
    if buttons:
        blocks.append(
            {"type": "actions", "elements": [button(b.label, b.action, b.value, style=b.style) for b in buttons[:25]]}
        )
    return blocks
