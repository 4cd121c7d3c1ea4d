"""An alert storm: 5,000 alerts over 50 groups make 50 incidents, one room each, no chat flood."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import httpx
import pytest_asyncio

from bot.config import parse_config
from tests.alert_builders import am_alert, am_body
from tests.e2e.harness import ALERT_TOKEN, bot_settings, eventually, start_bot

GROUPS, PER_GROUP, PER_BODY = 50, 100, 50


@pytest_asyncio.fixture
async def storm_bot(tmp_path, slack_workspace, slack_emulator):
    slack_workspace.rate_limit_scale = None
    settings = bot_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'storm.db'}", slack_emulator.api_url, WARROOM_SLACK_RATE_SCALE=0
    )
    running = await start_bot(settings, slack_workspace, parse_config("grouping: {card_refresh_seconds: 0.5}\n"))
    yield running
    await running.stop()


async def test_storm(storm_bot):
    bot, ws = storm_bot, storm_bot.workspace
    bodies = []
    for start in range(0, PER_GROUP, PER_BODY):
        for g in range(GROUPS):
            alerts = [
                am_alert(service=f"svc-{g:02d}", severity="critical", pod=f"pod-{i}", region=f"r{i % 3}")
                for i in range(start, start + PER_BODY)
            ]
            bodies.append(am_body(*alerts))
    headers = {"Authorization": f"Bearer {ALERT_TOKEN}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=4)
    async with httpx.AsyncClient(base_url=bot.url, timeout=60, limits=limits) as http:

        async def send(body):
            r = await http.post("/webhooks/alertmanager", content=json.dumps(body), headers=headers)
            assert r.status_code == 202, r.text
            return r.json()

        replies = await asyncio.gather(*(send(b) for b in bodies))
    assert sum(r["accepted"] for r in replies) == GROUPS * PER_GROUP
    declared = [ref for r in replies for ref in r["declared"]]
    assert len(declared) == GROUPS == len(set(declared))

    incidents = (await bot.http.get("/api/v1/incidents?limit=500")).json()["incidents"]
    assert len(incidents) == GROUPS
    assert sum(i["alert_count"] for i in incidents) == GROUPS * PER_GROUP, "every alert is counted"

    rooms = await eventually(lambda: _rooms(ws) if len(_rooms(ws)) == GROUPS else None, timeout=60)
    await bot.idle(timeout=60)

    def cards_current() -> bool:
        for room in _rooms(ws):
            card = ws.messages(room.id)[0]
            if f"{PER_GROUP} alerts" not in json.dumps(card.blocks):
                return False
        return True

    await eventually(cards_current, timeout=30)
    per_room = Counter()
    for room in rooms:
        msgs = ws.messages(room.id)
        per_room[room.id] = len(msgs)
        assert len(msgs) <= 3, [m.text for m in msgs]
    updates = Counter(c.args.get("channel") for c in ws.calls_to("chat.update"))
    assert max(updates.values()) <= 10, f"card updates are coalesced: {updates.most_common(3)}"
    ann = ws.channel_by_name("incidents")
    assert len(ws.messages(ann.id)) == GROUPS
    print(
        f"storm: {len(bodies)} requests, rooms={len(rooms)}, messages/room max={max(per_room.values())},"
        f" card updates/room max={max(updates.values())}"
    )


def _rooms(ws):
    return [c for c in ws.channels() if c.name.startswith("inc-")]
