"""Cards and messages -> Block Kit, built with slack_sdk's typed models (`slack_sdk.models.blocks`).

The models check Slack's limits when serialized (`to_dict` validates); the renderers also keep within the
limits the models do not know (2000-character section fields, 50 blocks, the lengths of ids and options),
cutting data rather than letting Slack refuse the message. Every piece of data goes into a mrkdwn field
through `escape` / `render` and into a plain_text field through `plain_text`.

One renderer per card type, registered with `@renders(CardType)`: a new card type (hypothesis, approval,
status, digest) is a view model in bot/domain/cards.py and one renderer here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

from bot.domain.cards import ActionId, Button, Card, TriageCard
from bot.domain.incident import Role, Severity
from bot.domain.text import Mention, Text
from integrations.slack_rooms.mrkdwn import clip, cut, escape, plain_text, render

MAX_BLOCKS = 50
SECTION_MAX = 3000
FIELD_MAX = 2000
FIELDS_MAX = 10
CONTEXT_ELEMENTS_MAX = 10
ACTIONS_MAX = 25
HEADER_MAX = 150
BUTTON_MAX = 75
BLOCK_ID_MAX = 255
FALLBACK_MAX = 3000
EMPTY = "(empty message)"  # Slack refuses a section without text
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


@dataclass(frozen=True, slots=True)
class RenderedCard:
    """A card as Slack takes it: the notification text (mrkdwn) and the blocks."""

    text: str
    blocks: list[Block]


C = TypeVar("C", bound=Card)
_RENDERERS: dict[type[Card], Callable[[Any], RenderedCard]] = {}


def renders(card_type: type[C]) -> Callable[[Callable[[C], RenderedCard]], Callable[[C], RenderedCard]]:
    """Register the Block Kit renderer of a card type."""

    def register(fn: Callable[[C], RenderedCard]) -> Callable[[C], RenderedCard]:
        _RENDERERS[card_type] = fn
        return fn

    return register


def render_card(card: Card) -> RenderedCard:
    """The Block Kit of any card; TypeError for a card type that has no Slack renderer yet."""
    renderer = _RENDERERS.get(type(card))
    if renderer is None:
        raise TypeError(f"no Block Kit renderer for {type(card).__name__}")
    return renderer(card)


# -- pieces ------------------------------------------------------------------------------------


def slack_date(at: datetime) -> str:
    """A Slack date token that each reader sees in their own time zone (fallback: UTC ISO)."""
    ts = int(at.timestamp())
    return f"<!date^{ts}^{{date_short_pretty}} {{time}}|{at:%Y-%m-%d %H:%M} UTC>"


def user(uid: str | None) -> str:
    """A mention of a user id, a name shown as text (e.g. an alert source), or a dash."""
    return render(Text.of(Mention(uid))) if uid else "_unassigned_"


def mrkdwn(markup: str, limit: int = SECTION_MAX) -> MarkdownTextObject:
    """A mrkdwn text object of already rendered markup, cut to `limit`."""
    return MarkdownTextObject(text=clip(markup, limit))


def plain(data: str, limit: int, *, empty: str = "…") -> PlainTextObject:
    """A plain_text object of data (cleaned, never escaped: Slack shows plain_text as is), cut to `limit`;
    `empty` when nothing visible is left (Slack refuses an empty text)."""
    return PlainTextObject(text=cut(plain_text(data).strip() or empty, limit), emoji=True)


def button(b: Button, *, confirm: ConfirmObject | None = None) -> ButtonElement:
    """A button whose value is the object's id."""
    return ButtonElement(
        text=plain(b.label, BUTTON_MAX, empty=b.action.value),
        action_id=b.action.value,
        value=b.value,
        style=b.style,
        confirm=confirm,
    )


def button_rows(buttons: tuple[Button, ...]) -> list[ActionsBlock]:
    """Actions blocks for buttons, in order: a new row where an action id would repeat (Slack wants the
    action ids of one block unique) or a row is full."""
    rows: list[list[Button]] = []
    for b in buttons:
        if not rows or len(rows[-1]) == ACTIONS_MAX or any(o.action is b.action for o in rows[-1]):
            rows.append([])
        rows[-1].append(b)
    return [ActionsBlock(elements=[button(b) for b in row]) for row in rows]


