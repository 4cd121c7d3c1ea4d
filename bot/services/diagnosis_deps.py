"""What the diagnosis needs, injected by the composition root: the metrics and log stores, the runbook
library, the settings from `warroom.yml`, where evidence links point, and how charts are drawn."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.evidence_links import EvidenceLinks
from bot.domain.ports import ChartRenderer, LogSource, MetricsSource
from bot.domain.runbook import Runbook
from bot.services.diagnostics import DiagnosisSettings


@dataclass(slots=True)
class DiagnosisDeps:
    """The diagnosis' sources, library and knobs (no source: the diagnosis is off)."""

    metrics: MetricsSource | None = None
    logs: LogSource | None = None
    runbooks: tuple[Runbook, ...] = ()
    settings: DiagnosisSettings = field(default_factory=DiagnosisSettings)
    links: EvidenceLinks = field(default_factory=EvidenceLinks)
    charts: ChartRenderer | None = None
    refresh_seconds: float = 60.0  # re-diagnoses after alert changes: at most one per incident per this window
    max_alerts: int = 50  # the alerts of an incident the diagnosis looks at (the first ones)
    chart_timeout: float = 10.0

    @property
    def enabled(self) -> bool:
        """Whether there is anything to query."""
        return self.metrics is not None or self.logs is not None
