"""What the use cases need, injected by the composition root."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from bot.domain.incident import Severity
from bot.domain.policy import DEFAULT_SLA, SlaTargets
from bot.domain.ports import Clock
from bot.domain.response import ResponsePolicy
from bot.domain.severity import SeverityRuleLike
from bot.redact import Redactor
from bot.services.authority_deps import AuthorityDeps
from bot.services.diagnosis_deps import DiagnosisDeps
from bot.services.remediation_deps import RemediationDeps
from bot.services.uow import Database


class SilenceLike(Protocol):
    """A configured maintenance window."""

    def matches(self, labels: Mapping[str, str]) -> bool:
        """True when the silence covers these labels."""
        ...

    def is_active(self, now: datetime) -> bool:
        """True inside the window."""
        ...


@dataclass(slots=True)
class AlertPolicy:
    """How alerts become incidents (from warroom.yml `grouping`, `severity_rules`, `silences`)."""

    group_by: list[str] = field(default_factory=lambda: ["service", "alertname"])
    correlation_window: timedelta = timedelta(minutes=30)
    auto_declare_at: Severity = Severity.SEV3
    rules: Sequence[SeverityRuleLike] = ()
    silences: Sequence[SilenceLike] = ()
    service_label: str = "service"
    card_refresh_seconds: float = 5.0


@dataclass(slots=True)
class Deps:
    """Store, clock, the redactor and the policy knobs the incident use cases read."""

    store: Database
    clock: Clock
    sla: dict[Severity, SlaTargets] = field(default_factory=lambda: dict(DEFAULT_SLA))
    duplicate_window_seconds: int = 120
    alerts: AlertPolicy = field(default_factory=AlertPolicy)
    # Applied to what the use cases send out as names (channel names); the composition root gives the
    # configured redactor (with the secrets' values), the default still catches secret-looking text.
    redact: Callable[[str], str] = field(default_factory=Redactor)
    diagnosis: DiagnosisDeps = field(default_factory=DiagnosisDeps)
    # Escalation tiers, on-call, teams, reminders, auto-upgrade rules, update templates (warroom.yml).
    response: ResponsePolicy = field(default_factory=ResponsePolicy)
    # Approvers and who may lower or resolve a SEV0/SEV1 (warroom.yml `approvers`, `permissions`).
    authority: AuthorityDeps = field(default_factory=AuthorityDeps)
    # Executors, remediation policy, approvers, approval expiry (warroom.yml `remediation`, `approvers`).
    remediation: RemediationDeps = field(default_factory=RemediationDeps)
