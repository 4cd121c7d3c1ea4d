"""The OpenAPI 3.1 description of /api/v1/* and /webhooks/*, served at GET /api/v1/openapi.json.

Every schema comes from a pydantic model (handlers.api_models for the answers, the webhook parsers' own
models for the alert bodies), so the description cannot drift from the code that parses and answers;
tests/integration/test_openapi_fuzz.py fuzzes a real server against it.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, Field, TypeAdapter

from handlers import api_models as m
from handlers.webhooks import alertmanager, generic
from handlers.webhooks.sns import SnsMessage

SNS_MESSAGE: TypeAdapter[SnsMessage] = TypeAdapter(Annotated[SnsMessage, Field(discriminator="Type")])

REF = "#/components/schemas/{model}"
Security = list[dict[str, list[str]]]
API: Security = [{"apiToken": []}]
ALERTS: Security = [{"alertToken": []}, {"alertBasic": []}]
PUBLIC: Security = []

DESCRIPTION = """\
warroom turns alerts into incidents. `/webhooks/*` take alerts in; `/api/v1/*` show incidents, the review
queue and silences.

Authentication: `/api/v1/*` need `Authorization: Bearer <WARROOM_API_TOKEN>` when that variable is set
(`WARROOM_API_PUBLIC_READ=true` leaves GETs open); without it they serve loopback clients only.
`/webhooks/*` need `WARROOM_ALERT_TOKEN`, as a bearer token or as the password of basic auth; without it
they refuse every request, except from loopback clients in local mode.

Every refusal is `{"error": "<code>", "detail": "<sentence>"}`. Request bodies are capped before they are
read: 2 MiB for alert webhooks (and any other route), 64 KiB for silences (413 beyond). An SNS message whose
signed Timestamp is over WARROOM_SNS_MAX_AGE_SECONDS old, or over 5 minutes ahead, is refused (400)."""


def _lift(schema: dict[str, Any], name: str, into: dict[str, Any]) -> None:
    """Put a JSON schema into `into` (components/schemas) under `name`, its $defs beside it, refs rewritten."""
    text = json.dumps(schema).replace('"#/$defs/', '"#/components/schemas/')
    lifted = json.loads(text)
    for key, value in [*lifted.pop("$defs", {}).items(), (name, lifted)]:
        if into.setdefault(key, value) != value:
            raise ValueError(f"two different schemas are both named {key}")


def _model(model: type[BaseModel], into: dict[str, Any]) -> dict[str, str]:
    """Add a model's schema to the components; return a reference to it."""
    _lift(model.model_json_schema(ref_template=REF), model.__name__, into)
    return {"$ref": REF.format(model=model.__name__)}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(error: dict[str, str], *codes: int) -> dict[str, Any]:
    """The error answers a route really gives."""
    why = {
        400: "Bad request: malformed JSON, wrong field types, invalid values",
        401: "Missing or wrong token",
        403: "The SNS signature does not verify, or the topic is not in the allow-list",
        404: "Not found",
        413: "The body is over the size cap",
        503: "The alerts could not be stored (or, for SNS, verified); retry later",
    }
    return {str(code): _json(error, why[code]) for code in codes}


def _param(name: str, where: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "schema": schema, "description": description}


@cache
def spec_json() -> str:
    """The document as JSON text (built once)."""
    return json.dumps(build())


