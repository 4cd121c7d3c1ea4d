"""Response policy: the SLA targets of each severity (how soon to acknowledge, update, resolve)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.incident import Severity


@dataclass(frozen=True, slots=True)
class SlaTargets:
    """Response targets for one severity, in minutes."""

    ack_minutes: int
    update_minutes: int
    resolve_minutes: int


DEFAULT_SLA: dict[Severity, SlaTargets] = {
    Severity.SEV0: SlaTargets(5, 15, 240),
    Severity.SEV1: SlaTargets(15, 15, 480),
    Severity.SEV2: SlaTargets(30, 30, 1440),
    Severity.SEV3: SlaTargets(240, 120, 4320),
    Severity.SEV4: SlaTargets(1440, 1440, 10080),
}
"""Default response SLAs per severity; a rules file overrides them per severity and per field."""
