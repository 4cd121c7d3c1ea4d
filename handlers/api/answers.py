"""How an /api/v1 endpoint answers: a body that is redacted as a whole, or a JSON refusal.

Endpoints return an `Answer` (or raise); `Api.route` turns that into the HTTP response, so no endpoint can
forget the redaction (`scrub_json`) or give a refusal in another shape.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.domain.events import Event
from bot.domain.incident import Incident, Role
from bot.domain.text import visible
from bot.domain.times import iso
from bot.services.deps import Deps
from bot.services.errors import BadRequest, IncidentNotFound
from handlers.errors import HttpError, error


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


@dataclass(frozen=True, slots=True)
class Answer:
    """What an endpoint answers: a JSON body (redacted on its way out) and a status."""

    body: Any
    status: int = 200


Endpoint = Callable[[Request], Awaitable[Answer]]


@dataclass(frozen=True, slots=True)
class Api:
    """What the API's endpoints share: the use cases' dependencies and the redaction of every answer."""

    deps: Deps
    redact: Callable[[str], str] = _same

    def route(self, path: str, **endpoints: Endpoint) -> Route:
        """One route, an endpoint per method (`GET=...`, `POST=...`): answers redacted, refusals JSON."""

        async def handle(request: Request) -> Response:
            endpoint = endpoints["GET" if request.method == "HEAD" else request.method]
            try:
                answer = await endpoint(request)
            except (HttpError, BadRequest, IncidentNotFound) as exc:
                refused = refusal(exc)
                return error(refused.status, refused.code, visible(self.redact(refused.detail)))
            return JSONResponse(scrub_json(answer.body, self.redact), status_code=answer.status)

        return Route(path, handle, methods=list(endpoints))


def refusal(exc: HttpError | BadRequest | IncidentNotFound) -> HttpError:
    """The HTTP refusal for an error of the use cases (400 for a bad request, 404 for an unknown object)."""
    if isinstance(exc, HttpError):
        return exc
    if isinstance(exc, BadRequest):
        return HttpError(400, "bad_request", str(exc))
    return HttpError(404, "not_found", str(exc))


def incident_fields(i: Incident) -> dict[str, Any]:
    """An Incident as the API's contract names it."""
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
        "frozen_since": iso(i.frozen_since),
        "group_key": i.group_key,
        "alertnames": list(i.alertnames),
        "runbook": i.runbook,
        "root_cause": i.root_cause,
        "root_cause_hypothesis": i.root_cause_hypothesis,
    }


def timeline_fields(e: Event) -> dict[str, Any]:
    """One timeline entry."""
    return {"at": iso(e.at), "kind": e.kind, "actor": e.actor, "text": e.text, "seq": e.seq}
