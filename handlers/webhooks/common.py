"""What every alert webhook shares: authentication, body limits, error replies."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from starlette.requests import ClientDisconnect, Request

from handlers.errors import HttpError
from handlers.peers import local_request

DEFAULT_MAX_BODY = 2 * 1024 * 1024
QUOTE_MAX = 80
"""How much of an outside value an error message quotes."""


class WebhookError(HttpError):
    """A refused webhook request (or a body the API refuses): HTTP status, machine code, human detail."""


@dataclass(frozen=True, slots=True)
class WebhookAuth:
    """`WARROOM_ALERT_TOKEN` as bearer or basic-auth password; without a token, local mode's loopback clients only."""

    token: str | None = None
    local_mode: bool = False

    def check(self, request: Request) -> None:
        """Raise WebhookError(401) unless the request carries the token (or comes from loopback in local mode)."""
        if self.token is None:
            if self.local_mode:
                why = local_request(request)
                if why is None:
                    return
                detail = f"without WARROOM_ALERT_TOKEN, local mode takes alerts from this machine's {why}"
                raise WebhookError(401, "unauthorized", detail)
            raise WebhookError(401, "unauthorized", "webhooks are closed until WARROOM_ALERT_TOKEN is set")
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        presented: str | None = None
        if scheme.lower() == "bearer":
            presented = value.strip()
        elif scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            presented = decoded.partition(":")[2]
        if presented is None or not hmac.compare_digest(presented.encode(), self.token.encode()):
            raise WebhookError(401, "unauthorized", "send Authorization: Bearer <WARROOM_ALERT_TOKEN> (or basic auth)")


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing (413) anything over `limit` bytes before reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise WebhookError(413, "payload_too_large", f"the body is over {limit} bytes")
        except ValueError:
            raise WebhookError(400, "bad_request", "Content-Length is not a number") from None
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise WebhookError(413, "payload_too_large", f"the body is over {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise WebhookError(400, "bad_request", "the client went away before the body was read") from None
    return b"".join(chunks)


def parse_json(body: bytes) -> Any:
    """JSON from the body, or a 400 that says what is wrong."""
    if not body.strip():
        raise WebhookError(400, "empty_body", "the request body is empty")
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WebhookError(
            400, "invalid_json", f"the body is not valid JSON ({type(exc).__name__} at {_pos(exc)})"
        ) from None
    except RecursionError:
        raise WebhookError(400, "invalid_json", "the JSON nests too deeply") from None


def _pos(exc: Exception) -> str:
    return f"char {getattr(exc, 'pos', getattr(exc, 'start', '?'))}"


def quote(value: object, limit: int = QUOTE_MAX) -> str:
    """Quote untrusted input for an error message: repr-escaped (control and invisible characters shown as
    escapes), at most `limit` characters."""
    text = value if isinstance(value, str) else repr(value)
    cut = text[:limit]
    return repr(cut) + ("..." if len(text) > limit else "")


def validation_detail(exc: ValidationError, *, at: str = "", limit: int = 1, skip_root: bool = False) -> str:
    """What a pydantic ValidationError says is wrong, never the input values: `'where': 'what'` for the first
    `limit` problems, joined by `; `. `at` is put before each location (`alerts[3].`); `skip_root` drops the
    first part of each (the tag of a discriminated union)."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False)[:limit]:
        loc = err["loc"][1:] if skip_root and len(err["loc"]) > 1 else err["loc"]
        where = at + ".".join(str(p) for p in loc)
        parts.append(f"{quote(where, 60)}: {quote(err['msg'])}")
    return "; ".join(parts)


def invalid(exc: ValidationError, code: str, *, at: str = "") -> WebhookError:
    """A 400 for a body that fails its pydantic model: the code, and where and what (`validation_detail`)."""
    return WebhookError(400, code, validation_detail(exc, at=at))
