"""Seed a migrated warroom database with N past incidents (default 100,000) for benchmarks and demos.

The incidents are spread evenly over `--days` days (default 365) ending at `--end` (default now): severities
SEV0 1 %, SEV1 4 %, SEV2 20 %, SEV3 60 %, SEV4 15 %; 97 % acknowledged (exponential, mean 8 min), 99.5 %
resolved (log-normal, median 45 min), the rest still open; 80 % with a commander. Each incident has its log
entries (declared, acknowledged, SLA breach for 10 %, resolved) with a valid hash chain, one alert (a pool of
40 alert names, repeats counted), and fired SLA timers; besides, 3,000 action items (a third of them past due
and not done) and 200 alerts waiting in the review queue. Rows are written in bulk (Core executemany), not
through the use cases, so 100,000 incidents take tens of seconds rather than hours.

    .venv/bin/python scripts/seed_incidents.py sqlite+aiosqlite:///./bench.db [--incidents 100000] [--days 365]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, create_engine, insert, text

from bot.db.engine import sync_url
from bot.db.tables import AlertRow, EventRow, IncidentRow, RefCounterRow, RoleRow, TimerRow
from bot.domain.chain import GENESIS, event_hash

SEVERITIES = (("SEV0", 0.01), ("SEV1", 0.04), ("SEV2", 0.20), ("SEV3", 0.60), ("SEV4", 0.15))
ALERTNAMES = [f"{kind}{svc}" for kind in ("HighErrorRate", "HighLatency", "PodCrashLooping", "DiskFilling")
              for svc in ("Checkout", "Payments", "Search", "Auth", "Gateway", "Catalog", "Orders", "Users", "Db",
                          "Cache")]  # fmt: skip
CHUNK = 5000


class Seeder:
    """Builds the rows of N incidents in memory, chunk by chunk."""

    def __init__(self, n: int, end: datetime, days: int, rng: random.Random) -> None:
        self.n, self.end, self.days, self.rng = n, end, days, rng
        self.counters: dict[str, int] = {}
        self.event_id = 0
        self.timer_id = 0

    def incidents(self) -> Iterator[tuple[list[dict[str, Any]], ...]]:
        """(incidents, roles, events, alerts, timers) per chunk of incidents."""
        span = timedelta(days=self.days).total_seconds()
        rng = self.rng
        for first in range(1, self.n + 1, CHUNK):
            rows: tuple[list[dict[str, Any]], ...] = ([], [], [], [], [])
            for i in range(first, min(first + CHUNK, self.n + 1)):
                declared = self.end - timedelta(seconds=span * (self.n - i + rng.random()) / self.n)
                self._one(i, declared, rows)
            yield rows

    def _one(self, i: int, declared: datetime, rows: tuple[list[dict[str, Any]], ...]) -> None:
        rng = self.rng
        incidents, roles, events, alerts, timers = rows
        sev = rng.choices([s for s, _ in SEVERITIES], [w for _, w in SEVERITIES])[0]
        day = declared.strftime("%Y%m%d")
        self.counters[day] = self.counters.get(day, 0) + 1
        ref = f"INC-{day}-{self.counters[day]:03d}"
        acked = declared + timedelta(seconds=rng.expovariate(1 / 480)) if rng.random() < 0.97 else None
        resolved = None
        if rng.random() < 0.995:
            resolved = max(declared + timedelta(seconds=rng.lognormvariate(7.9, 1.0)), acked or declared)
        resolved = resolved if resolved is None or resolved < self.end else None
        acked = acked if acked is None or acked < self.end else None
        status = "resolved" if resolved else ("acknowledged" if acked else "declared")
        name = rng.choice(ALERTNAMES)
        incidents.append({
            "id": i, "ref": ref, "title": f"{name} on {name.lower()}-svc", "severity": sev, "status": status,
            "declared_by": "alertmanager", "declared_at": declared, "acknowledged_at": acked, "resolved_at": resolved,
            "updated_at": resolved or acked or declared, "services": [name.lower()], "alertnames": [name],
            "alert_count": 1, "group_key": f"{name.lower()}/{name}",
        })  # fmt: skip
        if rng.random() < 0.8:
            roles.append({"incident_id": i, "role": "commander", "user_id": f"U0ONCALL{i % 12:02d}",
                          "assigned_by": "U0BOT", "assigned_at": acked or declared})  # fmt: skip
        log = [(declared, "incident.declared", {"severity": sev})]
        if acked:
            log.append((acked, "incident.acknowledged", {}))
        if rng.random() < 0.10:
            log.append((declared + timedelta(minutes=15), "sla.breached", {"sla": "ack", "severity": sev}))
        if resolved:
            log.append((resolved, "incident.resolved", {}))
        self._log(i, ref, sorted(log, key=lambda e: e[0]), events)
        count = min(int(rng.expovariate(1 / 12)) + 1, 500)
        alerts.append({
            "id": i, "source": "alertmanager", "fingerprint": f"fp{i:08x}", "active_key": None,
            "status": "resolved" if resolved else "firing", "alertname": name, "labels": {"alertname": name},
            "annotations": {}, "group_key": f"{name.lower()}/{name}", "severity": sev, "incident_id": i,
            "count": count, "first_seen_at": declared, "last_seen_at": declared + timedelta(minutes=count),
            "resolved_at": resolved,
        })  # fmt: skip
        for kind, due in (("sla-ack", timedelta(minutes=15)), ("sla-resolve", timedelta(hours=4))):
            self.timer_id += 1
            timers.append({"id": self.timer_id, "kind": kind, "key": f"{kind}:{ref}", "incident_id": i,
                           "due_at": declared + due, "payload": {}, "status": "fired",
                           "fired_at": declared + due})  # fmt: skip

    def _log(self, incident_id: int, ref: str, log: list[tuple[datetime, str, dict[str, Any]]], out: list) -> None:
        prev = GENESIS
        for seq, (at, kind, payload) in enumerate(log, start=1):
            digest = event_hash(prev_hash=prev, chain=ref, seq=seq, at=at, actor="warroom", kind=kind, text="",
                                payload=payload)  # fmt: skip
            self.event_id += 1
            out.append({"id": self.event_id, "incident_id": incident_id, "chain": ref, "seq": seq, "at": at,
                        "actor": "warroom", "kind": kind, "text": "", "payload": payload, "prev_hash": prev,
                        "hash": digest})  # fmt: skip
            prev = digest

    def extras(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Action items (a third past due) and alerts waiting in the review queue."""
        rng, items, review = self.rng, [], []
        for k in range(3000):
            self.timer_id += 1
            due = self.end + timedelta(days=rng.uniform(-60, 30))
            status = "pending" if due > self.end else rng.choice(["fired", "cancelled"])
            items.append({"id": self.timer_id, "kind": "remind-action-item", "key": f"ai:{k}",
                          "incident_id": rng.randint(1, self.n), "due_at": due, "status": status,
                          "payload": {"item": f"ai-{k}", "text": f"follow-up {k}", "owner": "U0OWNER"}})  # fmt: skip
        for k in range(200):
            seen = self.end - timedelta(hours=rng.uniform(0, 72))
            name = rng.choice(ALERTNAMES)
            review.append({"id": self.n + k + 1, "source": "generic", "fingerprint": f"rv{k:06x}",
                           "active_key": f"rv{k:06x}", "status": "firing", "alertname": name, "labels": {},
                           "annotations": {}, "group_key": f"review/{name}", "severity": "SEV4", "review": True,
                           "count": rng.randint(1, 20), "first_seen_at": seen, "last_seen_at": seen})  # fmt: skip
        return items, review


