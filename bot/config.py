"""Configuration: `Settings` from the environment and `AppConfig` from the `warroom.yml` rules file.

Environment variables (DESIGN.md section 5) are read by `Settings`; every secret is a `SecretStr`, so
`repr()`, `str()` and JSON dumps of the settings never show one. The rules file holds policy that is
not secret: channels, on-call, teams, approvers, SLAs, grouping, severity rules, silences and
escalation tiers. Both report problems as `ConfigError`, one line per problem, naming the source,
the key path and what is wrong.
"""

from __future__ import annotations

import itertools
import re
import types
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain.incident import Severity
from bot.exposure import exposure_lines, exposure_problems, is_loopback_host

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_SLA",
    "AppConfig",
    "ChannelsConfig",
    "ConfigError",
    "EscalationConfig",
    "EscalationTier",
    "GroupingConfig",
    "OncallConfig",
    "Settings",
    "SeverityRule",
    "Silence",
    "SlaTarget",
    "TeamConfig",
    "check_config",
    "load_config",
    "load_settings",
    "parse_config",
    "resolve_config_path",
]

DEFAULT_CONFIG_FILE = Path("warroom.yml")
"""The rules file used when `WARROOM_CONFIG` is not set (relative to the working directory)."""

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """Invalid settings or rules file; the message has one line per problem (source: key: problem)."""

    def __init__(self, source: str, problems: list[str]) -> None:
        """Keep the source name and the problems (`key: problem` strings) for callers."""
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


# --------------------------------------------------------------------------------------------------
# Settings (environment)
# --------------------------------------------------------------------------------------------------


_URL_PASSWORD = re.compile(r"(://[^:/@?#]*:)([^@/?#]*)@")


def _mask_url_password(url: str) -> str:
    """`scheme://user:secret@host/db` -> `scheme://user:***@host/db`."""
    return _URL_PASSWORD.sub(r"\1***@", url)


def _check_http_url(value: str | None) -> str | None:
    """Reject values that are not http(s) URLs (None passes)."""
    if value is None:
        return None
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


