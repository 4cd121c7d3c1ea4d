"""The real-Alertmanager fixture: alerts posted to it reach a webhook as v4 bodies, with the auth asked for."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bot.domain.alert import fingerprint
from tests.servers.alertmanager import AlertmanagerFactory

POLL = 0.05
TIMEOUT = 10.0
FIRING_ENDS_AT = "0001-01-01T00:00:00Z"


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Receiver:
    """A stdlib HTTP server on 127.0.0.1 (port 0) that records every POST and answers 200."""

    server: ThreadingHTTPServer
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.requests)

    def first(self, predicate: Callable[[Received], bool]) -> Received | None:
        """The first recorded request matching `predicate`, if any yet."""
        return next((r for r in self.snapshot() if predicate(r)), None)

    def wait_for(self, predicate: Callable[[Received], bool], timeout: float = TIMEOUT) -> Received:
        """The first recorded request matching `predicate`, polling every 50 ms."""
        deadline = time.monotonic() + timeout
        while True:
            if (found := self.first(predicate)) is not None:
                return found
            if time.monotonic() >= deadline:
                seen = [(r.body.get("status"), r.body.get("groupLabels")) for r in self.snapshot()]
                raise AssertionError(f"no matching webhook within {timeout} s; got {seen}")
            time.sleep(POLL)

    async def await_for(self, predicate: Callable[[Received], bool], timeout: float = TIMEOUT) -> Received:
        """`wait_for` without blocking the event loop."""
        deadline = time.monotonic() + timeout
        while True:
            if (found := self.first(predicate)) is not None:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(f"no matching webhook within {timeout} s")
            await asyncio.sleep(POLL)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A recording webhook receiver running in a thread."""
    holder: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            record = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, json.loads(raw or b"{}"))
            with holder[0].lock:
                holder[0].requests.append(record)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    holder.append(Receiver(server))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def an_alert(**labels: str) -> dict[str, Any]:
    """An Alertmanager API alert with realistic labels (overridable)."""
    full = {"alertname": "HighErrorRate", "service": "checkout", "severity": "critical", **labels}
    return {
        "labels": full,
        "annotations": {"summary": f"{full['service']} error rate above 5%"},
        "generatorURL": "http://prometheus.example/graph?g0.expr=errors",
    }


def firing_with(labels: dict[str, str]) -> Callable[[Received], bool]:
    return lambda r: r.body.get("status") == "firing" and any(a["labels"] == labels for a in r.body["alerts"])


def resolved_with(labels: dict[str, str]) -> Callable[[Received], bool]:
    return lambda r: any(a["labels"] == labels and a["status"] == "resolved" for a in r.body.get("alerts", []))


def test_alert_arrives_as_v4_webhook_with_bearer_token(
    alertmanager_factory: AlertmanagerFactory, receiver: Receiver
) -> None:
    am = alertmanager_factory(receiver.url, token="s3cret-token")
    alert = an_alert(instance="10.0.0.7:9100")
    am.post_alerts([alert])

    hook = receiver.wait_for(firing_with(alert["labels"]))
    assert hook.path == "/hook"
    assert hook.headers["authorization"] == "Bearer s3cret-token"
    assert hook.headers["content-type"].startswith("application/json")
    assert hook.headers["user-agent"].startswith("Alertmanager/")
    body = hook.body
    assert body["version"] == "4"
    assert body["receiver"] == "warroom"
    assert body["groupLabels"] == {"service": "checkout", "alertname": "HighErrorRate"}
    assert body["commonLabels"] == alert["labels"]
    assert body["externalURL"] == am.url
    assert body["truncatedAlerts"] == 0
    assert "groupKey" in body
    [got] = body["alerts"]
    assert got["status"] == "firing"
    assert got["annotations"] == alert["annotations"]
    assert got["generatorURL"] == alert["generatorURL"]
    assert got["endsAt"] == FIRING_ENDS_AT
    # Alertmanager's own fingerprint matches ours (FNV-1a over the sorted labels).
    assert got["fingerprint"] == fingerprint(alert["labels"])

    [held] = am.alerts()
    assert held["labels"] == alert["labels"]
    assert held["fingerprint"] == got["fingerprint"]


def test_basic_auth_and_group_by(alertmanager_factory: AlertmanagerFactory, receiver: Receiver) -> None:
    am = alertmanager_factory(receiver.url, basic_auth=("warroom", "p@ss:word"), group_by=["cluster"])
    alert = an_alert(cluster="eu-1")
    am.post_alerts([alert])

    hook = receiver.wait_for(firing_with(alert["labels"]))
    expected = base64.b64encode(b"warroom:p@ss:word").decode()
    assert hook.headers["authorization"] == f"Basic {expected}"
    assert hook.body["groupLabels"] == {"cluster": "eu-1"}


def test_no_auth_sends_no_authorization_header(alertmanager_factory: AlertmanagerFactory, receiver: Receiver) -> None:
    am = alertmanager_factory(receiver.url)
    alert = an_alert()
    am.post_alerts([alert])
    hook = receiver.wait_for(firing_with(alert["labels"]))
    assert "authorization" not in hook.headers


def test_resolve_sends_resolved_webhook_and_stop_cleans_up(
    alertmanager_factory: AlertmanagerFactory, receiver: Receiver
) -> None:
    am = alertmanager_factory(receiver.url, token="t")
    alert = an_alert(service="payments")
    am.post_alerts([alert])
    receiver.wait_for(firing_with(alert["labels"]))

    am.resolve(alert["labels"])
    hook = receiver.wait_for(resolved_with(alert["labels"]))
    assert hook.body["status"] == "resolved"
    [got] = hook.body["alerts"]
    assert got["endsAt"] != FIRING_ENDS_AT
    assert got["fingerprint"] == fingerprint(alert["labels"])
    assert hook.headers["authorization"] == "Bearer t"

    process, directory = am.process, am.dir
    assert process is not None and directory is not None
    am.stop()
    assert process.poll() is not None
    assert not directory.exists()
    am.stop()  # idempotent; the fixture calls it again at teardown


async def test_async_helpers(alertmanager_factory: AlertmanagerFactory, receiver: Receiver) -> None:
    am = alertmanager_factory(receiver.url, token="t", group_interval="200ms")
    first, second = an_alert(instance="a:1"), an_alert(instance="b:1")
    await am.apost_alerts([first, second])
    hook = await receiver.await_for(firing_with(first["labels"]))
    assert {a["labels"]["instance"] for a in hook.body["alerts"]} == {"a:1", "b:1"}
    assert len(await am.aalerts()) == 2

    await am.aresolve(first["labels"])
    await receiver.await_for(resolved_with(first["labels"]))
