"""The ASGI app: /slack/events, /api/v1/*, /healthz, /readyz, /metrics."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.domain.events import Event
from bot.domain.incident import Incident, Role, Severity, Status
from bot.services import incidents
from bot.services.deps import Deps
from bot.services.errors import BadRequest, IncidentNotFound
from bot.services.stats import Snapshot, Telemetry, snapshot

Handler = Callable[[Request], Awaitable[Response]]


def error(status: int, code: str, detail: str) -> JSONResponse:
    """The error body of DESIGN.md 5."""
    return JSONResponse({"error": code, "detail": detail}, status_code=status)


def iso(at: Any) -> str | None:
    """ISO 8601 UTC with a Z, or None."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if at else None


def _same(text: str) -> str:
    return text


def incident_json(i: Incident, redact: Callable[[str], str] = _same) -> dict[str, Any]:
    """An Incident as the API's contract names it (free text redacted)."""
    return {
        "ref": i.ref,
        "title": redact(i.title),
        "severity": i.severity.value,
        "severity_reason": redact(i.severity_reason),
        "severity_confirmed": i.severity_confirmed,
        "status": i.status.value,
        "channel_id": i.channel_id,
        "channel_name": i.channel_name,
        "commander": i.commander,
        "roles": {r.value: list(i.roles.get(r, [])) for r in Role},
        "services": list(i.services),
        "alert_count": i.alert_count,
        "declared_by": i.declared_by,
        "declared_at": iso(i.declared_at),
        "acknowledged_at": iso(i.acknowledged_at),
        "mitigated_at": iso(i.mitigated_at),
        "resolved_at": iso(i.resolved_at),
        "summary": redact(i.summary) if i.summary else i.summary,
        "jira_key": i.jira_key,
        "human_control": i.human_control,
        "group_key": i.group_key,
        "alertnames": list(i.alertnames),
    }


def timeline_json(e: Event, redact: Callable[[str], str] = _same) -> dict[str, Any]:
    """One timeline entry (text redacted)."""
    return {"at": iso(e.at), "kind": e.kind, "actor": e.actor, "text": redact(e.text), "seq": e.seq}


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8 and ::1."""
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@dataclass(slots=True)
class ApiAuth:
    """Bearer token for /api/v1; without one, loopback clients only."""

    token: str | None = None
    public_read: bool = False

    def check(self, request: Request) -> JSONResponse | None:
        """None when allowed, else the 401 response."""
        if self.token:
            if self.public_read and request.method == "GET":
                return None
            got = request.headers.get("authorization", "")
            if got.startswith("Bearer ") and hmac.compare_digest(got[7:].encode(), self.token.encode()):
                return None
            return error(401, "unauthorized", "send Authorization: Bearer <WARROOM_API_TOKEN>")
        if is_loopback(request.client.host if request.client else None):
            return None
        return error(401, "unauthorized", "the API serves loopback clients only until WARROOM_API_TOKEN is set")


class _DbCollector(Collector):
    """Exports the snapshot and counters gathered just before a scrape."""

    def __init__(self) -> None:
        self.snap: Snapshot | None = None
        self.telemetry: Telemetry | None = None

    def collect(self) -> Any:
        g = GaugeMetricFamily("warroom_incidents", "Incidents by severity and status", labels=["severity", "status"])
        if self.snap is not None:
            for sev in Severity:
                for st in Status:
                    g.add_metric([sev.value, st.value], self.snap.incidents.get((sev.value, st.value), 0))
        yield g
        d = GaugeMetricFamily("warroom_outbox_deliveries", "Outbox deliveries by status", labels=["status"])
        if self.snap is not None:
            for status in ("pending", "inflight", "done", "dead"):
                d.add_metric([status], self.snap.deliveries.get(status, 0))
        yield d
        depth = GaugeMetricFamily("warroom_outbox_depth", "Deliveries not yet done (pending + in flight)")
        if self.snap is not None:
            depth.add_metric([], self.snap.deliveries.get("pending", 0) + self.snap.deliveries.get("inflight", 0))
        yield depth
        t = self.telemetry
        c = CounterMetricFamily("warroom_slack_rate_limited", "HTTP 429 answers from Slack", labels=["method"])
        f = CounterMetricFamily("warroom_delivery_failures", "Failed delivery attempts", labels=["reactor"])
        if t is not None:
            for m, n in t.slack_rate_limited.items():
                c.add_metric([m], n)
            for r, n in t.delivery_failures.items():
                f.add_metric([r], n)
        yield c
        yield f


@dataclass(slots=True)
class HttpDeps:
    """What the HTTP layer needs."""

    deps: Deps
    slack: Handler | None
    ready: Callable[[], Awaitable[tuple[bool, str]]]
    telemetry: Telemetry = field(default_factory=Telemetry)
    auth: ApiAuth = field(default_factory=ApiAuth)
    extra_routes: list[BaseRoute] = field(default_factory=list)
    redact: Callable[[str], str] = _same


def create_app(
    h: HttpDeps, *, lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]] | None = None
) -> Starlette:
    """Build the ASGI app."""
    registry = CollectorRegistry(auto_describe=True)
    collector = _DbCollector()
    collector.telemetry = h.telemetry
    registry.register(collector)

    async def slack_events(request: Request) -> Response:
        if h.slack is None:
            return error(404, "slack_disabled", "Slack is not configured on this instance")
        return await h.slack(request)

    async def list_incidents(request: Request) -> Response:
        if (denied := h.auth.check(request)) is not None:
            return denied
        status = request.query_params.get("status", "all")
        try:
            limit = int(request.query_params.get("limit", "50"))
        except ValueError:
            return error(400, "bad_request", "limit must be a whole number")
        if limit < 1 or limit > 500:
            return error(400, "bad_request", "limit must be between 1 and 500")
        try:
            found = await incidents.list_incidents(h.deps, status=status, limit=limit)
        except BadRequest as exc:
            return error(400, "bad_request", str(exc))
        return JSONResponse({"incidents": [incident_json(i, h.redact) for i in found]})

    async def get_incident(request: Request) -> Response:
        if (denied := h.auth.check(request)) is not None:
            return denied
        ref = request.path_params["ref"]
        try:
            inc, events = await incidents.timeline(h.deps, ref=ref)
        except IncidentNotFound:
            return error(404, "not_found", f"no incident {ref}")
        body = incident_json(inc, h.redact)
        body["timeline"] = [timeline_json(e, h.redact) for e in events]
        return JSONResponse(body)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        ok, detail = await h.ready()
        return JSONResponse(
            {"status": "ready" if ok else "not_ready", "detail": detail}, status_code=200 if ok else 503
        )

    async def metrics(_: Request) -> Response:
        try:
            collector.snap = await snapshot(h.deps)
        except Exception:
            collector.snap = None
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    routes: list[BaseRoute] = [
        Route("/slack/events", slack_events, methods=["POST"]),
        Route("/api/v1/incidents", list_incidents, methods=["GET"]),
        Route("/api/v1/incidents/{ref}", get_incident, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *h.extra_routes,
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return error(404, "not_found", f"no route {request.method} {request.url.path}")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return error(405, "method_not_allowed", f"{request.method} is not allowed on {request.url.path}")

    return Starlette(routes=routes, lifespan=lifespan, exception_handlers={404: not_found, 405: not_allowed})
