"""`warroom serve` as a real subprocess on a loopback port, its log kept in a file."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


START_SECONDS = 90.0
"""How long a `warroom serve` may take to answer /healthz: imports and migrations on a loaded CI machine."""


def stop_process(proc: subprocess.Popen[bytes] | None, seconds: float = 10) -> int | None:
    """SIGTERM a `warroom serve` subprocess and wait (SIGKILL after `seconds`); its exit code, None if never started."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=seconds)
    return proc.returncode if proc is not None else None


class Serve:
    """`python -m bot.cli serve` with exactly `env` (on top of a clean environment)."""

    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WARROOM_", "FORWARDED_"))},
            "WARROOM_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / f'serve-{self.port}.db'}",
            "WARROOM_HOST": "127.0.0.1",
            "WARROOM_PORT": str(self.port),
            **env,
        }
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp / f"serve-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def launch(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "serve"], cwd=ROOT, env=self.env, stdout=out, stderr=out
            )
        return self.proc

    def start(self, timeout: float = START_SECONDS) -> Serve:
        """Launch and wait until /healthz answers; a process that never does is stopped, not left behind."""
        proc = self.launch()
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                assert proc.poll() is None, self.log_text()
                try:
                    if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                        return self
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
        except BaseException:
            stop_process(proc)
            raise
        stop_process(proc)
        raise AssertionError(f"warroom serve did not answer in {timeout}s:\n{self.log_text()}")

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def peak_rss_kib(self) -> int:
        """The process's peak resident set size so far (VmHWM)."""
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise AssertionError("no VmHWM in /proc/<pid>/status")

    def stop(self) -> None:
        stop_process(self.proc)
