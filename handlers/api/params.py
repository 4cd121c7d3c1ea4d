"""Query parameters of the API, read strictly: a bad value is a 400 that says what is allowed."""

from __future__ import annotations

import re

from starlette.requests import Request

from bot.services.errors import BadRequest


def query_limit(request: Request, default: int) -> int:
    """The `limit` query parameter: a whole number from 1 to 500 (BadRequest otherwise)."""
    raw = request.query_params.get("limit", str(default))
    if not re.fullmatch(r"[0-9]{1,9}", raw) or not 1 <= int(raw) <= 500:
        raise BadRequest("limit must be a whole number from 1 to 500")
    return int(raw)


def query_flag(request: Request, name: str, *, default: bool = False) -> bool:
    """A true/false query parameter (any case; BadRequest otherwise)."""
    raw = request.query_params.get(name, "true" if default else "false").lower()
    if raw not in ("true", "false"):
        raise BadRequest(f"{name} must be true or false")
    return raw == "true"
