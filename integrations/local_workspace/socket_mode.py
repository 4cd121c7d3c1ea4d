"""Socket Mode: WebSocket tickets, open connections, envelopes the app must ack, and disconnects.

With an app-level token configured, the workspace sends commands, interactions and events as
Socket Mode envelopes on the app's WebSocket instead of signed POSTs to its Request URL. The
envelope shapes follow Slack's (`hello`, `slash_commands` / `interactive` / `events_api` with
`envelope_id`, `accepts_response_payload`, `payload`; `disconnect` with a reason). An envelope not
acked within ACK_TIMEOUT is recorded as such; Events API envelopes are then redelivered, like Slack
does, with `retry_attempt` counting up and `retry_reason` "timeout".
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from .clock import Clock, system_clock
from .records import APP_ID, JSON

ACK_TIMEOUT = 3.0
"""Slack waits 3 seconds for an envelope's ack."""
EVENT_RETRIES = 3
"""Slack redelivers an unacked Events API payload up to 3 times."""
MAX_CONNECTIONS = 10
"""Slack lets one app hold up to 10 Socket Mode connections."""
TICKET_TTL = 30.0
"""How long a URL from apps.connections.open can be used (once)."""
CONNECTION_TIME = 3600
"""`approximate_connection_time` Slack announces in `hello`, in seconds."""
LINK_PATH = "/link/"
DISCONNECT_REASONS = frozenset({"warning", "refresh_requested", "link_disabled", "too_many_websockets"})

ENVELOPE_TYPES = {
    "command": "slash_commands",
    "block_actions": "interactive",
    "view_submission": "interactive",
    "event": "events_api",
}
"""The envelope type each kind of delivery travels in."""
ACCEPTS_RESPONSE_PAYLOAD = {"command": True, "view_submission": True, "block_actions": False, "event": False}
"""Whether the app may answer with a payload in its ack (a command's reply, a view's response_action)."""

T = TypeVar("T")


class Socket(Protocol):
    """What the hub needs of a server-side WebSocket (Starlette's WebSocket is one)."""

    async def send_text(self, data: str) -> None:
        """Send one text frame."""

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection."""


@dataclass(eq=False)
class Connection:
    """One Socket Mode WebSocket: what was sent on it and what the app sent back."""

    id: str
    socket: Socket
    loop: asyncio.AbstractEventLoop
    opened_at: float
    ready: bool = False
    closed_at: float | None = None
    sent: list[JSON] = field(default_factory=list)
    received: list[JSON] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        """True while the socket is up and has had its `hello`."""
        return self.ready and self.closed_at is None

    def to_dict(self) -> JSON:
        """Return the connection for tests and the control API."""
        return {
            "id": self.id,
            "opened_at": self.opened_at,
            "closed_at": self.closed_at,
            "open": self.is_open,
            "sent": copy.deepcopy(self.sent),
            "received": copy.deepcopy(self.received),
        }


@dataclass(eq=False)
class Envelope:
    """One payload delivered over Socket Mode: every attempt, and the app's ack."""

    envelope_id: str
    type: str
    kind: str
    payload: JSON
    accepts_response_payload: bool
    first_retry: int = 0
    attempts: list[str] = field(default_factory=list)
    """The connection id of each attempt, in order."""
    acked: bool = False
    acked_on: str | None = None
    response: JSON | None = None
    """The payload the app sent with its ack, if any."""
    _waiter: asyncio.Event | None = field(default=None, repr=False)

    def frame(self, retry_attempt: int) -> JSON:
        """The envelope as sent on the wire for one attempt."""
        body: JSON = {
            "envelope_id": self.envelope_id,
            "payload": self.payload,
            "type": self.type,
            "accepts_response_payload": self.accepts_response_payload,
        }
        if self.type == "events_api":
            body["retry_attempt"] = retry_attempt
            body["retry_reason"] = "timeout" if retry_attempt else ""
        return body

    def to_dict(self) -> JSON:
        """Return the envelope for tests and the control API."""
        return {
            "envelope_id": self.envelope_id,
            "type": self.type,
            "kind": self.kind,
            "payload": copy.deepcopy(self.payload),
            "accepts_response_payload": self.accepts_response_payload,
            "attempts": list(self.attempts),
            "acked": self.acked,
            "response": copy.deepcopy(self.response),
        }


