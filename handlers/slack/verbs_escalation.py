"""The escalation verbs of `/incident`: `page`, `escalate`, `oncall` (rows of handlers/slack/commands.py)."""

from __future__ import annotations

import re

from bot.domain.escalation import Trigger
from bot.domain.text import GROUP_ID, Mention, Text
from bot.services import escalation
from handlers.slack.grammar import GrammarError, Parsed, parse_user
from handlers.slack.ids import COMMAND
from handlers.slack.invocation import Invocation
from handlers.slack.render import ts
from handlers.slack.verbs import outcome_text

GROUP_MENTION = re.compile(r"^<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>\Z")
NAME = re.compile(r"^@?(team:)?[A-Za-z0-9_.-]+\Z")


def _target(token: str, *, first: bool) -> str | None:
    """A page target from one word: a user or user-group mention, `oncall`, `team:<name>`; a bare name only as
    the first word (what follows it is the message)."""
    user = parse_user(token)
    if user is not None:
        return user
    group = GROUP_MENTION.match(token)
    if group and GROUP_ID.match(group.group(1)):
        return group.group(1)
    word = token.removeprefix("@")
    if word.lower() == "oncall" or word.startswith("team:"):
        return word.lower() if word.lower() == "oncall" else word
    return word if first and NAME.match(token) else None


def page_args(sub: str, ref: str | None, args: list[str]) -> Parsed:
    """`<@user|@group|team|oncall> [more targets] [message]`."""
    targets: list[str] = []
    for word in args:
        found = _target(word, first=not targets)
        if found is None:
            break
        targets.append(found)
    if not targets:
        raise GrammarError(f"who should be paged? `{COMMAND} page @alice|<team>|oncall [message]`")
    return Parsed(sub, ref=ref, rest=" ".join(args[len(targets) :]), targets=tuple(dict.fromkeys(targets)))


async def page(call: Invocation) -> Text:
    """`page <@user|team> [message]`: mention and invite them in the war room, page them on PagerDuty."""
    p = call.parsed
    out = await escalation.page(
        call.deps, ref=await call.ref(), targets=list(p.targets), message=p.rest, actor=call.user,
        request_key=call.request_key,
    )  # fmt: skip
    return outcome_text(out)


async def escalate(call: Invocation) -> Text:
    """`escalate [reason]`: one tier up now."""
    out = await escalation.escalate(
        call.deps, await call.ref(), call.parsed.rest or "escalated by hand", trigger=Trigger.MANUAL, actor=call.user,
        key=f"escalate:{call.request_key}" if call.request_key else None,
    )  # fmt: skip
    return outcome_text(out)


async def oncall(call: Invocation) -> Text:
    """`oncall`: who is on call now, and each rotation's shift."""
    now = escalation.on_call(call.deps)
    if not now.users and not now.group:
        return Text.of(
            ":information_source: Nobody is on call: add `oncall.users` or `oncall.rotations` to warroom.yml."
        )
    who = Text.join(" ", [Mention(u) for u in now.users]) if now.users else Text.of("nobody")
    lines = [Text.of(f"*On call now* ({ts(now.at)}): ", who)]
    if now.group:
        lines.append(Text.of("Group: ", Mention(now.group)))
    for s in now.shifts:
        who = Text.of(Mention(s.user), " (override)" if s.override else "")
        lines.append(Text.of(f"• {s.rotation}: ", who, f" until {ts(s.until)}, then ", Mention(s.next_user)))
    return Text.join("\n", lines)
