"""Attacks on a real `warroom serve` (local mode, loopback): big bodies, bad Slack headers, remote clients, SSRF.

A remote client is played from loopback the way a reverse proxy on this machine presents one: with
`X-Forwarded-For`, which uvicorn believes only from the proxies in FORWARDED_ALLOW_IPS (127.0.0.1 and ::1
by default). The server itself listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import json
import select
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from integrations.local_workspace import GENERAL_ID
from tests.e2e.serve import START_SECONDS, Serve, free_port

pytestmark = pytest.mark.slow
MIB = 1024 * 1024
REMOTE = {"X-Forwarded-For": "203.0.113.7"}


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """`warroom serve` in local mode on 127.0.0.1 (the default a newcomer runs)."""
    server = Serve(tmp_path_factory.mktemp("serve"), {"WARROOM_LOG_LEVEL": "INFO"}).start()
    yield server
    server.stop()


# --- a big body to /slack/events ----------------------------------------------------------------


@dataclass
class Upload:
    status: int | None
    body: bytes
    sent: int


def upload(port: int, *, chunked: bool, total: int, marker: str) -> Upload:
    """POST `total` bytes of unsigned form data to /slack/events, reading the answer while sending."""
    head = [
        "POST /slack/events HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/x-www-form-urlencoded",
        f"X-Slack-Request-Timestamp: {int(time.time())}",
        "X-Slack-Signature: v0=" + "0" * 64,
        "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}",
    ]
    piece = (f"text={marker}&" * (64 * 1024 // (len(marker) + 6) + 1)).encode()[: 64 * 1024]
    frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece
    pending, sent, body_left, response = ("\r\n".join(head) + "\r\n\r\n").encode(), 0, total, b""
    writing = True
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.setblocking(False)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not _complete(response):
            readable, writable, _ = select.select([s], [s] if writing else [], [], 1.0)
            if readable:
                try:
                    data = s.recv(65536)
                except ConnectionResetError:
                    break
                if not data:
                    break
                response += data
            if writable:
                if not pending:
                    if body_left > 0:
                        pending, body_left = frame, body_left - len(piece)
                    else:
                        pending, writing = (b"0\r\n\r\n" if chunked else b""), False
                try:
                    n = s.send(pending)
                except (BrokenPipeError, ConnectionResetError):
                    writing = False  # the server closed: read what it answered
                    continue
                pending, sent = pending[n:], sent + n
    status = int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else None
    return Upload(status, response.partition(b"\r\n\r\n")[2], sent)


def _complete(response: bytes) -> bool:
    head, sep, body = response.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
async def test_big_unsigned_body_is_refused_before_it_is_read(local, chunked):
    marker = f"bigbody{uuid.uuid4().hex}"
    peak_before = local.peak_rss_kib()
    job = asyncio.create_task(asyncio.to_thread(upload, local.port, chunked=chunked, total=64 * MIB, marker=marker))
    latencies = []
    async with httpx.AsyncClient(base_url=local.url, timeout=30) as http:
        while not job.done() or not latencies:
            started = time.monotonic()
            assert (await http.get("/healthz")).status_code == 200
            latencies.append(time.monotonic() - started)
            await asyncio.sleep(0.02)
    result = await job
    assert result.status == 413, result
    assert json.loads(result.body)["error"] == "payload_too_large"
    assert "1 MiB" in json.loads(result.body)["detail"]
    # A server that stops reading lets a client push at most its own send buffer plus the server's receive
    # buffer (4 + 32 MiB at most with Linux's defaults) before the 413 and the reset stop it.
    assert result.sent < 40 * MIB, f"the server read on: {result.sent} bytes went out before the 413"
    assert max(latencies) < 2.0, f"/healthz stalled during the upload: {max(latencies):.2f}s"
    assert local.peak_rss_kib() - peak_before < 32 * 1024, "the process grew with the body"
    assert marker not in local.log_text()


async def test_bad_signature_is_logged_without_the_body(local):
    marker = f"secretbody{uuid.uuid4().hex}"
    headers = {
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    async with httpx.AsyncClient(base_url=local.url) as http:
        r = await http.post("/slack/events", content=f"command=/incident&text={marker}".encode(), headers=headers)
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_signature" and r.json()["detail"]
    deadline = time.monotonic() + 10
    while "Invalid request signature detected" not in local.log_text() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    log = local.log_text()
    assert "Invalid request signature detected" in log and "body not logged" in log
    assert marker not in log


@pytest.mark.parametrize(
    "timestamp",
    ["abc", "1.5", "-5", "1e9", "9" * 5000, "", "\uff11\uff12\uff13".encode(), "1_700_000_000", "+1700000000", None],
    ids=["abc", "float", "negative", "exponent", "huge", "empty", "fullwidth", "underscores", "plus", "missing"],
)
async def test_malformed_slack_timestamp_is_a_401(local, timestamp):
    headers = {"X-Slack-Signature": "v0=" + "0" * 64, "Content-Type": "application/x-www-form-urlencoded"}
    if timestamp is not None:
        headers["X-Slack-Request-Timestamp"] = timestamp
    async with httpx.AsyncClient(base_url=local.url) as http:
        r = await http.post("/slack/events", content=b"command=/incident&text=help", headers=headers)
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "invalid_signature" and "X-Slack-Request-Timestamp" in r.json()["detail"]


async def test_missing_slack_signature_is_a_401(local):
    headers = {"X-Slack-Request-Timestamp": str(int(time.time()))}
    async with httpx.AsyncClient(base_url=local.url) as http:
        r = await http.post("/slack/events", content=b"command=/incident", headers=headers)
    assert r.status_code == 401 and r.json()["error"] == "invalid_signature", r.text


# --- local mode stays local ---------------------------------------------------------------------


class Canary:
    """A loopback HTTP server that records every request (an internal service an SSRF would reach)."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "6")
                self.end_headers()
                self.wfile.write(b"secret")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/internal"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


