"""The response policy as the escalation use cases read it: tiers, on-call, teams, reminders, auto-upgrade
rules and update templates (the composition root builds it from warroom.yml), and the resolution of notify
targets (`oncall`, `team:<name>`, user and group ids) into the people and services they reach now."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.escalation import ONCALL, Audience, EscalationPolicy
from bot.domain.incident import Severity
from bot.domain.oncall import OnCall, merged
from bot.domain.sla import DEFAULT_UPGRADES, ReminderPolicy, UpgradeRule
from bot.domain.text import GROUP_ID, USER_ID
from bot.domain.updates import DEFAULT_TEMPLATES


@dataclass(frozen=True, slots=True)
class Team:
    """A team: its members, its Slack user group, and the PagerDuty service that pages it (if any)."""

    members: tuple[str, ...] = ()
    group: str | None = None
    pagerduty: str | None = None


class UnknownTarget(ValueError):
    """A page or tier target that names nobody the rules file knows."""


@dataclass(frozen=True, slots=True)
class ResponsePolicy:
    """Everything the escalation, paging and reminder use cases need to know about people and timing."""

    escalation: EscalationPolicy = field(default_factory=EscalationPolicy)
    oncall: OnCall = field(default_factory=OnCall)
    teams: dict[str, Team] = field(default_factory=dict)
    reminders: ReminderPolicy = field(default_factory=ReminderPolicy)
    upgrades: tuple[UpgradeRule, ...] = DEFAULT_UPGRADES
    templates: dict[Severity, str] = field(default_factory=lambda: dict(DEFAULT_TEMPLATES))

    def audience(self, targets: Iterable[str], at: datetime, *, pagerduty: Iterable[str] = ()) -> Audience:
        """Who `targets` reach at `at`, with the PagerDuty services `pagerduty` named; UnknownTarget for a
        target that is none of: a user id, a group id, `oncall`, `team:<name>` or a team's name."""
        users: list[str] = []
        groups: list[str] = []
        services = list(pagerduty)
        for target in targets:
            t = target.strip().removeprefix("@")
            if t == ONCALL:
                users += self.oncall.now(at)
                groups += [self.oncall.group] if self.oncall.group else []
            elif USER_ID.match(t):
                users.append(t)
            elif GROUP_ID.match(t):
                groups.append(t)
            else:
                name = t.removeprefix("team:")
                team = self.teams.get(name)
                if team is None:
                    known = ", ".join(sorted(self.teams)) or "none configured"
                    raise UnknownTarget(f"{target!r} is not a user, a user group, `oncall` or a team (teams: {known})")
                users += team.members
                groups += [team.group] if team.group else []
        return Audience(merged(users), merged(groups), merged(services))

    def page_services(self, targets: Iterable[str]) -> tuple[str, ...]:
        """The PagerDuty services a `/incident page` of these targets pages: `oncall` pages the on-call
        service, a team its own service when it has one."""
        out: list[str] = []
        for target in targets:
            t = target.strip().removeprefix("@").removeprefix("team:")
            if t == ONCALL:
                out.append(ONCALL)
            elif (team := self.teams.get(t)) is not None and team.pagerduty:
                out.append(team.pagerduty)
        return merged(out)
