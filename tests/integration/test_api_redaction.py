"""Every answer of the API is redacted as a whole: titles, services, group keys, channel names, timelines,
the review queue and silences; invisible and bidi characters are dropped from what it shows."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from bot.clock import ManualClock
from bot.domain.causes import Cause
from bot.domain.hypotheses import Evidence, Verdict
from bot.domain.root_cause import StoredHypothesis
from bot.redact import Redactor
from bot.services import alerts, incidents
from bot.services.deps import Deps
from handlers.http import ApiAuth, HttpDeps, create_app
from tests.alert_builders import alert
from tests.builders import sqlite_store
from tests.http_routes import served

API_TOKEN = "apitoken-s3cr3t-value"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
LEAKS = (API_TOKEN, "hunter2", "AKIAIOSFODNN7EXAMPLE", "alice@example.com", "\u202e", "\u200b")


@pytest.fixture
async def app(tmp_path):
    store = await sqlite_store(tmp_path)
    deps = Deps(store=store, clock=ManualClock())

    async def ready() -> tuple[bool, str]:
        return True, "ok"

    yield (
        deps,
        create_app(
            HttpDeps(deps=deps, slack=None, ready=ready, auth=ApiAuth(token=API_TOKEN), redact=Redactor([API_TOKEN]))
        ),
    )
    await store.dispose()


async def test_no_answer_of_the_api_carries_a_secret(app):
    deps, asgi = app
    summary = "password=hunter2 AKIAIOSFODNN7EXAMPLE alice@example.com \u202egnp.exe\u200b"
    result = await alerts.ingest(
        deps,
        [
            alert(service=API_TOKEN, summary=summary, region=f"eu-{API_TOKEN}"),
            alert(alertname="DiskLow", service="billing", severity="info", summary=f"ticket {API_TOKEN}"),  # review
        ],
        source="alertmanager",
    )
    [ref] = result.declared
    await incidents.add_note(deps, ref=ref, actor="U0ALICE", text=f"the token is {API_TOKEN}")
    async with deps.store.transaction() as tx:  # a room named before slugs were made from redacted titles
        (await tx.incident_row(ref, lock=True)).channel_name = f"inc-20261123-{API_TOKEN}"
        incident = await tx.incidents.get(ref)
        evidence = Evidence(f'up{{token="{API_TOKEN}"}}', Verdict.SUPPORTS, 1.0, 0.5, 4.0, summary)
        await tx.hypotheses.save(
            [StoredHypothesis("h-1", incident.id, f"{API_TOKEN} broke", API_TOKEN, Cause.OTHER, 0.2, 0.5, (evidence,),
                              deps.clock.now(), rank=1)]
        )  # fmt: skip
    transport = httpx.ASGITransport(app=asgi, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080", headers=AUTH) as c:
        created = await c.post(
            "/api/v1/silences",
            json={
                "matchers": {"service": "x"},
                "duration_minutes": 30,
                "comment": f"by {API_TOKEN}",
                "created_by": API_TOKEN,
            },
        )
        assert created.status_code == 201
        answers = {
            path: await c.get(path)
            for path in (
                "/api/v1/incidents",
                f"/api/v1/incidents/{ref}",
                f"/api/v1/incidents/{ref}/hypotheses",
                "/api/v1/review",
                "/api/v1/silences",
                "/api/v1/freeze",
            )
        }
        answers["POST /api/v1/silences"] = created
        answers["DELETE"] = await c.delete(f"/api/v1/silences/{created.json()['id']}")
        covered = {(r.request.method, r.request.url.path) for r in answers.values()}
    routes = {(m, p) for p, m in served(asgi.routes) if p.startswith("/api/v1/") and p != "/api/v1/openapi.json"}
    assert {(m, re.sub(r"/(INC-[0-9-]+|[0-9a-f-]{36})(?=/|$)", "/{x}", p)) for m, p in covered} == {
        (m, re.sub(r"\{[a-z]+\}", "{x}", p)) for m, p in routes
    }, "every route of the API is checked here"
    for path, r in answers.items():
        assert r.status_code in (200, 201), (path, r.text)
        body = json.dumps(r.json(), ensure_ascii=False)
        for leak in LEAKS:
            assert leak not in body, (path, leak)
    inc = answers[f"/api/v1/incidents/{ref}"].json()
    assert inc["services"] == ["[redacted]"] and inc["group_key"] == "service=[redacted],alertname=HighErrorRate"
    assert inc["channel_name"] == "inc-20261123-[redacted]"
    assert inc["title"] == "password=[redacted] [redacted-aws-key] [redacted-email] gnp.exe"
    assert any(e["text"] == "the token is [redacted]" for e in inc["timeline"])
    [h] = answers[f"/api/v1/incidents/{ref}/hypotheses"].json()["hypotheses"]
    assert h["service"] == "[redacted]" and h["title"] == "[redacted] broke"
    [queued] = answers["/api/v1/review"].json()["alerts"]
    assert queued["annotations"]["summary"] == "ticket [redacted]"
    assert answers["/api/v1/silences"].json()["silences"][0]["comment"] == "by [redacted]"


async def test_refusals_are_redacted_too(app):
    _, asgi = app
    transport = httpx.ASGITransport(app=asgi, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080", headers=AUTH) as c:
        refusals = [
            await c.get(f"/api/v1/incidents/INC-{API_TOKEN}"),
            await c.delete(f"/api/v1/silences/{API_TOKEN}"),
            await c.get("/api/v1/incidents", params={"status": API_TOKEN}),
        ]
    for r in refusals:
        assert r.status_code in (400, 404) and r.json()["detail"], r.text
        assert API_TOKEN not in r.text and API_TOKEN.upper() not in r.text, r.text
