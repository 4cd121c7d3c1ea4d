"""The `/incident` grammar (DESIGN.md 5): text in, a parsed command or a clear error out."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.incident import REF_RE, Role, Severity

AVAILABLE = (
    "declare",
    "status",
    "list",
    "sev",
    "ack",
    "lead",
    "role",
    "note",
    "update",
    "timeline",
    "resolve",
    "help",
)
NOT_YET = (
    "hypotheses",
    "runbook",
    "approve",
    "page",
    "escalate",
    "freeze",
    "unfreeze",
    "release",
    "postmortem",
)
ALIASES = {
    "severity": "sev",
    "acknowledge": "ack",
    "notes": "note",
    "?": "help",
    "new": "declare",
    "open": "declare",
}
NEEDS_INCIDENT = {"status", "sev", "ack", "lead", "role", "note", "update", "timeline", "resolve"}
MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
RAW_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")

HELP = """*`/incident` commands*
• `/incident declare [SEV0-4] <title>` — declare an incident (no text: open the form)
• `/incident status` — where the incident stands
• `/incident list` — open incidents
• `/incident ack` — acknowledge · `/incident lead` — take the commander role
• `/incident role <commander|comms|scribe|sme> @user` — assign a role
• `/incident sev <SEV0-4> [reason]` — change severity
• `/incident note <text>` — add a note to the timeline (or react with :pushpin: on any message)
• `/incident update <text>` — post a status update
• `/incident timeline` — the timeline so far
• `/incident resolve [summary]` — resolve
Inside a war room the incident is implied; elsewhere give its reference first, e.g. `/incident ack INC-20261123-001`.
Coming soon: hypotheses, runbook, approve, page, escalate, freeze/unfreeze, release, postmortem."""


class GrammarError(ValueError):
    """The text does not follow the grammar; the message says how to fix it."""


@dataclass(frozen=True, slots=True)
class Parsed:
    """A parsed `/incident` command."""

    sub: str
    ref: str | None = None
    rest: str = ""
    severity: Severity | None = None
    role: Role | None = None
    user: str | None = None


def parse_user(token: str) -> str | None:
    """A user id from `<@U123|name>`, `<@U123>` or a bare id."""
    m = MENTION.match(token)
    if m:
        return m.group(1)
    return token if RAW_USER.match(token) else None


def parse(text: str) -> Parsed:
    """Parse the text after `/incident`."""
    words = text.strip().split()
    if not words:
        return Parsed("help")
    ref: str | None = None
    if REF_RE.match(words[0].upper()):  # `/incident INC-... ack`
        ref, words = words[0].upper(), words[1:]
        if not words:
            return Parsed("status", ref=ref)
    sub = ALIASES.get(words[0].lower(), words[0].lower())
    args = words[1:]
    if args and REF_RE.match(args[0].upper()) and ref is None:
        ref, args = args[0].upper(), args[1:]
    rest = " ".join(args)
    if sub in NOT_YET:
        return Parsed(sub, ref=ref, rest=rest)
    if sub not in AVAILABLE:
        raise GrammarError(f"unknown subcommand `{words[0]}`.")
    if sub == "declare":
        severity = None
        if args and re.fullmatch(r"(?i)sev\d+", args[0]):
            severity = Severity.parse(args[0])  # SEV9 -> ValueError naming the valid values
            args = args[1:]
        return Parsed(sub, ref=None, rest=" ".join(args), severity=severity)
    if sub == "sev":
        if not args:
            raise GrammarError("give the new severity: `/incident sev SEV1 [reason]` (SEV0, SEV1, SEV2, SEV3, SEV4)")
        return Parsed(sub, ref=ref, rest=" ".join(args[1:]), severity=Severity.parse(args[0]))
    if sub == "role":
        if len(args) < 2:
            raise GrammarError("usage: `/incident role <commander|comms|scribe|sme> @user`")
        role = Role.parse(args[0])
        user = parse_user(args[1])
        if user is None:
            raise GrammarError(f"`{args[1]}` is not a user: mention them, e.g. `/incident role {role.value} @alice`")
        return Parsed(sub, ref=ref, role=role, user=user)
    return Parsed(sub, ref=ref, rest=rest)
