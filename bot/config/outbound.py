"""The rules-file sections of what goes out to people outside the war room: `jira`, `discord` and `links`.

The credentials and addresses are environment settings (JIRA_*, DISCORD_*); these are the policy: how a ticket
maps onto the project's fields, which events it hears of, its transitions, the outbound rates, who is pinged.
"""

from __future__ import annotations

import re
import string
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.config.fields import SeverityKey
from bot.domain.events import EventKind
from bot.domain.incident import Severity

_TEMPLATE_FIELDS = {
    "summary": {"severity", "ref", "title", "services", "status"},
    "links": {"channel_id", "channel_name", "ref", "service", "alertname"},
}
DEFAULT_PRIORITIES = dict(zip(Severity, ("Highest", "High", "High", "Medium", "Low"), strict=True))
DEFAULT_COMMENT_ON = [
    "incident.acknowledged", "incident.severity_changed", "incident.role_assigned", "incident.status_update",
    "incident.status_changed", "incident.resolved", "room.opened",
]  # fmt: skip


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_template(value: str | None, allowed: set[str]) -> str | None:
    """A `str.format` template that uses only the allowed names."""
    if value is None:
        return None
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid template: {exc}") from None
    unknown = names - allowed
    if unknown or any(not n for n in names):
        raise ValueError(f"{value!r} uses unknown fields {sorted(unknown)} (known: {', '.join(sorted(allowed))})")
    return value


class LinksConfig(_Section):
    """URL templates of the links tickets and notices carry; `null` leaves a link out."""

    war_room: str | None = "https://slack.com/app_redirect?channel={channel_id}"
    runbook: str | None = None

    @field_validator("war_room", "runbook")
    @classmethod
    def _check(cls, value: str | None) -> str | None:
        """An http(s) URL template using the incident's fields."""
        if value is not None and not re.match(r"^https?://\S+\Z", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return _check_template(value, _TEMPLATE_FIELDS["links"])


class JiraTransitions(_Section):
    """Names of the Jira transitions (or of the statuses they lead to) tried, in order, for each move."""

    resolved: list[str] = Field(default_factory=lambda: ["Resolve Issue", "Resolve", "Done", "Resolved"])
    closed: list[str] = Field(default_factory=lambda: ["Close Issue", "Close", "Closed", "Done"])
    reopened: list[str] = Field(default_factory=lambda: ["Reopen Issue", "Reopen", "To Do", "Open"])


class JiraConfig(_Section):
    """How incidents become Jira tickets (on when JIRA_URL, JIRA_USER, JIRA_API_TOKEN, JIRA_PROJECT are set)."""

    issue_type: str = Field(default="Task", min_length=1)
    summary: str = "[{severity}] {ref}: {title}"
    labels: list[str] = Field(default_factory=lambda: ["warroom", "incident"])
    priority_field: str | None = "priority"
    priorities: dict[SeverityKey, str] = Field(default_factory=lambda: dict(DEFAULT_PRIORITIES))
    severity_field: str | None = None
    services_field: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    comment_on: list[str] = Field(default_factory=lambda: list(DEFAULT_COMMENT_ON))
    transitions: JiraTransitions = Field(default_factory=JiraTransitions)
    creates_per_hour: int = Field(default=20, ge=1)
    breaker_failures: int = Field(default=3, ge=1)
    breaker_open_minutes: float = Field(default=15.0, gt=0)
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @field_validator("summary")
    @classmethod
    def _check_summary(cls, value: str) -> str:
        """A template of the incident's fields."""
        _check_template(value, _TEMPLATE_FIELDS["summary"])
        return value

    @field_validator("labels")
    @classmethod
    def _check_labels(cls, value: list[str]) -> list[str]:
        """Jira labels hold no spaces."""
        for label in value:
            if not label or any(c.isspace() for c in label):
                raise ValueError(f"{label!r} is not a Jira label (no spaces, not empty)")
        return value

    @field_validator("comment_on")
    @classmethod
    def _check_kinds(cls, value: list[str]) -> list[str]:
        """Event kinds the bot records."""
        known = {k.value for k in EventKind}
        unknown = [k for k in value if k not in known]
        if unknown:
            raise ValueError(f"unknown event kinds {unknown} (known: {', '.join(sorted(known))})")
        return value


class DiscordConfig(_Section):
    """The Discord alert channel (on when DISCORD_ALERTS_WEBHOOK_URL is set) and the reports channel."""

    role_id: str | None = None
    ping_at: SeverityKey = Severity.SEV2
    messages_per_minute: int = Field(default=5, ge=1, le=30)
    username: str | None = Field(default="warroom", min_length=1, max_length=80)

    @field_validator("role_id", mode="before")
    @classmethod
    def _check_role(cls, value: Any) -> str | None:
        """A Discord role id (a snowflake: 17 to 20 digits; YAML may read it as a number)."""
        if value is None:
            return None
        if isinstance(value, bool) or not re.fullmatch(r"\d{17,20}", str(value)):
            raise ValueError(f"{value!r} is not a Discord role id (17 to 20 digits)")
        return str(value)


class PostmortemConfig(_Section):
    """The post-mortem draft: `template`, a Jinja2 Markdown template replacing the built-in one (a path relative
    to the rules file; checked at start-up)."""

    template: str | None = Field(default=None, min_length=1)
