"""A loopback stand-in for PagerDuty's Events API v2 (`POST /v2/enqueue`), on 127.0.0.1 and a free port.

It checks each event as PagerDuty documents it (routing_key of 32 characters, event_action trigger /
acknowledge / resolve, dedup_key up to 255 characters, a trigger's payload with summary up to 1024
characters, source and severity critical|error|warning|info) and answers like PagerDuty: 202
`{"status": "success", "message": "Event processed", "dedup_key": ...}`, or 400 `{"status": "invalid event",
"message": "Event object is invalid", "errors": [...]}`. It keeps an alert per (routing key, dedup key) with
its state (triggered, acknowledged, resolved), as PagerDuty does.

A test can script the next answers (`answer_next(429, retry_after=30)`, `answer_next(503)`), or take the whole
service down (`down = 503`). Every request is recorded (`received`), and only the accepted ones change alerts.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

SEVERITIES = {"critical", "error", "warning", "info"}
ACTIONS = {"trigger", "acknowledge", "resolve"}


@dataclass
class Scripted:
    """One scripted answer."""

    status: int
    retry_after: str | None = None
    body: dict[str, Any] | None = None


@dataclass
class Alert:
    """What PagerDuty would hold for one dedup key on one service."""

    state: str
    triggers: int = 0
    events: list[str] = field(default_factory=list)


def validate(event: Any) -> list[str]:
    """Events API v2 validation errors (empty: valid)."""
    if not isinstance(event, dict):
        return ["Event object is not a JSON object"]
    errors = []
    key = event.get("routing_key")
    if not isinstance(key, str) or len(key) != 32:
        errors.append("'routing_key' is invalid (must be a 32 character string)")
    action = event.get("event_action")
    if action not in ACTIONS:
        errors.append("'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')")
    dedup = event.get("dedup_key")
    if action in ("acknowledge", "resolve") and not dedup:
        errors.append("'dedup_key' is missing")
    if dedup is not None and (not isinstance(dedup, str) or len(dedup) > 255):
        errors.append("'dedup_key' is invalid (must be a string of at most 255 characters)")
    if action == "trigger":
        payload = event.get("payload")
        if not isinstance(payload, dict):
            return [*errors, "'payload' is missing or invalid"]
        summary = payload.get("summary")
        if not isinstance(summary, str) or not summary or len(summary) > 1024:
            errors.append("'payload.summary' is invalid (must be a string of 1 to 1024 characters)")
        if not payload.get("source"):
            errors.append("'payload.source' is missing")
        if payload.get("severity") not in SEVERITIES:
            errors.append(
                "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')"
            )
    return errors


class PagerDutyServer:
    """`PagerDutyServer().start()`; `.url` (the enqueue URL); `.received`; `.alerts`; `.stop()`."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []  # every body, accepted or not
        self.accepted: list[dict[str, Any]] = []
        self.alerts: dict[tuple[str, str], Alert] = {}
        self.script: list[Scripted] = []
        self.down: int | None = None  # every request gets this status while set (an outage)
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """The enqueue endpoint (give it as PAGERDUTY_EVENTS_URL)."""
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v2/enqueue"

    def answer_next(self, status: int, *, retry_after: str | None = None, body: dict[str, Any] | None = None) -> None:
        """The next request gets this answer (then the scripted ones after it, then normal service)."""
        self.script.append(Scripted(status, retry_after, body))

    def events(self, action: str | None = None) -> list[dict[str, Any]]:
        """The accepted events, of one action when given."""
        return [e for e in self.accepted if action is None or e["event_action"] == action]

    def _handle(self, raw: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
        try:
            event = json.loads(raw)
        except ValueError:
            event = None
        with self._lock:
            self.received.append(event if isinstance(event, dict) else {"_raw": raw.decode("utf-8", "replace")})
            if self.down is not None:
                return self.down, {"status": "unavailable", "message": "Service unavailable"}, {}
            if self.script:
                s = self.script.pop(0)
                headers = {"Retry-After": s.retry_after} if s.retry_after else {}
                body = s.body or {"status": "throttled" if s.status == 429 else "error", "message": f"HTTP {s.status}"}
                return s.status, body, headers
            errors = validate(event)
            if errors:
                return 400, {"status": "invalid event", "message": "Event object is invalid", "errors": errors}, {}
            assert isinstance(event, dict)
            self.accepted.append(event)
            self._apply(event)
            return 202, {"status": "success", "message": "Event processed", "dedup_key": event["dedup_key"]}, {}

    def _apply(self, event: dict[str, Any]) -> None:
        key = (event["routing_key"], event["dedup_key"])
        alert = self.alerts.get(key)
        action = event["event_action"]
        if action == "trigger":
            if alert is None or alert.state == "resolved":
                alert = self.alerts[key] = Alert("triggered")
            alert.triggers += 1
        elif alert is None or alert.state == "resolved":
            return  # PagerDuty drops an acknowledge or resolve of no open alert
        else:
            alert.state = "acknowledged" if action == "acknowledge" else "resolved"
        alert.events.append(action)

    def start(self) -> PagerDutyServer:
        """Serve on 127.0.0.1, port 0, in a thread."""
        pd = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                if self.path != "/v2/enqueue":
                    self.send_error(404)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                status, body, headers = pd._handle(self.rfile.read(min(length, 512 * 1024)))
                pd.statuses.append(status)
                data = json.dumps(body).encode()
                self.send_response(status)
                for k, v in {**headers, "Content-Type": "application/json"}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, name="pagerduty-stub", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def pagerduty():
    """A PagerDuty Events API v2 stand-in for one test."""
    server = PagerDutyServer().start()
    try:
        yield server
    finally:
        server.stop()