class Settings(BaseSettings):
    """Process settings from the environment (and an optional `.env` file); secrets are `SecretStr`.

    Operational knobs besides the DESIGN.md contract:

    - `WARROOM_LOG_LEVEL`: DEBUG, INFO (default), WARNING, ERROR or CRITICAL.
    - `WARROOM_OUTBOX_MAX_ATTEMPTS`: deliveries are dead-lettered after this many attempts (10).
    - `WARROOM_OUTBOX_BASE_DELAY` / `WARROOM_OUTBOX_MAX_DELAY`: exponential retry backoff in seconds,
      starting at the base delay and capped at the max delay (1.0 / 300).
    - `WARROOM_OUTBOX_LEASE_SECONDS`: how long a claimed delivery or timer stays leased to one worker
      before another replica may take it over (60).
    - `WARROOM_LOCAL_MODE`: true/false forces local mode on or off; unset = local mode when
      `SLACK_BOT_TOKEN` is not set.
    - `WARROOM_LOCAL_MODE_PUBLIC`: local mode refuses to listen on a non-loopback `WARROOM_HOST` unless
      this is true (false); even then the webhooks need `WARROOM_ALERT_TOKEN` and the built-in Slack
      emulator answers loopback clients only.
    - `WARROOM_SNS_MAX_AGE_SECONDS`: SNS messages whose signed `Timestamp` is older are refused as
      replays (3600, SNS's longest retry policy); more than 5 minutes in the future is refused too.
    - `FORWARDED_ALLOW_IPS`: the proxies whose `X-Forwarded-For` names the client (uvicorn's variable,
      `127.0.0.1,::1`); who counts as a loopback client is judged from that client address.
    - `WARROOM_SLACK_RATE_SCALE`: multiplies the Slack client's proactive per-tier pacing
      (1.0 = Slack's published tiers, 0 = no pacing; 429 Retry-After is always honoured).
    """

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        case_sensitive=True,
        env_ignore_empty=True,
        extra="ignore",
        # Only the exact variable names are read: with validate_by_name pydantic-settings would also
        # read `port`, `database_url`, ... from the environment. Construct with the variable names
        # too, e.g. Settings(_env_file=None, WARROOM_PORT=0), or use model_copy(update={...}).
        validate_by_name=False,
        validate_by_alias=True,
        validate_default=True,
        hide_input_in_errors=True,
    )

    # Core
    database_url: str = Field(
        default="sqlite+aiosqlite:///./warroom.db",
        validation_alias="WARROOM_DATABASE_URL",
        repr=False,
        description="SQLAlchemy URL (async driver).",
    )
    sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        default="NORMAL",
        validation_alias="WARROOM_SQLITE_SYNCHRONOUS",
        description=(
            "SQLite only. NORMAL: a commit (an alert's 202) survives a crash of the bot; FULL: it also survives"
            " a power loss (an fsync per commit)."
        ),
    )
    config_path: Path | None = Field(
        default=None, validation_alias="WARROOM_CONFIG", description="Path of the rules file."
    )
    host: str = Field(default="127.0.0.1", validation_alias="WARROOM_HOST", description="HTTP listen host.")
    port: int = Field(default=8080, ge=0, le=65535, validation_alias="WARROOM_PORT", description="HTTP listen port.")

    # Slack
    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")

    # Our own HTTP API and webhooks
    api_token: SecretStr | None = Field(default=None, validation_alias="WARROOM_API_TOKEN")
    api_public_read: bool = Field(default=False, validation_alias="WARROOM_API_PUBLIC_READ")
    alert_token: SecretStr | None = Field(default=None, validation_alias="WARROOM_ALERT_TOKEN")

    # Diagnostics
    prometheus_url: str | None = Field(default=None, validation_alias="PROMETHEUS_URL")
    aws_endpoint_url: str | None = Field(default=None, validation_alias="AWS_ENDPOINT_URL")

    # Jira
    jira_url: str | None = Field(default=None, validation_alias="JIRA_URL")
    jira_user: str | None = Field(default=None, validation_alias="JIRA_USER")
    jira_api_token: SecretStr | None = Field(default=None, validation_alias="JIRA_API_TOKEN")
    jira_project: str | None = Field(default=None, validation_alias="JIRA_PROJECT")

    # PagerDuty
    pagerduty_routing_key: SecretStr | None = Field(default=None, validation_alias="PAGERDUTY_ROUTING_KEY")
    pagerduty_events_url: str = Field(
        default="https://events.pagerduty.com/v2/enqueue", validation_alias="PAGERDUTY_EVENTS_URL"
    )

    # Discord (webhook URLs embed their token, so they are secrets)
    discord_alerts_webhook_url: SecretStr | None = Field(default=None, validation_alias="DISCORD_ALERTS_WEBHOOK_URL")
    discord_reports_webhook_url: SecretStr | None = Field(default=None, validation_alias="DISCORD_REPORTS_WEBHOOK_URL")
    discord_api_url: str = Field(default="https://discord.com/api/v10", validation_alias="DISCORD_API_URL")

    # Operational knobs (see the class docstring)
    log_level: str = Field(default="INFO", validation_alias="WARROOM_LOG_LEVEL")
    outbox_max_attempts: int = Field(default=10, ge=1, validation_alias="WARROOM_OUTBOX_MAX_ATTEMPTS")
    outbox_base_delay: float = Field(default=1.0, ge=0, validation_alias="WARROOM_OUTBOX_BASE_DELAY")
    outbox_max_delay: float = Field(default=300.0, ge=0, validation_alias="WARROOM_OUTBOX_MAX_DELAY")
    outbox_lease_seconds: float = Field(default=60.0, gt=0, validation_alias="WARROOM_OUTBOX_LEASE_SECONDS")
    local_mode_setting: bool | None = Field(default=None, validation_alias="WARROOM_LOCAL_MODE")
    slack_rate_scale: float = Field(default=1.0, ge=0, validation_alias="WARROOM_SLACK_RATE_SCALE")
    local_mode_public: bool = Field(default=False, validation_alias="WARROOM_LOCAL_MODE_PUBLIC")
    sns_max_age_seconds: int = Field(default=3600, gt=0, validation_alias="WARROOM_SNS_MAX_AGE_SECONDS")
    forwarded_allow_ips: str = Field(default="127.0.0.1,::1", validation_alias="FORWARDED_ALLOW_IPS")

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        """Require `dialect[+driver]://...` (the value is never echoed: it may hold a password)."""
        if not re.match(r"^[A-Za-z][A-Za-z0-9_]*(\+[A-Za-z0-9_]+)?://", value):
            raise ValueError(
                "not a SQLAlchemy URL: expected dialect[+driver]://..., "
                "like sqlite+aiosqlite:///./warroom.db (value not shown: it may hold a password)"
            )
        return value

    @field_validator("prometheus_url", "aws_endpoint_url", "jira_url", "pagerduty_events_url")
    @classmethod
    def _check_urls(cls, value: str | None) -> str | None:
        """Plain URL settings must be http(s) URLs."""
        return _check_http_url(value)

    @field_validator("slack_api_url")
    @classmethod
    def _slack_trailing_slash(cls, value: str) -> str:
        """slack_sdk joins method names to the base URL, so it must end with a slash."""
        _check_http_url(value)
        return value if value.endswith("/") else value + "/"

    @field_validator("discord_api_url")
    @classmethod
    def _discord_no_trailing_slash(cls, value: str) -> str:
        """discord.py appends `/webhooks/...` to the base, so drop a trailing slash."""
        _check_http_url(value)
        return value.rstrip("/")

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        """Normalize to an upper-case logging level name."""
        level = value.strip().upper()
        level = "WARNING" if level == "WARN" else level
        if level not in _LOG_LEVELS:
            raise ValueError(f"unknown log level {value!r} (use {', '.join(_LOG_LEVELS)})")
        return level

    @model_validator(mode="after")
    def _check_delays(self) -> Settings:
        """The backoff cap cannot be below the base delay."""
        if self.outbox_max_delay < self.outbox_base_delay:
            raise ValueError(
                "WARROOM_OUTBOX_MAX_DELAY must be >= WARROOM_OUTBOX_BASE_DELAY "
                f"({self.outbox_max_delay} < {self.outbox_base_delay})"
            )
        return self

    @field_serializer("database_url", when_used="json")
    def _serialize_database_url(self, value: str) -> str:
        """JSON dumps show the database URL without its password."""
        return _mask_url_password(value)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """Show the database URL with its password masked (SecretStr fields mask themselves)."""
        yield "database_url", self.database_url_display
        yield from super().__repr_args__()

    @classmethod
    def env_names(cls) -> list[str]:
        """Every environment variable name Settings reads, in declaration order."""
        return [str(f.validation_alias) for f in cls.model_fields.values()]

    @property
    def database_url_display(self) -> str:
        """The database URL with any password replaced by `***` (safe for logs and output)."""
        return _mask_url_password(self.database_url)

    @property
    def local_mode(self) -> bool:
        """Local mode: forced by WARROOM_LOCAL_MODE, else on when no SLACK_BOT_TOKEN is set."""
        if self.local_mode_setting is not None:
            return self.local_mode_setting
        return self.slack_bot_token is None

    @property
    def listens_on_loopback(self) -> bool:
        """True when WARROOM_HOST is a loopback address (or `localhost`): nothing else can connect."""
        return is_loopback_host(self.host)

    @property
    def trusted_proxies(self) -> list[str]:
        """FORWARDED_ALLOW_IPS as a list."""
        return [p.strip() for p in self.forwarded_allow_ips.split(",") if p.strip()]

    @property
    def is_sqlite(self) -> bool:
        """True when the database URL is SQLite (any driver)."""
        return self.database_url.split(":", 1)[0].split("+", 1)[0].lower() == "sqlite"

    @property
    def slack_configured(self) -> bool:
        """A bot token plus a way to receive events (signing secret for HTTP or app token for Socket Mode)."""
        return self.slack_bot_token is not None and (
            self.slack_signing_secret is not None or self.slack_app_token is not None
        )

    @property
    def socket_mode(self) -> bool:
        """Slack Socket Mode is used when SLACK_APP_TOKEN is set."""
        return self.slack_app_token is not None

    @property
    def jira_enabled(self) -> bool:
        """Jira is on when URL, user, API token and project are all set."""
        return all(v is not None for v in (self.jira_url, self.jira_user, self.jira_api_token, self.jira_project))

    @property
    def pagerduty_enabled(self) -> bool:
        """Paging through PagerDuty is on when a routing key is set."""
        return self.pagerduty_routing_key is not None

    def secret_values(self) -> list[str]:
        """Plain values of every non-empty secret, for log redaction (never log this list).

        Besides each `SecretStr`, this includes the token part of Discord webhook URLs (the bot
        sends it separately to DISCORD_API_URL) and the database password, if the URL has one.
        """
        values: list[str] = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr) and value.get_secret_value():
                values.append(value.get_secret_value())
        for url in (self.discord_alerts_webhook_url, self.discord_reports_webhook_url):
            if url is not None:
                match = re.search(r"/webhooks/[^/]+/([^/?#]+)", url.get_secret_value())
                if match:
                    values.append(match.group(1))
        match = _URL_PASSWORD.search(self.database_url)
        if match and match.group(2):
            values.append(match.group(2))
        return list(dict.fromkeys(values))

    def problems(self) -> list[str]:
        """Inconsistent combinations of settings (each a human sentence naming the variables)."""
        found: list[str] = []
        if self.slack_bot_token is not None and not self.slack_configured:
            found.append(
                "SLACK_BOT_TOKEN is set but neither SLACK_SIGNING_SECRET (HTTP mode) "
                "nor SLACK_APP_TOKEN (Socket Mode) is"
            )
        if self.slack_bot_token is None and (self.slack_signing_secret or self.slack_app_token):
            found.append("SLACK_SIGNING_SECRET or SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not")
        if self.local_mode_setting is False and self.slack_bot_token is None:
            found.append("WARROOM_LOCAL_MODE=false needs SLACK_BOT_TOKEN")
        found.extend(exposure_problems(self))
        jira = {
            "JIRA_URL": self.jira_url,
            "JIRA_USER": self.jira_user,
            "JIRA_API_TOKEN": self.jira_api_token,
            "JIRA_PROJECT": self.jira_project,
        }
        missing = [k for k, v in jira.items() if v is None]
        if 0 < len(missing) < len(jira):
            found.append(f"Jira is partly configured: {', '.join(missing)} not set")
        return found


