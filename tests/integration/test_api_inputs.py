"""What the fuzzer (tests/integration/test_openapi_fuzz.py) found: input the description refuses but the
server took, and an answer the description could not hold. Each case stores nothing."""

from __future__ import annotations

import httpx
import pytest

from bot.clock import ManualClock
from bot.services.deps import Deps
from handlers.http import HttpDeps, create_app
from handlers.webhooks.common import WebhookAuth
from tests.builders import sqlite_store

TOKEN = "alert-token-for-input-tests"
IN_AN_HOUR = "2026-11-23T10:00:00Z"  # ManualClock starts at 09:00


@pytest.fixture
async def app(tmp_path):
    store = await sqlite_store(tmp_path)

    async def ready() -> tuple[bool, str]:
        return True, "ok"

    yield create_app(
        HttpDeps(deps=Deps(store=store, clock=ManualClock()), slack=None, ready=ready, webhook_auth=WebhookAuth(TOKEN))
    )
    await store.dispose()


@pytest.fixture
async def http(app):
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as c:
        yield c


async def silences(http: httpx.AsyncClient) -> list:
    return (await http.get("/api/v1/silences", params={"expired": "true"})).json()["silences"]


@pytest.mark.parametrize("limit", ["0", "501", "-1", "5_0", " 5", "abc"])
async def test_review_limit_outside_1_to_500_is_refused_like_the_incident_list(http, limit):
    r = await http.get("/api/v1/review", params={"limit": limit})
    assert r.status_code == 400 and r.json() == {
        "error": "bad_request",
        "detail": "limit must be a whole number from 1 to 500",
    }
    assert (await http.get("/api/v1/incidents", params={"limit": limit})).status_code == 400
    assert (await http.get("/api/v1/review", params={"limit": "500"})).status_code == 200


@pytest.mark.parametrize("expired", ["null", "yes", "1", ""])
async def test_expired_flag_is_true_or_false(http, expired):
    r = await http.get("/api/v1/silences", params={"expired": expired})
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    assert (await http.get("/api/v1/silences", params={"expired": "False"})).status_code == 200


@pytest.mark.parametrize(
    "extra",
    [
        {"comment": 5},
        {"created_by": ["ops"]},
        {"ends_at": IN_AN_HOUR, "duration_minutes": "soon"},
        {"ends_at": IN_AN_HOUR, "duration_minutes": -5},
    ],
)
async def test_silence_fields_of_the_wrong_type_are_refused(http, extra):
    body = {"matchers": {"service": "api"}, "duration_minutes": 30, **extra}
    r = await http.post("/api/v1/silences", json=body)
    assert r.status_code == 400 and r.json()["error"] == "bad_request"
    assert await silences(http) == []


async def test_well_typed_silences_are_still_created(http):
    r = await http.post(
        "/api/v1/silences", json={"matchers": {"service": "api"}, "duration_minutes": 30, "comment": "x"}
    )
    assert r.status_code == 201 and r.json()["comment"] == "x" and r.json()["created_by"] == "api"
    r = await http.post("/api/v1/silences", json={"matchers": {"service": "api"}, "ends_at": IN_AN_HOUR})
    assert r.status_code == 201 and r.json()["ends_at"] == "2026-11-23T10:00:00.000000Z"


@pytest.mark.parametrize(
    "alert",
    [
        {"labels": {"alertname": "X"}, "starts_at": 0},
        {"labels": {"alertname": "X"}, "ends_at": 1764000000.5},
        {"labels": {"alertname": "X"}, "value": True},
        {"labels": {"alertname": "X"}, "value": False},
    ],
)
async def test_generic_times_are_text_and_values_are_not_booleans(http, alert):
    r = await http.post("/webhooks/generic", json=alert, headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_alert"
    assert (await http.get("/api/v1/incidents")).json() == {"incidents": []}


async def test_generic_numbers_and_rfc3339_times_still_pass(http):
    alert = {"labels": {"alertname": "X"}, "value": 3, "starts_at": "2026-11-23T09:00:00Z"}
    r = await http.post("/webhooks/generic", json=alert, headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 202 and r.json()["accepted"] == 1


async def test_method_not_allowed_names_the_allowed_methods(http):
    r = await http.put("/api/v1/silences")
    assert r.status_code == 405 and r.json()["error"] == "method_not_allowed"
    assert set(r.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "POST"}
    r = await http.get("/webhooks/alertmanager")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
