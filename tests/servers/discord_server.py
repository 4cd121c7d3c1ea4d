"""A loopback Discord that executes webhooks the way Discord does: `POST /api/v10/webhooks/<id>/<token>` with a
JSON body or a multipart body (`payload_json` and `files[n]`), refusing (400, code 50035) a message over any of
Discord's limits and a wrong token (401, code 50027). The next requests can be answered 429 with a
`retry_after`, with or without the `Via` header of Discord's proxy (discord.py waits out only the former).
Messages are recorded with the time they arrived.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

WEBHOOK_ID = "112233445566778899"
WEBHOOK_TOKEN = "T" * 40 + "-test_webhook.token-" + "x" * 20
REPORTS_ID = "998877665544332211"
REPORTS_TOKEN = "R" * 40 + "-reports_webhook.token-" + "y" * 20


@dataclass
class Message:
    webhook: str
    payload: dict[str, Any]
    files: list[tuple[str, bytes]] = field(default_factory=list)
    at: float = 0.0


def limit_problems(p: dict[str, Any]) -> list[str]:
    """What Discord would refuse in a message."""
    problems = []
    if len(p.get("content") or "") > 2000:
        problems.append("content over 2000")
    embeds = p.get("embeds") or []
    if len(embeds) > 10:
        problems.append("over 10 embeds")
    total = 0
    for e in embeds:
        sizes = {"title": 256, "description": 4096}
        for key, limit in sizes.items():
            if len(e.get(key) or "") > limit:
                problems.append(f"{key} over {limit}")
            total += len(e.get(key) or "")
        fields = e.get("fields") or []
        if len(fields) > 25:
            problems.append("over 25 fields")
        for f in fields:
            if not f.get("name") or not f.get("value"):
                problems.append("empty field")
            if len(f.get("name", "")) > 256 or len(f.get("value", "")) > 1024:
                problems.append("field over its limit")
            total += len(f.get("name", "")) + len(f.get("value", ""))
        footer = (e.get("footer") or {}).get("text") or ""
        if len(footer) > 2048:
            problems.append("footer over 2048")
        total += len(footer)
    if total > 6000:
        problems.append(f"embeds total {total} over 6000")
    return problems


class DiscordServer:
    """`DiscordServer().start()`; `.api_url` for DISCORD_API_URL; `.webhook_url` / `.reports_url` (Discord-shaped);
    `.messages`; `.rate_limit_next`; `.stop()`."""

    def __init__(self) -> None:
        self.tokens = {WEBHOOK_ID: WEBHOOK_TOKEN, REPORTS_ID: REPORTS_TOKEN}
        self.messages: list[Message] = []
        self.posts: list[float] = []  # every POST's arrival (429s too)
        self.raw: list[bytes] = []
        self.rate_limit_next: list[tuple[float, bool]] = []  # (retry_after, with the Via header)
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def api_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/v10"

    webhook_url = f"https://discord.com/api/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}"
    reports_url = f"https://discord.com/api/webhooks/{REPORTS_ID}/{REPORTS_TOKEN}"

    def sent_to(self, webhook: str) -> list[Message]:
        return [m for m in self.messages if m.webhook == webhook]

    def everything_sent(self) -> str:
        return "\n".join(b.decode("utf-8", "replace") for b in self.raw)

    def start(self) -> DiscordServer:
        discord = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with discord.lock:
                    status, answer, headers = discord._execute(self.path, self.headers.get("Content-Type", ""), body)
                data = b"" if answer is None else json.dumps(answer).encode()
                self.send_response(status)
                if data:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _execute(self, path: str, content_type: str, body: bytes) -> tuple[int, Any, dict[str, str]]:
        self.posts.append(time.monotonic())
        self.raw.append(body)
        m = re.fullmatch(r"/api/v10/webhooks/(\d+)/([^/?]+)(\?.*)?", path)
        if m is None:
            return 404, {"message": "404: Not Found", "code": 0}, {}
        if self.tokens.get(m.group(1)) != m.group(2):
            return 401, {"message": "Invalid Webhook Token", "code": 50027}, {}
        if self.rate_limit_next:
            retry_after, via = self.rate_limit_next.pop(0)
            headers = {"Retry-After": str(max(1, round(retry_after)))} | ({"Via": "1.1 google"} if via else {})
            return 429, {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}, headers
        payload, files = _parse(content_type, body)
        problems = limit_problems(payload)
        if problems:
            return 400, {"message": "Invalid Form Body", "code": 50035, "errors": problems}, {}
        self.messages.append(Message(m.group(1), payload, files, time.monotonic()))
        return 204, None, {}


def _parse(content_type: str, body: bytes) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    if content_type.startswith("application/json"):
        return json.loads(body), []
    boundary = content_type.split("boundary=")[-1].strip('"').encode()
    payload: dict[str, Any] = {}
    files = []
    for part in body.split(b"--" + boundary):
        head, _, data = part.partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        name = re.search(rb'name="([^"]*)"', head)
        filename = re.search(rb'filename="([^"]*)"', head)
        if filename:
            files.append((filename.group(1).decode(), data))
        elif name and name.group(1) == b"payload_json":
            payload = json.loads(data)
    return payload, files


@pytest.fixture
def discord_server() -> Iterator[DiscordServer]:
    """A loopback Discord with an alerts and a reports webhook."""
    server = DiscordServer().start()
    try:
        yield server
    finally:
        server.stop()
