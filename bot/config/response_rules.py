"""The rules-file sections of the incident response: on-call rotations, PagerDuty services, reminders,
auto-upgrade rules and stakeholder-update templates (escalation tiers and SLAs live in rules.py), and
`response_policy`, which turns them into the domain's `ResponsePolicy`.

PagerDuty routing keys are secrets: the rules file names, per extra PagerDuty service, the environment
variable that holds its key (`routing_key_env`); `PAGERDUTY_ROUTING_KEY` is the `oncall` service's.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import date, time
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.config.fields import SeverityKey, UserId
from bot.domain.escalation import ONCALL, EscalationPolicy, Tier
from bot.domain.incident import Severity
from bot.domain.oncall import OnCall, Override, Rotation, rotation_days
from bot.domain.response import ResponsePolicy, Team
from bot.domain.sla import DEFAULT_UPGRADES, ReminderPolicy, UpgradeRule, UpgradeWhen
from bot.domain.updates import DEFAULT_TEMPLATES

if TYPE_CHECKING:
    from bot.config.rules import AppConfig
    from bot.config.settings import Settings

_SERVICE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}\Z")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*\Z")
TEMPLATE_MAX = 3000


def _service_name(value: str) -> str:
    """A PagerDuty service name of the rules file (lowercase, used in tiers and teams)."""
    if not _SERVICE_NAME.match(value):
        raise ValueError(f"{value!r} is not a PagerDuty service name (lowercase a-z, 0-9, '-', '_', at most 40)")
    return value


ServiceName = Annotated[str, AfterValidator(_service_name)]


class _Section(BaseModel):
    """Unknown keys are errors, values are immutable (as in rules.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class OverrideConfig(_Section):
    """Someone else on call from `starts_at` to `ends_at` (times with a time zone)."""

    user: UserId
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _check_window(self) -> OverrideConfig:
        """The override must end after it starts."""
        if self.ends_at <= self.starts_at:
            raise ValueError(f"ends_at: must be after starts_at ({self.ends_at} <= {self.starts_at})")
        return self


class RotationConfig(_Section):
    """A rotation: `users` take turns, handing off every day or week at `handoff` local time in `timezone`;
    `users[0]`'s first shift begins at the hand-off on `start`."""

    name: str = Field(min_length=1, max_length=80)
    users: list[UserId] = Field(min_length=1)
    every: str = "weekly"
    handoff: time = time(9, 0)
    timezone: str = "UTC"
    start: date = date(2026, 1, 5)
    overrides: list[OverrideConfig] = Field(default_factory=list)

    @field_validator("every")
    @classmethod
    def _check_every(cls, value: str) -> str:
        """daily or weekly."""
        rotation_days(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _check_zone(cls, value: str) -> str:
        """An IANA time zone name."""
        try:
            Rotation("check", ("U0CHECK",), date(2026, 1, 1), tz=value)
        except Exception:
            raise ValueError(f"unknown time zone {value!r} (an IANA name, e.g. Europe/Paris)") from None
        return value

    def rotation(self) -> Rotation:
        """The domain's rotation."""
        overrides = tuple(Override(o.user, o.starts_at, o.ends_at) for o in self.overrides)
        return Rotation(
            self.name, tuple(self.users), self.start, rotation_days(self.every), self.handoff, self.timezone, overrides
        )


class PagerDutyService(_Section):
    """An extra PagerDuty service (an Events API v2 integration) tiers and teams can page."""

    routing_key_env: str

    @field_validator("routing_key_env")
    @classmethod
    def _check_env(cls, value: str) -> str:
        """The name of the environment variable holding the service's routing key (never the key itself)."""
        if not _ENV_NAME.match(value):
            raise ValueError(f"{value!r} is not an environment variable name (A-Z, 0-9, _): put the key in one")
        return value


class PagerDutyConfig(_Section):
    """PagerDuty services besides `oncall` (PAGERDUTY_ROUTING_KEY), by name."""

    services: dict[ServiceName, PagerDutyService] = Field(default_factory=dict)

    @field_validator("services")
    @classmethod
    def _check_names(cls, value: dict[str, PagerDutyService]) -> dict[str, PagerDutyService]:
        """`oncall` is PAGERDUTY_ROUTING_KEY's service already."""
        if ONCALL in value:
            raise ValueError("'oncall' is the service of PAGERDUTY_ROUTING_KEY: give the extra service another name")
        return value


class RemindersConfig(_Section):
    """Nudges besides the status-update cadence (which is `sla.<SEV>.update_minutes`); 0 turns one off."""

    commander_after_minutes: int = Field(default=10, ge=0)
    commander_every_minutes: int = Field(default=30, ge=0)
    resolution_after_hours: int = Field(default=24, ge=0)
    resolution_every_hours: int = Field(default=4, ge=0)


class AutoUpgradeRule(_Section):
    """Raise severity to `to` when: `unacknowledged` (still unacknowledged when the ack SLA runs out) or
    `services` (more than `more_than` services affected); only from `from` severities when given."""

    name: str = Field(min_length=1, max_length=80)
    when: UpgradeWhen
    to: SeverityKey
    from_: list[SeverityKey] = Field(default_factory=list, alias="from")
    more_than: int = Field(default=0, ge=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _check(self) -> AutoUpgradeRule:
        """A `services` rule needs its threshold; `from` severities must be milder than `to`."""
        if self.when is UpgradeWhen.SERVICES and self.more_than < 1:
            raise ValueError("more_than: a `services` rule needs a threshold of at least 1")
        if any(s.rank <= self.to.rank for s in self.from_):
            raise ValueError(f"from: every severity must be milder than {self.to.value} (a rule only raises)")
        return self

    def rule(self) -> UpgradeRule:
        """The domain's rule."""
        return UpgradeRule(self.name, self.when, self.to, tuple(self.from_), self.more_than)


def default_upgrades() -> list[AutoUpgradeRule]:
    return [
        AutoUpgradeRule(name=r.name, when=r.when, to=r.to, from_=list(r.severities), more_than=r.more_than)
        for r in DEFAULT_UPGRADES
    ]


class UpdatesConfig(_Section):
    """Stakeholder-update templates per severity (`$ref`, `$title`, `$severity`, `$status`, `$services`,
    `$next_update`); missing severities keep the built-in template."""

    templates: dict[SeverityKey, str] = Field(default_factory=dict)

    @field_validator("templates")
    @classmethod
    def _check_templates(cls, value: dict[Severity, str]) -> dict[Severity, str]:
        """Not empty, not longer than a status update may be."""
        for sev, text in value.items():
            if not text.strip() or len(text) > TEMPLATE_MAX:
                raise ValueError(f"{sev.value}: a template needs 1 to {TEMPLATE_MAX} characters")
        return value


def check_pagerduty_names(config: AppConfig) -> None:
    """Every PagerDuty service a tier or a team names is `oncall` or configured under `pagerduty.services`."""
    known = {ONCALL, *config.pagerduty.services}
    for i, tier in enumerate(config.escalation.tiers):
        for name in tier.pagerduty:
            if name not in known:
                raise ValueError(f"escalation.tiers[{i}].pagerduty: unknown service {name!r} ({_known(known)})")
    for team_name, team in config.teams.items():
        if team.pagerduty is not None and team.pagerduty not in known:
            raise ValueError(f"teams.{team_name}.pagerduty: unknown service {team.pagerduty!r} ({_known(known)})")


def _known(known: set[str]) -> str:
    return "services: " + ", ".join(sorted(known)) + "; add others under pagerduty.services"


def response_lines(config: AppConfig, settings: Settings, environ: Mapping[str, str] = os.environ) -> list[str]:
    """check-config's summary of the response: tiers, rotations, PagerDuty services (whether their keys are
    set, never the keys), reminders and auto-upgrade rules."""
    tiers = ", ".join(f"{t.name or 'tier'} +{t.after_minutes}m" for t in config.escalation.tiers)
    rotations = ", ".join(f"{r.name} ({r.every}, {len(r.users)} users)" for r in config.oncall.rotations) or "none"
    services = [
        f"oncall ({'PAGERDUTY_ROUTING_KEY set' if settings.pagerduty_enabled else 'off: no PAGERDUTY_ROUTING_KEY'})"
    ]
    for name, s in config.pagerduty.services.items():
        state = "set" if environ.get(s.routing_key_env) else "NOT SET: not paged"
        services.append(f"{name} ({s.routing_key_env} {state})")
    r = config.reminders
    upgrades = ", ".join(u.name for u in config.auto_upgrade) or "none"
    return [
        f"  ladder:           {tiers}",
        f"  rotations:        {rotations}",
        f"  pagerduty:        {'; '.join(services)}",
        f"  reminders:        no commander after {r.commander_after_minutes} min;"
        f" open after {r.resolution_after_hours} h",
        f"  auto-upgrade:     {upgrades}",
    ]


def response_policy(config: AppConfig) -> ResponsePolicy:
    """The domain's response policy from the rules file."""
    tiers = tuple(Tier(t.after_minutes, t.name, tuple(t.notify), tuple(t.pagerduty)) for t in config.escalation.tiers)
    oncall = OnCall(
        tuple(config.oncall.users), config.oncall.slack_group, tuple(r.rotation() for r in config.oncall.rotations)
    )
    teams = {
        name: Team(tuple(t.members), t.slack_group, t.pagerduty) for name, t in config.teams.items()
    }  # fmt: skip
    r = config.reminders
    reminders = ReminderPolicy(
        r.commander_after_minutes, r.commander_every_minutes, r.resolution_after_hours, r.resolution_every_hours
    )
    templates = {**DEFAULT_TEMPLATES, **config.updates.templates}
    upgrades = tuple(u.rule() for u in config.auto_upgrade)
    return ResponsePolicy(EscalationPolicy(tiers), oncall, teams, reminders, upgrades, templates)
