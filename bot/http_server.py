"""uvicorn's Server, telling its host when shutdown starts.

uvicorn waits (up to `timeout_graceful_shutdown`) for open responses before it runs the lifespan shutdown, so a
response that only ends when told (the local page's live stream) has to be told before that wait.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import uvicorn


class Server(uvicorn.Server):  # type: ignore[misc]
    """A uvicorn server that calls `on_shutdown()` first thing when it starts shutting down."""

    def __init__(self, config: uvicorn.Config, on_shutdown: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_shutdown = on_shutdown

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """End what must end first, then uvicorn's own graceful shutdown."""
        self.on_shutdown()
        await super().shutdown(sockets=sockets)