class SocketHub:
    """The app's Socket Mode side of the workspace: tickets, connections and envelopes."""

    def __init__(
        self,
        app_token: str | None = None,
        *,
        clock: Clock | None = None,
        ack_timeout: float = ACK_TIMEOUT,
        event_retries: int = EVENT_RETRIES,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.app_token = app_token
        self.clock: Clock = clock or system_clock
        self.ack_timeout = ack_timeout
        self.event_retries = event_retries
        self.max_connections = max_connections
        self._lock = threading.RLock()
        self._tickets: dict[str, float] = {}
        self._counter = 0
        self.connections: list[Connection] = []
        self.envelopes: list[Envelope] = []

    @property
    def enabled(self) -> bool:
        """Socket Mode is on when the app has an app-level token."""
        return self.app_token is not None

    def clear_records(self) -> None:
        """Forget delivered envelopes and closed connections (open ones stay up)."""
        with self._lock:
            self.envelopes = []
            self.connections = [c for c in self.connections if c.closed_at is None]

    # -- tickets and connections ---------------------------------------------

    def new_url(self, base_url: str) -> str:
        """Issue a one-time WebSocket URL (what apps.connections.open returns)."""
        ticket = secrets.token_urlsafe(18)
        with self._lock:
            self._tickets[ticket] = self.clock()
        parts = urllib.parse.urlsplit(base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        query = urllib.parse.urlencode({"ticket": ticket, "app_id": APP_ID})
        return urllib.parse.urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + LINK_PATH, query, ""))

    def redeem(self, ticket: str | None) -> bool:
        """Spend a ticket: True once for a ticket issued less than TICKET_TTL seconds ago."""
        with self._lock:
            issued = self._tickets.pop(ticket or "", None)
        return issued is not None and self.clock() - issued <= TICKET_TTL

    def admit(self, socket: Socket, loop: asyncio.AbstractEventLoop) -> Connection:
        """Register a new connection (not yet given deliveries: call `ready` after its hello)."""
        with self._lock:
            self._counter += 1
            conn = Connection(f"conn-{self._counter}", socket, loop, self.clock())
            self.connections.append(conn)
            return conn

    def hello(self, conn: Connection) -> JSON:
        """The `hello` message for a new connection, or a `too_many_websockets` disconnect."""
        with self._lock:
            others = len([c for c in self.connections if c.is_open and c is not conn])
        if others >= self.max_connections:
            return self._disconnect_message("too_many_websockets")
        return {
            "type": "hello",
            "num_connections": others + 1,
            "debug_info": {
                "host": f"applink-local-{conn.id}",
                "build_number": 1,
                "approximate_connection_time": CONNECTION_TIME,
            },
            "connection_info": {"app_id": APP_ID},
        }

    def ready(self, conn: Connection) -> None:
        """Let deliveries use the connection (its hello is out)."""
        with self._lock:
            conn.ready = True

    def closed(self, conn: Connection) -> None:
        """Record that the connection went down."""
        with self._lock:
            if conn.closed_at is None:
                conn.closed_at = self.clock()

    def received(self, conn: Connection, text: str) -> None:
        """Take one frame from the app: an ack (`{"envelope_id", "payload"?}`) or anything else."""
        try:
            frame = json.loads(text)
        except ValueError:
            frame = {"unparsed": text[:1000]}
        if not isinstance(frame, dict):
            frame = {"unparsed": text[:1000]}
        with self._lock:
            conn.received.append(frame)
            envelope_id = frame.get("envelope_id")
            envelope = next((e for e in self.envelopes if e.envelope_id == envelope_id), None)
            if envelope is None or envelope.acked:
                return
            envelope.acked, envelope.acked_on = True, conn.id
            payload = frame.get("payload")
            envelope.response = payload if isinstance(payload, dict) else None
            waiter = envelope._waiter
        if waiter is not None:
            waiter.set()

    def open_connections(self) -> list[Connection]:
        """Connections that can take deliveries, newest first."""
        with self._lock:
            return [c for c in reversed(self.connections) if c.is_open]

    async def wait_for_connection(self, *, newer_than: Connection | None = None, seconds: float = 10.0) -> Connection:
        """Wait for an open connection (opened after `newer_than`, if given); TimeoutError after `seconds`."""
        deadline = time.monotonic() + seconds
        while True:
            with self._lock:
                start = self.connections.index(newer_than) + 1 if newer_than in self.connections else 0
                found = next((c for c in reversed(self.connections[start:]) if c.is_open), None)
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no Socket Mode connection opened within {seconds}s")
            await asyncio.sleep(0.01)

    # -- deliveries ------------------------------------------------------------

    async def deliver(self, kind: str, payload: JSON, retry_attempt: int | None = None) -> Envelope:
        """Send `payload` as an envelope and wait for its ack; redeliver unacked events like Slack.

        The returned envelope has no attempts when no connection was open within the ack timeout.
        """
        envelope = Envelope(
            envelope_id=_envelope_id(),
            type=ENVELOPE_TYPES[kind],
            kind=kind,
            payload=copy.deepcopy(payload),
            accepts_response_payload=ACCEPTS_RESPONSE_PAYLOAD[kind],
            first_retry=retry_attempt or 0,
        )
        with self._lock:
            self.envelopes.append(envelope)
        retries = self.event_retries if envelope.type == "events_api" else 0
        for attempt in range(envelope.first_retry, envelope.first_retry + retries + 1):
            try:
                conn = await self.wait_for_connection(seconds=self.ack_timeout)
            except TimeoutError:
                return envelope
            if await _on_loop(conn.loop, functools.partial(self._attempt, conn, envelope, attempt)):
                break
        return envelope

    async def _attempt(self, conn: Connection, envelope: Envelope, retry_attempt: int) -> bool:
        """Send one attempt on `conn` (on its own loop) and wait up to ack_timeout for the ack."""
        waiter = asyncio.Event()
        frame = envelope.frame(retry_attempt)
        with self._lock:
            if envelope.acked:
                return True
            envelope._waiter = waiter
            envelope.attempts.append(conn.id)
            conn.sent.append(copy.deepcopy(frame))
        try:
            await conn.socket.send_text(json.dumps(frame, separators=(",", ":"), ensure_ascii=False))
        except Exception:  # the socket went away under us (the server's own disconnect error types vary)
            self.closed(conn)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter.wait(), timeout=self.ack_timeout)
        with self._lock:
            envelope._waiter = None
            return envelope.acked

    # -- disconnects -------------------------------------------------------------

    async def disconnect(self, reason: str = "refresh_requested", *, close: bool = False) -> int:
        """Send `disconnect` with `reason` on every open connection; return how many got it.

        Like Slack, the old socket stays up for the app to replace; `close=True` closes it at once.
        """
        if reason not in DISCONNECT_REASONS:
            raise ValueError(f"unknown disconnect reason {reason!r}")
        message = self._disconnect_message(reason)
        conns = self.open_connections()
        for conn in conns:
            await _on_loop(conn.loop, functools.partial(self._say_goodbye, conn, message, close))
        return len(conns)

    async def drop(self, code: int = 1011) -> int:
        """Close every open connection with no warning (like a server going away); return how many."""
        conns = self.open_connections()
        for conn in conns:
            await _on_loop(conn.loop, functools.partial(self._say_goodbye, conn, None, True, code))
        return len(conns)

    async def _say_goodbye(self, conn: Connection, message: JSON | None, close: bool, code: int = 1000) -> None:
        try:
            if message is not None:
                with self._lock:
                    conn.sent.append(copy.deepcopy(message))
                await conn.socket.send_text(json.dumps(message))
            if close:
                self.closed(conn)
                await conn.socket.close(code=code)
        except Exception:  # already gone
            self.closed(conn)

    def _disconnect_message(self, reason: str) -> JSON:
        return {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-local"}}


def _envelope_id() -> str:
    raw = secrets.token_hex(16)
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


async def _on_loop(loop: asyncio.AbstractEventLoop, make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine on `loop` (the connection's), from this loop or another thread's."""
    if asyncio.get_running_loop() is loop:
        return await make()

    async def run() -> T:
        return await make()

    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(run(), loop))
