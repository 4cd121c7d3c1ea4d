"""The diagnosis end to end: a real Prometheus over backfilled history, the real bot (uvicorn, real slack_sdk)
against the Slack emulator. An alert opens a war room; the room gets one hypothesis card per hypothesis with
its evidence, the right one first, a chart in each card's thread; a signed Confirm click records the root
cause on the incident and its timeline, and the API answers it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from slack_sdk.models.blocks import Block

from bot.config import parse_config
from tests.alert_builders import am_alert, am_body
from tests.e2e.harness import ALERT_TOKEN, bot_settings, eventually, start_bot
from tests.prom_scenarios import T0, build_history
from tests.servers.prometheus import PrometheusServer, require_prometheus
from tests.servers.slow_proxy import SlowProxy

AUTH = {"Authorization": f"Bearer {ALERT_TOKEN}", "Content-Type": "application/json"}
STARTS_AT = datetime.fromtimestamp(T0, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
CONFIG = """
grouping:
  card_refresh_seconds: 0.2
diagnosis:
  query_timeout_seconds: {timeout}
  deadline_seconds: 20
"""
HEAD = re.compile(r"^#(?P<rank>\d+) · \*(?P<title>.*)\*\nBlames \*(?P<service>[^*]+)\* · cause `(?P<cause>[a-z_]+)`")
SCENARIOS = [
    ({"alertname": "HighErrorRate", "service": "web", "namespace": "s1"}, "web", "bad_deploy"),
    ({"alertname": "HighLatency", "service": "api", "namespace": "s2"}, "api", "latency_regression"),
    ({"alertname": "HighLatency", "service": "search", "namespace": "s3"}, "search", "cpu_saturation"),
    (
        {"alertname": "NodeFilesystemAlmostOutOfSpace", "job": "node", "instance": "node-1:9100", "mountpoint": "/var"},
        "node-1:9100",
        "disk_full",
    ),
    ({"alertname": "HighErrorRate", "service": "store", "namespace": "s5"}, "payments", "error_spike"),
]


@pytest.fixture(scope="module")
def prometheus() -> Iterator[PrometheusServer]:
    require_prometheus()
    server = PrometheusServer(build_history()).start()
    try:
        yield server
    finally:
        server.stop()


async def running_bot(tmp_path, workspace, emulator, prometheus_url: str, timeout: float = 5.0):
    workspace.rate_limit_scale = None
    settings = bot_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'diag.db'}", emulator.api_url, PROMETHEUS_URL=prometheus_url
    )
    return await start_bot(settings, workspace, parse_config(CONFIG.format(timeout=timeout)))


@pytest_asyncio.fixture
async def bot(tmp_path, slack_workspace, slack_emulator, prometheus):
    running = await running_bot(tmp_path, slack_workspace, slack_emulator, prometheus.url)
    yield running
    await running.stop()


async def fire(bot, **labels: str) -> str:
    alert = {**am_alert(severity="critical", **labels), "startsAt": STARTS_AT}
    async with bot.http as http:
        r = await http.post("/webhooks/alertmanager", content=json.dumps(am_body(alert)), headers=AUTH)
    assert r.status_code == 202, r.text
    return r.json()["incidents"][0]


def room_of(ws, ref):
    for ch in ws.channels():
        if ch.name.startswith("inc-") and any(
            b.get("block_id") == f"card:{ref}" for m in ws.messages(ch.id) for b in m.blocks or []
        ):
            return ch
    return None


def hypothesis_cards(ws, channel_id):
    return [m for m in ws.messages(channel_id) if (m.blocks or [{}])[0].get("block_id", "").startswith("hypothesis:")]


def head(message) -> dict[str, str]:
    match = HEAD.match(message.blocks[0]["text"]["text"])
    assert match, message.blocks[0]["text"]["text"]
    return match.groupdict()


async def war_room_with_cards(bot, ref, at_least=3):
    ws = bot.workspace
    room = await eventually(lambda: room_of(ws, ref), timeout=20)
    cards = await eventually(lambda: (c := hypothesis_cards(ws, room.id)) and len(c) >= at_least and c, timeout=30)
    await bot.idle(timeout=30)
    return room, hypothesis_cards(ws, room.id) or cards


async def test_alert_to_cards_to_confirmed_root_cause_in_the_api(bot):
    ws = bot.workspace
    ref = await fire(bot, alertname="HighErrorRate", service="web", namespace="s1")
    room, cards = await war_room_with_cards(bot, ref)
    api = (await bot.http.get(f"/api/v1/incidents/{ref}/hypotheses")).json()["hypotheses"]
    assert 3 <= len(cards) == len(api) <= 5
    for m in cards:
        for b in m.blocks:
            Block.parse(b).validate_json()
    top = cards[0]
    assert head(top) | {"title": ""} == {"rank": "1", "title": "", "service": "web", "cause": "bad_deploy"}
    evidence = json.dumps(top.blocks)
    assert "supports" in evidence and "observed" in evidence and "threshold" in evidence
    assert "/graph?g0.expr=" in evidence
    assert [h["posterior"] for h in api] == sorted((h["posterior"] for h in api), reverse=True)
    first = api[0]
    assert (first["service"], first["cause"], first["status"]) == ("web", "bad_deploy", "open")
    assert {"id", "title", "runbook", "prior", "posterior", "status", "service", "cause", "evidence"} <= set(first)
    assert {"query", "verdict", "observed", "threshold"} <= set(first["evidence"][0])
    thread = await eventually(lambda: [r for r in ws.replies(room.id, top.ts) if r.files], timeout=20)
    assert thread[0].files[0]["mimetype"] == "image/png", "the card's chart is in its thread"
    triage = next(m for m in ws.messages(room.id) if (m.blocks or [{}])[0].get("block_id") == f"card:{ref}")
    assert "error-rate-spike" in json.dumps(triage.blocks), "the triage card shows the matched runbook"

    resp = await ws.click("U0BOB", room.id, top.ts, "hypothesis-confirm", value=first["id"])
    assert resp.status_code == 200
    await eventually(lambda: "confirmed root cause" in json.dumps(ws.find_message(room.id, top.ts).blocks))
    await bot.idle()
    detail = (await bot.http.get(f"/api/v1/incidents/{ref}")).json()
    assert detail["root_cause_hypothesis"] == first["id"] and "bad_deploy" in detail["root_cause"]
    confirmed = [e for e in detail["timeline"] if e["kind"] == "hypothesis.confirmed"]
    assert len(confirmed) == 1 and confirmed[0]["actor"] == "U0BOB"
    again = await ws.click("U0CAROL", room.id, top.ts, "hypothesis-confirm", value=first["id"])
    assert again.status_code == 200
    await bot.idle()
    detail = (await bot.http.get(f"/api/v1/incidents/{ref}")).json()
    assert len([e for e in detail["timeline"] if e["kind"] == "hypothesis.confirmed"]) == 1, "a second click: nothing"
    answer = (await bot.http.get(f"/api/v1/incidents/{ref}/hypotheses")).json()
    assert answer["root_cause"] == first["id"]
    assert next(h for h in answer["hypotheses"] if h["id"] == first["id"])["status"] == "confirmed"
    assert (await bot.http.get("/api/v1/incidents/INC-20000101-999/hypotheses")).status_code == 404


async def test_each_scenario_shows_the_right_hypothesis_first(bot):
    refs = [(await fire(bot, **labels), service, cause) for labels, service, cause in SCENARIOS]
    for ref, service, cause in refs:
        _, cards = await war_room_with_cards(bot, ref)
        top = head(cards[0])
        assert (top["rank"], top["service"], top["cause"]) == ("1", service, cause), (ref, [head(c) for c in cards])
        assert "supports" in json.dumps(cards[0].blocks)


async def test_a_query_that_times_out_is_inconclusive_and_the_cards_still_post(
    tmp_path, slack_workspace, slack_emulator, prometheus
):
    proxy = SlowProxy(prometheus.url, ("kube_deployment_metadata_generation",)).start()
    running = await running_bot(tmp_path, slack_workspace, slack_emulator, proxy.url, timeout=0.5)
    try:
        ref = await fire(running, alertname="HighErrorRate", service="web", namespace="s1")
        _, cards = await war_room_with_cards(running, ref)
        assert proxy.held >= 1
        assert head(cards[0])["cause"] == "error_spike", "without the deploy evidence the errors lead"
        api = (await running.http.get(f"/api/v1/incidents/{ref}/hypotheses")).json()["hypotheses"]
        slow = [e for h in api for e in h["evidence"] if "kube_deployment_metadata_generation" in e["query"]]
        assert slow and {(e["verdict"], e["detail"]) for e in slow} == {("inconclusive", "timed out")}
        assert "timed out" in json.dumps([c.blocks for c in cards])
    finally:
        await running.stop()
        proxy.stop()


async def test_hypotheses_and_runbook_commands(bot):
    ws = bot.workspace
    ref = await fire(bot, alertname="HighLatency", service="api", namespace="s2")
    room, cards = await war_room_with_cards(bot, ref)
    listed = (await ws.send_command("U0ALICE", room.id, "hypotheses")).json()
    assert listed["response_type"] == "ephemeral"
    assert f"Hypotheses for {ref}" in listed["text"] and "latency_regression" in listed["text"]
    assert listed["text"].index("1. #1") < listed["text"].index("2. #2")
    before = [m.ts for m in cards]
    refreshed = (await ws.send_command("U0ALICE", room.id, "hypotheses --refresh")).json()
    assert "re-running the diagnosis" in refreshed["text"]
    await bot.idle(timeout=30)
    assert [m.ts for m in hypothesis_cards(ws, room.id)] == before, "re-scored in place, not reposted"
    matched = (await ws.send_command("U0ALICE", room.id, "runbook")).json()["text"]
    assert "latency-regression" in matched and f"best match for {ref}" in matched
    named = (await ws.send_command("U0ALICE", room.id, "runbook disk-cleanup")).json()["text"]
    assert "(`disk-cleanup`)" in named
    unknown = (await ws.send_command("U0ALICE", room.id, "runbook <!channel>")).json()["text"]
    assert "no runbook" in unknown and "<!channel>" not in unknown, "a mention typed as an id notifies nobody"
