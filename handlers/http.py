"""The ASGI app: /slack/events, /webhooks/*, /api/v1/*, /healthz, /readyz, /metrics.

The routes live with what they serve (`handlers.api` per resource, `handlers.webhooks.routes`, `handlers.ops`);
this module puts them together behind the body caps (`BodyLimit`) and gives unknown routes and methods the JSON
error body.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.services.deps import Deps
from bot.services.stats import Telemetry
from handlers import ops
from handlers.api import API_MAX_BODY, PREFIX
from handlers.api.answers import Api
from handlers.api.app import api_routes
from handlers.api.auth import ApiAuth
from handlers.errors import error
from handlers.limits import SLACK_MAX_BODY, BodyLimit
from handlers.slack.signature import check_signature_headers, unauthorized
from handlers.webhooks import routes as webhooks
from handlers.webhooks.common import DEFAULT_MAX_BODY, WebhookAuth
from handlers.webhooks.sns_route import Receiver

Handler = Callable[[Request], Awaitable[Response]]

__all__ = ["ApiAuth", "HttpDeps", "create_app"]


def _same(text: str) -> str:
    return text


@dataclass(slots=True)
class HttpDeps:
    """What the HTTP layer needs."""

    deps: Deps
    slack: Handler | None
    ready: ops.Ready
    telemetry: Telemetry = field(default_factory=Telemetry)
    auth: ApiAuth = field(default_factory=ApiAuth)
    extra_routes: list[BaseRoute] = field(default_factory=list)
    redact: Callable[[str], str] = _same
    webhook_auth: WebhookAuth = field(default_factory=WebhookAuth)
    max_body: int = DEFAULT_MAX_BODY
    cloudwatch: Receiver | None = None


def slack_route(slack: Handler | None) -> Route:
    """POST /slack/events: malformed signature headers refused before Bolt; Bolt's 401 in the contract's body."""

    async def slack_events(request: Request) -> Response:
        if slack is None:
            return error(404, "slack_disabled", "Slack is not configured on this instance")
        if (refused := check_signature_headers(request.headers)) is not None:
            return refused
        response = await slack(request)
        # Bolt answers a bad or stale signature with {"error": "invalid request"}: give the contract's body.
        return unauthorized() if response.status_code == 401 else response

    return Route("/slack/events", slack_events, methods=["POST"])


async def _not_found(request: Request, exc: Exception) -> Response:
    return error(404, "not_found", f"no route {request.method} {request.url.path}")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    refused = error(405, "method_not_allowed", f"{request.method} is not allowed on {request.url.path}")
    refused.headers.update(getattr(exc, "headers", None) or {})  # Allow: the methods that are
    return refused


def create_app(
    h: HttpDeps, *, lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]] | None = None
) -> Starlette:
    """Build the ASGI app."""
    intake = webhooks.Intake(h.deps, h.telemetry, h.webhook_auth, h.max_body, h.cloudwatch)
    routes: list[BaseRoute] = [
        slack_route(h.slack),
        *api_routes(Api(h.deps, h.redact), h.auth),
        *webhooks.routes(intake),
        *ops.routes(h.deps, h.ready, h.telemetry),
        *h.extra_routes,
    ]
    caps = {"/slack/events": SLACK_MAX_BODY, PREFIX: API_MAX_BODY}
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={404: _not_found, 405: _not_allowed},
        middleware=[Middleware(BodyLimit, default=h.max_body, limits=caps)],
    )
