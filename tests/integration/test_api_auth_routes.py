"""The /api/v1 access rules, route by route and method by method (DESIGN.md 5).

Without WARROOM_API_TOKEN only loopback clients are served; with it every request needs the bearer token,
loopback ones too, except GETs when WARROOM_API_PUBLIC_READ=true. Who is a loopback client is judged from the
peer address, or from X-Forwarded-For when the peer is a trusted proxy (uvicorn's own ProxyHeadersMiddleware,
as `warroom serve` runs it with FORWARDED_ALLOW_IPS). The route table below must list every route the app
serves under /api/v1, so a new route cannot go untested.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bot.clock import ManualClock
from bot.services.deps import Deps
from handlers.http import ApiAuth, HttpDeps, create_app
from tests.builders import sqlite_store
from tests.http_routes import served

TOKEN = "api-t0ken-for-route-tests"
TRUSTED_PROXIES = ["127.0.0.1", "::1"]  # FORWARDED_ALLOW_IPS's default


@dataclass(frozen=True)
class Call:
    """One route and method, with a request that succeeds once allowed, and the status it then gets."""

    method: str
    route: str
    url: str
    allowed: int
    body: Any = None

    def __str__(self) -> str:
        return f"{self.method} {self.route}"


GUARDED = [
    Call("GET", "/api/v1/incidents", "/api/v1/incidents", 200),
    Call("GET", "/api/v1/incidents/{ref}", "/api/v1/incidents/INC-20261123-999", 404),
    Call("GET", "/api/v1/incidents/{ref}/hypotheses", "/api/v1/incidents/INC-20261123-999/hypotheses", 404),
    Call("GET", "/api/v1/review", "/api/v1/review", 200),
    Call("GET", "/api/v1/freeze", "/api/v1/freeze", 200),
    Call("GET", "/api/v1/silences", "/api/v1/silences", 200),
    Call("POST", "/api/v1/silences", "/api/v1/silences", 201, {"matchers": {"service": "api"}, "duration_minutes": 5}),
    Call("DELETE", "/api/v1/silences/{id}", "/api/v1/silences/00000000-0000-0000-0000-000000000000", 404),
]
PUBLIC = [Call("GET", "/api/v1/openapi.json", "/api/v1/openapi.json", 200)]
LOOPBACK = ["127.0.0.1", "::1", "::ffff:127.0.0.1"]
REMOTE = ["10.1.2.3", "192.0.2.7", "::ffff:10.1.2.3", "2001:db8::1"]


@pytest.fixture
async def deps(tmp_path):
    store = await sqlite_store(tmp_path)
    yield Deps(store=store, clock=ManualClock())
    await store.dispose()


async def ready() -> tuple[bool, str]:
    return True, "ok"


def app_for(deps: Deps, auth: ApiAuth) -> Any:
    """The app as `warroom serve` runs it: behind uvicorn's proxy-header middleware."""
    return ProxyHeadersMiddleware(create_app(HttpDeps(deps=deps, slack=None, ready=ready, auth=auth)), TRUSTED_PROXIES)


