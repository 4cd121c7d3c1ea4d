"""Slack-style opaque cursors for paginated methods."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import TypeVar

from .errors import ApiError

T = TypeVar("T")


def encode_cursor(kind: str, value: str | int) -> str:
    """Return an opaque cursor holding `kind:value`."""
    return base64.b64encode(f"{kind}:{value}".encode()).decode("ascii")


def decode_cursor(cursor: str, kind: str) -> str:
    """Return the value inside a cursor of `kind`, answering invalid_cursor otherwise."""
    try:
        found, _, value = base64.b64decode(cursor.encode("ascii"), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeError, ValueError):
        raise ApiError("invalid_cursor") from None
    if found != kind or not value:
        raise ApiError("invalid_cursor")
    return value


def paginate(items: Sequence[T], cursor: str | None, limit: int, kind: str) -> tuple[list[T], str]:
    """Return one page of `items` (limit 0 = all) and the next cursor ("" on the last page)."""
    offset = 0
    if cursor:
        value = decode_cursor(cursor, kind)
        if not value.isdigit():
            raise ApiError("invalid_cursor")
        offset = int(value)
    if limit < 0:
        raise ApiError("invalid_limit")
    end = len(items) if limit == 0 else offset + limit
    page = list(items[offset:end])
    return page, encode_cursor(kind, end) if end < len(items) else ""