def _env_problems(exc: ValidationError) -> list[str]:
    """Format a Settings ValidationError: `VARIABLE: problem` lines (secret inputs never echoed)."""
    secret_names = {
        str(f.validation_alias) for f in Settings.model_fields.values() if _unwrap(f.annotation) is SecretStr
    }
    lines = []
    for err in exc.errors():
        loc = _format_loc(err["loc"])
        msg = _clean_message(err["msg"])
        if loc not in secret_names and err["type"] not in _NO_INPUT_ECHO and _is_scalar(err.get("input")):
            msg += f" (got {err['input']!r})"
        lines.append(f"{loc}: {msg}" if loc else msg)
    return lines


def load_settings(env_file: str | Path | None = ".env") -> Settings:
    """Read Settings from the environment (and `env_file` if it exists); raise ConfigError when invalid."""
    try:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise ConfigError("environment", _env_problems(exc)) from None


# --------------------------------------------------------------------------------------------------
# The rules file (warroom.yml)
# --------------------------------------------------------------------------------------------------

_USER_ID = re.compile(r"^[UW][A-Z0-9]+$")
_NOTIFY_TARGET = re.compile(r"^(oncall|team:[A-Za-z0-9_.-]+|[UW][A-Z0-9]+|S[A-Z0-9]+)$")
_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TEAM_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_CHANNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
_CHANNEL_PREFIX = re.compile(r"^[a-z0-9][a-z0-9_-]{0,19}$")


