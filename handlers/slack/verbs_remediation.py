"""`/incident approve <action-id>` and `/incident reject <action-id>`: the same decision as the approval card's
buttons (same rules, same audit)."""

from __future__ import annotations

import re

from bot.domain.text import Text
from bot.services import remediation
from handlers.slack.grammar import GrammarError, Parsed
from handlers.slack.ids import COMMAND
from handlers.slack.invocation import Invocation
from handlers.slack.verbs import outcome_text

ACTION_ID = re.compile(r"\Aa-[0-9a-f]{12}\Z")


def action_args(sub: str, ref: str | None, args: list[str]) -> Parsed:
    """`<action-id>`: exactly one, as the approval card shows it."""
    if len(args) != 1 or not ACTION_ID.match(args[0].lower()):
        shown = " ".join(args)[:40].replace("`", "'")
        what = f"`{shown}` is not an action id" if shown else "give the action id"
        raise GrammarError(f"{what}: `{COMMAND} {sub} a-1a2b3c4d5e6f` (the id is on the approval card)")
    return Parsed(sub, ref=ref, rest=args[0].lower())


async def approve(call: Invocation) -> Text:
    """`approve <action-id>`."""
    out = await remediation.decide_action(call.deps, action_id=call.parsed.rest, approve=True, actor=call.user)
    return outcome_text(out)


async def reject(call: Invocation) -> Text:
    """`reject <action-id>`."""
    out = await remediation.decide_action(call.deps, action_id=call.parsed.rest, approve=False, actor=call.user)
    return outcome_text(out)
