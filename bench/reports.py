"""The daily digest and the incidents API over 100,000 past incidents, on SQLite and PostgreSQL.

For each backend: a fresh database (`alembic upgrade head`; PostgreSQL: a throwaway cluster, tests/servers/
postgres.py), seeded by scripts/seed_incidents.py (100,000 incidents over a year, with their log entries,
alerts, timers, action items and review queue). Then:

- digest: `DailyDigest.build` (every figure read from the database) plus rendering it (Block Kit, Discord
  notices, plain text), `--runs` times: p50 / p99 / max (the target: under 1 s); the chart's PNG apart;
- API: a real `warroom serve` process on the same database (local mode), `GET /api/v1/incidents` (newest 50,
  the default), `?status=open` and `?limit=500`, sequentially over one keep-alive connection: p50 / p99 / max
  (the target: p99 under 50 ms for the default page).

    .venv/bin/python bench/reports.py [--incidents 100000] [--runs 20] [--requests 1000] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from datetime import time as dtime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bot.clock import SystemClock
from bot.db.digest_queries import DigestQueries
from bot.db.migrate import upgrade
from bot.db.store import Store
from bot.domain.digest import chart_of, day_window, report_day
from bot.domain.digest_notices import digest_notices, digest_text
from bot.services.deps import Deps
from bot.services.reports import DailyDigest, DigestSchedule
from integrations.digest_chart import MatplotlibDigestChart
from integrations.slack_rooms.blocks import render_card
from scripts.seed_incidents import seed

ROOT = Path(__file__).resolve().parents[1]
END = datetime.now(UTC).replace(microsecond=0)  # the seeded history ends now (no timer of it is due yet)


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


def line(name: str, ms: list[float]) -> str:
    return f"{name}: n={len(ms)} p50 {pct(ms, 50):.1f} ms, p99 {pct(ms, 99):.1f} ms, max {max(ms):.1f} ms"


async def digest_round(url: str, runs: int) -> list[str]:
    store = Store.from_url(url)
    schedule = DigestSchedule(at=dtime(23, 0), tz="Europe/Paris")
    digest = DailyDigest(Deps(store=store, clock=SystemClock()), DigestQueries(store), schedule=schedule)
    day = report_day(END, tz=schedule.tz)
    if day_window(day, at=schedule.at, tz=schedule.tz)[1] > END:
        day = day.fromordinal(day.toordinal() - 1)
    try:
        timings, report = [], None
        for i in range(runs + 1):
            t0 = time.perf_counter()
            report = await digest.build(day)
            render_card(report), digest_notices(report, image="chart.png"), digest_text(report)
            if i:  # the first warms the connection pool and the statement caches
                timings.append((time.perf_counter() - t0) * 1000)
        assert report is not None
        charts = MatplotlibDigestChart()
        charts.render(chart_of(report))
        drawn = []
        for _ in range(5):
            t0 = time.perf_counter()
            charts.render(chart_of(report))
            drawn.append((time.perf_counter() - t0) * 1000)
        t = report.today
        facts = (f"  day {day} ({schedule.tz}): opened {t.opened_total}, resolved {t.resolved_total}, "
                 f"open {report.data.open_total}, alerts {report.data.alerts_received}")  # fmt: skip
        return [line("  digest build + render", timings), line("  chart PNG", drawn), facts]
    finally:
        await store.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def api_round(url: str, requests: int) -> list[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WARROOM_", "DISCORD_"))}
    env.update(WARROOM_DATABASE_URL=url, WARROOM_PORT=str(port), WARROOM_LOG_LEVEL="WARNING")
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    out = []
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as c:
            for _ in range(600):
                try:
                    if (await c.get("/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError("warroom serve did not become ready")
            for path, n in (("/api/v1/incidents", requests), ("/api/v1/incidents?status=open", requests // 4),
                            ("/api/v1/incidents?limit=500", requests // 10)):  # fmt: skip
                timings = []
                for i in range(n + 10):
                    t0 = time.perf_counter()
                    r = await c.get(path)
                    if i >= 10:  # warm-up
                        timings.append((time.perf_counter() - t0) * 1000)
                    assert r.status_code == 200, r.text
                count = len(r.json()["incidents"])
                out.append(line(f"  GET {path} ({count} incidents)", timings))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return out


def backend(name: str, url: str, args: argparse.Namespace) -> None:
    upgrade(url)
    took = seed(url, incidents=args.incidents, end=END)
    print(f"{name}: seeded {args.incidents:,} incidents in {took:.0f}s", flush=True)
    for text in asyncio.run(digest_round(url, args.runs)):
        print(text, flush=True)
    for text in asyncio.run(api_round(url, args.requests)):
        print(text, flush=True)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--incidents", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--skip-postgres", action="store_true")
    p.add_argument("--skip-sqlite", action="store_true")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_sqlite:
            backend("sqlite", f"sqlite+aiosqlite:///{Path(tmp) / 'reports.db'}", args)
        if not args.skip_postgres:
            from tests.servers.postgres import PostgresServer

            pg = PostgresServer().start()
            try:
                pg.create_database("bench_reports")
                backend("postgresql", pg.url("bench_reports"), args)
            finally:
                pg.stop()


if __name__ == "__main__":
    main()
