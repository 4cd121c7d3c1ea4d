"""`GET /healthz`, `GET /readyz` and `GET /metrics`: open to every client, they hold no incident data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.domain.incident import Severity, Status
from bot.services.deps import Deps
from bot.services.stats import Snapshot, Telemetry, snapshot

Ready = Callable[[], Awaitable[tuple[bool, str]]]


class _DbCollector(Collector):
    """Exports the snapshot and counters gathered just before a scrape."""

    def __init__(self, telemetry: Telemetry) -> None:
        self.snap: Snapshot | None = None
        self.telemetry = telemetry

    def collect(self) -> Any:
        yield from self._stored()
        t = self.telemetry
        c = CounterMetricFamily("warroom_slack_rate_limited", "HTTP 429 answers from Slack", labels=["method"])
        f = CounterMetricFamily("warroom_delivery_failures", "Failed delivery attempts", labels=["reactor"])
        for m, n in t.slack_rate_limited.items():
            c.add_metric([m], n)
        for r, n in t.delivery_failures.items():
            f.add_metric([r], n)
        yield c
        yield f
        a = CounterMetricFamily(
            "warroom_alerts", "Alerts received, by source and outcome", labels=["source", "outcome"]
        )
        for (source, outcome), n in t.alerts.items():
            a.add_metric([source, outcome], n)
        yield a

    def _stored(self) -> Any:
        """Gauges of what the database holds (empty when it did not answer)."""
        g = GaugeMetricFamily("warroom_incidents", "Incidents by severity and status", labels=["severity", "status"])
        d = GaugeMetricFamily("warroom_outbox_deliveries", "Outbox deliveries by status", labels=["status"])
        depth = GaugeMetricFamily("warroom_outbox_depth", "Deliveries not yet done (pending + in flight)")
        if self.snap is not None:
            for sev in Severity:
                for st in Status:
                    g.add_metric([sev.value, st.value], self.snap.incidents.get((sev.value, st.value), 0))
            for status in ("pending", "inflight", "done", "dead"):
                d.add_metric([status], self.snap.deliveries.get(status, 0))
            depth.add_metric([], self.snap.deliveries.get("pending", 0) + self.snap.deliveries.get("inflight", 0))
        yield g
        yield d
        yield depth
        yield self._breaches()

    def _breaches(self) -> CounterMetricFamily:
        """SLA breaches recorded in the timeline, by SLA (ack, resolve, update, detect) and severity."""
        b = CounterMetricFamily(
            "warroom_sla_breaches", "SLA breaches recorded, by SLA and severity", labels=["sla", "severity"]
        )
        if self.snap is not None:
            for sla in ("ack", "resolve", "update", "detect"):
                for sev in Severity:
                    b.add_metric([sla, sev.value], self.snap.breaches.get((sla, sev.value), 0))
        return b


def routes(deps: Deps, ready: Ready, telemetry: Telemetry) -> list[Route]:
    """Health, readiness and the Prometheus metrics."""
    registry = CollectorRegistry(auto_describe=True)
    collector = _DbCollector(telemetry)
    registry.register(collector)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        ok, detail = await ready()
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "detail": detail}, status_code=200 if ok else 503
        )

    async def metrics(_: Request) -> Response:
        try:
            collector.snap = await snapshot(deps)
        except Exception:
            collector.snap = None
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
