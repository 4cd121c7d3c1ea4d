"""`GET /api/v1/freeze`: whether deploys are frozen, for CI/CD pipelines to gate deploys on."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from bot.domain.times import iso
from bot.services import control
from handlers import api_models as m
from handlers.api import PREFIX
from handlers.api.answers import Answer, Api
from handlers.apidoc import API, Doc, Paths, json_content


def routes(api: Api) -> list[Route]:
    """The freeze route (path relative to the API's mount)."""

    async def freeze(request: Request) -> Answer:
        status = await control.freeze_status(api.deps)
        return Answer({"frozen": status.frozen, "incidents": status.incidents, "since": iso(status.since)})

    return [api.route("/freeze", GET=freeze)]


def describe(doc: Doc) -> Paths:
    """The OpenAPI paths of this route."""
    return {
        f"{PREFIX}/freeze": {
            "get": {
                "operationId": "deployFreeze",
                "summary": "Whether deploys are frozen (by an open SEV0/SEV1 or by hand); 200 either way",
                "description": "A pipeline gates a deploy with "
                "`curl -fsS -H 'Authorization: Bearer $TOKEN' $WARROOM/api/v1/freeze | jq -e '.frozen | not'`.",
                "security": API,
                "responses": {"200": json_content(doc.model(m.Freeze), "The freeze"), **doc.errors(401)},
            }
        }
    }
