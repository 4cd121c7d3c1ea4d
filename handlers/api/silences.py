"""`GET|POST /api/v1/silences` and `DELETE /api/v1/silences/{id}`: maintenance windows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from bot.domain.times import parse_iso
from bot.services import silences
from bot.services.deps import Deps
from bot.services.errors import BadRequest
from handlers import api_models as m
from handlers.api import API_MAX_BODY, PREFIX
from handlers.api.answers import Answer, Api
from handlers.api.params import query_flag
from handlers.apidoc import API, Doc, Paths, json_content, param
from handlers.webhooks.common import parse_json, read_body


def routes(api: Api) -> list[Route]:
    """The silence routes (paths relative to the API's mount)."""

    async def list_silences(request: Request) -> Answer:
        expired = query_flag(request, "expired")
        return Answer({"silences": await silences.list_silences(api.deps, include_expired=expired)})

    async def create_silence(request: Request) -> Answer:
        data = parse_json(await read_body(request, API_MAX_BODY))
        return Answer(await silences.create(api.deps, **silence_args(data, api.deps)), status=201)

    async def expire_silence(request: Request) -> Answer:
        return Answer(await silences.expire(api.deps, silence_id=request.path_params["id"]))

    return [
        api.route("/silences", GET=list_silences, POST=create_silence),
        api.route("/silences/{id}", DELETE=expire_silence),
    ]


def _when(data: dict[str, Any], name: str) -> datetime | None:
    raw = data.get(name)
    if raw is None:
        return None
    try:
        return parse_iso(str(raw))
    except ValueError:
        raise BadRequest(f"{name} is not an RFC 3339 time") from None


def silence_args(data: Any, deps: Deps) -> dict[str, Any]:
    """Arguments of a POST /api/v1/silences body: matchers, ends_at or duration_minutes, starts_at, comment."""
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    matchers = data.get("matchers")
    if not isinstance(matchers, dict) or not all(isinstance(v, str) for v in matchers.values()):
        raise BadRequest('matchers must be an object of label -> value, e.g. {"service": "checkout-api"}')
    starts = _when(data, "starts_at")
    ends = _when(data, "ends_at")
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


def describe(doc: Doc) -> Paths:
    """The OpenAPI paths of these routes."""
    silence = doc.model(m.Silence)
    return {
        f"{PREFIX}/silences": {
            "get": {
                "operationId": "listSilences",
                "summary": "Silences, newest first",
                "security": API,
                "parameters": [
                    param("expired", "query", {"type": "boolean", "default": False}, "include ended silences")
                ],
                "responses": {"200": json_content(doc.model(m.SilenceList), "The silences"), **doc.errors(400, 401)},
            },
            "post": {
                "operationId": "createSilence",
                "summary": "Silence matching alerts for a while (at most 30 days)",
                "security": API,
                "requestBody": {"required": True, "content": {"application/json": {"schema": doc.model(m.NewSilence)}}},
                "responses": {"201": json_content(silence, "Created"), **doc.errors(400, 401, 413)},
            },
        },
        f"{PREFIX}/silences/{{id}}": {
            "delete": {
                "operationId": "expireSilence",
                "summary": "End a silence now",
                "security": API,
                "parameters": [param("id", "path", {"type": "string"}, "the silence's id")],
                "responses": {"200": json_content(silence, "The silence, now expired"), **doc.errors(401, 404)},
            }
        },
    }
