"""The ASGI app: /slack/events, /api/v1/*, /healthz, /readyz, /metrics."""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.domain.alert import Alert
from bot.domain.events import Event
from bot.domain.incident import Incident, Role, Severity, Status
from bot.domain.text import visible
from bot.services import alerts as alert_service
from bot.services import incidents, silences
from bot.services.deps import Deps
from bot.services.errors import BadRequest, IncidentNotFound
from bot.services.stats import Snapshot, Telemetry, snapshot
from handlers.limits import SLACK_MAX_BODY, BodyLimit
from handlers.openapi import spec_json
from handlers.peers import client_is_loopback
from handlers.slack.signature import check_signature_headers, unauthorized
from handlers.webhooks.alertmanager import parse_alertmanager_body
from handlers.webhooks.common import DEFAULT_MAX_BODY, WebhookAuth, WebhookError, parse_json, read_body
from handlers.webhooks.generic import parse_generic
from handlers.webhooks.generic import schema as generic_schema

Handler = Callable[[Request], Awaitable[Response]]
log = logging.getLogger("warroom.http")


def error(status: int, code: str, detail: str) -> JSONResponse:
    """The error body of DESIGN.md 5."""
    return JSONResponse({"error": code, "detail": detail}, status_code=status)


def iso(at: Any) -> str | None:
    """ISO 8601 UTC with a Z, or None."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if at else None


def _same(text: str) -> str:
    return text


def scrub_json(value: Any, redact: Callable[[str], str], memo: dict[str, str] | None = None) -> Any:
    """An API answer with every string in it (keys too) redacted and cleaned of invisible characters.

    Applied to whole answers, so a field added later cannot bypass it (a `service` label, a channel name,
    a group key and a silence comment are as likely to hold a secret as a title).
    """
    memo = {} if memo is None else memo
    if isinstance(value, str):
        if value not in memo:
            memo[value] = visible(redact(value))
        return memo[value]
    if isinstance(value, dict):
        return {scrub_json(k, redact, memo): scrub_json(v, redact, memo) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_json(v, redact, memo) for v in value]
    return value


def incident_json(i: Incident, redact: Callable[[str], str] = _same) -> dict[str, Any]:
    """An Incident as the API's contract names it (every string redacted)."""
    body: dict[str, Any] = scrub_json(_incident_fields(i), redact)
    return body


def _incident_fields(i: Incident) -> dict[str, Any]:
    return {
        "ref": i.ref,
        "title": i.title,
        "severity": i.severity.value,
        "severity_reason": i.severity_reason,
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
        "summary": i.summary,
        "jira_key": i.jira_key,
        "human_control": i.human_control,
        "group_key": i.group_key,
        "alertnames": list(i.alertnames),
    }


def timeline_json(e: Event, redact: Callable[[str], str] = _same) -> dict[str, Any]:
    """One timeline entry (every string redacted)."""
    entry: dict[str, Any] = scrub_json(
        {"at": iso(e.at), "kind": e.kind, "actor": e.actor, "text": e.text, "seq": e.seq}, redact
    )
    return entry


def _silence_args(data: Any, deps: Deps) -> dict[str, Any]:
    """Arguments of a POST /api/v1/silences body: matchers, ends_at or duration_minutes, starts_at, comment."""
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    matchers = data.get("matchers")
    if not isinstance(matchers, dict) or not all(isinstance(v, str) for v in matchers.values()):
        raise BadRequest('matchers must be an object of label -> value, e.g. {"service": "checkout-api"}')

    def when(name: str) -> datetime | None:
        raw = data.get(name)
        if raw is None:
            return None
        try:
            return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError:
            raise BadRequest(f"{name} is not an RFC 3339 time") from None

    starts = when("starts_at")
    ends = when("ends_at")
    minutes = data.get("duration_minutes")
    if minutes is not None and (not isinstance(minutes, int | float) or isinstance(minutes, bool) or minutes <= 0):
        raise BadRequest("duration_minutes must be a positive number")
    if ends is None:
        if minutes is None:
            raise BadRequest("give ends_at or a positive duration_minutes")
        ends = (starts or deps.clock.now()) + timedelta(minutes=float(minutes))
    for name in ("comment", "created_by"):
        if not isinstance(data.get(name) or "", str):
            raise BadRequest(f"{name} must be a string")
    return {
        "matchers": matchers,
        "starts_at": starts,
        "ends_at": ends,
        "comment": data.get("comment") or "",
        "created_by": data.get("created_by") or "api",
    }


def query_limit(request: Request, default: int) -> int:
    """The `limit` query parameter: a whole number from 1 to 500 (BadRequest otherwise)."""
    raw = request.query_params.get("limit", str(default))
    if not re.fullmatch(r"[0-9]{1,9}", raw) or not 1 <= int(raw) <= 500:
        raise BadRequest("limit must be a whole number from 1 to 500")
    return int(raw)


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
        if client_is_loopback(request):
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
        a = CounterMetricFamily(
            "warroom_alerts", "Alerts received, by source and outcome", labels=["source", "outcome"]
        )
        if t is not None:
            for (source, outcome), n in t.alerts.items():
                a.add_metric([source, outcome], n)
        yield a


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
    webhook_auth: WebhookAuth = field(default_factory=WebhookAuth)
    max_body: int = DEFAULT_MAX_BODY
    cloudwatch: Callable[[Request, bytes], Awaitable[tuple[list[Alert], str | None, dict[str, Any]]]] | None = None