def build() -> dict[str, Any]:
    """The OpenAPI document."""
    schemas: dict[str, Any] = {}
    error = _model(m.Error, schemas)
    incident_list = _model(m.IncidentList, schemas)
    incident_detail = _model(m.IncidentDetail, schemas)
    review = _model(m.ReviewQueue, schemas)
    silence = _model(m.Silence, schemas)
    silence_list = _model(m.SilenceList, schemas)
    new_silence = _model(m.NewSilence, schemas)
    ingested = _model(m.Ingested, schemas)
    sns_answered = _model(m.SnsAnswered, schemas)
    _lift(alertmanager.schema(), "AlertmanagerWebhook", schemas)
    # The same schema GET /webhooks/generic/schema serves (GenericBody, with GenericAlert beside it).
    _lift(generic.schema(), "GenericBody", schemas)
    generic_body = {
        "anyOf": [{"$ref": REF.format(model="GenericBody")}, {"$ref": REF.format(model="GenericAlert")}],
        "description": '`{"alerts": [...]}`, or a single alert',
    }
    _lift(SNS_MESSAGE.json_schema(ref_template=REF), "SnsMessage", schemas)
    sns_envelope = {"$ref": REF.format(model="SnsMessage")}
    ingested_202 = _json(ingested, "Stored (alerts deduplicated, grouped, maybe declared)")
    ref = _param("ref", "path", {"type": "string"}, "the incident's reference, e.g. INC-20261123-001")
    limit = {"type": "integer", "minimum": 1, "maximum": 500}
    paths: dict[str, Any] = {
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "security": PUBLIC,
                "responses": {"200": _json({"type": "object"}, "The OpenAPI document")},
            }
        },
        "/api/v1/incidents": {
            "get": {
                "operationId": "listIncidents",
                "summary": "Incidents, newest first",
                "security": API,
                "parameters": [
                    _param("status", "query", {"enum": ["open", "resolved", "all"], "default": "all"}, "which"),
                    _param("limit", "query", {**limit, "default": 50}, "at most this many"),
                ],
                "responses": {"200": _json(incident_list, "The incidents"), **_errors(error, 400, 401)},
            }
        },
        "/api/v1/incidents/{ref}": {
            "get": {
                "operationId": "getIncident",
                "summary": "One incident with its timeline",
                "security": API,
                "parameters": [ref],
                "responses": {"200": _json(incident_detail, "The incident"), **_errors(error, 401, 404)},
            }
        },
        "/api/v1/review": {
            "get": {
                "operationId": "reviewQueue",
                "summary": "Firing alerts below the declare threshold (SEV4), newest first",
                "security": API,
                "parameters": [_param("limit", "query", {**limit, "default": 100}, "at most this many")],
                "responses": {"200": _json(review, "The queue"), **_errors(error, 400, 401)},
            }
        },
        "/api/v1/silences": {
            "get": {
                "operationId": "listSilences",
                "summary": "Silences, newest first",
                "security": API,
                "parameters": [
                    _param("expired", "query", {"type": "boolean", "default": False}, "include ended silences")
                ],
                "responses": {"200": _json(silence_list, "The silences"), **_errors(error, 400, 401)},
            },
            "post": {
                "operationId": "createSilence",
                "summary": "Silence matching alerts for a while (at most 30 days)",
                "security": API,
                "requestBody": {"required": True, "content": {"application/json": {"schema": new_silence}}},
                "responses": {"201": _json(silence, "Created"), **_errors(error, 400, 401, 413)},
            },
        },
        "/api/v1/silences/{id}": {
            "delete": {
                "operationId": "expireSilence",
                "summary": "End a silence now",
                "security": API,
                "parameters": [_param("id", "path", {"type": "string"}, "the silence's id")],
                "responses": {"200": _json(silence, "The silence, now expired"), **_errors(error, 401, 404)},
            }
        },
        "/webhooks/alertmanager": {
            "post": {
                "operationId": "alertmanagerWebhook",
                "summary": "Alertmanager webhook (version 4)",
                "security": ALERTS,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": REF.format(model="AlertmanagerWebhook")}}},
                },
                "responses": {"202": ingested_202, **_errors(error, 400, 401, 413, 503)},
            }
        },
        "/webhooks/generic": {
            "post": {
                "operationId": "genericWebhook",
                "summary": "Alerts from any source, in warroom's own schema",
                "security": ALERTS,
                "requestBody": {"required": True, "content": {"application/json": {"schema": generic_body}}},
                "responses": {"202": ingested_202, **_errors(error, 400, 401, 413, 503)},
            }
        },
        "/webhooks/generic/schema": {
            "get": {
                "operationId": "genericSchema",
                "summary": "The JSON schema of the generic webhook's body",
                "security": PUBLIC,
                "responses": {"200": _json({"type": "object"}, "A JSON schema (draft 2020-12)")},
            }
        },
        "/webhooks/cloudwatch": {
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
                        "application/json": {"schema": sns_envelope},
                    },
                },
                "responses": {
                    "200": _json(sns_answered, "A verified notification that carries no alert (INSUFFICIENT_DATA)"),
                    "202": {
                        "description": "Stored, or a subscription confirmed / unsubscribe noted",
                        "content": {"application/json": {"schema": {"anyOf": [ingested, sns_answered]}}},
                    },
                    **_errors(error, 400, 401, 403),
                    "404": _json(error, "The CloudWatch receiver is not configured on this instance"),
                    **_errors(error, 413, 503),
                },
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "warroom", "version": "1", "description": DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "apiToken": {"type": "http", "scheme": "bearer", "description": "WARROOM_API_TOKEN"},
                "alertToken": {"type": "http", "scheme": "bearer", "description": "WARROOM_ALERT_TOKEN"},
                "alertBasic": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "any user name, WARROOM_ALERT_TOKEN as the password",
                },
            },
        },
    }
