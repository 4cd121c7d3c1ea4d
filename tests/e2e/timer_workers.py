"""Timer workers in their own processes on one PostgreSQL database: the bot's Scheduler (its claim loop, lease
queue and `FOR UPDATE SKIP LOCKED`), each fired timer recorded in a `timer_fires` table without a uniqueness
rule, so a timer fired twice shows as two rows. Used by tests/e2e/test_timers_postgres.py and bench/timers.py.

    python -m tests.e2e.timer_workers <db url> <worker name> [--concurrency N] [--poll S]

A worker runs until no timer is pending or in flight, then prints a JSON line with what it fired.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from tests.servers.postgres import pg_dsn

ROOT = Path(__file__).resolve().parents[2]
KIND = "bench"
FIRES_TABLE = (
    "CREATE TABLE IF NOT EXISTS timer_fires (key varchar(250) NOT NULL, worker varchar(64) NOT NULL,"
    " due_at timestamptz NOT NULL, fired_at timestamptz NOT NULL)"
)


def prepare(url: str, n: int, *, first_due: datetime, spread: timedelta = timedelta(0)) -> None:
    """`n` timers of kind `bench`, due from `first_due` evenly over `spread`, and an empty `timer_fires`."""
    step = spread / max(n - 1, 1)
    rows = [(KIND, f"bench:{i}", first_due + i * step) for i in range(n)]
    with psycopg.connect(pg_dsn(url), autocommit=True) as conn:
        conn.execute(FIRES_TABLE)
        conn.execute("TRUNCATE timer_fires")
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO timers (kind, key, due_at, payload, status, attempts) VALUES (%s, %s, %s, '{}', 'pending', 0)",
                rows,
            )


def fires(url: str) -> list[tuple[str, str, datetime, datetime]]:
    """(key, worker, due_at, fired_at) of every recorded fire."""
    with psycopg.connect(pg_dsn(url)) as conn:
        return list(conn.execute("SELECT key, worker, due_at, fired_at FROM timer_fires").fetchall())


def timer_statuses(url: str) -> dict[str, int]:
    """Timers by status."""
    with psycopg.connect(pg_dsn(url)) as conn:
        return dict(conn.execute("SELECT status, count(*) FROM timers GROUP BY status").fetchall())


def start_workers(url: str, n: int, *, concurrency: int = 8, poll: float = 0.05) -> list[subprocess.Popen[str]]:
    """`n` worker processes."""
    argv = [
        sys.executable,
        "-m",
        "tests.e2e.timer_workers",
        url,
        "--concurrency",
        str(concurrency),
        "--poll",
        str(poll),
    ]
    return [
        subprocess.Popen([*argv, f"w{i}"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(n)
    ]


def wait_workers(procs: list[subprocess.Popen[str]], timeout: float) -> list[dict[str, Any]]:
    """Each worker's JSON summary (raises when one fails or runs past `timeout`)."""
    out = []
    for p in procs:
        try:
            stdout, stderr = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            raise
        if p.returncode != 0:
            raise RuntimeError(f"worker failed ({p.returncode}):\n{stderr[-3000:]}")
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


async def run_worker(url: str, name: str, *, concurrency: int, poll: float) -> dict[str, Any]:
    """Fire timers with the bot's Scheduler until none is pending or in flight."""
    from sqlalchemy import text

    from bot.clock import SystemClock
    from bot.db.store import Store
    from bot.scheduler import Scheduler

    store = Store.from_url(url)
    clock = SystemClock()
    scheduler = Scheduler(store, clock=clock, concurrency=concurrency, poll_interval=poll, worker_id=f"timers-{name}")
    fired = 0
    insert = text("INSERT INTO timer_fires (key, worker, due_at, fired_at) VALUES (:k, :w, :d, :f)")

    async def handler(timer: Any) -> None:
        nonlocal fired
        async with store.transaction() as tx:
            await tx.session.execute(insert, {"k": timer.key, "w": name, "d": timer.due_at, "f": clock.now()})
        fired += 1

    scheduler.register(KIND, handler)
    left = text("SELECT count(*) FROM timers WHERE status IN ('pending', 'inflight')")
    scheduler.start()
    try:
        while True:
            await asyncio.sleep(0.1)
            async with store.read() as tx:
                if (await tx.session.execute(left)).scalar_one() == 0:
                    break
    finally:
        await scheduler.stop()
        await store.dispose()
    return {"worker": name, "fired": fired}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("name")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--poll", type=float, default=0.05)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run_worker(args.url, args.name, concurrency=args.concurrency, poll=args.poll))))


if __name__ == "__main__":
    main()
