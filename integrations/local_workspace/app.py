"""The Starlette app: Slack's Web API under /api/, the Socket Mode WebSocket, the /_emulator control API, the page.

Loopback clients only: the emulator holds every channel and acts as any user.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute

from .access import LoopbackOnly
from .api import web_api
from .control import ROUTES
from .files import ROUTES as FILE_ROUTES
from .link import LINK_PATH, link
from .page import page_routes
from .workspace import Workspace


def create_app(workspace: Workspace) -> Starlette:
    """Return an ASGI app serving `workspace` at `/api/<method>`, `/link/` (Socket Mode), `/_emulator/...` and the
    page at `/`."""
    routes = [
        Route("/api/{method}", web_api, methods=["GET", "POST"]),
        WebSocketRoute(LINK_PATH, link),
        *ROUTES,
        *FILE_ROUTES,
        *page_routes(),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(LoopbackOnly)])
    app.state.workspace = workspace
    return app