def _user_id(value: str) -> str:
    """A Slack user id such as U0ALICE or W0BOB (enterprise)."""
    if not _USER_ID.match(value):
        raise ValueError(f"{value!r} is not a Slack user id (like U0ALICE)")
    return value


def _notify_target(value: str) -> str:
    """A user id, a user group id, `oncall` or `team:<name>`."""
    if not _NOTIFY_TARGET.match(value):
        raise ValueError(f"{value!r} is not a Slack user id (U...), user group id (S...), 'oncall' or 'team:<name>'")
    return value


def _label_name(value: str) -> str:
    """A Prometheus label name."""
    if not _LABEL_NAME.match(value):
        raise ValueError(f"{value!r} is not a valid label name (letters, digits, underscores)")
    return value


def _team_name(value: str) -> str:
    """Team names are used as `team:<name>` and in commands, so keep them simple."""
    if not _TEAM_NAME.match(value):
        raise ValueError(f"{value!r} is not a valid team name (letters, digits, '.', '_', '-')")
    return value


def _label_value(value: Any) -> Any:
    """YAML turns `true`/`1` into bool/int; label values are strings, so turn them back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _compile_regex(value: Any) -> Any:
    """Compile a regular expression, explaining a syntax error."""
    if isinstance(value, re.Pattern):
        return value
    if not isinstance(value, str):
        return value  # let pydantic report the type
    try:
        return re.compile(value)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {value!r}: {exc}") from None


def _severity_key(value: Any) -> Any:
    """SLA map keys: SEV0..SEV4 (any case)."""
    if isinstance(value, Severity):
        return value
    text = str(value).strip().upper()
    try:
        return Severity(text)
    except ValueError:
        raise ValueError(f"unknown severity {value!r} (use SEV0..SEV4)") from None


UserId = Annotated[str, AfterValidator(_user_id)]
NotifyTarget = Annotated[str, AfterValidator(_notify_target)]
LabelName = Annotated[str, AfterValidator(_label_name)]
LabelValue = Annotated[str, BeforeValidator(_label_value)]
TeamName = Annotated[str, AfterValidator(_team_name)]
Regex = Annotated[
    re.Pattern[str],
    BeforeValidator(_compile_regex),
    PlainSerializer(lambda p: p.pattern, return_type=str),
]
SeverityKey = Annotated[Severity, BeforeValidator(_severity_key)]


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
        if not _CHANNEL_NAME.match(name):
            raise ValueError(f"{value!r} is not a Slack channel name (lowercase a-z, 0-9, '-', '_', at most 80)")
        return name

    @field_validator("prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        """War-room channels are `<prefix>-YYYYMMDD-<slug>`."""
        if not _CHANNEL_PREFIX.match(value):
            raise ValueError(f"{value!r} is not a valid channel prefix (lowercase a-z, 0-9, '-', '_', at most 20)")
        return value


class OncallConfig(_Section):
    """Who is on call: invited to every war room and paged first."""

    users: list[UserId] = Field(default_factory=list)
    slack_group: str | None = Field(default=None, min_length=1)


class TeamConfig(_Section):
    """A team: its members, its Slack user group and the services it owns."""

    members: list[UserId] = Field(default_factory=list)
    slack_group: str | None = Field(default=None, min_length=1)
    services: list[str] = Field(default_factory=list)


class SlaTarget(_Section):
    """Response targets of one severity, in minutes."""

    ack_minutes: int = Field(gt=0)
    update_minutes: int = Field(gt=0)
    resolve_minutes: int = Field(gt=0)

    @model_validator(mode="after")
    def _check_order(self) -> SlaTarget:
        """Resolving cannot be due before acknowledging."""
        if self.resolve_minutes < self.ack_minutes:
            raise ValueError(f"resolve_minutes: must be >= ack_minutes ({self.resolve_minutes} < {self.ack_minutes})")
        return self


DEFAULT_SLA: dict[Severity, dict[str, int]] = {
    Severity.SEV0: {"ack_minutes": 5, "update_minutes": 15, "resolve_minutes": 240},
    Severity.SEV1: {"ack_minutes": 15, "update_minutes": 15, "resolve_minutes": 480},
    Severity.SEV2: {"ack_minutes": 30, "update_minutes": 30, "resolve_minutes": 1440},
    Severity.SEV3: {"ack_minutes": 240, "update_minutes": 120, "resolve_minutes": 4320},
    Severity.SEV4: {"ack_minutes": 1440, "update_minutes": 1440, "resolve_minutes": 10080},
}
"""Default response SLAs per severity; a rules file overrides them per severity and per field."""


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
        if any(labels.get(k, "") != v for k, v in self.match.items()):
            return False
        if any(not p.fullmatch(labels.get(k, "")) for k, p in self.match_re.items()):
            return False
        return self.alertname is None or bool(self.alertname.fullmatch(labels.get("alertname", "")))

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
        return all(labels.get(k, "") == v for k, v in self.matchers.items())

    def is_active(self, now: datetime) -> bool:
        """True while `now` is inside [starts_at, ends_at)."""
        return self.starts_at <= now < self.ends_at


class EscalationTier(_Section):
    """Who to notify once an incident has been unacknowledged for `after_minutes`."""

    after_minutes: int = Field(ge=0)
    name: str = ""
    notify: list[NotifyTarget] = Field(default_factory=list)


def _default_tiers() -> list[EscalationTier]:
    """DESIGN.md tiers: on-call 0-15, senior + lead 15-30, manager + director 30-60, VP 60+."""
    return [
        EscalationTier(after_minutes=0, name="on-call", notify=["oncall"]),
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


class AppConfig(_Section):
    """The whole rules file (`warroom.yml`); every section has defaults."""

    channels: ChannelsConfig = Field(default_factory=ChannelsConfig)
    oncall: OncallConfig = Field(default_factory=OncallConfig)
    teams: dict[TeamName, TeamConfig] = Field(default_factory=dict)
    approvers: list[UserId] = Field(default_factory=list)
    sla: dict[SeverityKey, SlaTarget] = Field(default_factory=dict, validate_default=True)
    grouping: GroupingConfig = Field(default_factory=GroupingConfig)
    severity_rules: list[SeverityRule] = Field(default_factory=list)
    silences: list[Silence] = Field(default_factory=list)
    escalation: EscalationConfig = Field(default_factory=EscalationConfig)
    cloudwatch: CloudWatchConfig = Field(default_factory=CloudWatchConfig)

    _source: Path | None = PrivateAttr(default=None)

    @field_validator("sla", mode="before")
    @classmethod
    def _merge_sla_defaults(cls, value: Any) -> Any:
        """Fill in missing severities and missing fields from DEFAULT_SLA."""
        if value is None:
            value = {}
        if not isinstance(value, Mapping):
            return value  # pydantic reports the type
        merged: dict[Any, Any] = {sev.value: dict(d) for sev, d in DEFAULT_SLA.items()}
        for key, given in value.items():
            try:
                sev = _severity_key(key)
            except ValueError:
                merged[key] = given  # the key validator reports it
                continue
            if isinstance(given, Mapping):
                merged[sev.value] = {**DEFAULT_SLA[sev], **given}
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


# --------------------------------------------------------------------------------------------------
# Loading and error formatting
# --------------------------------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    """Build a mapping, raising on a duplicate key with its position."""
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, list | dict):
            continue  # unhashable; construct_mapping reports it
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

_NO_INPUT_ECHO = {"value_error", "assertion_error", "missing", "extra_forbidden"}


def _is_scalar(value: Any) -> bool:
    """Inputs short enough to quote back in an error message."""
    return isinstance(value, str | int | float | bool) and len(str(value)) <= 80


def _clean_message(msg: str) -> str:
    """Drop pydantic's `Value error, ` style prefixes."""
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    return msg