async def send(app: Any, call: Call, peer: str, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(peer, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as c:
        return await c.request(call.method, call.url, json=call.body, headers=headers or {})


def refused(r: httpx.Response) -> bool:
    return r.status_code == 401 and r.json()["error"] == "unauthorized"


async def stored_silences(deps: Deps) -> int:
    app = create_app(HttpDeps(deps=deps, slack=None, ready=ready))
    r = await send(app, Call("GET", "", "/api/v1/silences?expired=true", 200), "127.0.0.1")
    return len(r.json()["silences"])


def test_the_tables_list_every_route_under_api_v1():
    app = create_app(HttpDeps(deps=None, slack=None, ready=ready))  # type: ignore[arg-type]
    under_api = {(m, p) for p, m in served(app.routes) if p.startswith("/api/v1/")}
    assert under_api == {(c.method, c.route) for c in GUARDED + PUBLIC}


@pytest.mark.parametrize("call", GUARDED, ids=str)
async def test_without_a_token_loopback_clients_only(deps, call):
    app = app_for(deps, ApiAuth())
    for peer in REMOTE:
        r = await send(app, call, peer)
        assert refused(r), (peer, r.text)
        assert "loopback clients only" in r.json()["detail"]
    assert await stored_silences(deps) == 0, "a refused request stores nothing"
    for peer in LOOPBACK:
        r = await send(app, call, peer)
        assert r.status_code == call.allowed, (peer, r.text)


# A browser on this machine is a loopback client whatever page it shows: a web site that points its own DNS name
# at 127.0.0.1 (DNS rebinding), or posts from its page to http://127.0.0.1 (CSRF), must get nothing.
FOREIGN_WEB = [
    {"Host": "attacker.example:8080"},
    {"Host": "127.0.0.1.nip.io:8080"},
    {"Host": "127.0.0.1:8080", "Origin": "http://attacker.example"},
    {"Host": "127.0.0.1:8080", "Origin": "http://127.0.0.1:9999"},
    {"Host": "127.0.0.1:8080", "Origin": "null"},
    {"Origin": "http://127.0.0.1:8080", "Host": "localhost:8080"},
]
SAME_MACHINE = [
    {},
    {"Host": "localhost:8080"},
    {"Host": "[::1]:8080"},
    {"Host": "127.0.0.1:8080", "Origin": "http://127.0.0.1:8080"},
]


@pytest.mark.parametrize("call", GUARDED, ids=str)
async def test_without_a_token_other_web_sites_get_nothing_through_a_local_browser(deps, call):
    app = app_for(deps, ApiAuth())
    for headers in FOREIGN_WEB:
        r = await send(app, call, "127.0.0.1", headers)
        assert refused(r), (headers, r.text)
    assert await stored_silences(deps) == 0, "a refused request stores nothing"
    for headers in SAME_MACHINE:
        r = await send(app, call, "127.0.0.1", headers)
        assert r.status_code == call.allowed, (headers, r.text)


@pytest.mark.parametrize("call", GUARDED, ids=str)
async def test_a_set_token_is_needed_from_everywhere(deps, call):
    app = app_for(deps, ApiAuth(token=TOKEN))
    wrong = [{}, {"Authorization": "Bearer nope"}, {"Authorization": TOKEN}, {"Authorization": f"Basic {TOKEN}"}]
    wrong += [{"Authorization": f"bearer {TOKEN}"}, {"Authorization": f"Bearer {TOKEN}x"}]
    for peer in [*LOOPBACK, *REMOTE]:
        for headers in wrong:
            assert refused(await send(app, call, peer, headers)), (peer, headers)
    assert await stored_silences(deps) == 0
    for peer in ["127.0.0.1", "10.1.2.3"]:
        r = await send(app, call, peer, {"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == call.allowed, (peer, r.text)


@pytest.mark.parametrize("call", GUARDED, ids=str)
async def test_public_read_opens_gets_only(deps, call):
    app = app_for(deps, ApiAuth(token=TOKEN, public_read=True))
    r = await send(app, call, "10.1.2.3")
    if call.method == "GET":
        assert r.status_code == call.allowed, r.text
    else:
        assert refused(r)
        assert await stored_silences(deps) == 0
        r = await send(app, call, "10.1.2.3", {"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == call.allowed, r.text


@pytest.mark.parametrize("call", GUARDED, ids=str)
async def test_loopback_is_judged_through_trusted_proxies_only(deps, call):
    app = app_for(deps, ApiAuth())
    via_proxy = await send(app, call, "127.0.0.1", {"X-Forwarded-For": "203.0.113.9"})
    assert refused(via_proxy), "a remote client behind the local proxy is remote"
    spoofed = await send(app, call, "10.1.2.3", {"X-Forwarded-For": "127.0.0.1"})
    assert refused(spoofed), "an untrusted peer cannot claim to be loopback"
    assert await stored_silences(deps) == 0
    local = await send(app, call, "127.0.0.1", {"X-Forwarded-For": "127.0.0.1"})
    assert local.status_code == call.allowed, local.text


@pytest.mark.parametrize("auth", [ApiAuth(), ApiAuth(token=TOKEN), ApiAuth(token=TOKEN, public_read=True)])
@pytest.mark.parametrize("call", PUBLIC, ids=str)
async def test_the_openapi_document_is_public(deps, call, auth):
    app = app_for(deps, auth)
    for peer in [*LOOPBACK, *REMOTE]:
        r = await send(app, call, peer)
        assert r.status_code == 200 and r.json()["openapi"] == "3.1.0", peer


async def test_unknown_api_paths_and_methods_are_refused_before_they_are_routed(deps):
    app = app_for(deps, ApiAuth(token=TOKEN))
    for method, url in [("GET", "/api/v1/nope"), ("DELETE", "/api/v1/incidents"), ("GET", "/api/v1/")]:
        assert refused(await send(app, Call(method, "", url, 0), "10.1.2.3")), url
    r = await send(app, Call("GET", "", "/api/v1/nope", 0), "10.1.2.3", {"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 404 and r.json()["error"] == "not_found"


async def test_a_path_with_a_newline_meets_the_authentication_too(deps):
    app = app_for(deps, ApiAuth(token=TOKEN))
    for url in ["/api/v1/incidents/%0A0", "/api/v1/silences/%0A", "/api/v1/%0Aincidents"]:
        assert refused(await send(app, Call("GET", "", url, 0), "10.1.2.3")), url
    r = await send(app, Call("GET", "", "/api/v1/incidents/%0A0", 0), "10.1.2.3", {"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 404 and r.json()["error"] == "not_found"


async def test_other_methods_on_the_public_document_are_405_not_401(deps):
    app = app_for(deps, ApiAuth(token=TOKEN))
    r = await send(app, Call("TRACE", "", "/api/v1/openapi.json", 0), "10.1.2.3")
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) == {"GET", "HEAD"}
