"""The Starlette app: Slack's Web API under /api/ plus the /_emulator control API."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Route

from .api import web_api
from .control import ROUTES
from .workspace import Workspace


def create_app(workspace: Workspace) -> Starlette:
    """Return an ASGI app serving `workspace` at `/api/<method>` and `/_emulator/...`."""
    routes = [Route("/api/{method}", web_api, methods=["GET", "POST"]), *ROUTES]
    app = Starlette(routes=routes)
    app.state.workspace = workspace
    return app
