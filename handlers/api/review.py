"""`GET /api/v1/review`: the SEV4 review queue."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from bot.services import alerts
from handlers import api_models as m
from handlers.api import PREFIX
from handlers.api.answers import Answer, Api
from handlers.api.params import query_limit
from handlers.apidoc import API, LIMIT, Doc, Paths, json_content, param


def routes(api: Api) -> list[Route]:
    """The review-queue route (path relative to the API's mount)."""

    async def review_queue(request: Request) -> Answer:
        limit = query_limit(request, 100)
        return Answer({"alerts": await alerts.review_queue(api.deps, limit=limit)})

    return [api.route("/review", GET=review_queue)]


def describe(doc: Doc) -> Paths:
    """The OpenAPI paths of this route."""
    return {
        f"{PREFIX}/review": {
            "get": {
                "operationId": "reviewQueue",
                "summary": "Firing alerts below the declare threshold (SEV4), newest first",
                "security": API,
                "parameters": [param("limit", "query", {**LIMIT, "default": 100}, "at most this many")],
                "responses": {"200": json_content(doc.model(m.ReviewQueue), "The queue"), **doc.errors(400, 401)},
            }
        }
    }
