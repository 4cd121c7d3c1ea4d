"""`GET /api/v1/incidents/{ref}/hypotheses`: an incident's hypotheses, highest posterior first (DESIGN.md 5)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from bot.domain.root_cause import StoredHypothesis, evidence_json
from bot.domain.times import iso
from bot.services import hypotheses
from bot.services.errors import IncidentNotFound
from handlers import api_models_hypotheses as m
from handlers.api import PREFIX
from handlers.api.answers import Answer, Api
from handlers.apidoc import API, Doc, Paths, json_content, param
from handlers.errors import HttpError

EVIDENCE_FIELDS = ("query", "verdict", "observed", "threshold", "detail", "source")


def hypothesis_fields(h: StoredHypothesis) -> dict[str, Any]:
    """A kept hypothesis as the API's contract names it."""
    evidence = [{k: v for k, v in evidence_json(e).items() if k in EVIDENCE_FIELDS} for e in h.evidence]
    return {
        "id": h.id, "title": h.title, "runbook": h.runbook, "prior": h.prior, "posterior": h.posterior,
        "status": h.status.value, "service": h.service, "cause": h.cause.value, "evidence": evidence,
        "rank": h.rank, "origin": h.origin, "decided_by": h.decided_by, "decided_at": iso(h.decided_at),
        "scored_at": iso(h.scored_at),
    }  # fmt: skip


def routes(api: Api) -> list[Route]:
    """The hypotheses route (path relative to the API's mount)."""

    async def list_hypotheses(request: Request) -> Answer:
        ref = request.path_params["ref"]
        try:
            incident, found = await hypotheses.hypotheses_of(api.deps, ref=ref)
        except IncidentNotFound:
            raise HttpError(404, "not_found", f"no incident {ref}") from None
        return Answer(
            {"hypotheses": [hypothesis_fields(h) for h in found], "root_cause": incident.root_cause_hypothesis}
        )

    return [api.route("/incidents/{ref}/hypotheses", GET=list_hypotheses)]


def describe(doc: Doc) -> Paths:
    """The OpenAPI paths of this route."""
    ref = param("ref", "path", {"type": "string"}, "the incident's reference, e.g. INC-20261123-001")
    return {
        f"{PREFIX}/incidents/{{ref}}/hypotheses": {
            "get": {
                "operationId": "listHypotheses",
                "summary": "The incident's hypotheses about what broke, highest posterior first",
                "security": API,
                "parameters": [ref],
                "responses": {
                    "200": json_content(doc.model(m.HypothesisList), "The hypotheses"),
                    **doc.errors(401, 404),
                },
            }
        }
    }
