"""`/incident release`, `/incident freeze` and `/incident unfreeze`: human control and the deploy freeze."""

from __future__ import annotations

from bot.domain.text import Text
from bot.services import control
from handlers.slack.invocation import Invocation
from handlers.slack.verbs import outcome_text


async def release(call: Invocation) -> Text:
    """`release`: end human control (the commander or an approver)."""
    return outcome_text(await control.release(call.deps, ref=await call.ref(), actor=call.user))


async def freeze(call: Invocation) -> Text:
    """`freeze [reason]`: freeze deploys for this incident until `unfreeze` or the resolve."""
    ref = await call.ref()
    return outcome_text(await control.freeze(call.deps, ref=ref, actor=call.user, reason=call.parsed.rest))


async def unfreeze(call: Invocation) -> Text:
    """`unfreeze [reason]`: lift this incident's deploy freeze (a SEV0/SEV1: the commander or an approver)."""
    ref = await call.ref()
    return outcome_text(await control.unfreeze(call.deps, ref=ref, actor=call.user, reason=call.parsed.rest))
