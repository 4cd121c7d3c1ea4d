"""The emulator answers clients on this machine only: it holds every channel and acts as any user.

A client is local when its address (`scope["client"]`, which uvicorn sets from the TCP peer, or from
`X-Forwarded-For` when that peer is a trusted proxy) is a loopback address. A browser on this machine is such
a client whatever page it shows, so two more checks keep other web sites out: the `Host` must name this
machine (a DNS name an attacker points at 127.0.0.1 does not: DNS rebinding), and a request that carries an
`Origin` (every cross-site POST, fetch, EventSource and WebSocket does) must come from the emulator's own
origin (cross-site request forgery).
"""

from __future__ import annotations

import ipaddress
import json
import urllib.parse

from starlette.types import ASGIApp, Receive, Scope, Send

DETAIL = "the local Slack emulator answers clients on this machine (loopback) only"
HOST_DETAIL = "the local Slack emulator answers requests addressed to localhost or a loopback address only"
ORIGIN_DETAIL = "the local Slack emulator answers pages of its own origin only"


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and IPv4-mapped loopback (::ffff:127.0.0.1)."""
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def names_this_machine(host_header: str) -> bool:
    """True when a Host header (`name[:port]`) is `localhost` or a loopback address."""
    try:
        hostname = urllib.parse.urlsplit("//" + host_header).hostname
    except ValueError:
        return False
    return hostname is not None and (hostname == "localhost" or is_loopback(hostname))


def refusal(scope: Scope) -> tuple[str, str] | None:
    """(error code, detail) when the request must be refused, else None."""
    client = scope.get("client")
    if not is_loopback(client[0] if client else None):
        return "loopback_only", DETAIL
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
    host = headers.get("host")
    if host is not None and not names_this_machine(host):
        return "bad_host", HOST_DETAIL
    origin = headers.get("origin")
    if origin is not None:
        try:
            netloc = urllib.parse.urlsplit(origin).netloc
        except ValueError:
            netloc = ""
        if host is None or netloc.lower() != host.lower():
            return "cross_origin", ORIGIN_DETAIL
    return None


class LoopbackOnly:
    """ASGI middleware: 403 for HTTP requests and WebSocket handshakes from anywhere but this machine's own
    clients, addressed to this machine, from no other web origin."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refused = None if scope["type"] == "lifespan" else refusal(scope)
        if refused is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": refused[1]})
        else:
            body = json.dumps({"ok": False, "error": refused[0], "detail": refused[1]}).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 403, "headers": headers})
            await send({"type": "http.response.body", "body": body})
