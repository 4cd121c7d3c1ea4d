"""The OpenAPI description: valid, served as built, complete (every /api/v1 and /webhooks route), and reusing
the generic webhook's own schema."""

from __future__ import annotations

import json

import httpx
import jsonschema
import pytest
import schemathesis

from bot.clock import ManualClock
from bot.services.deps import Deps
from handlers import apidoc, openapi
from handlers.http import ApiAuth, HttpDeps, create_app
from tests.builders import sqlite_store
from tests.http_routes import served as served_routes

DESCRIBED_PREFIXES = ("/api/v1/", "/webhooks/")


@pytest.fixture
async def deps(tmp_path):
    store = await sqlite_store(tmp_path)
    yield Deps(store=store, clock=ManualClock())
    await store.dispose()


async def ready() -> tuple[bool, str]:
    return True, "ok"


def client(app, host: str = "127.0.0.1") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(host, 50000)), base_url="http://127.0.0.1:8080"
    )


def test_the_description_is_valid_openapi_3_1():
    spec = openapi.build()
    assert spec["openapi"] == "3.1.0"
    schemathesis.openapi.from_dict(spec).validate()  # against the OpenAPI 3.1 meta-schema


async def test_every_route_under_api_and_webhooks_is_described_and_nothing_else(deps):
    app = create_app(HttpDeps(deps=deps, slack=None, ready=ready))
    served = {(path, method) for path, method in served_routes(app.routes) if path.startswith(DESCRIBED_PREFIXES)}
    described = {(path, method.upper()) for path, ops in openapi.build()["paths"].items() for method in ops}
    assert served == described
    assert ("/api/v1/incidents", "GET") in served and ("/webhooks/cloudwatch", "POST") in served


async def test_the_served_document_is_the_built_one_and_needs_no_token(deps):
    app = create_app(HttpDeps(deps=deps, slack=None, ready=ready, auth=ApiAuth(token="t0ken-for-the-api")))
    async with client(app, "10.1.2.3") as c:
        r = await c.get("/api/v1/openapi.json")
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        assert r.json() == openapi.build()
        assert (await c.get("/api/v1/incidents")).status_code == 401, "the data itself still needs the token"


async def test_the_generic_body_is_the_schema_served_at_webhooks_generic_schema(deps):
    app = create_app(HttpDeps(deps=deps, slack=None, ready=ready))
    async with client(app) as c:
        served = (await c.get("/webhooks/generic/schema")).json()
    components = openapi.build()["components"]["schemas"]
    as_components = json.loads(json.dumps(served).replace('"#/$defs/', '"#/components/schemas/'))
    for name, schema in as_components.pop("$defs").items():
        assert components[name] == schema
    assert components["GenericBody"] == as_components
    body = openapi.build()["paths"]["/webhooks/generic"]["post"]["requestBody"]["content"]["application/json"]
    refs = {s["$ref"] for s in body["schema"]["anyOf"]}
    assert refs == {"#/components/schemas/GenericBody", "#/components/schemas/GenericAlert"}


def _validator(name: str) -> jsonschema.Draft202012Validator:
    components = openapi.build()["components"]
    return jsonschema.Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": components},
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


@pytest.mark.parametrize(
    ("name", "body", "valid"),
    [
        ("AlertmanagerWebhook", {"version": "4", "alerts": [{"labels": {"alertname": "X"}}]}, True),
        ("AlertmanagerWebhook", {"version": "4", "alerts": [{"labels": {"0bad": "x"}}]}, False),
        ("AlertmanagerWebhook", {"version": "4", "alerts": [{"labels": {}}]}, False),
        ("AlertmanagerWebhook", {"version": 4, "alerts": []}, False),
        ("GenericAlert", {"labels": {"alertname": "X"}, "value": 3}, True),
        ("GenericAlert", {"labels": {"service": "x"}}, False),
        ("GenericAlert", {"labels": {"alertname": ""}}, False),
        ("GenericAlert", {"labels": {"alertname": "X", "bad name": "x"}}, False),
        ("NewSilence", {"matchers": {"service": "api"}, "duration_minutes": 30}, True),
        ("NewSilence", {"matchers": {"service": "api"}}, False),
        ("NewSilence", {"matchers": {}, "duration_minutes": 30}, False),
    ],
)
def test_request_schemas_say_what_the_parsers_refuse(name, body, valid):
    assert _validator(name).is_valid(body) is valid


def test_two_different_schemas_cannot_share_a_name():
    into: dict = {}
    apidoc.lift({"type": "string", "$defs": {"Status": {"enum": ["a"]}}}, "One", into)
    apidoc.lift({"type": "integer", "$defs": {"Status": {"enum": ["a"]}}}, "Two", into)  # the same Status: fine
    with pytest.raises(ValueError, match="Status"):
        apidoc.lift({"$defs": {"Status": {"enum": ["b"]}}}, "Three", into)
