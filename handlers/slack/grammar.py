"""The `/incident` grammar (DESIGN.md 5): text in, a parsed command or a clear error out.

A `CommandTable` holds one `Subcommand` per verb: its name and aliases, its usage and one-line summary (the
help is generated from them), how its arguments are read, and what runs it.
Adding a subcommand is one row of the table in handlers/slack/commands.py.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.domain.incident import REF_RE, Role, Severity
from bot.domain.text import USER_ID, Text
from handlers.slack.ids import COMMAND

if TYPE_CHECKING:
    from handlers.slack.invocation import Invocation

MENTION = re.compile(r"^<@([^|>]+)(?:\|[^>]*)?>\Z")


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
    targets: tuple[str, ...] = ()  # who `page` reaches: user ids, user group ids, team names, `oncall`


def parse_user(token: str) -> str | None:
    """A user id from `<@U123|name>`, `<@U123>` or a bare id."""
    m = MENTION.match(token)
    user = m.group(1) if m else token
    return user if USER_ID.match(user) else None


ArgReader = Callable[[str, str | None, list[str]], Parsed]
Runner = Callable[["Invocation"], Awaitable[Text | str]]


def text_args(sub: str, ref: str | None, args: list[str]) -> Parsed:
    """Free text after the subcommand (a note, a reason, a summary), maybe none."""
    return Parsed(sub, ref=ref, rest=" ".join(args))


def declare_args(sub: str, ref: str | None, args: list[str]) -> Parsed:
    """`[SEVn] <title>` (no reference: it makes a new incident)."""
    severity = None
    if args and re.fullmatch(r"(?i)sev\d+", args[0]):
        severity = Severity.parse(args[0])  # SEV9 -> ValueError naming the valid values
        args = args[1:]
    return Parsed(sub, ref=None, rest=" ".join(args), severity=severity)


def severity_args(sub: str, ref: str | None, args: list[str]) -> Parsed:
    """`<SEVn> [reason]`."""
    if not args:
        raise GrammarError(f"give the new severity: `{COMMAND} sev SEV1 [reason]` (SEV0, SEV1, SEV2, SEV3, SEV4)")
    return Parsed(sub, ref=ref, rest=" ".join(args[1:]), severity=Severity.parse(args[0]))


def role_args(sub: str, ref: str | None, args: list[str]) -> Parsed:
    """`<commander|comms|scribe|sme> @user`."""
    if len(args) < 2:
        raise GrammarError(f"usage: `{COMMAND} role <commander|comms|scribe|sme> @user`")
    role = Role.parse(args[0])
    user = parse_user(args[1])
    if user is None:
        raise GrammarError(f"`{args[1]}` is not a user: mention them, e.g. `{COMMAND} role {role.value} @alice`")
    return Parsed(sub, ref=ref, role=role, user=user)


@dataclass(frozen=True, slots=True)
class Subcommand:
    """One row of the table: a verb of `/incident`.

    `run` carries it out (None: announced, not available yet); `form` runs instead when no text follows
    (a modal).
    """

    name: str
    summary: str
    run: Runner | None
    usage: str = ""
    args: ArgReader = text_args
    aliases: tuple[str, ...] = ()
    form: Runner | None = None

    @property
    def available(self) -> bool:
        """False for verbs announced but not built yet."""
        return self.run is not None

    def help_line(self) -> str:
        """`• `/incident name usage` — summary`."""
        usage = f" {self.usage}" if self.usage else ""
        return f"• `{COMMAND} {self.name}{usage}` — {self.summary}"


class CommandTable:
    """The subcommands of `/incident`, by name and alias: parses text and writes the help."""

    def __init__(self, subcommands: Iterable[Subcommand], *, default: str = "help", implied: str = "status") -> None:
        self.subcommands = {s.name: s for s in subcommands}
        self.aliases = {a: s.name for s in self.subcommands.values() for a in s.aliases}
        self.default = default  # what no text at all means
        self.implied = implied  # what a bare reference means
        for name in (*self.aliases, default, implied):
            if name not in self.subcommands and name not in self.aliases:
                raise ValueError(f"{name!r} is not a subcommand")
        if clash := set(self.aliases) & set(self.subcommands):
            raise ValueError(f"aliases shadow subcommands: {sorted(clash)}")

    def __getitem__(self, name: str) -> Subcommand:
        return self.subcommands[name]

    @property
    def available(self) -> tuple[str, ...]:
        """The names of the verbs that work today, in table order."""
        return tuple(s.name for s in self.subcommands.values() if s.available)

    @property
    def not_yet(self) -> tuple[str, ...]:
        """The names of the verbs announced but not built yet."""
        return tuple(s.name for s in self.subcommands.values() if not s.available)

    def parse(self, text: str) -> Parsed:
        """Parse the text after `/incident`; GrammarError (or ValueError) says what is wrong."""
        words = text.strip().split()
        if not words:
            return Parsed(self.default)
        ref: str | None = None
        if REF_RE.match(words[0].upper()):  # `/incident INC-... ack`
            ref, words = words[0].upper(), words[1:]
            if not words:
                return Parsed(self.implied, ref=ref)
        name = self.aliases.get(words[0].lower(), words[0].lower())
        args = words[1:]
        if args and REF_RE.match(args[0].upper()) and ref is None:
            ref, args = args[0].upper(), args[1:]
        sub = self.subcommands.get(name)
        if sub is None:
            raise GrammarError(f"unknown subcommand `{words[0]}`.")
        if not sub.available:
            return text_args(name, ref, args)
        return sub.args(name, ref, args)

    def help(self) -> str:
        """The help text: one line per available verb, then what is coming."""
        lines = [f"*`{COMMAND}` commands*"]
        lines += [s.help_line() for s in self.subcommands.values() if s.available and s.name != self.default]
        lines.append(
            "Inside a war room the incident is implied; elsewhere give its reference first, "
            f"e.g. `{COMMAND} ack INC-20261123-001`."
        )
        if self.not_yet:
            lines.append(f"Coming soon: {', '.join(self.not_yet)}.")
        return "\n".join(lines)
