"""Process settings from the environment (DESIGN.md section 5): `Settings` and `load_settings`.

Every secret is a `SecretStr`, so `repr()`, `str()` and JSON dumps of the settings never show one; problems
are reported as `ConfigError`, one `VARIABLE: problem` line each, never echoing a secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_serializer, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.config.errors import ConfigError, env_problems
from bot.exposure import exposure_problems, is_loopback_host

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


_URL_PASSWORD = re.compile(r"(://[^:/@?#]*:)([^@/?#]*)@")
_DISCORD_WEBHOOK = re.compile(
    r"^https://[A-Za-z0-9.-]+(?::\d+)?/api(?:/v\d+)?/webhooks/\d{1,20}/[A-Za-z0-9._-]+/?(?:\?.*)?\Z"
)


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


_REGION = r"^[a-z]{2}(-[a-z]+)+-\d$"  # an AWS region name, e.g. eu-west-1


class Settings(BaseSettings):
    """Process settings from the environment (and an optional `.env` file); secrets are `SecretStr`.

    Operational knobs besides the DESIGN.md contract:

    - `WARROOM_LOG_LEVEL`: DEBUG, INFO (default), WARNING, ERROR or CRITICAL.
    - `WARROOM_OUTBOX_MAX_ATTEMPTS`: deliveries are dead-lettered after this many attempts (10).
    - `WARROOM_OUTBOX_BASE_DELAY` / `WARROOM_OUTBOX_MAX_DELAY`: exponential retry backoff in seconds,
      starting at the base delay and capped at the max delay (1.0 / 300).
    - `WARROOM_OUTBOX_LEASE_SECONDS`: how long a claimed delivery or timer stays leased to one worker
      before another replica may take it over (60).
    - `WARROOM_HEARTBEAT_SECONDS`: how often each process records that it is alive and renews the claims
      of the work it is running (1.0); a process silent for 5 beats is taken for dead and the others
      take over its work.
    - `WARROOM_INSTANCE_NAME`: this process's name across restarts (default: host name and port); a
      restarted instance takes back the work its previous run left in flight at once.
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
    aws_region: str | None = Field(
        default=None, validation_alias="AWS_REGION", pattern=_REGION, description="CloudWatch diagnostics when set."
    )
    aws_default_region: str | None = Field(
        default=None, validation_alias="AWS_DEFAULT_REGION", pattern=_REGION, description="AWS_REGION's fallback."
    )

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
    heartbeat_seconds: float = Field(default=1.0, gt=0, le=60, validation_alias="WARROOM_HEARTBEAT_SECONDS")
    instance_name: str | None = Field(default=None, max_length=200, validation_alias="WARROOM_INSTANCE_NAME")
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

    @field_validator("discord_alerts_webhook_url", "discord_reports_webhook_url")
    @classmethod
    def _check_discord_webhook(cls, value: SecretStr | None) -> SecretStr | None:
        """A Discord webhook URL, whose id and token the bot sends to DISCORD_API_URL (the value is never shown)."""
        if value is not None and not _DISCORD_WEBHOOK.match(value.get_secret_value()):
            raise ValueError(
                "not a Discord webhook URL: expected https://discord.com/api/webhooks/<id>/<token> (value not shown)"
            )
        return value

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
    def region(self) -> str | None:
        """The AWS region (AWS_REGION, else AWS_DEFAULT_REGION): CloudWatch diagnostics and console links."""
        return self.aws_region or self.aws_default_region

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


def load_settings(env_file: str | Path | None = ".env") -> Settings:
    """Read Settings from the environment (and `env_file` if it exists); raise ConfigError when invalid."""
    try:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise ConfigError("environment", env_problems(exc, Settings)) from None
