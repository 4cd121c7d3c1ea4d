"""Who may do what in an incident (pure): approving remediations, releasing human control, lowering the
severity of or resolving a SEV0/SEV1. One place, so every door (slash command, button, API) asks the same rule;
a refusal carries the rule as a sentence, for the ephemeral answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.domain.incident import Severity
from bot.domain.runbook import Risk


@dataclass(frozen=True, slots=True)
class Approvers:
    """The approvers besides the commander: listed user ids, Slack user group handle(s), and the ids of the
    groups' members as last resolved (the services resolve them through the chat port)."""

    users: frozenset[str] = frozenset()
    usergroups: tuple[str, ...] = ()
    group_members: frozenset[str] = field(default_factory=frozenset)

    def includes(self, user: str) -> bool:
        """A listed user or a member of an approvers group (the commander is checked separately)."""
        return user in self.users or user in self.group_members

    def describe(self) -> str:
        """Who they are, for a refusal: `the commander, @sre-leads or a listed approver`."""
        names = ["the commander", *(f"@{g}" for g in self.usergroups)]
        if self.users:
            names.append("a listed approver")
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


class Who(StrEnum):
    """Who may lower the severity of, or resolve, a SEV0/SEV1 (`permissions.major_changes` in warroom.yml)."""

    ANYONE = "anyone"
    COMMANDER = "commander"
    APPROVERS = "approvers"  # the commander or an approver


class Refused(Exception):
    """A command or a click refused by a rule; `rule` names the rule in a human sentence."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


def _is_approver(actor: str, commander: str | None, approvers: Approvers) -> bool:
    return (commander is not None and actor == commander) or approvers.includes(actor)


def check_approve(
    *, actor: str, requester: str | None, risk: Risk, commander: str | None, approvers: Approvers
) -> None:
    """An approval (or a rejection) of a remediation: only the commander or an approver; a HIGH-risk action
    also needs someone other than who asked for it."""
    if not _is_approver(actor, commander, approvers):
        raise Refused(f"only {approvers.describe()} may approve or reject remediations")
    if risk is Risk.HIGH and requester is not None and actor == requester:
        raise Refused("a HIGH-risk action needs approval from someone other than who requested it")


def check_release(*, actor: str, commander: str | None, approvers: Approvers) -> None:
    """`/incident release` (lift human control): only the commander or an approver."""
    if not _is_approver(actor, commander, approvers):
        raise Refused(f"only {approvers.describe()} may release human control")


def check_lower_or_resolve(
    *,
    actor: str,
    severity: Severity,
    commander: str | None,
    approvers: Approvers,
    who: Who = Who.APPROVERS,
    what: str = "lower the severity of or resolve",
) -> None:
    """Lowering the severity of, or resolving (or lifting the deploy freeze of: `what`), a SEV0/SEV1: by default
    only the commander or an approver; less severe incidents stay open to anyone in the room."""
    if not severity.is_major() or who is Who.ANYONE:
        return
    if actor == commander:
        return
    if who is Who.APPROVERS and approvers.includes(actor):
        return
    whom = "the commander" if who is Who.COMMANDER else approvers.describe()
    hint = "" if commander else " (nobody is commander yet: take command with `/incident lead`)"
    raise Refused(f"only {whom} may {what} a {severity.value} incident{hint}")