def _format_loc(loc: tuple[int | str, ...]) -> str:
    """('sla', 'SEV9', '[key]') -> 'sla.SEV9'; ('rules', 0, 'severity') -> 'rules[0].severity'."""
    out = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional from a type."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _model_at(root: type[BaseModel], loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class found by following `loc` from `root`, or None."""
    tp: Any = root
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return None
            tp = field.annotation
        elif get_origin(tp) is list:
            tp = get_args(tp)[0]
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _config_problems(exc: ValidationError) -> list[str]:
    """Format a rules-file ValidationError as `key.path: problem` lines."""
    errors = exc.errors()
    # An invalid dict key makes errors in its value noise: report only the key.
    bad_keys = {tuple(e["loc"][:-1]) for e in errors if e["loc"] and e["loc"][-1] == "[key]"}
    lines = []
    for err in errors:
        loc = tuple(err["loc"])
        if any(loc[: len(k)] == k and loc[-1] != "[key]" for k in bad_keys):
            continue
        msg = _clean_message(err["msg"])
        if err["type"] == "extra_forbidden":
            model = _model_at(AppConfig, loc[:-1])
            allowed = ", ".join(model.model_fields) if model else ""
            msg = f"unknown key {loc[-1]!r}" + (f" (expected one of: {allowed})" if allowed else "")
        elif err["type"] == "missing":
            msg = "required key is missing"
        elif err["type"] not in _NO_INPUT_ECHO and _is_scalar(err.get("input")):
            msg += f" (got {err['input']!r})"
        # Model-level validators name the key they blame ("key.path: problem").
        path = _format_loc(loc)
        if err["type"] == "value_error" and re.match(r"^[\w\[\].]+: ", msg):
            key, msg = msg.split(": ", 1)
            path = f"{path}.{key}" if path else key
        lines.append(f"{path or 'top level'}: {msg}")
    return lines


