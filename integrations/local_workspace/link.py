"""The Socket Mode WebSocket endpoint (`/link/?ticket=...`): hello, envelopes out, acks in."""

from __future__ import annotations

import asyncio
import json
from typing import cast

from starlette.websockets import WebSocket, WebSocketDisconnect

from .socket_mode import LINK_PATH
from .workspace import Workspace

__all__ = ["LINK_PATH", "link"]


async def link(websocket: WebSocket) -> None:
    """Serve one Socket Mode connection until either side closes it."""
    workspace = cast(Workspace, websocket.app.state.workspace)
    hub = workspace.sockets
    if not hub.enabled or not hub.redeem(websocket.query_params.get("ticket")):
        await websocket.close(code=1008)  # before accept: the handshake is refused (HTTP 403)
        return
    await websocket.accept()
    conn = hub.admit(websocket, asyncio.get_running_loop())
    try:
        hello = hub.hello(conn)
        conn.sent.append(hello)
        await websocket.send_text(json.dumps(hello))
        if hello["type"] != "hello":
            await websocket.close(code=1008)
            return
        hub.ready(conn)
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None and message.get("bytes") is not None:
                text = message["bytes"].decode("utf-8", "replace")
            if text:
                hub.received(conn, text)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        hub.closed(conn)
