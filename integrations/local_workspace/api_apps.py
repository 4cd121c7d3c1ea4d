"""apps.connections.open: the app-level Web API method that starts a Socket Mode connection."""

from __future__ import annotations

from .args import Args
from .records import JSON
from .workspace import Workspace

APP_LEVEL_METHODS = frozenset({"apps.connections.open"})
"""Methods that take the app-level (xapp-) token; every other method wants the bot token."""


def connections_open(ws: Workspace, args: Args) -> JSON:
    """apps.connections.open: a one-time WebSocket URL for Socket Mode."""
    return {"url": ws.sockets.new_url(ws.base_url)}


METHODS = {"apps.connections.open": connections_open}
"""The app-level methods, by name."""
