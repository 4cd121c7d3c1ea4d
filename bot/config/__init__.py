"""Configuration: `Settings` from the environment and `AppConfig` from the `warroom.yml` rules file.

- `settings`: environment variables (DESIGN.md section 5); every secret a `SecretStr`.
- `rules` (with `fields`, its value types): the rules file's models.
- `loading`: YAML in, a validated `AppConfig` out.
- `errors`: `ConfigError` and the pydantic-error formatter (any model: the rules file, runbooks).
- `check`: `warroom check-config`.

Both report problems as `ConfigError`, one line per problem, naming the source, the key path and what is wrong.
"""

from __future__ import annotations

from bot.config.check import check_config
from bot.config.errors import ConfigError
from bot.config.loading import DEFAULT_CONFIG_FILE, load_config, parse_config, resolve_config_path
from bot.config.rules import (
    AppConfig,
    ChannelsConfig,
    CloudWatchConfig,
    EscalationConfig,
    EscalationTier,
    GroupingConfig,
    OncallConfig,
    SeverityRule,
    Silence,
    SlaTarget,
    TeamConfig,
)
from bot.config.settings import Settings, load_settings
from bot.domain.policy import DEFAULT_SLA

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_SLA",
    "AppConfig",
    "ChannelsConfig",
    "CloudWatchConfig",
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