ALERT = {"alerts": [{"labels": {"alertname": "Remote", "service": "api", "severity": "critical"}}]}


async def test_remote_clients_get_nothing_from_local_mode(local):
    emulator = "/local-slack/_emulator"
    canary = Canary()
    try:
        async with httpx.AsyncClient(base_url=local.url) as http:
            for headers in (REMOTE, {"X-Forwarded-For": "127.0.0.1, 203.0.113.7"}):  # a spoofed hop changes nothing
                r = await http.post("/webhooks/generic", json=ALERT, headers=headers)
                assert r.status_code == 401 and "loopback" in r.json()["detail"], r.text
                for method, path, body in [
                    ("GET", f"{emulator}/channels", None),
                    ("GET", f"{emulator}/channels/{GENERAL_ID}/messages", None),
                    (
                        "POST",
                        f"{emulator}/send/command",
                        {"user_id": "U0ALICE", "channel_id": GENERAL_ID, "text": "list"},
                    ),
                    ("POST", f"{emulator}/config", {"events_url": canary.url}),
                    ("POST", "/local-slack/api/conversations.list", None),
                ]:
                    r = await http.request(method, path, json=body, headers=headers)
                    assert r.status_code == 403, (path, r.text)
                    assert r.json()["error"] == "loopback_only"
                assert (await http.get("/api/v1/incidents", headers=headers)).status_code == 401
            assert (await http.get("/healthz", headers=REMOTE)).status_code == 200
            # This machine's own user keeps the whole local mode.
            assert (await http.get(f"{emulator}/channels")).status_code == 200
            r = await http.post("/webhooks/generic", json=ALERT)
            assert r.status_code == 202, r.text
    finally:
        canary.close()
    assert canary.hits == []


async def test_emulator_events_url_points_at_the_bot_alone(local):
    emulator = f"{local.url}/local-slack/_emulator"
    canary = Canary()
    try:
        async with httpx.AsyncClient() as http:
            bot_events = (await http.get(f"{emulator}/config")).json()["events_url"]
            assert bot_events == f"{local.url}/slack/events"
            for url in (canary.url, "http://169.254.169.254/latest/meta-data/", "file:///etc/passwd", ["x"]):
                r = await http.post(f"{emulator}/config", json={"events_url": url})
                assert r.status_code == 400, r.text
                assert "bot only" in r.json()["detail"] and bot_events in r.json()["detail"]
            r = await http.post(
                f"{emulator}/send/command", json={"user_id": "U0ALICE", "channel_id": GENERAL_ID, "text": "help"}
            )
            assert r.status_code == 200, r.text
            assert (await http.post(f"{emulator}/config", json={"events_url": bot_events})).status_code == 200
            assert (await http.get(f"{emulator}/config")).json()["events_url"] == bot_events
    finally:
        canary.close()
    assert canary.hits == []


async def test_proxy_headers_count_only_from_trusted_proxies(tmp_path):
    """With no trusted proxy on loopback, X-Forwarded-For is the client's own claim: the real peer decides."""
    server = Serve(tmp_path, {"FORWARDED_ALLOW_IPS": "192.0.2.1"}).start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            r = await http.get("/local-slack/_emulator/channels", headers=REMOTE)
            assert r.status_code == 200, r.text
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("env", "needs"),
    [
        ({"WARROOM_HOST": "0.0.0.0"}, "WARROOM_LOCAL_MODE_PUBLIC=true"),
        ({"WARROOM_HOST": "0.0.0.0", "WARROOM_LOCAL_MODE_PUBLIC": "true"}, "needs WARROOM_ALERT_TOKEN"),
        (
            {
                "WARROOM_HOST": "::",
                "WARROOM_LOCAL_MODE_PUBLIC": "1",
                "FORWARDED_ALLOW_IPS": "*",
                "WARROOM_ALERT_TOKEN": "t0ken-abc",
            },
            "FORWARDED_ALLOW_IPS=*",
        ),
    ],
    ids=["no-flag", "no-alert-token", "any-proxy"],
)
def test_local_mode_refuses_to_listen_beyond_loopback(tmp_path, env, needs):
    server = Serve(tmp_path, {"WARROOM_PORT": str(free_port()), **env})
    proc = server.launch()
    try:
        assert proc.wait(timeout=START_SECONDS) == 2
    finally:
        server.stop()
    assert "refusing to start" in server.log_text() and needs in server.log_text()
