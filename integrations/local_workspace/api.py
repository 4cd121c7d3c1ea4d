"""The `/api/<method>` endpoint: faults, holds, auth, rate limits, then the method itself."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import Callable
from typing import cast

from starlette.requests import Request
from starlette.responses import JSONResponse

from . import api_apps, api_chat, api_conversations, api_files, api_misc, api_usergroups, api_views
from .args import Args
from .errors import ApiError
from .faults import Fault
from .records import JSON, ApiCall
from .workspace import Workspace

Handler = Callable[[Workspace, Args], JSON]

METHODS: dict[str, Handler] = {
    **api_conversations.METHODS,
    **api_chat.METHODS,
    **api_misc.METHODS,
    **api_views.METHODS,
    **api_apps.METHODS,
    **api_files.METHODS,
    **api_usergroups.METHODS,
}
"""Every Web API method the emulator answers, by name."""

STATUS_ERRORS = {429: "ratelimited", 500: "internal_error", 502: "bad_gateway", 503: "service_unavailable"}


def workspace_of(request: Request) -> Workspace:
    """Return the workspace the app was created for."""
    return cast(Workspace, request.app.state.workspace)


async def read_args(request: Request) -> Args:
    """Merge query parameters with a JSON or form body, as Slack accepts all three."""
    args: Args = dict(request.query_params)
    body = await request.body()
    if not body:
        return args
    if "application/json" in request.headers.get("content-type", ""):
        try:
            data = json.loads(body)
        except ValueError:
            raise ApiError("invalid_json") from None
        if not isinstance(data, dict):
            raise ApiError("json_not_object")
        args.update(data)
    else:
        args.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return args


def _token(request: Request, args: Args) -> str | None:
    """Take the token from `Authorization: Bearer` or, failing that, the `token` argument."""
    token = args.pop("token", None)
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return str(token) if token else None


def reply(call: ApiCall | None, status: int, body: JSON, headers: dict[str, str] | None = None) -> JSONResponse:
    """Answer and complete the call's log entry."""
    if call is not None:
        call.status, call.ok, call.error = status, bool(body.get("ok")), body.get("error")
        call.messages = list((body.get("response_metadata") or {}).get("messages") or [])
        if headers and "Retry-After" in headers:
            call.retry_after = int(headers["Retry-After"])
    return JSONResponse(body, status_code=status, headers=headers)


def error_reply(call: ApiCall | None, error: ApiError) -> JSONResponse:
    """Answer `{"ok": false, "error": code}` (with response_metadata.messages when there are any)."""
    body: JSON = {"ok": False, "error": error.code}
    if error.messages:
        body["response_metadata"] = {"messages": error.messages}
    return reply(call, error.status, body)


def fault_reply(call: ApiCall, fault: Fault) -> JSONResponse | None:
    """Answer as an injected fault says, or None when it was only a delay."""
    if fault.status is not None:
        error = fault.error or STATUS_ERRORS.get(fault.status, "internal_error")
        headers = None
        if fault.status == 429 or fault.retry_after is not None:
            headers = {"Retry-After": str(max(1, fault.retry_after or 1))}
        return reply(call, fault.status, {"ok": False, "error": error}, headers)
    if fault.error is not None:
        return reply(call, 200, {"ok": False, "error": fault.error})
    return None


async def web_api(request: Request) -> JSONResponse:
    """Answer one Web API call the way Slack would (and tell the page's live streams)."""
    ws = workspace_of(request)
    try:
        return await _answer(ws, request)
    finally:
        ws.feed.changed()


async def _answer(ws: Workspace, request: Request) -> JSONResponse:
    method = request.path_params["method"]
    try:
        args = await read_args(request)
    except ApiError as error:
        return error_reply(ws.record_call(method, {}), error)
    token = _token(request, args)
    call = ws.record_call(method, args)
    fault = ws.faults.take(method)
    if fault is not None:
        if fault.delay:
            await asyncio.sleep(fault.delay)
        faulted = fault_reply(call, fault)
        if faulted is not None:
            return faulted
    await ws.faults.wait_if_held(method)
    handler = METHODS.get(method)
    if handler is None:
        return reply(call, 200, {"ok": False, "error": "unknown_method", "req_method": method})
    if token is None:
        return reply(call, 200, {"ok": False, "error": "not_authed"})
    refused = _token_error(ws, method, token)
    if refused is not None:
        return reply(call, 200, {"ok": False, "error": refused})
    retry_after = ws.limiter.acquire(method, _channel_key(ws, args))
    if retry_after is not None:
        return reply(call, 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})
    try:
        with ws.lock:
            result = handler(ws, args)
    except ApiError as error:
        return error_reply(call, error)
    except Exception:
        call.status, call.ok, call.error = 500, False, "internal_error"
        raise
    return reply(call, 200, {"ok": True, **result})


def _token_error(ws: Workspace, method: str, token: str) -> str | None:
    """None when `token` is the right kind for `method`: the app-level token for app-level methods, else the bot's."""
    app_level = method in api_apps.APP_LEVEL_METHODS
    expected = ws.app_token if app_level else ws.token
    if token == expected:
        return None
    if token in {ws.token, ws.app_token}:
        return "not_allowed_token_type"
    return "invalid_auth"


def _channel_key(ws: Workspace, args: Args) -> str | None:
    """The channel id a per-channel limit counts against ("#name" and id share one bucket)."""
    ref = args.get("channel")
    if not isinstance(ref, str) or not ref:
        return None
    channel = ws.channel(ref) or ws.channel_by_name(ref)
    return channel.id if channel else ref
