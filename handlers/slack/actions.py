"""Card buttons: Acknowledge, I'm commander, Change severity, Resolve; Confirm / Reject a hypothesis; Approve /
Reject a remediation action (a refusal, e.g. a stale or expired card, comes back ephemeral)."""

from __future__ import annotations

from typing import Any

from bot.domain.incident import Severity
from bot.domain.text import Text
from bot.services import hypotheses, incidents, remediation
from bot.services.errors import BadRequest, IncidentNotOpen
from bot.services.incidents import Outcome
from handlers.slack.context import SlackContext
from handlers.slack.ids import ActionId
from handlers.slack.replies import error_text

REMEDIATION = (ActionId.ACTION_APPROVE, ActionId.ACTION_REJECT)
HYPOTHESIS = (ActionId.HYPOTHESIS_CONFIRM, ActionId.HYPOTHESIS_REJECT)


def register(app: Any, ctx: SlackContext) -> None:
    """Register a listener per stable action id."""

    async def on_click(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        await ack()
        user = str((body.get("user") or {}).get("id") or "")
        try:
            out = await click(ctx, action, user)
        except Exception as exc:
            await respond(response_type="ephemeral", replace_original=False, text=ctx.chat.render(error_text(exc)))
            return
        if out is not None and not out.changed:
            text = ctx.chat.render(Text.of(":information_source: ", out.message, "."))
            await respond(response_type="ephemeral", replace_original=False, text=text)

    for action_id in (ActionId.ACK, ActionId.LEAD, ActionId.SEVERITY, ActionId.RESOLVE, *HYPOTHESIS, *REMEDIATION):
        app.action(action_id.value)(on_click)


async def click(ctx: SlackContext, action: dict[str, Any], user: str) -> Outcome | None:
    """Apply one button click; the card itself is refreshed by the war-room reactor."""
    action_id = action.get("action_id")
    deps = ctx.deps
    if action_id == ActionId.SEVERITY.value:
        value = str((action.get("selected_option") or {}).get("value") or "")
        ref, _, sev = value.rpartition(":")
        if not ref:
            raise BadRequest("that severity choice is not valid")
        return await incidents.change_severity(deps, ref=ref, severity=Severity.parse(sev), actor=user)
    ref = str(action.get("value") or "")
    if not ref:
        raise BadRequest("this button carries no incident reference")
    if action_id in HYPOTHESIS:  # the value is the hypothesis' id; its card is updated by the diagnosis reactor
        confirm = action_id == ActionId.HYPOTHESIS_CONFIRM.value
        return await hypotheses.judge_hypothesis(deps, hypothesis_id=ref, confirm=confirm, actor=user)
    if action_id in REMEDIATION:  # the value is the action's id; its card is updated by the remediation reactor
        approve = action_id == ActionId.ACTION_APPROVE.value
        return await remediation.decide_action(deps, action_id=ref, approve=approve, actor=user)
    if action_id == ActionId.ACK.value:
        return await incidents.acknowledge(deps, ref=ref, actor=user)
    if action_id == ActionId.LEAD.value:
        return await incidents.take_lead(deps, ref=ref, actor=user)
    if action_id == ActionId.RESOLVE.value:
        inc = await incidents.get(deps, ref=ref)
        if not inc.is_open:
            raise IncidentNotOpen(f"{inc.ref} is already {inc.status.value}: this card is stale.")
        return await incidents.resolve(deps, ref=ref, actor=user)
    return None
