"""The SLA-clocks reactor: sets an incident's clocks when it is declared (or reopened), moves them when its
severity changes (a raise escalates), stops them when it is acknowledged or resolved, and lets the
auto-upgrade rules look at the services affected as alerts join."""

from __future__ import annotations

from bot.domain.events import Event, EventKind
from bot.domain.incident import Status
from bot.services import sla_clocks
from bot.services.deps import Deps
from bot.services.escalation import TIER_TIMER

K = EventKind


class ClocksReactor:
    """Keeps an incident's timers in step with its log."""

    name = "sla-clocks"
    kinds = frozenset(
        k.value
        for k in (K.DECLARED, K.SEVERITY_CHANGED, K.ACKNOWLEDGED, K.RESOLVED, K.STATUS_CHANGED, K.ALERTS_UPDATED)
    )

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def handle(self, event: Event, *, attempt: int) -> None:
        """Set, move or stop the clocks this entry concerns (each step is idempotent)."""
        incident_id = event.incident_id
        if incident_id is None:
            return
        kind = event.kind
        if kind == K.DECLARED.value:
            await sla_clocks.set_clocks(self.deps, incident_id)
            await sla_clocks.check_detection(self.deps, incident_id)
            await sla_clocks.services_changed(self.deps, incident_id)
        elif kind == K.SEVERITY_CHANGED.value:
            await sla_clocks.severity_changed(self.deps, event)
        elif kind == K.ACKNOWLEDGED.value:
            await sla_clocks.stop_clocks(self.deps, incident_id, (sla_clocks.ACK, TIER_TIMER))
        elif kind == K.RESOLVED.value:
            await sla_clocks.stop_clocks(self.deps, incident_id)
        elif kind == K.STATUS_CHANGED.value:
            if event.payload.get("old") == Status.RESOLVED.value and event.payload.get("new") != Status.CLOSED.value:
                await sla_clocks.set_clocks(self.deps, incident_id)  # reopened
        elif kind == K.ALERTS_UPDATED.value:
            await sla_clocks.services_changed(self.deps, incident_id)
