"""`GET /api/v1/incidents` and `GET /api/v1/incidents/{ref}`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from bot.services import incidents
from bot.services.errors import IncidentNotFound
from handlers import api_models as m
from handlers.api import PREFIX
from handlers.api.answers import Answer, Api, incident_fields, timeline_fields
from handlers.api.params import query_limit
from handlers.apidoc import API, LIMIT, Doc, Paths, json_content, param
from handlers.errors import HttpError


def routes(api: Api) -> list[Route]:
    """The incident routes (paths relative to the API's mount)."""

    async def list_incidents(request: Request) -> Answer:
        status = request.query_params.get("status", "all")
        found = await incidents.list_incidents(api.deps, status=status, limit=query_limit(request, 50))
        return Answer({"incidents": [incident_fields(i) for i in found]})

    async def get_incident(request: Request) -> Answer:
        ref = request.path_params["ref"]
        try:
            inc, events = await incidents.timeline(api.deps, ref=ref)
        except IncidentNotFound:
            raise HttpError(404, "not_found", f"no incident {ref}") from None  # as asked (redacted on its way out)
        return Answer({**incident_fields(inc), "timeline": [timeline_fields(e) for e in events]})

    return [api.route("/incidents", GET=list_incidents), api.route("/incidents/{ref}", GET=get_incident)]


def describe(doc: Doc) -> Paths:
    """The OpenAPI paths of these routes."""
    ref = param("ref", "path", {"type": "string"}, "the incident's reference, e.g. INC-20261123-001")
    return {
        f"{PREFIX}/incidents": {
            "get": {
                "operationId": "listIncidents",
                "summary": "Incidents, newest first",
                "security": API,
                "parameters": [
                    param("status", "query", {"enum": ["open", "resolved", "all"], "default": "all"}, "which"),
                    param("limit", "query", {**LIMIT, "default": 50}, "at most this many"),
                ],
                "responses": {"200": json_content(doc.model(m.IncidentList), "The incidents"), **doc.errors(400, 401)},
            }
        },
        f"{PREFIX}/incidents/{{ref}}": {
            "get": {
                "operationId": "getIncident",
                "summary": "One incident with its timeline",
                "security": API,
                "parameters": [ref],
                "responses": {"200": json_content(doc.model(m.IncidentDetail), "The incident"), **doc.errors(401, 404)},
            }
        },
    }
