"""Reading Web API arguments that arrive as JSON values, form fields or query strings."""

from __future__ import annotations

import json
from typing import Any

from .errors import ApiError

Args = dict[str, Any]


def text(args: Args, name: str) -> str | None:
    """Return argument `name` as a string, or None when absent or empty."""
    value = args.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    value = str(value)
    return value or None


def required(args: Args, name: str, code: str = "invalid_arguments") -> str:
    """Return argument `name`, answering `code` when it is missing."""
    value = text(args, name)
    if value is None:
        raise ApiError(code, f"[ERROR] missing required field: {name}")
    return value


def flag(args: Args, name: str, default: bool = False) -> bool:
    """Return a boolean argument ("true", "1", true)."""
    value = args.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes"}


def integer(args: Args, name: str, default: int) -> int:
    """Return an integer argument, answering invalid_arguments when it is not one."""
    value = args.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError("invalid_arguments", f"[ERROR] {name} must be an integer") from None


def words(args: Args, name: str) -> list[str]:
    """Return a comma-separated (or JSON list) argument as a list of non-empty strings."""
    value = args.get(name)
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


def structured(args: Args, name: str, format_error: str) -> Any:
    """Return a JSON argument that may arrive encoded as a string; bad JSON answers `format_error`."""
    value = args.get(name)
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise ApiError(format_error, f"[ERROR] {name} is not valid JSON") from None
    return value
