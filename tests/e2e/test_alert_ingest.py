"""Alerts through the real ASGI app: auth, bad input, Alertmanager bodies to war rooms, storms."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.alert_builders import am_alert, am_body
from tests.e2e.harness import ALERT_TOKEN, eventually

AUTH = {"Authorization": f"Bearer {ALERT_TOKEN}"}


async def post(bot, body, headers=AUTH, path="/webhooks/alertmanager"):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with bot.http as http:
        return await http.post(path, content=raw, headers={"Content-Type": "application/json", **headers})


async def stored_nothing(bot):
    async with bot.http as http:
        assert (await http.get("/api/v1/incidents")).json()["incidents"] == []
        assert (await http.get("/api/v1/review")).json()["alerts"] == []
    from sqlalchemy import func, select

    from bot.db.tables import AlertRow

    async with bot.container.store.read() as tx:
        assert (await tx.session.execute(select(func.count()).select_from(AlertRow))).scalar_one() == 0


async def test_alertmanager_alert_opens_a_war_room_with_blast_radius(bot):
    body = am_body(
        am_alert(severity="critical", region="us-east-1", instance="a", summary="checkout-api 5xx at 7.8%"),
        am_alert(severity="critical", region="us-west-2", instance="b", summary="checkout-api 5xx at 7.8%"),
    )
    r = await post(bot, body)
    assert r.status_code == 202, r.text
    data = r.json()
    assert data["accepted"] == 2 and len(data["incidents"]) == 1
    ref = data["incidents"][0]
    ws = bot.workspace
    room = await eventually(
        lambda: next((c for c in ws.channels() if c.name.endswith("checkout-api-5xx-at-7-8")), None)
    )
    await bot.idle()
    card = next(m for m in ws.messages(room.id) if any(b.get("block_id") == f"card:{ref}" for b in m.blocks or []))
    text = json.dumps(card.blocks)
    assert "2 alerts" in text and "us-east-1" in text and "us-west-2" in text and "checkout-api" in text
    inc = (await bot.http.get(f"/api/v1/incidents/{ref}")).json()
    assert inc["alert_count"] == 2 and inc["services"] == ["checkout-api"] and inc["alertnames"] == ["HighErrorRate"]
    assert inc["severity"] == "SEV2" and inc["group_key"] == "service=checkout-api,alertname=HighErrorRate"
    metrics = (await bot.http.get("/metrics")).text
    assert 'warroom_alerts_total{outcome="received",source="alertmanager"} 2.0' in metrics


async def test_all_resolved_offers_the_resolve_button(bot):
    firing = am_alert(severity="critical", instance="a")
    ref = (await post(bot, am_body(firing))).json()["incidents"][0]
    await eventually(lambda: bot.workspace.channel_by_name("incidents"))
    await bot.idle()
    resolved = dict(firing, status="resolved", endsAt="2026-11-23T09:40:00Z")
    r = await post(bot, am_body(resolved))
    assert r.status_code == 202 and r.json()["resolved"] == 1
    await bot.idle()
    ws = bot.workspace
    room = next(c for c in ws.channels() if c.name.startswith("inc-"))
    offer = [m for m in ws.messages(room.id) if "are resolved" in m.text]
    assert len(offer) == 1
    buttons = [e for b in offer[0].blocks if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["value"]) for b in buttons] == [("incident-resolve", ref)]
    assert (await bot.http.get(f"/api/v1/incidents/{ref}")).json()["status"] == "declared", "never auto-resolved"
    await ws.click("U0ALICE", room.id, offer[0].ts, "incident-resolve", value=ref)

    async def resolved_now():
        return (await bot.http.get(f"/api/v1/incidents/{ref}")).json()["status"] == "resolved"

    await eventually(resolved_now)


async def test_generic_webhook_and_its_schema(bot):
    body = {
        "alerts": [
            {
                "labels": {"alertname": "QueueBacklog", "service": "billing", "severity": "warning"},
                "annotations": {"summary": "billing queue over 10k"},
                "value": 12034,
            }
        ]
    }
    r = await post(bot, body, path="/webhooks/generic")
    assert r.status_code == 202 and len(r.json()["declared"]) == 1
    schema = (await bot.http.get("/webhooks/generic/schema")).json()
    assert "alerts" in schema["properties"]
    bad = await post(bot, {"alerts": [{"labels": {"service": "x"}}]}, path="/webhooks/generic")
    assert bad.status_code == 400 and bad.json()["error"] == "missing_field: alertname"


async def test_sev4_goes_to_review_not_to_a_war_room(bot):
    r = await post(bot, am_body(am_alert(severity="info", alertname="CertExpiresIn30d")))
    assert r.status_code == 202 and r.json()["incidents"] == [] and r.json()["review"] == 1
    queue = (await bot.http.get("/api/v1/review")).json()["alerts"]
    assert [a["alertname"] for a in queue] == ["CertExpiresIn30d"]
    assert not [c for c in bot.workspace.channels() if c.name.startswith("inc-")]


async def test_silences_api(bot):
    async with bot.http as http:
        r = await http.post(
            "/api/v1/silences",
            json={
                "matchers": {"service": "search"},
                "duration_minutes": 60,
                "comment": "reindex",
                "created_by": "U0ALICE",
            },
        )
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        assert [s["id"] for s in (await http.get("/api/v1/silences")).json()["silences"]] == [sid]
    r = await post(bot, am_body(am_alert(service="search", severity="critical")))
    assert r.json()["silenced"] == 1 and r.json()["incidents"] == []
    async with bot.http as http:
        assert (await http.delete(f"/api/v1/silences/{sid}")).json()["state"] == "expired"
        assert (await http.delete("/api/v1/silences/00000000-0000-0000-0000-000000000000")).status_code == 404
        assert (await http.post("/api/v1/silences", json={"matchers": {}, "duration_minutes": 5})).status_code == 400
        assert (await http.post("/api/v1/silences", content=b"nope")).json()["error"] == "invalid_json"
    r = await post(bot, am_body(am_alert(service="search", severity="critical", instance="2")))
    assert len(r.json()["declared"]) == 1


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"Authorization": "Basic " + base64.b64encode(b"alertmanager:wrong").decode()}, 401),
        ({"Authorization": "Basic %%%"}, 401),
        ({"Authorization": "Basic " + base64.b64encode(f"alertmanager:{ALERT_TOKEN}".encode()).decode()}, 202),
        (AUTH, 202),
    ],
)
async def test_webhook_authentication(bot, headers, status):
    r = await post(bot, am_body(am_alert()), headers=headers)
    assert r.status_code == status
    if status == 401:
        assert r.json()["error"] == "unauthorized"
        assert ALERT_TOKEN not in r.text
        await stored_nothing(bot)


BAD_BODIES = [
    (b"this is not json", "invalid_json"),
    (b'{"receiver": "warroom", "status": "firing", "alerts": [{"status"', "invalid_json"),
    (b"", "empty_body"),
    (json.dumps({**am_body(am_alert()), "version": "3"}).encode(), "unsupported_version"),
    (json.dumps({k: v for k, v in am_body(am_alert()).items() if k != "alerts"}).encode(), "missing_field: alerts"),
    (json.dumps({**am_body(am_alert()), "alerts": {"0": am_alert()}}).encode(), "invalid_type: alerts"),
    (json.dumps(am_body({**am_alert(), "labels": {"alertname": "X", "pod": "p" * 20013}})).encode(), "label_too_long"),
    (
        json.dumps(am_body({**am_alert(), "labels": {"alertname": "X", "service": "a\x00b\r\n\x1b[31m\x07"}})).encode(),
        "invalid_label_value",
    ),
    (json.dumps(am_body({**am_alert(), "startsAt": "yesterday at noon"})).encode(), "invalid_timestamp"),
    (json.dumps(am_body({k: v for k, v in am_alert().items() if k != "labels"})).encode(), "missing_field: labels"),
    (json.dumps([1, 2]).encode(), "invalid_type: body"),
]


@pytest.mark.parametrize(("body", "code"), BAD_BODIES)
async def test_bad_bodies_get_400_with_a_reason_and_store_nothing(bot, body, code):
    r = await post(bot, body)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == code and r.json()["detail"]
    assert "\x1b" not in r.text and "\x00" not in r.text
    await stored_nothing(bot)


async def test_oversized_body_is_413(bot):
    body = json.dumps(am_body(*[am_alert(instance=str(i), filler="x" * 1000) for i in range(2500)])).encode()
    assert len(body) > 2 * 1024 * 1024
    r = await post(bot, body)
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large"
    await stored_nothing(bot)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.binary(max_size=200),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.fixed_dictionaries({"version": st.just("4"), "alerts": st.lists(json_values, max_size=3)}).map(
            lambda v: json.dumps(v).encode()
        ),
        st.builds(
            lambda labels, status: json.dumps(am_body({**am_alert(), "labels": labels, "status": status})).encode(),
            st.dictionaries(st.text(max_size=12), st.text(max_size=30), max_size=4),
            st.text(max_size=10),
        ),
    )
)
async def test_no_input_makes_a_5xx(bot, body):
    for path in ("/webhooks/alertmanager", "/webhooks/generic"):
        r = await post(bot, body, path=path)
        assert r.status_code < 500, (path, body, r.text)
        assert r.status_code in (202, 400), r.text
