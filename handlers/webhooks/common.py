"""What every alert webhook shares: authentication, body limits, error replies."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from dataclasses import dataclass
from typing import Any

from starlette.requests import ClientDisconnect, Request

from handlers.errors import HttpError
from handlers.peers import client_is_loopback

DEFAULT_MAX_BODY = 2 * 1024 * 1024


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
            if self.local_mode and client_is_loopback(request):
                return
            if self.local_mode:
                detail = "without WARROOM_ALERT_TOKEN, local mode takes alerts from loopback clients only"
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


def safe(text: object, limit: int = 80) -> str:
    """Quote outside input for an error message: escaped, control bytes visible, capped."""
    return repr(str(text)[:limit])
