"""A loopback HTTP service for the http executor: on 127.0.0.1 and a free port, it records every request
(method, path, headers, body) and answers what the test scripted (`answer_next(status, body, headers)`), by
default 200 `{"ok": true}`. `hang_next()` makes the next request wait until the server stops (a timeout test)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Received:
    """One request as the server got it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Answer:
    """One scripted answer."""

    status: int = 200
    body: bytes = b'{"ok": true}'
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False


class RemediationApi:
    """The loopback service; `url(path)` is where it listens."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._answers: list[Answer] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    def url(self, path: str = "/") -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def answer_next(self, status: int, body: bytes | str = b"{}", headers: dict[str, str] | None = None) -> None:
        raw = body.encode() if isinstance(body, str) else body
        with self._lock:
            self._answers.append(Answer(status, raw, headers or {}))

    def hang_next(self) -> None:
        with self._lock:
            self._answers.append(Answer(hang=True))

    def _next(self) -> Answer:
        with self._lock:
            return self._answers.pop(0) if self._answers else Answer()

    def start(self) -> RemediationApi:
        """Serve on 127.0.0.1, port 0, in a thread."""
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                api.received.append(Received(self.command, self.path, dict(self.headers.items()), body))
                answer = api._next()
                if answer.hang:
                    api._stopping.wait()
                    return
                self.send_response(answer.status)
                for name, value in {"Content-Type": "application/json", **answer.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.02,), name="remediation-api", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@pytest.fixture
def remediation_api():
    """A started RemediationApi, stopped after the test."""
    api = RemediationApi().start()
    yield api
    api.stop()
