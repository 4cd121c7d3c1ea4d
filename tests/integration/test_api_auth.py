"""/api/v1 access: bearer token when configured, public reads when allowed, loopback only otherwise."""

from __future__ import annotations

import httpx
import pytest

from bot.clock import ManualClock
from bot.services.deps import Deps
from handlers.http import ApiAuth, HttpDeps, create_app
from tests.builders import sqlite_store


@pytest.fixture
async def deps(tmp_path):
    store = await sqlite_store(tmp_path)
    yield Deps(store=store, clock=ManualClock())
    await store.dispose()


def client(app, host: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(host, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://warroom")


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
