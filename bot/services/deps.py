"""What the use cases need, injected by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.db.store import Store
from bot.domain.cards import DEFAULT_SLA, SlaTargets
from bot.domain.incident import Severity
from bot.domain.ports import Clock


@dataclass(slots=True)
class Deps:
    """Store, clock and the policy knobs the incident use cases read."""

    store: Store
    clock: Clock
    sla: dict[Severity, SlaTargets] = field(default_factory=lambda: dict(DEFAULT_SLA))
    duplicate_window_seconds: int = 120
