"""`POST /webhooks/alertmanager|generic|cloudwatch` and `GET /webhooks/generic/schema`: alerts in.

Each route authenticates (`WebhookAuth`), reads the capped body, parses it into normalized alerts and hands
them to `services.alerts.ingest`; 202 once they are durably stored, 503 when the database cannot take them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, TypeAdapter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.domain.alert import Alert
from bot.services import alerts as alert_service
from bot.services.deps import Deps
from bot.services.stats import Telemetry
from handlers import api_models as m
from handlers.apidoc import ALERTS, PUBLIC, Doc, Paths, json_content, lift, ref
from handlers.errors import error
from handlers.webhooks import alertmanager, generic
from handlers.webhooks.common import WebhookAuth, WebhookError, parse_json, read_body
from handlers.webhooks.sns import SnsMessage
from handlers.webhooks.sns_route import Receiver

log = logging.getLogger("warroom.http")
SNS_MESSAGE: TypeAdapter[SnsMessage] = TypeAdapter(Annotated[SnsMessage, Field(discriminator="Type")])


@dataclass(frozen=True, slots=True)
class Intake:
    """What the webhook routes need: the use cases' dependencies, counters, authentication, the body cap."""

    deps: Deps
    telemetry: Telemetry
    auth: WebhookAuth
    max_body: int
    cloudwatch: Receiver | None = None

    async def ingest(self, found: list[Alert], source: str, request_key: str | None = None) -> Response:
        """Store the alerts; 202 with what happened, or 503 so that Alertmanager and SNS retry."""
        try:
            result = await alert_service.ingest(self.deps, found, source=source, request_key=request_key)
        except Exception as exc:  # the database is down: 503 makes Alertmanager and SNS retry
            log.error("alert ingest failed: %s", exc)
            return error(503, "unavailable", "the alerts could not be stored; retry later")
        self.telemetry.alerts_ingested(
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

    async def receive(self, request: Request, parse: Callable[[bytes], list[Alert]], source: str) -> Response:
        """Authenticate, read and parse a plain webhook (Alertmanager, generic), then ingest."""
        try:
            self.auth.check(request)
            found = parse(await read_body(request, self.max_body))
        except WebhookError as exc:
            return exc.response()
        return await self.ingest(found, source)


def routes(intake: Intake) -> list[Route]:
    """The webhook routes."""

    async def alertmanager_webhook(request: Request) -> Response:
        return await intake.receive(request, alertmanager.parse_alertmanager_body, "alertmanager")

    async def generic_webhook(request: Request) -> Response:
        return await intake.receive(request, lambda body: generic.parse_generic(parse_json(body)), "generic")

    async def generic_schema(_: Request) -> Response:
        return JSONResponse(generic.schema())

    async def cloudwatch_webhook(request: Request) -> Response:
        if intake.cloudwatch is None:
            return error(404, "not_found", "the CloudWatch receiver is not configured")
        try:
            intake.auth.check(request)
            body = await read_body(request, intake.max_body)
            found, message_id, reply = await intake.cloudwatch(request, body)
        except WebhookError as exc:
            return exc.response()
        if not found:
            return JSONResponse({"accepted": 0, "incidents": [], **reply}, status_code=202 if reply else 200)
        return await intake.ingest(found, "cloudwatch", request_key=f"sns:{message_id}" if message_id else None)

    return [
        Route("/webhooks/alertmanager", alertmanager_webhook, methods=["POST"]),
        Route("/webhooks/generic", generic_webhook, methods=["POST"]),
        Route("/webhooks/generic/schema", generic_schema, methods=["GET"]),
        Route("/webhooks/cloudwatch", cloudwatch_webhook, methods=["POST"]),
    ]


def describe(doc: Doc) -> Paths:
    """The OpenAPI paths of the webhook routes."""
    lift(alertmanager.schema(), "AlertmanagerWebhook", doc.schemas)
    # The same schema GET /webhooks/generic/schema serves (GenericBody, with GenericAlert beside it).
    lift(generic.schema(), "GenericBody", doc.schemas)
    lift(SNS_MESSAGE.json_schema(ref_template="#/components/schemas/{model}"), "SnsMessage", doc.schemas)
    generic_body = {
        "anyOf": [ref("GenericBody"), ref("GenericAlert")],
        "description": '`{"alerts": [...]}`, or a single alert',
    }
    ingested = doc.model(m.Ingested)
    stored = json_content(ingested, "Stored (alerts deduplicated, grouped, maybe declared)")

    def intake(operation: str, summary: str, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "post": {
                "operationId": operation,
                "summary": summary,
                "security": ALERTS,
                "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
                "responses": {"202": stored, **doc.errors(400, 401, 413, 503)},
            }
        }

    return {
        "/webhooks/alertmanager": intake(
            "alertmanagerWebhook", "Alertmanager webhook (version 4)", ref("AlertmanagerWebhook")
        ),
        "/webhooks/generic": intake("genericWebhook", "Alerts from any source, in warroom's own schema", generic_body),
        "/webhooks/generic/schema": {
            "get": {
                "operationId": "genericSchema",
                "summary": "The JSON schema of the generic webhook's body",
                "security": PUBLIC,
                "responses": {"200": json_content({"type": "object"}, "A JSON schema (draft 2020-12)")},
            }
        },
        "/webhooks/cloudwatch": _cloudwatch(doc, ingested),
    }


def _cloudwatch(doc: Doc, ingested: dict[str, str]) -> dict[str, Any]:
    sns_answered = doc.model(m.SnsAnswered)
    error_ref = doc.model(m.Error)
    return {
        "post": {
            "operationId": "cloudwatchWebhook",
            "summary": "CloudWatch alarms through an SNS HTTP(S) subscription",
            "security": ALERTS,
            "requestBody": {
                "required": True,
                "description": "An Amazon SNS HTTP delivery; a Notification's Message is the CloudWatch alarm "
                "JSON as a string. SNS sends it as text/plain; the signature is verified before anything else.",
                "content": {
                    "text/plain": {"schema": {"type": "string"}},
                    "application/json": {"schema": ref("SnsMessage")},
                },
            },
            "responses": {
                "200": json_content(sns_answered, "A verified notification that carries no alert (INSUFFICIENT_DATA)"),
                "202": {
                    "description": "Stored, or a subscription confirmed / unsubscribe noted",
                    "content": {"application/json": {"schema": {"anyOf": [ingested, sns_answered]}}},
                },
                **doc.errors(400, 401, 403),
                "404": json_content(error_ref, "The CloudWatch receiver is not configured on this instance"),
                **doc.errors(413, 503),
            },
        }
    }
