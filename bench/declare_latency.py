"""Declare-to-card latency: `/incident declare` (signed, over HTTP) until the triage card reaches Slack.

The bot runs as a real `warroom serve` subprocess (SQLite, HTTP mode) against the built-in Slack emulator
(rate limits off, as the measure is the bot's own latency). Prints p50/p90/p99/max for sequential and
concurrent declares, the ack latency Slack sees, and the bot process's peak RSS.

    .venv/bin/python bench/declare_latency.py [--incidents 500] [--concurrency 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from integrations.local_workspace import GENERAL_ID, EmulatorServer, Workspace

ROOT = Path(__file__).resolve().parents[1]
TOKEN, SECRET = "xoxb-bench-token", "bench-signing-secret"
REF = re.compile(r"INC-\d{8}-\d{3,}")


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))]


def rss_peak_mb(pid: int) -> float:
    """VmHWM (peak resident set) of a process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class CardWatch:
    """Finds, in the emulator's call log, when each incident's card was posted."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.seen = 0
        self.at: dict[str, float] = {}

    def scan(self) -> None:
        calls = self.ws.calls
        for call in calls[self.seen :]:
            if call.method == "chat.postMessage":
                blocks = call.args.get("blocks")
                if isinstance(blocks, str):
                    blocks = json.loads(blocks)
                for b in blocks or []:
                    bid = str(b.get("block_id", ""))
                    if bid.startswith("card:"):
                        self.at.setdefault(bid[5:], call.time)
        self.seen = len(calls)

    async def wait(self, ref: str, timeout: float = 30) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.scan()
            if ref in self.at:
                return self.at[ref]
            await asyncio.sleep(0.005)  # the latency comes from the emulator's own arrival time, not this poll
        raise TimeoutError(f"no card for {ref}")


async def declare(ws: Workspace, watch: CardWatch, name: str) -> tuple[float, float]:
    t0 = time.time()
    resp = await ws.send_command("U0ALICE", GENERAL_ID, f"declare SEV3 Bench incident {name}")
    ack = time.time() - t0
    found = REF.search(resp.json()["text"])
    if found is None:
        raise RuntimeError(f"unexpected reply: {resp.text}")
    ref = found.group(0)
    card = await watch.wait(ref)
    return ack, card - t0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()

    ws = Workspace(token=TOKEN, signing_secret=SECRET, rate_limit_scale=None)
    emulator = EmulatorServer(ws)
    await emulator.start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = Path(tempfile.mkdtemp(prefix="warroom-bench-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WARROOM_"))},
        "WARROOM_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": emulator.api_url,
        "WARROOM_PORT": str(port),
        "WARROOM_LOCAL_MODE": "false",
        "WARROOM_SLACK_RATE_SCALE": "0",
        "WARROOM_LOG_LEVEL": "WARNING",
    }
    log = (tmp / "bot.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], cwd=ROOT, env=env, stdout=log, stderr=log)
    ws.events_url = f"http://127.0.0.1:{port}/slack/events"
    try:
        async with httpx.AsyncClient() as c:
            for _ in range(600):
                try:
                    if (await c.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.05)
        watch = CardWatch(ws)
        for i in range(20):  # warm-up
            await declare(ws, watch, f"warm-up {i}")

        seq = [await declare(ws, watch, f"seq {i}") for i in range(args.incidents)]
        sem = asyncio.Semaphore(args.concurrency)

        async def limited(i: int) -> tuple[float, float]:
            async with sem:
                return await declare(ws, watch, f"conc {i}")

        t0 = time.perf_counter()
        conc = await asyncio.gather(*(limited(i) for i in range(args.incidents)))
        wall = time.perf_counter() - t0

        def report(name: str, rows: list[tuple[float, float]]) -> None:
            card = [c * 1000 for _, c in rows]
            ack = [a * 1000 for a, _ in rows]
            print(
                f"{name:<26} n={len(rows)}  card p50 {statistics.median(card):6.1f} ms  p90 {pct(card, 90):6.1f}"
                f"  p99 {pct(card, 99):6.1f}  max {max(card):6.1f}  |  ack p50 {statistics.median(ack):5.1f} ms"
                f"  p99 {pct(ack, 99):5.1f}"
            )

        print(f"warroom declare-to-card latency (SQLite, emulator on loopback, {os.cpu_count()} cores)")
        report("sequential", seq)
        report(f"concurrency {args.concurrency}", conc)
        print(f"concurrent throughput      {args.incidents / wall:6.1f} incidents/s (each: channel, topic, invite,")
        print("                           card, pin, announcement = 7+ Slack calls)")
        print(f"bot peak RSS (VmHWM)       {rss_peak_mb(proc.pid):6.1f} MiB")
        print("targets: p99 < 200 ms, RSS < 150 MiB")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        await emulator.stop()


if __name__ == "__main__":
    asyncio.run(main())
