"""The approval card of a remediation action, as a neutral view model (Slack's Block Kit in
integrations/slack_rooms/blocks_approvals.py).

One card per action in the war room: the action (title, command, executor, risk), why (rationale), what it
should do (expected impact), what it touches (blast radius), how it is undone (rollback plan), when the
approval expires, and Approve / Reject buttons whose value is the action id, while a decision can be taken.
The card is updated in place at every step after (decided, running, output, verified, rolled back); the
execution's output is posted in its thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from bot.domain.cards import ActionId, Button, Card
from bot.domain.policy import Decision
from bot.domain.proposals import shown_argv
from bot.domain.remediation import ActionStatus, RemediationAction
from bot.domain.runbook import Risk


def approval_marker(action_id: str) -> str:
    """The block id that finds an approval card again in the channel (and keys its chat post)."""
    return f"action:{action_id}"


def output_marker(action_id: str, what: str = "run") -> str:
    """The key of an execution's output posted in the card's thread (`run` or `rollback`)."""
    return f"action-output:{what}:{action_id}"


@dataclass(frozen=True, slots=True)
class ApprovalCard(Card):
    """A remediation action waiting for (or past) its approval."""

    identifiers: ClassVar[frozenset[str]] = frozenset({"id", "ref"})

    id: str
    ref: str
    title: str
    risk: Risk
    executor: str
    command: tuple[str, ...]
    rationale: str
    impact: str
    blast_radius: str
    rollback: tuple[str, ...] | None
    status: ActionStatus
    decision: Decision
    requested_by: str
    expires_at: datetime
    decided_by: str | None = None
    refusal: str | None = None
    verified: bool | None = None
    exit_code: int | None = None

    @property
    def marker(self) -> str:
        """`action:<id>`: one card per action."""
        return approval_marker(self.id)

    @property
    def buttons(self) -> tuple[Button, ...]:
        """Approve / Reject, while the action waits for a decision (never on a forbidden or refused one)."""
        if self.status is not ActionStatus.PROPOSED or self.decision is Decision.FORBIDDEN:
            return ()
        return (
            Button("Approve", ActionId.ACTION_APPROVE, self.id, style="primary"),
            Button("Reject", ActionId.ACTION_REJECT, self.id, style="danger"),
        )


def approval_card(action: RemediationAction, *, ref: str) -> ApprovalCard:
    """The card of an action from its current state."""
    rollback = shown_argv(action, rollback=True) or None
    return ApprovalCard(
        id=action.id, ref=ref, title=action.title, risk=action.risk, executor=action.executor,
        command=shown_argv(action), rationale=action.rationale, impact=action.impact,
        blast_radius=action.blast_radius, rollback=rollback, status=action.status, decision=action.decision,
        requested_by=action.requested_by, expires_at=action.expires_at, decided_by=action.decided_by,
        refusal=action.refusal, verified=action.verified, exit_code=action.exit_code,
    )  # fmt: skip