def resolve_config_path(path: Path | str | None) -> Path | None:
    """The rules file to read: `path` when given, else ./warroom.yml when it exists, else None."""
    if path is not None:
        return Path(path)
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def parse_config(text: str, source: str = "warroom.yml") -> AppConfig:
    """Parse and validate rules-file text; raise ConfigError naming `source`, the key and the problem."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = "; ".join(p for p in (exc.context, exc.problem) if p)
        raise ConfigError(source, [f"{where}YAML syntax error: {problem}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(source, [f"YAML syntax error: {exc}"]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        sections = ", ".join(AppConfig.model_fields)
        raise ConfigError(source, [f"top level: expected a mapping of sections ({sections}), got {kind}"])
    try:
        return AppConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, _config_problems(exc)) from None


def load_config(path: Path | str | None = None) -> AppConfig:
    """Load the rules file (`path`, else ./warroom.yml if present, else built-in defaults)."""
    resolved = resolve_config_path(path)
    if resolved is None:
        return AppConfig()
    source = str(resolved)
    try:
        text = resolved.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(source, ["file not found"]) from None
    except IsADirectoryError:
        raise ConfigError(source, ["is a directory, not a file"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(source, [f"not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    except OSError as exc:
        raise ConfigError(source, [f"cannot read: {exc.strerror or exc}"]) from None
    config = parse_config(text, source)
    config._source = resolved
    return config


def check_config(settings: Settings) -> tuple[bool, str]:
    """Validate settings and rules file; return (ok, a human summary or the errors), never a secret."""
    errors: list[str] = [f"environment: {p}" for p in settings.problems()]
    config: AppConfig | None = None
    try:
        config = load_config(settings.config_path)
    except ConfigError as exc:
        errors.extend(str(exc).splitlines())
    if errors:
        return False, "configuration errors:\n" + "\n".join(f"  {e}" for e in errors)
    assert config is not None

    rules_file = "built-in defaults (no warroom.yml found)" if config.source is None else str(config.source.resolve())
    if settings.slack_configured:
        slack = "configured (Socket Mode)" if settings.socket_mode else "configured (HTTP mode)"
    else:
        slack = "not configured"
    if settings.local_mode:
        why = "forced by WARROOM_LOCAL_MODE" if settings.local_mode_setting else "no SLACK_BOT_TOKEN"
        mode = f"local ({why})"
        if settings.local_mode_public and not settings.listens_on_loopback:
            mode += ", listening beyond loopback (WARROOM_LOCAL_MODE_PUBLIC=true)"
    else:
        mode = "Slack"
    teams = ", ".join(sorted(config.teams)) or "none"
    integrations = {
        "jira": settings.jira_enabled,
        "pagerduty": settings.pagerduty_enabled,
        "prometheus": settings.prometheus_url is not None,
        "discord alerts": settings.discord_alerts_webhook_url is not None,
        "discord reports": settings.discord_reports_webhook_url is not None,
    }
    lines = [
        "configuration OK",
        f"  rules file:       {rules_file}",
        f"  severity rules:   {len(config.severity_rules)}",
        f"  teams:            {len(config.teams)} ({teams})",
        f"  on-call users:    {len(config.oncall.users)}",
        f"  approvers:        {len(config.approvers)}",
        f"  silences:         {len(config.silences)}",
        f"  escalation tiers: {len(config.escalation.tiers)}",
        f"  grouping:         by {', '.join(config.grouping.by)}; "
        f"window {config.grouping.correlation_window_minutes} min; "
        f"auto-declare at {config.grouping.auto_declare_at.value} and above",
        f"  database:         {settings.database_url_display}",
        f"  listen:           {settings.host}:{settings.port}",
        f"  slack:            {slack}",
        f"  mode:             {mode}",
        "  integrations:     " + ", ".join(f"{k} {'on' if v else 'off'}" for k, v in integrations.items()),
        *exposure_lines(settings),
    ]
    return True, "\n".join(lines)
