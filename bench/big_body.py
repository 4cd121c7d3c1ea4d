"""An unsigned big body to /slack/events: how long /healthz stalls, what the process holds, what is logged.

The bot runs as a real `warroom serve` subprocess in local mode on 127.0.0.1. One client streams `--mb`
MiB of form data with a bad signature (chunked, or with Content-Length) while another polls /healthz.

    .venv/bin/python bench/big_body.py [--mb 100] [--content-length]

Measured on the 2-core dev box (2026-12-02), chunked:
  before the cap, 20 MiB:  401 after 3.8 s, /healthz worst 3.7 s, peak RSS +140 MB, log +21 MB (the body)
  before the cap, 100 MiB: 401 after 18.8 s, /healthz worst 18.6 s, peak RSS +700 MB, log +105 MB
  after, 100 MiB:          413 after 0.05 s, /healthz worst 0.05 s, peak RSS +1 MB, log +0 bytes
                           (with Content-Length: 413 after 0.06 s, nothing read)
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--content-length", action="store_true", help="declare the size instead of chunking")
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = Path(tempfile.mkdtemp(prefix="warroom-bench-"))
    log = tmp / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WARROOM_"))}
    env |= {"WARROOM_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'b.db'}", "WARROOM_PORT": str(port)}
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        for _ in range(300):
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        rss_before, log_before = peak_rss_mb(proc.pid), log.stat().st_size
        latencies: list[float] = []
        done = threading.Event()

        def probe() -> None:
            while not done.is_set():
                started = time.monotonic()
                httpx.get(f"{url}/healthz", timeout=120)
                latencies.append(time.monotonic() - started)
                time.sleep(0.02)

        prober = threading.Thread(target=probe)
        prober.start()
        size = args.mb * 1024 * 1024
        chunk = b"text=" + b"x" * (64 * 1024 - 5)

        def body():
            for _ in range(size // len(chunk)):
                yield chunk

        headers = {"X-Slack-Signature": "v0=" + "0" * 64, "X-Slack-Request-Timestamp": str(int(time.time()))}
        if args.content_length:
            headers["Content-Length"] = str(size // len(chunk) * len(chunk))
        started = time.monotonic()
        try:
            status = str(httpx.post(f"{url}/slack/events", content=body(), headers=headers, timeout=300).status_code)
        except httpx.HTTPError as exc:
            status = f"connection closed ({type(exc).__name__})"
        took = time.monotonic() - started
        time.sleep(0.5)
        done.set()
        prober.join()
        framing = "with Content-Length" if args.content_length else "chunked"
        print(f"{args.mb} MiB {framing}: answer {status} after {took:.2f} s")
        print(f"/healthz worst latency {max(latencies):.2f} s over {len(latencies)} probes")
        grew = peak_rss_mb(proc.pid) - rss_before
        print(f"peak RSS +{grew:.0f} MB; log grew {log.stat().st_size - log_before} bytes")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
