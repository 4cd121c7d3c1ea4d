"""The approval card -> Block Kit (slack_sdk.models.blocks), registered with the card renderers of blocks.py.

Header line (title, risk, status), the command in code, rationale, expected impact, blast radius, rollback
plan, who asked and when the approval expires, then Approve (with a confirmation dialog for high risk) and
Reject while a decision can be taken. Everything that came from outside (titles, commands, label values) is
escaped; a command cannot close its code span (backticks become quotes).
"""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ConfirmObject, ContextBlock, SectionBlock

from bot.domain.approval_cards import ApprovalCard
from bot.domain.cards import ActionId
from bot.domain.policy import Decision
from bot.domain.remediation import ActionStatus
from bot.domain.runbook import Risk
from integrations.slack_rooms.blocks import (
    FALLBACK_MAX,
    FIELD_MAX,
    SECTION_MAX,
    RenderedCard,
    block_id,
    button,
    mrkdwn,
    plain,
    renders,
    slack_date,
    user,
)
from integrations.slack_rooms.mrkdwn import bold, clip, escape

RISK_ICON = {Risk.LOW: ":large_green_circle:", Risk.MEDIUM: ":large_yellow_circle:", Risk.HIGH: ":red_circle:"}
STATUS_TEXT = {
    ActionStatus.PROPOSED: ":hourglass_flowing_sand: waiting for approval",
    ActionStatus.APPROVED: ":white_check_mark: approved, queued",
    ActionStatus.RUNNING: ":gear: running",
    ActionStatus.EXECUTED: ":white_check_mark: ran (not verified)",
    ActionStatus.VERIFIED: ":white_check_mark: *ran and verified*",
    ActionStatus.FAILED: ":x: *failed*",
    ActionStatus.ROLLED_BACK: ":leftwards_arrow_with_hook: *verification failed: rolled back*",
    ActionStatus.ROLLBACK_FAILED: ":x: *verification failed and the rollback failed*",
    ActionStatus.REJECTED: ":no_entry_sign: rejected",
    ActionStatus.EXPIRED: ":alarm_clock: expired",
    ActionStatus.SUPERSEDED: ":recycle: superseded by a newer proposal",
    ActionStatus.REFUSED: ":no_entry: refused",
    ActionStatus.ROLLING_BACK: ":leftwards_arrow_with_hook: verification failed: rolling back",
}
COMMAND_MAX = 1200


def code(argv: tuple[str, ...]) -> str:
    """An argv as one line of code (escaped; a backtick cannot end the span)."""
    return "`" + clip(escape(" ".join(argv)).replace("`", "'"), COMMAND_MAX) + "`"


def _status(card: ApprovalCard) -> str:
    status = STATUS_TEXT[card.status]
    if card.decided_by and card.status in (ActionStatus.APPROVED, ActionStatus.REJECTED):
        status += f" by {user(card.decided_by)}"
    if card.exit_code is not None and card.status is not ActionStatus.PROPOSED:
        status += f" · exit {card.exit_code}"
    return status


def _fields(card: ApprovalCard) -> list[str]:
    facts = [
        f"*Risk*\n{RISK_ICON[card.risk]} {card.risk.value}",
        f"*Status*\n{_status(card)}",
        f"*Executor*\n`{escape(card.executor)}`",
        f"*Proposed by*\n{user(card.requested_by)}",
    ]
    if card.status is ActionStatus.PROPOSED:
        facts.append(f"*Approve by*\n{slack_date(card.expires_at)}")
    if card.decision is not Decision.APPROVAL:
        facts.append(f"*Policy*\n{card.decision.value}")
    return facts


def _sections(card: ApprovalCard) -> list[tuple[str, str]]:
    rollback = code(card.rollback) if card.rollback else "_none: this step cannot be undone by the bot_"
    return [
        ("approval-command", f"*Action*\n{code(card.command)}"),
        ("approval-rationale", f"*Rationale*\n{escape(card.rationale)}"),
        ("approval-impact", f"*Expected impact*\n{escape(card.impact)}"),
        ("approval-blast", f"*Blast radius*\n{escape(card.blast_radius)}"),
        ("approval-rollback", f"*Rollback plan*\n{rollback}"),
    ]


def _actions(card: ApprovalCard) -> list[Block]:
    buttons = []
    for b in card.buttons:
        confirm = None
        if b.action is ActionId.ACTION_APPROVE and card.risk is Risk.HIGH:
            confirm = ConfirmObject(
                title=plain("Run a high-risk action?", 100), text=mrkdwn(f"Run {code(card.command)}?", 300),
                confirm=plain("Approve", 30), deny=plain("Cancel", 30),
            )  # fmt: skip
        buttons.append(button(b, confirm=confirm))
    return [ActionsBlock(block_id=block_id(f"approval-actions:{card.id}"), elements=buttons)] if buttons else []


@renders(ApprovalCard)
def approval_card(card: ApprovalCard) -> RenderedCard:
    """An approval card: head, facts, the five sections, the buttons or why there are none."""
    head = f":wrench: {bold(card.title) or '*(untitled)*'} · {card.ref} · action `{card.id}`"
    blocks: list[Block] = [
        SectionBlock(block_id=block_id(card.marker), text=mrkdwn(head)),
        SectionBlock(block_id="approval-facts", fields=[mrkdwn(f, FIELD_MAX) for f in _fields(card)]),
    ]
    blocks += [SectionBlock(block_id=bid, text=mrkdwn(text, SECTION_MAX)) for bid, text in _sections(card)]
    if card.refusal:
        blocks.append(ContextBlock(elements=[mrkdwn(f":no_entry: Not runnable: {escape(card.refusal)}")]))
    elif card.decision is Decision.FORBIDDEN:
        blocks.append(ContextBlock(elements=[mrkdwn(":no_entry: The remediation policy forbids this step here.")]))
    blocks += _actions(card)
    fallback = f"Remediation for {card.ref}: {escape(card.title)} ({card.risk.value} risk, {card.status.value})"
    return RenderedCard(clip(fallback, FALLBACK_MAX), blocks)
