"""Severity classification of alerts: rules first, then the `severity` label defaults (DESIGN.md 5)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.domain.incident import Severity


class SeverityRuleLike(Protocol):
    """What the classifier needs of a configured rule."""

    @property
    def severity(self) -> Severity:
        """The severity the rule assigns."""
        ...

    @property
    def why(self) -> str:
        """A human-readable reason."""
        ...

    def matches(self, labels: Mapping[str, str]) -> bool:
        """True when the rule applies to these labels."""
        ...


@dataclass(frozen=True, slots=True)
class Classification:
    """A severity with its reason; `confirmed` is False when a human should confirm it."""

    severity: Severity
    reason: str
    confirmed: bool


LABEL_DEFAULTS: dict[str, Severity] = {
    "critical": Severity.SEV2,
    "error": Severity.SEV2,
    "high": Severity.SEV2,
    "warning": Severity.SEV3,
    "info": Severity.SEV4,
    "low": Severity.SEV4,
}


def rule_matches(
    labels: Mapping[str, str],
    *,
    match: Mapping[str, str],
    match_re: Mapping[str, re.Pattern[str]],
    alertname: re.Pattern[str] | None = None,
) -> bool:
    """True when every condition of a rule holds: exact label values, regular expressions anchored (full
    match, as in Alertmanager) and the alert name; a missing label matches as ""."""
    if any(labels.get(k, "") != v for k, v in match.items()):
        return False
    if any(not p.fullmatch(labels.get(k, "")) for k, p in match_re.items()):
        return False
    return alertname is None or bool(alertname.fullmatch(labels.get("alertname", "")))


def classify(labels: Mapping[str, str], rules: Sequence[SeverityRuleLike] = ()) -> Classification:
    """The first matching rule wins; else the `severity` label; else SEV3 unconfirmed."""
    for rule in rules:
        if rule.matches(labels):
            return Classification(rule.severity, rule.why, True)
    raw = labels.get("severity", "").strip()
    level = raw.lower()
    if level in LABEL_DEFAULTS:
        sev = LABEL_DEFAULTS[level]
        if level == "critical" and labels.get("customer_facing", "").strip().lower() == "true":
            return Classification(Severity.SEV1, 'severity label "critical" on a customer-facing service', True)
        return Classification(sev, f'severity label "{raw}"', True)
    why = f'unknown severity label "{raw[:40]}"' if raw else "no severity label and no rule matched"
    return Classification(Severity.SEV3, f"{why}: please confirm or change", False)


def worst(classifications: Sequence[Classification]) -> Classification:
    """The most severe classification (confirmed ones win ties)."""
    return min(classifications, key=lambda c: (c.severity.rank, not c.confirmed))