def create_app(
    h: HttpDeps, *, lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]] | None = None
) -> Starlette:
    """Build the ASGI app."""
    registry = CollectorRegistry(auto_describe=True)
    collector = _DbCollector()
    collector.telemetry = h.telemetry
    registry.register(collector)

    def answer(body: Any, status_code: int = 200) -> JSONResponse:
        """A JSON answer of the API, every string in it redacted."""
        return JSONResponse(scrub_json(body, h.redact), status_code=status_code)

    async def slack_events(request: Request) -> Response:
        if h.slack is None:
            return error(404, "slack_disabled", "Slack is not configured on this instance")
        if (refused := check_signature_headers(request.headers)) is not None:
            return refused
        response = await h.slack(request)
        # Bolt answers a bad or stale signature with {"error": "invalid request"}: give the contract's body.
        return unauthorized() if response.status_code == 401 else response

    async def list_incidents(request: Request) -> Response:
        if (denied := h.auth.check(request)) is not None:
            return denied
        status = request.query_params.get("status", "all")
        try:
            found = await incidents.list_incidents(h.deps, status=status, limit=query_limit(request, 50))
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

    async def ingest_response(found: list[Alert], source: str, request_key: str | None = None) -> Response:
        try:
            result = await alert_service.ingest(h.deps, found, source=source, request_key=request_key)
        except Exception as exc:  # the database is down: 503 makes Alertmanager and SNS retry
            log.error("alert ingest failed: %s", exc)
            return error(503, "unavailable", "the alerts could not be stored; retry later")
        h.telemetry.alerts_ingested(
            source,
            received=result.accepted if not result.duplicate_request else 0,
            deduplicated=result.deduplicated,
            silenced=result.silenced,
            review=result.review,
            resolved=result.resolved,
        )
        return JSONResponse(
            {
                "accepted": result.accepted,
                "incidents": result.incidents,
                "declared": result.declared,
                "deduplicated": result.deduplicated,
                "silenced": result.silenced,
                "review": result.review,
                "resolved": result.resolved,
                "duplicate_request": result.duplicate_request,
            },
            status_code=202,
        )

    async def webhook(request: Request, parse: Callable[[bytes], list[Alert]], source: str) -> Response:
        try:
            h.webhook_auth.check(request)
            found = parse(await read_body(request, h.max_body))
        except WebhookError as exc:
            return exc.response()
        return await ingest_response(found, source)

    async def alertmanager(request: Request) -> Response:
        return await webhook(request, parse_alertmanager_body, "alertmanager")

    async def generic(request: Request) -> Response:
        return await webhook(request, lambda body: parse_generic(parse_json(body)), "generic")

    async def generic_schema_route(_: Request) -> Response:
        return JSONResponse(generic_schema())

    async def cloudwatch(request: Request) -> Response:
        if h.cloudwatch is None:
            return error(404, "not_found", "the CloudWatch receiver is not configured")
        try:
            h.webhook_auth.check(request)
            body = await read_body(request, h.max_body)
            found, message_id, reply = await h.cloudwatch(request, body)
        except WebhookError as exc:
            return exc.response()
        if not found:
            return JSONResponse({"accepted": 0, "incidents": [], **reply}, status_code=202 if reply else 200)
        return await ingest_response(found, "cloudwatch", request_key=f"sns:{message_id}" if message_id else None)

    async def review(request: Request) -> Response:
        if (denied := h.auth.check(request)) is not None:
            return denied
        try:
            limit = query_limit(request, 100)
        except BadRequest as exc:
            return error(400, "bad_request", str(exc))
        return answer({"alerts": await alert_service.review_queue(h.deps, limit=limit)})

    async def silences_route(request: Request) -> Response:
        if (denied := h.auth.check(request)) is not None:
            return denied
        if request.method == "GET":
            expired = request.query_params.get("expired", "false").lower()
            if expired not in ("true", "false"):
                return error(400, "bad_request", "expired must be true or false")
            found = await silences.list_silences(h.deps, include_expired=expired == "true")
            return answer({"silences": found})
        try:
            data = parse_json(await read_body(request, 64 * 1024))
        except WebhookError as exc:
            return exc.response()
        try:
            created = await silences.create(h.deps, **_silence_args(data, h.deps))
        except BadRequest as exc:
            return error(400, "bad_request", str(exc))
        return answer(created, status_code=201)

    async def silence_delete(request: Request) -> Response:
        if (denied := h.auth.check(request)) is not None:
            return denied
        try:
            return answer(await silences.expire(h.deps, silence_id=request.path_params["id"]))
        except IncidentNotFound as exc:
            return error(404, "not_found", str(exc))

    async def openapi(_: Request) -> Response:
        return Response(spec_json(), media_type="application/json")

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
        Route("/webhooks/alertmanager", alertmanager, methods=["POST"]),
        Route("/webhooks/generic", generic, methods=["POST"]),
        Route("/webhooks/generic/schema", generic_schema_route, methods=["GET"]),
        Route("/webhooks/cloudwatch", cloudwatch, methods=["POST"]),
        Route("/api/v1/review", review, methods=["GET"]),
        Route("/api/v1/silences", silences_route, methods=["GET", "POST"]),
        Route("/api/v1/silences/{id}", silence_delete, methods=["DELETE"]),
        Route("/api/v1/openapi.json", openapi, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *h.extra_routes,
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return error(404, "not_found", f"no route {request.method} {request.url.path}")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        refused = error(405, "method_not_allowed", f"{request.method} is not allowed on {request.url.path}")
        refused.headers.update(getattr(exc, "headers", None) or {})  # Allow: the methods that are
        return refused

    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={404: not_found, 405: not_allowed},
        middleware=[Middleware(BodyLimit, default=h.max_body, limits={"/slack/events": SLACK_MAX_BODY})],
    )
