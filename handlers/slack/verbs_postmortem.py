"""`/incident postmortem`: regenerate the post-mortem draft, or add an action item to it."""

from __future__ import annotations

from bot.domain.text import Text
from bot.services import postmortems
from handlers.slack.grammar import GrammarError, Parsed, parse_user
from handlers.slack.ids import COMMAND
from handlers.slack.invocation import Invocation
from handlers.slack.verbs import outcome_text

ACTION = "action"
USAGE = f"`{COMMAND} postmortem` or `{COMMAND} postmortem action <text> [@owner] [due YYYY-MM-DD]`"


def postmortem_args(sub: str, ref: str | None, args: list[str]) -> Parsed:
    """Nothing (regenerate), or `action <text> [@owner] [due YYYY-MM-DD]` (the owner anywhere in the text)."""
    if not args:
        return Parsed(sub, ref=ref)
    if args[0].lower() != ACTION:
        raise GrammarError(f"usage: {USAGE}")
    owners = [(i, user) for i, word in enumerate(args[1:], start=1) if (user := parse_user(word)) and "@" in word]
    if len(owners) > 1:
        raise GrammarError("an action item has one owner: mention only one person")
    words = [w for i, w in enumerate(args) if i and i not in {j for j, _ in owners}]
    return Parsed(sub, ref=ref, rest=" ".join(words), user=owners[0][1] if owners else None, targets=(ACTION,))


async def postmortem(call: Invocation) -> Text:
    """`postmortem`: a new version of the draft (war room and ticket); `postmortem action ...`: an action item."""
    p = call.parsed
    ref = await call.ref()
    if ACTION in p.targets:
        item = postmortems.parse_item(p.rest, p.user)
        out = await postmortems.add_action_item(
            call.deps, ref=ref, actor=call.user, item=item, request_key=call.request_key
        )
        return outcome_text(out)
    return outcome_text(await postmortems.regenerate(call.deps, ref=ref, actor=call.user, request_key=call.request_key))
