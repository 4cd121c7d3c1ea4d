"""/api/v1 and webhook access (token, public reads, loopback clients) and the body cap of every route."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from starlette.responses import JSONResponse
from starlette.routing import Mount

from bot.clock import ManualClock
from bot.services.deps import Deps
from handlers.http import ApiAuth, HttpDeps, create_app
from handlers.webhooks.common import WebhookAuth
from integrations.local_workspace import Workspace
from integrations.local_workspace import create_app as create_emulator
from tests.builders import sqlite_store
from tests.http_routes import served


@pytest.fixture
async def deps(tmp_path):
    store = await sqlite_store(tmp_path)
    yield Deps(store=store, clock=ManualClock())
    await store.dispose()


def client(app, host: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(host, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080")


async def ready() -> tuple[bool, str]:
    return True, "ok"


async def test_without_token_only_loopback_is_served(deps):
    app = create_app(HttpDeps(deps=deps, slack=None, ready=ready))
    async with client(app, "127.0.0.1") as c:
        assert (await c.get("/api/v1/incidents")).status_code == 200
    async with client(app, "::1") as c:
        assert (await c.get("/api/v1/incidents")).status_code == 200
    async with client(app, "10.1.2.3") as c:
        r = await c.get("/api/v1/incidents")
        assert r.status_code == 401 and r.json()["error"] == "unauthorized"
        assert (await c.get("/healthz")).status_code == 200, "health checks stay open"


async def test_token_required_when_set(deps):
    app = create_app(HttpDeps(deps=deps, slack=None, ready=ready, auth=ApiAuth(token="s3cr3t-api-token")))
    async with client(app, "10.1.2.3") as c:
        assert (await c.get("/api/v1/incidents")).status_code == 401
        assert (await c.get("/api/v1/incidents", headers={"Authorization": "Bearer nope"})).status_code == 401
        ok = await c.get("/api/v1/incidents", headers={"Authorization": "Bearer s3cr3t-api-token"})
        assert ok.status_code == 200 and ok.json() == {"incidents": []}
    async with client(app, "127.0.0.1") as c:
        assert (await c.get("/api/v1/incidents")).status_code == 401, "a token applies to loopback too"


async def test_public_read(deps):
    app = create_app(HttpDeps(deps=deps, slack=None, ready=ready, auth=ApiAuth(token="t0ken-xyz", public_read=True)))
    async with client(app, "10.1.2.3") as c:
        assert (await c.get("/api/v1/incidents")).status_code == 200


async def test_unknown_routes_and_methods_are_json(deps):
    app = create_app(HttpDeps(deps=deps, slack=None, ready=ready))
    async with client(app, "127.0.0.1") as c:
        r = await c.get("/nope")
        assert r.status_code == 404 and r.json()["error"] == "not_found"
        r = await c.delete("/api/v1/incidents")
        assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"
        r = await c.post("/slack/events", content=b"x")
        assert r.status_code == 404 and r.json()["error"] == "slack_disabled"


async def test_ipv4_mapped_loopback_is_loopback(deps):
    app = create_app(HttpDeps(deps=deps, slack=None, ready=ready))
    async with client(app, "::ffff:127.0.0.1") as c:
        assert (await c.get("/api/v1/incidents")).status_code == 200
    async with client(app, "::ffff:10.1.2.3") as c:
        assert (await c.get("/api/v1/incidents")).status_code == 401


ALERT = {"alerts": [{"labels": {"alertname": "Disk", "service": "db", "severity": "warning"}}]}


async def test_local_mode_takes_alerts_without_a_token_from_loopback_only(deps):
    app = create_app(HttpDeps(deps=deps, slack=None, ready=ready, webhook_auth=WebhookAuth(local_mode=True)))
    async with client(app, "10.1.2.3") as c:
        r = await c.post("/webhooks/generic", json=ALERT)
        assert r.status_code == 401 and "loopback" in r.json()["detail"]
    async with client(app, "127.0.0.1") as c:
        assert (await c.post("/webhooks/generic", json=ALERT)).status_code == 202
        assert len((await c.get("/api/v1/incidents")).json()["incidents"]) == 1, "only the loopback alert got in"


async def test_local_mode_takes_no_alerts_from_other_web_sites_through_a_local_browser(deps):
    """A page in a browser on this machine is a loopback client: DNS rebinding (its own name pointed at 127.0.0.1)
    or a cross-site form POST must not declare incidents in local mode."""
    app = create_app(HttpDeps(deps=deps, slack=None, ready=ready, webhook_auth=WebhookAuth(local_mode=True)))
    async with client(app, "127.0.0.1") as c:
        for headers in ({"Host": "attacker.example:8080"}, {"Origin": "http://attacker.example"}):
            r = await c.post("/webhooks/alertmanager", json={"alerts": []}, headers=headers)
            assert r.status_code == 401 and r.json()["error"] == "unauthorized", (headers, r.text)
            r = await c.post("/webhooks/generic", json=ALERT, headers=headers)
            assert r.status_code == 401, (headers, r.text)
        assert len((await c.get("/api/v1/incidents")).json()["incidents"]) == 0, "nothing got in"
        same = {"Origin": "http://127.0.0.1:8080"}  # the local page itself
        assert (await c.post("/webhooks/generic", json=ALERT, headers=same)).status_code == 202


MIB = 1024 * 1024
CAPS = {"/slack/events": MIB, "/api/v1/": 64 * 1024}  # by path prefix; every other route: 2 MiB


def cap_of(path: str) -> int:
    return next((cap for prefix, cap in CAPS.items() if path.startswith(prefix)), 2 * MIB)


async def test_every_route_and_method_caps_the_body(deps):
    emulator = create_emulator(Workspace())
    seen: list[int] = []

    async def slack(request):
        seen.append(len(await request.body()))
        return JSONResponse({"error": "invalid request"}, status_code=401)

    app = create_app(HttpDeps(deps=deps, slack=slack, ready=ready, extra_routes=[Mount("/local-slack", app=emulator)]))
    routes = list(served(app.routes))
    assert (
        len(routes) > 30 and ("/api/v1/silences", "POST") in routes and ("/local-slack/api/{method}", "GET") in routes
    )
    async with client(app, "127.0.0.1") as c:
        for path, method in routes:
            url = re.sub(r"\{[a-z_]+\}", "x", path)
            r = await c.request(method, url, content=b"{" + b" " * cap_of(path))
            assert r.status_code == 413 and r.json()["error"] == "payload_too_large", (method, path, r.text)
        headers = {"X-Slack-Request-Timestamp": "1700000000", "X-Slack-Signature": "v0=00"}
        r = await c.post("/slack/events", content=b"x" * MIB, headers=headers)
        assert r.status_code == 401 and r.json() == {
            "error": "invalid_signature",
            "detail": "the request is not signed with this app's signing secret, or its X-Slack-Request-Timestamp"
            " is more than 5 minutes away",
        }
        silence = json.dumps({"matchers": {"service": "api"}, "duration_minutes": 5, "comment": ""}).encode()
        at_cap = silence[:-2] + b" " * (64 * 1024 - len(silence)) + silence[-2:]
        assert (await c.post("/api/v1/silences", content=at_cap)).status_code == 201, "64 KiB exactly is taken"
    assert seen == [MIB], "Slack saw the body within the cap only"
