"""Strict patterns for the values placed into a remediation's argv, and `render_argv`.

A runbook step's argv is a list of templates (`deployment/{{deployment}}`, `-n`, `{{namespace}}`): the literal
parts are the runbook's (reviewed code), the `{{placeholder}}` values come from alerts and labels (data). Each
value must fully match the pattern of its placeholder (`fullmatch`: a trailing newline does not slip through) and
may not start with `-` (it would become an option); anything else refuses the whole action before anything runs.
No pattern admits a space, a quote, `;`, `$`, a backtick, `|`, `&`, `<`, `>`, a newline or `..`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.domain.runbook import PLACEHOLDER


class ExecutionRefused(Exception):
    """An action that will not run, and why (a sentence for people). Nothing was executed."""

    def __init__(self, reason: str, *, placeholder: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.placeholder = placeholder  # the placeholder whose value was refused, when one was


@dataclass(frozen=True, slots=True)
class ValuePattern:
    """What a placeholder's value must be: a regex (matched whole) and its description for people."""

    regex: re.Pattern[str]
    means: str

    def admits(self, value: str) -> bool:
        """True when the whole value matches and it cannot be taken for an option."""
        return not value.startswith("-") and ".." not in value and self.regex.fullmatch(value) is not None


def _p(regex: str, means: str) -> ValuePattern:
    return ValuePattern(re.compile(regex), means)


_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_SUBDOMAIN = rf"(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*"
DNS_LABEL = _p(_LABEL, "a DNS-1123 label: 1-63 lowercase letters, digits and '-', starting and ending alphanumeric")
DNS_NAME = _p(_SUBDOMAIN, "a DNS-1123 name: dot-separated lowercase labels (letters, digits, '-'), at most 253")
COUNT = _p(r"0|[1-9][0-9]{0,3}", "a whole number from 0 to 9999")
POSITIVE = _p(r"[1-9][0-9]{0,6}", "a whole number from 1 to 9999999")
DURATION = _p(r"[1-9][0-9]{0,5}[smhdw]", "a duration like 30s, 5m or 1h")
RATIO = _p(r"(?:0|1)(?:\.[0-9]{1,6})?", "a ratio from 0 to 1 like 0.05")
INSTANCE = _p(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})(?::[0-9]{1,5})?", "a host name or IP address, optional :port")
LABEL_NAME = _p(r"[A-Za-z_][A-Za-z0-9_]{0,127}", "a Prometheus label name")
GENERIC = _p(
    r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,126})",
    "a plain name: letters, digits, '_', '.' and '-', starting with a letter or digit, at most 127",
)

# The pattern of each known placeholder; any other placeholder (a runbook param) must be GENERIC.
VALUE_PATTERNS: dict[str, ValuePattern] = {
    "namespace": DNS_LABEL,
    "container": DNS_LABEL,
    **dict.fromkeys(
        (
            "deployment", "service", "pod", "statefulset", "daemonset", "job", "node", "ingress", "configmap",
            "cache", "db_cluster", "certificate", "breaker",
        ),
        DNS_NAME,
    ),
    **dict.fromkeys(("replicas", "min_replicas", "max_replicas"), COUNT),
    **dict.fromkeys(("rps", "limit", "port", "connections"), POSITIVE),
    **dict.fromkeys(("window", "lookback", "baseline", "duration", "timeout"), DURATION),
    "error_ratio": RATIO,
    "instance": INSTANCE,
    "service_label": LABEL_NAME,
}  # fmt: skip

_SHOWN = 60


def shown(value: str) -> str:
    """A value as a refusal message shows it: quoted with escapes (a newline reads `\\n`), at most 60 chars."""
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "…")


def check_value(name: str, value: str, patterns: Mapping[str, ValuePattern] | None = None) -> str:
    """The value, when it is acceptable for placeholder `name`; ExecutionRefused otherwise."""
    pattern = (patterns or {}).get(name) or VALUE_PATTERNS.get(name, GENERIC)
    if pattern.admits(value):
        return value
    why = "it would start an option" if value.startswith("-") else f"it is not {pattern.means}"
    raise ExecutionRefused(
        f"refused: the value of {{{{{name}}}}}, {shown(value)}, cannot go into a command ({why}); nothing was run",
        placeholder=name,
    )


def render_argv(
    template: Sequence[str], values: Mapping[str, str], *, patterns: Mapping[str, ValuePattern] | None = None
) -> tuple[str, ...]:
    """The argv with every `{{placeholder}}` substituted by its checked value, one argv item per template item.

    ExecutionRefused when a placeholder has no value or a value does not match its pattern (`patterns` adds to or
    overrides VALUE_PATTERNS), or when the template is empty: the action is refused as a whole.
    """
    if not template:
        raise ExecutionRefused("refused: the step has an empty argv; nothing was run")

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise ExecutionRefused(f"refused: {{{{{name}}}}} has no value for this incident; nothing was run",
                                   placeholder=name)  # fmt: skip
        return check_value(name, values[name], patterns)

    return tuple(PLACEHOLDER.sub(substitute, item) for item in template)
