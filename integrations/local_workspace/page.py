"""The local-mode web page: a Slack-like client of the workspace, served as plain static files.

`/` is the page; `/static/...` its CSS and JavaScript; `/_emulator/page` the JSON it renders; `/_emulator/stream`
tells it (server-sent events) when to fetch again; `/_emulator/test-alert` is its "Send test alert" button.
Buttons, modals and the composer go through `/_emulator/send/...`: the same signed requests Slack sends.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from .api import workspace_of
from .errors import ApiError
from .feed import Feed, FeedClosed
from .page_state import page_state
from .sample_alert import read_options

STATIC = Path(__file__).with_name("static")
SECURITY_HEADERS = {
    # Only the page's own files run; nothing it shows can load a script, a frame or a form target.
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
MAX_BODY = 64 * 1024


class SecureHeaders:
    """ASGI middleware adding SECURITY_HEADERS to every response of the wrapped app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.encode() not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


async def index(request: Request) -> Response:
    """GET /: the page."""
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8", headers=SECURITY_HEADERS)


async def state(request: Request) -> JSONResponse:
    """GET: the page's picture for ?user= with ?channel= open."""
    ws = workspace_of(request)
    data = page_state(ws, request.query_params.get("user"), request.query_params.get("channel"))
    return JSONResponse(data, headers={"cache-control": "no-store"})


class EventStream(Response):
    """A text/event-stream response: one `change` event per new revision of the feed (coalesced), ending when
    the client goes away or the feed closes (server shutdown), so it never holds a shutdown up."""

    media_type = "text/event-stream"

    def __init__(self, feed: Feed, since: int | None) -> None:
        super().__init__(headers={"cache-control": "no-store", "x-accel-buffering": "no"})
        self.feed = feed
        self.since = since

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        await send({"type": "http.response.start", "status": self.status_code, "headers": headers})

        async def gone() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        with contextlib.suppress(OSError, FeedClosed):  # OSError: the client went away mid-write
            await send({"type": "http.response.body", "body": b"retry: 1000\n\n", "more_body": True})
            async for revision in self.feed.changes(self.since, until=gone()):
                chunk = f"event: change\ndata: {revision}\n\n".encode()
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        with contextlib.suppress(OSError):
            await send({"type": "http.response.body", "body": b"", "more_body": False})


async def stream(request: Request) -> Response:
    """GET: server-sent events, one per change of the workspace (?since=<revision> skips the current one)."""
    feed = workspace_of(request).feed
    since = request.query_params.get("since")
    if feed.closed or feed.streams >= feed.max_streams:
        return JSONResponse({"ok": False, "error": "unavailable", "detail": "no more live streams"}, status_code=503)
    return EventStream(feed, int(since) if since and since.isdigit() else None)


async def _body(request: Request) -> Any:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise ValueError(f"the body is over {MAX_BODY} bytes")
    return json.loads(body) if body.strip() else None


def _bad(detail: str, status: int = 400, error: str = "invalid_request") -> JSONResponse:
    return JSONResponse({"ok": False, "error": error, "detail": detail}, status_code=status)


async def send_test_alert(request: Request) -> JSONResponse:
    """POST: send the sample alert (body: optional options such as {"summary": ...}) through the bot's webhook."""
    ws = workspace_of(request)
    sample = ws.sample_alert
    if sample is None or not sample.url:
        return _bad("no webhook to send a test alert to (the emulator runs without the bot)", 404, "not_configured")
    try:
        options = read_options(await _body(request))
        response = await sample.send(ws.http(), options)
    except ValueError as error:
        return _bad(str(error))
    except (httpx.HTTPError, RuntimeError) as error:
        return _bad(f"{type(error).__name__}: {error}", 502, "delivery_failed")
    try:
        answer: Any = response.json()
    except ValueError:
        answer = response.text
    return JSONResponse({"ok": response.is_success, "status": response.status_code, "body": answer})


async def close_view(request: Request) -> JSONResponse:
    """POST: the user closes a modal (body: {"user_id": ...})."""
    ws = workspace_of(request)
    try:
        data = await _body(request)
    except ValueError as error:
        return _bad(str(error))
    user_id = data.get("user_id") if isinstance(data, dict) else None
    try:
        ws.close_view(str(user_id or ""), request.path_params["view_id"])
    except ApiError as error:
        return _bad(error.code, 404, error.code)
    return JSONResponse({"ok": True})


def page_routes() -> list[BaseRoute]:
    """The page, its files and its endpoints."""
    return [
        Route("/", index, methods=["GET"]),
        Mount("/static", app=SecureHeaders(StaticFiles(directory=STATIC)), name="static"),
        Route("/_emulator/page", state, methods=["GET"]),
        Route("/_emulator/stream", stream, methods=["GET"]),
        Route("/_emulator/test-alert", send_test_alert, methods=["POST"]),
        Route("/_emulator/views/{view_id}/close", close_view, methods=["POST"]),
    ]
