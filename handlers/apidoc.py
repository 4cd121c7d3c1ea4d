"""Building blocks of the OpenAPI document: each route module describes its own paths with these.

Every schema comes from a pydantic model (handlers.api_models for the answers, the webhook parsers' own models
for the alert bodies), so the description cannot drift from the code that parses and answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from handlers import api_models as m

REF = "#/components/schemas/{model}"
Security = list[dict[str, list[str]]]
Paths = dict[str, dict[str, Any]]
API: Security = [{"apiToken": []}]
ALERTS: Security = [{"alertToken": []}, {"alertBasic": []}]
PUBLIC: Security = []
WHY = {
    400: "Bad request: malformed JSON, wrong field types, invalid values",
    401: "Missing or wrong token",
    403: "The SNS signature does not verify, or the topic is not in the allow-list",
    404: "Not found",
    413: "The body is over the size cap",
    503: "The alerts could not be stored (or, for SNS, verified); retry later",
}
LIMIT = {"type": "integer", "minimum": 1, "maximum": 500}


def lift(schema: dict[str, Any], name: str, into: dict[str, Any]) -> None:
    """Put a JSON schema into `into` (components/schemas) under `name`, its $defs beside it, refs rewritten."""
    text = json.dumps(schema).replace('"#/$defs/', '"#/components/schemas/')
    lifted = json.loads(text)
    for key, value in [*lifted.pop("$defs", {}).items(), (name, lifted)]:
        if into.setdefault(key, value) != value:
            raise ValueError(f"two different schemas are both named {key}")


def ref(name: str) -> dict[str, str]:
    """A reference to a component schema."""
    return {"$ref": REF.format(model=name)}


def json_content(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """An answer (or body) of JSON with this schema."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def param(name: str, where: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A path or query parameter."""
    return {"name": name, "in": where, "required": where == "path", "schema": schema, "description": description}


@dataclass(slots=True)
class Doc:
    """The components being collected while the route modules describe their paths."""

    schemas: dict[str, Any] = field(default_factory=dict)

    def model(self, model: type[BaseModel]) -> dict[str, str]:
        """Add a model's schema to the components; return a reference to it."""
        lift(model.model_json_schema(ref_template=REF), model.__name__, self.schemas)
        return ref(model.__name__)

    def errors(self, *codes: int) -> dict[str, Any]:
        """The error answers a route really gives."""
        error = self.model(m.Error)
        return {str(code): json_content(error, WHY[code]) for code in codes}