def seed(url: str, *, incidents: int = 100_000, days: int = 365, end: datetime | None = None, seed: int = 14) -> float:
    """Write the rows into the (migrated, empty) database at `url`; seconds taken."""
    started = time.monotonic()
    end = end or datetime.now(UTC).replace(microsecond=0)
    s = Seeder(incidents, end, days, random.Random(seed))
    engine = create_engine(sync_url(url))
    try:
        with engine.begin() as conn:
            for inc, roles, events, alerts, timers in s.incidents():
                for table, rows in ((IncidentRow, inc), (RoleRow, roles), (EventRow, events), (AlertRow, alerts),
                                    (TimerRow, timers)):  # fmt: skip
                    if rows:
                        conn.execute(insert(table), rows)
            items, review = s.extras()
            conn.execute(insert(TimerRow), items)
            conn.execute(insert(AlertRow), review)
            conn.execute(insert(RefCounterRow), [{"day": d, "last": n} for d, n in s.counters.items()])
        _sync_sequences(engine)
    finally:
        engine.dispose()
    return time.monotonic() - started


def _sync_sequences(engine: Engine) -> None:
    """PostgreSQL: the id sequences continue after the ids written here."""
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        for table in ("incidents", "incident_roles", "timeline_events", "alerts", "timers"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))  # noqa: S608 - fixed names


def main() -> None:
    """Command line."""
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("url", help="SQLAlchemy URL of a migrated database (warroom migrate)")
    p.add_argument("--incidents", type=int, default=100_000)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--end", help="ISO time the seeded history ends at (default: now)")
    a = p.parse_args()
    end = datetime.fromisoformat(a.end).astimezone(UTC) if a.end else None
    took = seed(a.url, incidents=a.incidents, days=a.days, end=end)
    print(f"seeded {a.incidents:,} incidents over {a.days} days in {took:.1f}s")


if __name__ == "__main__":
    main()
