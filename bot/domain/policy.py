"""Response policy: the SLA targets of each severity (how soon to detect, acknowledge, update, resolve)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.incident import Severity


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
