"""The rules file (`warroom.yml`) as pydantic models: `AppConfig` and its sections.

It holds policy that is not secret: channels, on-call, teams, approvers, SLAs, grouping, severity rules,
silences, escalation tiers and the CloudWatch topics. Unknown keys are errors and values are immutable; what a
rule or a silence matches is decided in the domain (bot.domain.severity, bot.domain.silence).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from bot.config.authority import ApproversConfig, PermissionsConfig
from bot.config.diagnosis import DiagnosisConfig
from bot.config.fields import (
    CHANNEL_NAME,
    CHANNEL_PREFIX,
    LabelName,
    LabelValue,
    NotifyTarget,
    Regex,
    SeverityKey,
    TeamName,
    UserId,
    severity_key,
)
from bot.config.outbound import DiscordConfig, JiraConfig, LinksConfig, PostmortemConfig
from bot.config.remediation import RemediationConfig
from bot.config.reports import ReportsConfig
from bot.config.response_rules import (
    AutoUpgradeRule,
    PagerDutyConfig,
    RemindersConfig,
    RotationConfig,
    ServiceName,
    UpdatesConfig,
    check_pagerduty_names,
    default_upgrades,
)
from bot.domain.incident import Severity
from bot.domain.policy import DEFAULT_SLA
from bot.domain.severity import rule_matches
from bot.domain.silence import covers, in_force


class _Section(BaseModel):
    """Base of every rules-file model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelsConfig(_Section):
    """Slack channel names."""

    announcements: str = "incidents"
    prefix: str = "inc"

    @field_validator("announcements")
    @classmethod
    def _check_announcements(cls, value: str) -> str:
        """A Slack channel name (a leading `#` is dropped)."""
        name = value.removeprefix("#")
        if not CHANNEL_NAME.match(name):
            raise ValueError(f"{value!r} is not a Slack channel name (lowercase a-z, 0-9, '-', '_', at most 80)")
        return name

    @field_validator("prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        """War-room channels are `<prefix>-YYYYMMDD-<slug>`."""
        if not CHANNEL_PREFIX.match(value):
            raise ValueError(f"{value!r} is not a valid channel prefix (lowercase a-z, 0-9, '-', '_', at most 20)")
        return value


class OncallConfig(_Section):
    """Who is on call: invited to every war room and paged first."""

    users: list[UserId] = Field(default_factory=list)
    slack_group: str | None = Field(default=None, min_length=1)
    rotations: list[RotationConfig] = Field(default_factory=list)


class TeamConfig(_Section):
    """A team: its members, its Slack user group and the services it owns."""

    members: list[UserId] = Field(default_factory=list)
    slack_group: str | None = Field(default=None, min_length=1)
    services: list[str] = Field(default_factory=list)
    pagerduty: ServiceName | None = None


class SlaTarget(_Section):
    """Response targets of one severity, in minutes (`update_minutes: null`: no status-update cadence;
    `detect_minutes: null`: no detection target)."""

    ack_minutes: int = Field(gt=0)
    update_minutes: int | None = Field(gt=0)
    resolve_minutes: int = Field(gt=0)
    detect_minutes: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _check_order(self) -> SlaTarget:
        """Resolving cannot be due before acknowledging."""
        if self.resolve_minutes < self.ack_minutes:
            raise ValueError(f"resolve_minutes: must be >= ack_minutes ({self.resolve_minutes} < {self.ack_minutes})")
        return self


class GroupingConfig(_Section):
    """How alerts are grouped into incidents."""

    by: list[LabelName] = Field(default_factory=lambda: ["service", "alertname"], min_length=1)
    correlation_window_minutes: int = Field(default=30, gt=0)
    auto_declare_at: Severity = Severity.SEV3
    card_refresh_seconds: float = Field(default=5.0, gt=0, le=300)


class SeverityRule(_Section):
    """A classification rule: when every condition matches an alert's labels, it gets `severity`.

    Regular expressions are anchored (full match), as in Alertmanager; a missing label matches as "".
    """

    name: str = Field(min_length=1)
    match: dict[LabelName, LabelValue] = Field(default_factory=dict)
    match_re: dict[LabelName, Regex] = Field(default_factory=dict)
    alertname: Regex | None = None
    severity: Severity
    reason: str = ""

    def matches(self, labels: Mapping[str, str]) -> bool:
        """True when every condition of the rule holds for these labels."""
        return rule_matches(labels, match=self.match, match_re=self.match_re, alertname=self.alertname)

    @property
    def why(self) -> str:
        """The reason to show, falling back to the rule name."""
        return self.reason or f"rule {self.name}"


class Silence(_Section):
    """A maintenance window: matching alerts are recorded but declare nothing."""

    matchers: dict[LabelName, LabelValue]
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    comment: str = ""

    @field_validator("matchers")
    @classmethod
    def _check_matchers(cls, value: dict[str, str]) -> dict[str, str]:
        """A silence without matchers would silence everything."""
        if not value:
            raise ValueError("at least one matcher is required (an empty silence would mute every alert)")
        return value

    @model_validator(mode="after")
    def _check_window(self) -> Silence:
        """The window must end after it starts."""
        if self.ends_at <= self.starts_at:
            raise ValueError(
                f"ends_at: must be after starts_at ({self.ends_at.isoformat()} <= {self.starts_at.isoformat()})"
            )
        return self

    def matches(self, labels: Mapping[str, str]) -> bool:
        """True when every matcher equals the label's value."""
        return covers(self.matchers, labels)

    def is_active(self, now: datetime) -> bool:
        """True while `now` is inside [starts_at, ends_at)."""
        return in_force(self.starts_at, self.ends_at, now)


class EscalationTier(_Section):
    """Who to notify once an incident has been unacknowledged for `after_minutes`."""

    after_minutes: int = Field(ge=0)
    name: str = ""
    notify: list[NotifyTarget] = Field(default_factory=list)
    pagerduty: list[ServiceName] = Field(default_factory=list)


def _default_tiers() -> list[EscalationTier]:
    """DESIGN.md tiers: on-call 0-15, senior + lead 15-30, manager + director 30-60, VP 60+."""
    return [
        EscalationTier(after_minutes=0, name="on-call", notify=["oncall"], pagerduty=["oncall"]),
        EscalationTier(after_minutes=15, name="senior + lead"),
        EscalationTier(after_minutes=30, name="manager + director"),
        EscalationTier(after_minutes=60, name="VP"),
    ]


class EscalationConfig(_Section):
    """Escalation tiers, in increasing `after_minutes` order."""

    tiers: list[EscalationTier] = Field(default_factory=_default_tiers, min_length=1)

    @field_validator("tiers")
    @classmethod
    def _check_increasing(cls, tiers: list[EscalationTier]) -> list[EscalationTier]:
        """Tiers must come in strictly increasing time order."""
        for prev, cur in itertools.pairwise(tiers):
            if cur.after_minutes <= prev.after_minutes:
                raise ValueError(
                    f"after_minutes must increase from tier to tier ({prev.after_minutes} then {cur.after_minutes})"
                )
        return tiers


class CloudWatchConfig(_Section):
    """CloudWatch alarms via SNS: the topics whose notifications are accepted (exact ARNs or `...:*`)."""

    topics: list[str] = Field(default_factory=list)

    @field_validator("topics")
    @classmethod
    def _check_arns(cls, topics: list[str]) -> list[str]:
        """Each entry is an SNS topic ARN, optionally ending in `*`."""
        for t in topics:
            if not re.fullmatch(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.*-]+", t):
                raise ValueError(f"{t!r} is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<topic>)")
        return topics


class RedactionConfig(_Section):
    """What the redactor hides besides secrets, emails, phone numbers and card numbers: IP addresses `none`,
    `public` (default: private, loopback and link-local addresses name infrastructure) or `all`."""

    ip_addresses: Literal["none", "public", "all"] = "public"


class AppConfig(_Section):
    """The whole rules file (`warroom.yml`); every section has defaults."""

    channels: ChannelsConfig = Field(default_factory=ChannelsConfig)
    oncall: OncallConfig = Field(default_factory=OncallConfig)
    teams: dict[TeamName, TeamConfig] = Field(default_factory=dict)
    approvers: ApproversConfig = Field(default_factory=ApproversConfig)
    permissions: PermissionsConfig = Field(default_factory=PermissionsConfig)
    sla: dict[SeverityKey, SlaTarget] = Field(default_factory=dict, validate_default=True)
    grouping: GroupingConfig = Field(default_factory=GroupingConfig)
    severity_rules: list[SeverityRule] = Field(default_factory=list)
    silences: list[Silence] = Field(default_factory=list)
    escalation: EscalationConfig = Field(default_factory=EscalationConfig)
    cloudwatch: CloudWatchConfig = Field(default_factory=CloudWatchConfig)
    diagnosis: DiagnosisConfig = Field(default_factory=DiagnosisConfig)
    redaction: RedactionConfig = Field(default_factory=RedactionConfig)
    links: LinksConfig = Field(default_factory=LinksConfig)
    jira: JiraConfig = Field(default_factory=JiraConfig)
    discord: DiscordConfig = Field(default_factory=DiscordConfig)
    pagerduty: PagerDutyConfig = Field(default_factory=PagerDutyConfig)
    reminders: RemindersConfig = Field(default_factory=RemindersConfig)
    auto_upgrade: list[AutoUpgradeRule] = Field(default_factory=default_upgrades)
    updates: UpdatesConfig = Field(default_factory=UpdatesConfig)
    remediation: RemediationConfig = Field(default_factory=RemediationConfig)
    postmortem: PostmortemConfig = Field(default_factory=PostmortemConfig)
    reports: ReportsConfig = Field(default_factory=ReportsConfig)

    _source: Path | None = PrivateAttr(default=None)

    @field_validator("sla", mode="before")
    @classmethod
    def _merge_sla_defaults(cls, value: Any) -> Any:
        """Fill in missing severities and missing fields from DEFAULT_SLA."""
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            return value  # pydantic reports the type
        merged: dict[Any, Any] = {sev.value: asdict(d) for sev, d in DEFAULT_SLA.items()}
        for key, given in value.items():
            try:
                sev = severity_key(key)
            except ValueError:
                merged[key] = given  # the key validator reports it
                continue
            if isinstance(given, Mapping):
                merged[sev.value] = {**asdict(DEFAULT_SLA[sev]), **given}
            else:
                merged[sev.value] = given
        return merged

    @model_validator(mode="after")
    def _check_references(self) -> AppConfig:
        """Rule names are unique and `team:<name>` targets name a configured team."""
        seen: set[str] = set()
        for i, rule in enumerate(self.severity_rules):
            if rule.name in seen:
                raise ValueError(f"severity_rules[{i}].name: duplicate rule name {rule.name!r}")
            seen.add(rule.name)
        for i, tier in enumerate(self.escalation.tiers):
            for target in tier.notify:
                if target.startswith("team:") and target[5:] not in self.teams:
                    known = ", ".join(sorted(self.teams)) or "none configured"
                    raise ValueError(f"escalation.tiers[{i}].notify: unknown team {target[5:]!r} (teams: {known})")
        check_pagerduty_names(self)
        names = [r.name for r in self.auto_upgrade]
        if len(names) != len(set(names)):
            raise ValueError("auto_upgrade: rule names must be unique")
        return self

    @property
    def source(self) -> Path | None:
        """The file this configuration was loaded from (None for built-in defaults)."""
        return self._source

    def sla_for(self, severity: Severity) -> SlaTarget:
        """The SLA targets of one severity (always present after defaults are merged)."""
        return self.sla[severity]

    def team_for_service(self, service: str) -> str | None:
        """The name of the first team that owns `service`, if any."""
        return next((name for name, team in self.teams.items() if service in team.services), None)
