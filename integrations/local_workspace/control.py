"""The `/_emulator/...` control API: observe state, inject faults, hold methods, act as users."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .api import workspace_of
from .errors import ApiError
from .faults import Fault
from .responses import respond
from .snapshots import channel_snapshot, messages_snapshot
from .workspace import Workspace

Sender = Callable[..., Awaitable[httpx.Response]]


async def _json(request: Request) -> Any:
    body = await request.body()
    if not body:
        return {}
    try:
        return json.loads(body)
    except ValueError:
        return None


def _bad(detail: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"ok": False, "error": "invalid_request", "detail": detail}, status_code=status)


async def calls(request: Request) -> JSONResponse:
    """GET: every Web API call (filter with ?method=)."""
    ws = workspace_of(request)
    method = request.query_params.get("method")
    with ws.lock:
        found = [c.to_dict() for c in ws.calls if method is None or c.method == method]
    return JSONResponse({"calls": found})


async def channels(request: Request) -> JSONResponse:
    """GET: every conversation with its members."""
    ws = workspace_of(request)
    with ws.lock:
        return JSONResponse({"channels": [channel_snapshot(c) for c in ws.channels()]})


async def channel_messages(request: Request) -> JSONResponse:
    """GET: a channel's messages with blocks, pins, reactions, edits and thread replies."""
    ws = workspace_of(request)
    channel_id = request.path_params["channel_id"]
    channel = ws.channel(channel_id) or ws.channel_by_name(channel_id)
    if channel is None:
        return JSONResponse({"ok": False, "error": "channel_not_found"}, status_code=404)
    return JSONResponse({"channel": channel.id, "messages": messages_snapshot(ws, channel.id)})


async def ephemeral(request: Request) -> JSONResponse:
    """GET: every ephemeral message, with its user and channel."""
    ws = workspace_of(request)
    with ws.lock:
        return JSONResponse({"ephemeral": [e.to_dict() for e in ws.ephemeral]})


async def views(request: Request) -> JSONResponse:
    """GET: every view opened, with who it is for and whether it is still open."""
    ws = workspace_of(request)
    with ws.lock:
        found = [{**v.to_dict(), "user": v.user, "is_open": v.is_open, "errors": v.errors} for v in ws.views.values()]
    return JSONResponse({"views": found})


async def deliveries(request: Request) -> JSONResponse:
    """GET: every signed request sent to the bot and its answer."""
    ws = workspace_of(request)
    with ws.lock:
        return JSONResponse({"deliveries": [d.to_dict() for d in ws.deliveries]})


async def faults(request: Request) -> JSONResponse:
    """GET lists queued faults; POST queues one or a list; DELETE clears them and releases holds."""
    ws = workspace_of(request)
    if request.method == "POST":
        data = await _json(request)
        items = data if isinstance(data, list) else [data]
        try:
            for item in items:
                if not isinstance(item, dict):
                    return _bad("a fault is a JSON object")
                ws.add_fault(Fault.from_dict(item))
        except (ValueError, TypeError) as error:
            return _bad(str(error))
    elif request.method == "DELETE":
        ws.clear_faults()
    return JSONResponse({"ok": True, "faults": [f.to_dict() for f in ws.faults.pending()]})


async def hold(request: Request) -> JSONResponse:
    """POST: make calls to {method} block until released."""
    ws = workspace_of(request)
    ws.hold(request.path_params["method"])
    return JSONResponse({"ok": True, "held": ws.faults.held()})


async def release(request: Request) -> JSONResponse:
    """POST: let calls to {method} through."""
    ws = workspace_of(request)
    ws.release(request.path_params["method"])
    return JSONResponse({"ok": True, "held": ws.faults.held()})


async def reset(request: Request) -> JSONResponse:
    """POST: back to the seeded workspace."""
    workspace_of(request).reset()
    return JSONResponse({"ok": True})


