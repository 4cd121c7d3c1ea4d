"""Durable timers on PostgreSQL with two worker processes: fired/s, each exactly once, lateness.

A throwaway PostgreSQL cluster (tests/servers/postgres.py), the schema by `alembic upgrade head`, then N timers
(default 10,000) in the `timers` table. Two processes each run the bot's Scheduler (claim loop, lease queue,
`FOR UPDATE SKIP LOCKED`), recording every fire in a table without a uniqueness rule (a timer fired twice
would show twice). Two rounds:

- backlog: every timer already due when the workers start: how fast they drain it (fired/s);
- spread: timers falling due evenly over `--spread` seconds: lateness (fired_at - due_at) p50 / p99 / max.

    python bench/timers.py [--timers 10000] [--workers 2] [--concurrency 16] [--spread 100]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.db.migrate import upgrade
from tests.e2e.timer_workers import fires, prepare, start_workers, wait_workers
from tests.servers.postgres import PostgresServer


def check(recorded: list[tuple[str, str, datetime, datetime]], n: int) -> str:
    per_key = Counter(key for key, *_ in recorded)
    twice = sum(1 for c in per_key.values() if c > 1)
    missing = n - len(per_key)
    by_worker = Counter(w for _, w, *_ in recorded)
    verdict = "each exactly once" if twice == 0 and missing == 0 else f"FIRED TWICE: {twice}, MISSING: {missing}"
    return f"{verdict}; by worker {dict(sorted(by_worker.items()))}"


def backlog(server: PostgresServer, args: argparse.Namespace) -> None:
    db = "bench_backlog"
    server.create_database(db)
    url = server.url(db)
    upgrade(url)
    prepare(url, args.timers, first_due=datetime.now(UTC) - timedelta(seconds=1))
    started = time.monotonic()
    procs = start_workers(url, args.workers, concurrency=args.concurrency, poll=args.poll)
    wait_workers(procs, timeout=600)
    recorded = fires(url)
    first = min(f for *_, f in recorded)
    last = max(f for *_, f in recorded)
    span = (last - first).total_seconds()
    print(
        f"backlog: {args.timers} due timers, {args.workers} worker processes x {args.concurrency}:"
        f" {len(recorded) / span:,.0f} fired/s over {span:.2f}s (processes up and done in"
        f" {time.monotonic() - started:.1f}s); {check(recorded, args.timers)}"
    )


def spread(server: PostgresServer, args: argparse.Namespace) -> None:
    db = "bench_spread"
    server.create_database(db)
    url = server.url(db)
    upgrade(url)
    first_due = datetime.now(UTC) + timedelta(seconds=3)  # the workers are up by then
    prepare(url, args.timers, first_due=first_due, spread=timedelta(seconds=args.spread))
    procs = start_workers(url, args.workers, concurrency=args.concurrency, poll=args.poll)
    wait_workers(procs, timeout=600)
    recorded = fires(url)
    late = sorted((f - d).total_seconds() * 1000 for _, _, d, f in recorded)
    p50 = statistics.median(late)
    p99 = late[min(len(late) - 1, int(len(late) * 0.99))]
    rate = args.timers / args.spread
    print(
        f"spread: {args.timers} timers due over {args.spread:g}s ({rate:,.0f}/s): lateness p50 {p50:.0f} ms,"
        f" p99 {p99:.0f} ms, max {late[-1]:.0f} ms; {check(recorded, args.timers)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16, help="timers in flight per worker")
    parser.add_argument("--poll", type=float, default=0.05, help="seconds between a worker's looks when idle")
    parser.add_argument("--spread", type=float, default=100.0, help="seconds the spread round's timers fall due over")
    args = parser.parse_args()
    with PostgresServer() as server:
        backlog(server, args)
        spread(server, args)


if __name__ == "__main__":
    main()
