"""Two real `warroom serve` processes on one PostgreSQL database, Slack played by the emulator: the
storm they are sent, and what ends up in Slack and in the database."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from integrations.local_workspace import Workspace
from tests.alert_builders import am_alert, am_body
from tests.e2e.harness import ALERT_TOKEN, eventually
from tests.e2e.processes import ServeProcess, serve_env
from tests.servers.postgres import pg_dsn

HEADERS = {"Authorization": f"Bearer {ALERT_TOKEN}", "Content-Type": "application/json"}


def start_bots(n: int, db_url: str, api_url: str, logs: Path, **env: Any) -> list[ServeProcess]:
    """`n` processes on one database; each migrates at start (under the advisory lock)."""
    return [ServeProcess(serve_env(db_url, api_url, **env), logs / f"bot{i}.log").start() for i in range(n)]


def group_bodies(groups: int, per_group: int, per_body: int, *, prefix: str = "svc") -> list[dict[str, Any]]:
    """Alertmanager bodies: `groups` groups of `per_group` alerts, `per_body` to a body, groups interleaved."""
    bodies = []
    for start in range(0, per_group, per_body):
        for g in range(groups):
            alerts = [
                am_alert(service=f"{prefix}-{g:03d}", severity="critical", pod=f"pod-{i}")
                for i in range(start, min(per_group, start + per_body))
            ]
            bodies.append(am_body(*alerts))
    return bodies


@dataclass
class Sent:
    """What the bots acknowledged (202) and what they did not."""

    acknowledged: list[str] = field(default_factory=list)  # fingerprints
    refused: list[str] = field(default_factory=list)
    incidents: set[str] = field(default_factory=set)


async def send(bodies: Sequence[dict[str, Any]], targets: Sequence[ServeProcess], sent: Sent, limit: int = 6) -> None:
    """POST each body to the next target in turn, `limit` at a time; a failed request is not acknowledged."""
    gate = asyncio.Semaphore(limit)
    async with httpx.AsyncClient(timeout=30) as http:

        async def one(i: int, body: dict[str, Any]) -> None:
            prints = [a["fingerprint"] for a in body["alerts"]]
            async with gate:
                try:
                    r = await http.post(
                        f"{targets[i % len(targets)].url}/webhooks/alertmanager", content=json.dumps(body),
                        headers=HEADERS,
                    )  # fmt: skip
                except httpx.HTTPError:
                    sent.refused.extend(prints)
                    return
            if r.status_code == 202:
                sent.acknowledged.extend(prints)
                sent.incidents.update(r.json().get("incidents", []))
            else:
                sent.refused.extend(prints)

        await asyncio.gather(*(one(i, b) for i, b in enumerate(bodies)))


async def query(db_url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Rows of one query, without blocking the event loop (the emulator runs on it)."""
    async with await psycopg.AsyncConnection.connect(pg_dsn(db_url), autocommit=True) as conn:
        cur = await conn.execute(sql, args or None)
        return list(await cur.fetchall())


async def wait_all_delivered(db_url: str, incidents: int, timeout: float) -> None:
    """Until there are `incidents` incidents, each with its room open, and no delivery left to do."""

    async def done() -> bool:
        open_rooms = await query(
            db_url,
            "SELECT count(*) FROM incidents i WHERE i.card_ts IS NOT NULL AND EXISTS"
            " (SELECT 1 FROM timeline_events e WHERE e.incident_id = i.id AND e.kind = 'room.opened')",
        )
        left = await query(db_url, "SELECT count(*) FROM deliveries WHERE status IN ('pending', 'inflight')")
        total = await query(db_url, "SELECT count(*) FROM incidents")
        return open_rooms[0][0] == incidents == total[0][0] and left[0][0] == 0

    await eventually(done, timeout=timeout, interval=0.2)


def card_ref(message: Any) -> str | None:
    for block in message.blocks or []:
        block_id = str(block.get("block_id") or "")
        if block_id.startswith("card:"):
            return block_id[5:]
    return None


def slack_tally(ws: Workspace) -> dict[str, Counter[str]]:
    """Per incident ref: rooms holding its card, cards, pinned cards, announcements; and rooms without a card."""
    tally: dict[str, Counter[str]] = {}
    empty = 0
    for room in [c for c in ws.channels() if c.name.startswith("inc-")]:
        cards = [m for m in ws.messages(room.id) if card_ref(m)]
        if not cards:
            empty += 1
        for ref in {card_ref(m) for m in cards}:
            tally.setdefault(str(ref), Counter())["rooms"] += 1
        for m in cards:
            tally.setdefault(str(card_ref(m)), Counter())["cards"] += 1
        for m in ws.pins(room.id):
            if card_ref(m):
                tally.setdefault(str(card_ref(m)), Counter())["pins"] += 1
    ann = ws.channel_by_name("incidents")
    for m in ws.messages(ann.id) if ann else []:
        for block in m.blocks or []:
            block_id = str(block.get("block_id") or "")
            if block_id.startswith("announce:INC-"):
                tally.setdefault(block_id[9:], Counter())["announcements"] += 1
    tally["(rooms without a card)"] = Counter(rooms=empty)
    return tally


def exactly_once_problems(tally: dict[str, Counter[str]], refs: set[str]) -> list[str]:
    """Every incident: one room, one card, one pin, one announcement; nothing else."""
    want = Counter(rooms=1, cards=1, pins=1, announcements=1)
    problems = [f"{ref}: {dict(tally.get(ref, Counter()))}" for ref in sorted(refs) if tally.get(ref) != want]
    problems += [f"unexpected {ref}: {dict(c)}" for ref, c in tally.items() if ref not in refs and sum(c.values())]
    return problems
