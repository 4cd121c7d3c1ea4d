"""Alert ingest with several `warroom serve` processes on one PostgreSQL database (and SQLite with one).

For each configuration (PostgreSQL with 1, 2 and 4 processes, SQLite with 1) the bench starts a fresh
database and the processes, then sends `POST /webhooks/alertmanager` bodies of `--batch` alerts, spread
evenly over the processes (as a load balancer would), two sender tasks per process over keep-alive
HTTP/1.1 connections, each sending its next body as soon as the answer arrives:

- first sight: one pass over `--pool` bodies whose alerts and groups are all new (incidents are declared,
  their Slack work queued);
- steady: `--duration` seconds cycling over the same bodies again (every alert a repeat, as when
  Prometheus re-sends firing alerts).

Between phases it waits until the bots and the database are idle. It prints alerts/s, p50/p99 request
latency, and the CPU seconds of the bots, of the database server (the postmaster and its backends) and of
this process (load generator and Slack emulator) over the phase; CPU/s next to the wall time shows which
one the machine ran out of. Slack is the emulator, in this process, at Slack's rate tiers. The PostgreSQL
server is a throwaway cluster (tests/servers/postgres.py: `make servers` installs it), durability off
(fsync, synchronous_commit), as in the tests.

    .venv/bin/python bench/processes.py [--processes 1,2,4] [--batch 100] [--pool 400] [--duration 8]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from ingest import (
    ENDPOINT,
    HOST,
    SLACK_SECRET,
    SLACK_TOKEN,
    TOKEN,
    cpu_seconds,
    free_port,
    make_bodies,
    pct,
    serve_argv,
    serve_env,
    stop,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.servers.postgres: the throwaway cluster of the test suite

SENDERS_PER_PROCESS = 2


def children_cpu(parent: int) -> float:
    """CPU seconds of `parent` (with its waited-for children) and of its live children (PostgreSQL's backends)."""
    total = cpu_seconds(parent)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == parent:
                total += cpu_seconds(int(stat.parent.name))
    return total


@dataclass
class Phase:
    """One measured phase."""

    alerts: int
    errors: int
    latencies: list[float]
    wall: float
    bots_cpu: float
    db_cpu: float
    client_cpu: float
    first_error: str = ""

    def line(self, name: str) -> str:
        lat = [x * 1000 for x in self.latencies] or [float("nan")]
        err = f"  errors {self.errors} ({self.first_error})" if self.errors else ""
        return (
            f"  {name:<12} {self.alerts / self.wall:8.0f} alerts/s  p50 {statistics.median(lat):6.1f} ms"
            f"  p99 {pct(lat, 99):6.1f} ms  CPU s: bots {self.bots_cpu:5.1f}, database {self.db_cpu:5.1f},"
            f" load+emulator {self.client_cpu:4.1f} in {self.wall:4.1f} s wall{err}"
        )


class Config:
    """N bot processes on one database."""

    def __init__(self, name: str, db_url: str, n: int, slack_api_url: str, tmp: Path, db_pid: int | None) -> None:
        self.name, self.db_url, self.n, self.db_pid = name, db_url, n, db_pid
        self.slack_api_url, self.tmp = slack_api_url, tmp
        self.procs: list[subprocess.Popen[bytes]] = []
        self.urls: list[str] = []

    async def start(self) -> None:
        argv = serve_argv()
        for i in range(self.n):
            port = free_port()
            env = serve_env(self.db_url, port, self.slack_api_url)
            with (self.tmp / f"bot{i}.log").open("wb") as log:
                self.procs.append(subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
            self.urls.append(f"http://{HOST}:{port}")
        async with httpx.AsyncClient(timeout=2) as c:  # together: they migrate under the advisory lock
            for proc, url in zip(self.procs, self.urls, strict=True):
                deadline = time.monotonic() + 90
                while True:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"{self.name}: a process did not come up; see {self.tmp}")
                    with contextlib.suppress(httpx.HTTPError):
                        if (await c.get(f"{url}/readyz")).status_code == 200:
                            break
                    await asyncio.sleep(0.1)

    def cpu(self) -> tuple[float, float]:
        bots = sum(cpu_seconds(p.pid) for p in self.procs)
        return bots, children_cpu(self.db_pid) if self.db_pid else 0.0

    async def settle(self, max_wait: float = 60.0) -> None:
        """Until bots and database use (almost) no CPU: the previous phase's background work is done."""
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < max_wait:
            before = sum(self.cpu())
            await asyncio.sleep(0.5)
            if sum(self.cpu()) - before < 0.05:
                return

    async def phase(self, bodies: list[bytes], *, duration: float | None) -> Phase:
        """Send `bodies` once (duration None) or round and round for `duration` seconds."""
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
        latencies: list[float] = []
        state = {"next": 0, "errors": 0, "alerts": 0}
        first_error: list[str] = []
        bots0, db0 = self.cpu()
        client0 = time.process_time()
        start = time.perf_counter()
        deadline = start + (duration or 3600.0)

        async def sender(client: httpx.AsyncClient, url: str) -> None:
            while time.perf_counter() < deadline:
                n = state["next"]
                if duration is None and n >= len(bodies):
                    return
                state["next"] = n + 1
                t0 = time.perf_counter()
                try:
                    r = await client.post(url + ENDPOINT, content=bodies[n % len(bodies)], headers=headers)
                    status, text = r.status_code, r.text
                except httpx.HTTPError as exc:
                    status, text = 0, repr(exc)
                latencies.append(time.perf_counter() - t0)
                if status == 202:
                    state["alerts"] += int(r.json()["accepted"])
                else:
                    state["errors"] += 1
                    if not first_error:
                        first_error.append(f"{status} {text[:120]}")

        limits = httpx.Limits(max_connections=SENDERS_PER_PROCESS, max_keepalive_connections=SENDERS_PER_PROCESS)
        clients = [httpx.AsyncClient(limits=limits, timeout=60) for _ in self.urls]
        try:
            await asyncio.gather(
                *(sender(c, u) for c, u in zip(clients, self.urls, strict=True) for _ in range(SENDERS_PER_PROCESS))
            )
        finally:
            for c in clients:
                await c.aclose()
        wall = time.perf_counter() - start
        bots1, db1 = self.cpu()
        return Phase(
            state["alerts"], state["errors"], latencies, wall, bots1 - bots0, db1 - db0,
            time.process_time() - client0, "".join(first_error),
        )  # fmt: skip

    def stop(self) -> None:
        for p in self.procs:
            stop(p)


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().splitlines()[0])


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", default="1,2,4", help="process counts on PostgreSQL (default 1,2,4)")
    parser.add_argument("--batch", type=int, default=100, help="alerts per request (default 100)")
    parser.add_argument("--pool", type=int, default=400, help="distinct bodies: the first-sight pass (default 400)")
    parser.add_argument("--services", type=int, default=300, help="distinct services (default 300)")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds of the steady phase (default 8)")
    parser.add_argument("--skip-sqlite", action="store_true", help="PostgreSQL only")
    args = parser.parse_args()
    counts = [int(n) for n in args.processes.split(",") if n.strip()]

    from integrations.local_workspace import EmulatorServer, Workspace
    from tests.servers.postgres import PostgresServer, PostgresServerError

    bodies = make_bodies(args.batch, args.pool, args.services).warroom
    print(
        f"alert ingest by process count: batch {args.batch}, {len(bodies)} first-sight bodies, steady"
        f" {args.duration:g} s, {SENDERS_PER_PROCESS} senders per process, {os.cpu_count()} cores"
    )
    emulator = EmulatorServer(Workspace(token=SLACK_TOKEN, signing_secret=SLACK_SECRET, rate_limit_scale=1.0))
    await emulator.start()
    tmp = Path(tempfile.mkdtemp(prefix="warroom-bench-processes-"))
    try:
        pg = PostgresServer().start()
    except PostgresServerError as exc:
        print(f"PostgreSQL: could not start a throwaway cluster ({exc}); run `make servers`")
        await emulator.stop()
        return 1
    configs = [(f"postgres x{n}", "pg", n) for n in counts] + ([] if args.skip_sqlite else [("sqlite x1", "sqlite", 1)])
    try:
        for i, (name, kind, n) in enumerate(configs):
            work = tmp / f"c{i}"
            work.mkdir()
            if kind == "pg":
                pg.create_database(f"bench{i}")
                url, db_pid = pg.url(f"bench{i}"), postmaster_pid(pg.dir / "data") if pg.dir else None
            else:
                url, db_pid = f"sqlite+aiosqlite:///{work / 'bench.db'}", None
            config = Config(name, url, n, emulator.api_url, work, db_pid)
            try:
                await config.start()
                print(f"{name}:", flush=True)
                await config.settle()
                print((await config.phase(bodies, duration=None)).line("first sight"), flush=True)
                await config.settle()
                print((await config.phase(bodies, duration=args.duration)).line("steady"), flush=True)
            except RuntimeError as exc:
                print(f"{name}: NOT MEASURED - {exc}")
            finally:
                config.stop()
                problems = [
                    ln for p in work.glob("bot*.log") for ln in p.read_text(errors="replace").splitlines()
                    if " ERROR " in ln or "Traceback" in ln
                ]  # fmt: skip
                if problems:
                    print(f"  logs: {len(problems)} ERROR lines, last: {problems[-1][:200]}")
    finally:
        pg.stop()
        await emulator.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
