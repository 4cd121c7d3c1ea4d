"""The value types of the rules file: Slack ids, label names and values, team names, regular expressions,
severities, each with a validator that says what is wrong in words."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainSerializer

from bot.domain.incident import Severity
from bot.domain.text import USER_ID

_NOTIFY_TARGET = re.compile(r"^(oncall|team:[A-Za-z0-9_.-]+|S[A-Z0-9]+)\Z")  # besides a user id
_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
_TEAM_NAME = re.compile(r"^[A-Za-z0-9_.-]+\Z")
CHANNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}\Z")
CHANNEL_PREFIX = re.compile(r"^[a-z0-9][a-z0-9_-]{0,19}\Z")


def _user_id(value: str) -> str:
    """A Slack user id such as U0ALICE or W0BOB (enterprise)."""
    if not USER_ID.match(value):
        raise ValueError(f"{value!r} is not a Slack user id (like U0ALICE)")
    return value


def _notify_target(value: str) -> str:
    """A user id, a user group id, `oncall` or `team:<name>`."""
    if not (_NOTIFY_TARGET.match(value) or USER_ID.match(value)):
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


def severity_key(value: Any) -> Any:
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
SeverityKey = Annotated[Severity, BeforeValidator(severity_key)]
