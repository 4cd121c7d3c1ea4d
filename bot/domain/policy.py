"""Response policy: the SLA targets of each severity (how soon to detect, acknowledge, update, resolve), and the
remediation policy (severity x risk tier -> auto | approval | forbidden)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.incident import Severity
from bot.domain.runbook import Risk


@dataclass(frozen=True, slots=True)
class SlaTargets:
    """Response targets for one severity, in minutes; `update_minutes` None: no status-update cadence, and
    `detect_minutes` None: no detection target (from the first alert's start to the declaration)."""

    ack_minutes: int
    update_minutes: int | None
    resolve_minutes: int
    detect_minutes: int | None = None


DEFAULT_SLA: dict[Severity, SlaTargets] = {
    Severity.SEV0: SlaTargets(5, 10, 240, 5),
    Severity.SEV1: SlaTargets(15, 15, 480, 5),
    Severity.SEV2: SlaTargets(30, 30, 1440, 15),
    Severity.SEV3: SlaTargets(240, 120, 4320, 60),
    Severity.SEV4: SlaTargets(1440, None, 10080, None),
}
"""Default response SLAs per severity; a rules file overrides them per severity and per field."""


class Decision(StrEnum):
    """What the policy says of one remediation step: run it, ask a human first, or never run it."""

    AUTO = "auto"
    APPROVAL = "approval"
    FORBIDDEN = "forbidden"


_DEFAULT_ROW: Mapping[Risk, Decision] = {
    Risk.LOW: Decision.AUTO,
    Risk.MEDIUM: Decision.AUTO,
    Risk.HIGH: Decision.APPROVAL,
}


@dataclass(frozen=True)
class RemediationPolicy:
    """The severity x risk table of the remediation policy, with the rules no table can loosen: HIGH always
    needs approval, MEDIUM runs by itself only with a rollback plan ready, and under human control (SEV0/SEV1
    until `/incident release`) nothing runs without explicit approval, not even LOW."""

    table: Mapping[Severity, Mapping[Risk, Decision]]

    def cell(self, severity: Severity, risk: Risk) -> Decision:
        """The table's own answer (a missing cell: the default table's)."""
        return self.table.get(severity, {}).get(risk) or _DEFAULT_ROW[risk]

    def decide(self, severity: Severity, risk: Risk, *, human_control: bool, has_rollback: bool = True) -> Decision:
        """Whether a step of this risk may run now in an incident of this severity."""
        decision = self.cell(severity, risk)
        if decision is not Decision.AUTO:
            return decision
        if human_control or risk is Risk.HIGH or (risk is Risk.MEDIUM and not has_rollback):
            return Decision.APPROVAL
        return Decision.AUTO


DEFAULT_REMEDIATION_POLICY = RemediationPolicy({sev: dict(_DEFAULT_ROW) for sev in Severity})
"""LOW runs automatically (audited), MEDIUM automatically when it has a rollback plan, HIGH after approval."""
