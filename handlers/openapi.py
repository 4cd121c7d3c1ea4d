"""The OpenAPI 3.1 description of /api/v1/* and /webhooks/*, served at GET /api/v1/openapi.json.

Each route module describes its own paths (`describe(doc)`, next to its routes); this module puts them
together. Every schema comes from a pydantic model, so the description cannot drift from the code that parses
and answers; tests/integration/test_openapi_fuzz.py fuzzes a real server against it.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from handlers.api import API_MAX_BODY, PREFIX
from handlers.api.resources import RESOURCES
from handlers.apidoc import PUBLIC, Doc, Paths, json_content
from handlers.limits import size
from handlers.webhooks import routes as webhooks
from handlers.webhooks.common import DEFAULT_MAX_BODY

MOUNTED_PATH = "/openapi.json"
PATH = PREFIX + MOUNTED_PATH

DESCRIPTION = f"""\
warroom turns alerts into incidents. `/webhooks/*` take alerts in; `/api/v1/*` show incidents, the review
queue and silences.

Authentication: `/api/v1/*` need `Authorization: Bearer <WARROOM_API_TOKEN>` when that variable is set
(`WARROOM_API_PUBLIC_READ=true` leaves GETs open); without it they serve loopback clients only.
`/webhooks/*` need `WARROOM_ALERT_TOKEN`, as a bearer token or as the password of basic auth; without it
they refuse every request, except from loopback clients in local mode.

Every refusal is `{{"error": "<code>", "detail": "<sentence>"}}`. Request bodies are capped before they are
read: {size(DEFAULT_MAX_BODY)} for alert webhooks (and any other route), {size(API_MAX_BODY)} for `/api/v1/*`
(413 beyond). An SNS message whose signed Timestamp is over WARROOM_SNS_MAX_AGE_SECONDS old, or over 5 minutes
ahead, is refused (400)."""

SECURITY_SCHEMES = {
    "apiToken": {"type": "http", "scheme": "bearer", "description": "WARROOM_API_TOKEN"},
    "alertToken": {"type": "http", "scheme": "bearer", "description": "WARROOM_ALERT_TOKEN"},
    "alertBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "any user name, WARROOM_ALERT_TOKEN as the password",
    },
}


def describe(_: Doc) -> Paths:
    """This document's own path."""
    return {
        PATH: {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "security": PUBLIC,
                "responses": {"200": json_content({"type": "object"}, "The OpenAPI document")},
            }
        }
    }


def build() -> dict[str, Any]:
    """The OpenAPI document."""
    doc = Doc()
    paths: Paths = describe(doc)
    for resource in RESOURCES:
        paths.update(resource.describe(doc))
    paths.update(webhooks.describe(doc))
    return {
        "openapi": "3.1.0",
        "info": {"title": "warroom", "version": "1", "description": DESCRIPTION},
        "paths": paths,
        "components": {"schemas": doc.schemas, "securitySchemes": SECURITY_SCHEMES},
    }


@cache
def spec_json() -> str:
    """The document as JSON text (built once)."""
    return json.dumps(build())


def route() -> Route:
    """GET /api/v1/openapi.json, relative to the API's mount: public (it describes the API, it holds no data)."""

    async def openapi(_: Request) -> Response:
        return Response(spec_json(), media_type="application/json")

    return Route(MOUNTED_PATH, openapi, methods=["GET"])