async def config(request: Request) -> JSONResponse:
    """GET or POST `rate_limit_scale` and `events_url`."""
    ws = workspace_of(request)
    if request.method == "POST":
        data = await _json(request)
        if not isinstance(data, dict) or set(data) - {"rate_limit_scale", "events_url"}:
            return _bad("expected {rate_limit_scale?, events_url?}")
        scale = data.get("rate_limit_scale")
        if scale is not None and (isinstance(scale, bool) or not isinstance(scale, int | float)):
            return _bad("rate_limit_scale must be a number or null")
        url = data.get("events_url")
        if url is not None and (not isinstance(url, str) or url not in ws.bot_events_urls):
            allowed = ", ".join(sorted(ws.bot_events_urls)) or "none set"
            return _bad(f"events_url may point at the bot only ({allowed}), or be null")
        if "rate_limit_scale" in data:
            ws.rate_limit_scale = scale
        if "events_url" in data:
            ws.events_url = url
    return JSONResponse({"rate_limit_scale": ws.rate_limit_scale, "events_url": ws.events_url})


async def response_url(request: Request) -> JSONResponse:
    """POST: the bot answering a command or interaction through its response_url."""
    data = await _json(request)
    if not isinstance(data, dict):
        return _bad("body must be a JSON object")
    status, body = respond(workspace_of(request), request.path_params["token"], data)
    return JSONResponse(body, status_code=status)


def _senders(ws: Workspace) -> dict[str, Sender]:
    return {
        "command": ws.send_command,
        "click": ws.click,
        "submit": ws.submit_view,
        "event": ws.send_event,
        "react": ws.react,
        "pin": ws.pin,
        "message": ws.post_as_user,
    }


async def send(request: Request) -> JSONResponse:
    """POST: act as a user (command, click, submit, event, react, pin, message); JSON body = keyword args."""
    ws = workspace_of(request)
    sender = _senders(ws).get(request.path_params["kind"])
    kwargs = await _json(request)
    if sender is None or not isinstance(kwargs, dict):
        return _bad("unknown kind or body not a JSON object", 404 if sender is None else 400)
    try:
        response = await sender(**kwargs)
    except TypeError as error:
        return _bad(str(error))
    except ApiError as error:
        return JSONResponse({"ok": False, "error": error.code}, status_code=400)
    except (httpx.HTTPError, RuntimeError) as error:
        return JSONResponse({"ok": False, "error": "delivery_failed", "detail": str(error)}, status_code=502)
    return JSONResponse({"ok": True, "status": response.status_code, "body": response.text})


async def new_trigger(request: Request) -> JSONResponse:
    """POST: issue a trigger_id (body: {"user_id": ...})."""
    data = await _json(request)
    user_id = data.get("user_id", "U0ALICE") if isinstance(data, dict) else "U0ALICE"
    return JSONResponse({"trigger_id": workspace_of(request).new_trigger_id(str(user_id))})


ROUTES = [
    Route("/_emulator/calls", calls, methods=["GET"]),
    Route("/_emulator/channels", channels, methods=["GET"]),
    Route("/_emulator/channels/{channel_id}/messages", channel_messages, methods=["GET"]),
    Route("/_emulator/ephemeral", ephemeral, methods=["GET"]),
    Route("/_emulator/views", views, methods=["GET"]),
    Route("/_emulator/deliveries", deliveries, methods=["GET"]),
    Route("/_emulator/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/_emulator/hold/{method}", hold, methods=["POST"]),
    Route("/_emulator/release/{method}", release, methods=["POST"]),
    Route("/_emulator/reset", reset, methods=["POST"]),
    Route("/_emulator/config", config, methods=["GET", "POST"]),
    Route("/_emulator/triggers", new_trigger, methods=["POST"]),
    Route("/_emulator/response/{token}", response_url, methods=["POST"]),
    Route("/_emulator/send/{kind}", send, methods=["POST"]),
]
"""The control API's routes."""
