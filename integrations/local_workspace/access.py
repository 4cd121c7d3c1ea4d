"""The emulator answers clients on this machine only: it holds every channel and acts as any user.

A client is local when its address (`scope["client"]`, which uvicorn sets from the TCP peer, or from
`X-Forwarded-For` when that peer is a trusted proxy) is a loopback address.
"""

from __future__ import annotations

import ipaddress
import json

from starlette.types import ASGIApp, Receive, Scope, Send

DETAIL = "the local Slack emulator answers clients on this machine (loopback) only"


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


class LoopbackOnly:
    """ASGI middleware: 403 for HTTP requests and WebSocket handshakes from anywhere but loopback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] == "lifespan" or is_loopback(client[0] if client else None):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": DETAIL})
        else:
            body = json.dumps({"ok": False, "error": "loopback_only", "detail": DETAIL}).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 403, "headers": headers})
            await send({"type": "http.response.body", "body": body})
