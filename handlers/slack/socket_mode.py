"""Slack Socket Mode: the same Bolt app, fed from a WebSocket instead of POSTs to /slack/events.

slack_sdk's aiohttp SocketModeClient (through Bolt's AsyncSocketModeHandler) speaks the protocol:
it asks `apps.connections.open` (at SLACK_API_URL, with the app-level token) for a WebSocket URL,
acks each envelope with Bolt's reply, and reconnects when Slack sends `disconnect` or the socket
drops. This module adds what a server needs around it: a start that fails at once when Slack
refuses the token, and a stop that lets envelopes being answered finish and leaves no task or
session behind.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError

log = logging.getLogger("warroom.slack")

REFUSED = frozenset(
    {"invalid_auth", "not_authed", "not_allowed_token_type", "token_revoked", "token_expired", "account_inactive"}
)
"""apps.connections.open errors that retrying cannot fix: the token is wrong."""


class SocketModeRefused(RuntimeError):
    """Slack refused SLACK_APP_TOKEN (the message names the error code, never the token)."""


class _Handler(AsyncSocketModeHandler):  # type: ignore[misc]
    """Bolt's handler, keeping count of the envelopes it is still answering."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.accepting = True
        self.inflight: set[asyncio.Task[Any]] = set()

    async def handle(self, client: Any, req: Any) -> None:
        """Answer one envelope through Bolt, unless shutting down (Slack then redelivers events)."""
        task = asyncio.current_task()
        if not self.accepting or task is None:
            return
        self.inflight.add(task)
        try:
            await super().handle(client, req)
        finally:
            self.inflight.discard(task)


class SocketModeLink:
    """The bot's Socket Mode connection to Slack: start, keep up, close."""

    def __init__(
        self,
        app: Any,
        app_token: str,
        *,
        ping_interval: float = 10.0,
        connect_wait: float = 10.0,
        drain_timeout: float = 5.0,
        close_timeout: float = 5.0,
    ) -> None:
        self.app = app
        self._app_token = app_token
        self.ping_interval = ping_interval
        self.connect_wait = connect_wait
        self.drain_timeout = drain_timeout
        self.close_timeout = close_timeout
        self._handler: _Handler | None = None
        self._connect: asyncio.Task[Any] | None = None

    @property
    def client(self) -> Any:
        """slack_sdk's SocketModeClient while started, else None."""
        return self._handler.client if self._handler is not None else None

    @property
    def connected(self) -> bool:
        """True while a WebSocket to Slack is open."""
        session = self._handler.client.current_session if self._handler else None
        return session is not None and not session.closed

    async def start(self) -> None:
        """Connect; SocketModeRefused when Slack refuses the token, else keep trying in the background."""
        if self._handler is not None:
            return
        # The client's own tasks belong to the running loop, so it is built here, not at wiring time.
        handler = _Handler(self.app, self._app_token, ping_interval=self.ping_interval, logger=self.app.logger)
        self._handler = handler
        client = handler.client
        try:
            client.wss_uri = await client.issue_new_wss_url()
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "unknown_error")
            if error in REFUSED:
                await self.stop()
                raise SocketModeRefused(
                    f"Slack refused SLACK_APP_TOKEN on apps.connections.open ({error}): it must be the app-level "
                    "token (xapp-...) of this app, with the connections:write scope"
                ) from None
            log.warning("apps.connections.open failed (%s); Socket Mode keeps trying", error)
        except Exception as exc:  # network errors: Slack may be unreachable for now
            log.warning("apps.connections.open failed (%s); Socket Mode keeps trying", type(exc).__name__)
        self._connect = asyncio.create_task(client.connect(), name="slack-socket-mode-connect")  # type: ignore[no-untyped-call]
        done, _ = await asyncio.wait({self._connect}, timeout=self.connect_wait)
        if not done:
            log.warning("Socket Mode is not connected yet; still trying in the background")

    async def stop(self) -> None:
        """Let envelopes being answered finish (bounded), close the socket, and end every task of the client."""
        handler, self._handler = self._handler, None
        if handler is None:
            return
        handler.accepting = False
        if handler.inflight:
            await asyncio.wait(set(handler.inflight), timeout=self.drain_timeout)
        client = handler.client
        try:
            async with asyncio.timeout(self.close_timeout):
                await handler.close_async()  # type: ignore[no-untyped-call]
        except Exception as exc:  # a half-open socket must not hang shutdown
            log.warning("closing the Socket Mode connection failed (%s)", type(exc).__name__)
        tasks = [
            t
            for t in (
                self._connect,
                client.message_processor,
                client.current_session_monitor,
                client.message_receiver,
                *handler.inflight,
            )
            if t is not None and not t.done()
        ]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._connect = None
        session = client.current_session
        if session is not None and not session.closed:
            await session.close()
        if not client.aiohttp_client_session.closed:
            await client.aiohttp_client_session.close()