def block_id(marker: str) -> str:
    """A marker as a block_id (at most 255 characters)."""
    return marker[:BLOCK_ID_MAX]


# -- the triage card ------------------------------------------------------------------------------


@renders(TriageCard)
def triage_card(card: TriageCard) -> RenderedCard:
    """The triage card: header, facts, roles, and the buttons while the incident is open."""
    blocks: list[Block] = [
        HeaderBlock(block_id=block_id(card.marker), text=plain(f"{card.ref} · {card.title}", HEADER_MAX)),
        SectionBlock(block_id="card-facts", fields=[mrkdwn(f, FIELD_MAX) for f in _facts(card)[:FIELDS_MAX]]),
    ]
    context = [
        f"*{role.value}*: " + ", ".join(user(u) for u in users)
        for role, users in card.roles
        if role is not Role.COMMANDER
    ]
    if card.human_control:
        context.append(":lock: under human control: nothing runs without explicit approval")
    if card.deploys_frozen:
        context.append(":ice_cube: deploys frozen (`/incident unfreeze` lifts it)")
    if context:
        elements = [mrkdwn(t) for t in context[:CONTEXT_ELEMENTS_MAX]]
        blocks.append(ContextBlock(block_id="card-roles", elements=elements))
    if card.summary:
        blocks.append(SectionBlock(block_id="card-summary", text=mrkdwn(f"*Summary*\n{escape(card.summary)}")))
    if card.actionable:
        blocks.append(triage_actions(card))
    else:
        closed = mrkdwn(f":white_check_mark: {card.ref} is {card.status.value}.")
        blocks.append(ContextBlock(block_id="card-closed", elements=[closed]))
    fallback = clip(f"{card.ref} {card.severity.value} [{card.status.value}] {escape(card.title)}", FALLBACK_MAX)
    return RenderedCard(fallback, blocks)


def _facts(card: TriageCard) -> list[str]:
    """The card's fields: severity and why, status, commander, times, services, blast radius, runbook."""
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
    if card.ticket:
        fields.append(f"*Ticket*\n{clip(escape(card.ticket), 100)}")
    return fields


def triage_actions(card: TriageCard) -> ActionsBlock:
    """Acknowledge, I'm commander, Change severity, Resolve."""
    elements: list[Any] = []
    if card.acknowledged_at is None:
        elements.append(button(Button("Acknowledge", ActionId.ACK, card.ref, style="primary")))
    if card.commander is None:
        elements.append(button(Button("I'm commander", ActionId.LEAD, card.ref)))
    options = [Option(text=plain(SEVERITY_HELP[s], 75), value=f"{card.ref}:{s.value}") for s in card.severities]
    elements.append(
        StaticSelectElement(
            action_id=ActionId.SEVERITY.value, placeholder=plain("Change severity", 150), options=options
        )
    )
    confirm = ConfirmObject(
        title=plain("Resolve incident?", 100),
        text=mrkdwn(f"Mark *{card.ref}* as resolved.", 300),
        confirm=plain("Resolve", 30),
        deny=plain("Cancel", 30),
    )
    elements.append(button(Button("Resolve", ActionId.RESOLVE, card.ref, style="danger"), confirm=confirm))
    return ActionsBlock(block_id=block_id(f"card-actions:{card.ref}"), elements=elements)


# -- messages -------------------------------------------------------------------------------------


def text_blocks(markup: str, marker: str | None, buttons: tuple[Button, ...] = ()) -> list[Block]:
    """One mrkdwn section (`markup`: already rendered), with `marker` as its block id so the message can be
    found again; then buttons."""
    section = SectionBlock(block_id=block_id(marker) if marker else None, text=mrkdwn(markup or EMPTY))
    blocks: list[Block] = [section]
    blocks.extend(button_rows(buttons)[: MAX_BLOCKS - 1])
    return blocks
