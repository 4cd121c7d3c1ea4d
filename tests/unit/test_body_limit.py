"""BodyLimit: bodies over the cap are refused before they are read, whatever Content-Length says."""

from __future__ import annotations

import json
from typing import Any

import pytest

from handlers.limits import MIB, BodyLimit


class App:
    """The wrapped app: reads the whole body like Starlette does, records it, answers 200."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.after: list[dict[str, Any]] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            self.bodies.append(scope["type"].encode())
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        self.after.append(await receive())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


class Client:
    """Feeds the middleware a request in chunks and keeps count of what it pulled."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.pulled = 0
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        if self.pulled >= len(self.chunks):
            return {"type": "http.disconnect"}
        self.pulled += 1
        return {
            "type": "http.request",
            "body": self.chunks[self.pulled - 1],
            "more_body": self.pulled < len(self.chunks),
        }

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return self.sent[0]["status"]

    @property
    def json(self) -> Any:
        return json.loads(self.sent[1]["body"])


def scope(path: str = "/slack/events", content_length: int | None = None) -> dict[str, Any]:
    headers = [] if content_length is None else [(b"content-length", str(content_length).encode())]
    return {"type": "http", "method": "POST", "path": path, "headers": headers}


async def test_declared_length_over_the_cap_is_refused_without_reading():
    app, client = App(), Client([b"x" * 1000] * 10)
    await BodyLimit(app, default=100)(scope(content_length=10_000), client.receive, client.send)
    assert client.status == 413 and client.pulled == 0 and app.bodies == []
    assert client.json == {
        "error": "payload_too_large",
        "detail": "the request body is over 100 B, the limit of this endpoint",
    }
    assert (b"connection", b"close") in client.sent[0]["headers"]


@pytest.mark.parametrize("declared", [None, 10], ids=["chunked", "content-length-lies"])
async def test_streamed_body_is_counted_and_cut_at_the_cap(declared):
    app, client = App(), Client([b"x" * (64 * 1024)] * 1600)  # 100 MiB offered
    await BodyLimit(app, default=2 * MIB, limits={"/slack/events": MIB})(
        scope(content_length=declared), client.receive, client.send
    )
    assert client.status == 413 and "1 MiB" in client.json["detail"]
    assert client.pulled == 17, "reading stopped at the first chunk past 1 MiB"
    assert app.bodies == []


async def test_a_body_within_the_cap_reaches_the_app_unchanged():
    app, client = App(), Client([b"a" * 1000, b"b" * 1000, b""])
    await BodyLimit(app, default=2000)(scope("/webhooks/generic", 2000), client.receive, client.send)
    assert app.bodies == [b"a" * 1000 + b"b" * 1000]
    assert app.after == [{"type": "http.disconnect"}], "after the body, receive is the client's again"
    assert client.status == 200


def test_the_longest_prefix_wins():
    limit = BodyLimit(App(), default=5, limits={"/slack": 1, "/slack/events": 2})
    assert limit.limit_for("/slack/events") == 2
    assert limit.limit_for("/slack/events/x") == 2
    assert limit.limit_for("/slack/other") == 1
    assert limit.limit_for("/slacker") == 5
    assert limit.limit_for("/webhooks/generic") == 5


async def test_websocket_and_lifespan_pass_through():
    app = App()
    for kind in ("websocket", "lifespan"):
        await BodyLimit(app, default=1)({"type": kind, "path": "/", "headers": []}, None, None)
    assert app.bodies == [b"websocket", b"lifespan"]


async def test_a_client_that_leaves_gets_no_answer():
    app = App()
    client = Client([])
    await BodyLimit(app, default=10)(scope(), client.receive, client.send)
    assert client.sent == [] and app.bodies == []
