"""Numbers for /metrics and /readyz: incidents by severity and status, outbox depth, counters."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bot.services.deps import Deps


@dataclass(slots=True)
class Telemetry:
    """Process-wide counters that adapters bump through callbacks."""

    slack_rate_limited: Counter[str] = field(default_factory=Counter)
    delivery_failures: Counter[str] = field(default_factory=Counter)
    deliveries_done: Counter[str] = field(default_factory=Counter)
    alerts: Counter[tuple[str, str]] = field(default_factory=Counter)

    def alerts_ingested(self, source: str, **outcomes: int) -> None:
        """Count alerts by source and outcome (received, deduplicated, silenced, review, resolved)."""
        for outcome, n in outcomes.items():
            if n:
                self.alerts[(source, outcome)] += n

    def rate_limited(self, method: str) -> None:
        """Count one HTTP 429 from Slack."""
        self.slack_rate_limited[method] += 1


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Gauges read from the database at scrape time."""

    incidents: dict[tuple[str, str], int]
    deliveries: dict[str, int]
    breaches: dict[tuple[str, str], int] = field(default_factory=dict)


async def snapshot(deps: Deps) -> Snapshot:
    """Incidents by (severity, status), deliveries by status, SLA breaches by (sla, severity)."""
    return Snapshot(
        incidents=await deps.store.incident_counts(),
        deliveries=await deps.store.delivery_counts(),
        breaches=await deps.store.breach_counts(),
    )


async def database_ready(deps: Deps) -> tuple[bool, str]:
    """Whether the database answers and its schema is at the newest migration."""
    try:
        current = await deps.store.schema_revision()
    except Exception as exc:
        return False, f"database not ready: {type(exc).__name__}"
    head = deps.store.schema_head()
    if current != head:
        return False, f"database at migration {current}, code expects {head}: run `warroom migrate`"
    return True, f"database reachable, migrations at head ({head})"
