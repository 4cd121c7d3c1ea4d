"""Real `warroom serve` processes for tests: start, wait until ready, kill -9, stop."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.harness import ALERT_TOKEN, SIGNING_SECRET, TOKEN, eventually
from tests.e2e.serve import stop_process

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_env(db_url: str, api_url: str | None = None, **extra: Any) -> dict[str, str]:
    """The environment of a bot process: Slack HTTP mode against `api_url`, or local mode without it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WARROOM_"))}
    env.update(
        {
            "WARROOM_DATABASE_URL": db_url,
            "WARROOM_HOST": "127.0.0.1",
            "WARROOM_ALERT_TOKEN": ALERT_TOKEN,
            "WARROOM_OUTBOX_BASE_DELAY": "0.05",
            "WARROOM_OUTBOX_MAX_DELAY": "0.5",
        }
    )
    if api_url is None:
        env["WARROOM_LOCAL_MODE"] = "true"
    else:
        env.update(
            {
                "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": api_url,
                "WARROOM_LOCAL_MODE": "false",
            }
        )
    env.update({k: str(v) for k, v in extra.items()})
    return env


class ServeProcess:
    """`warroom serve` in a subprocess on a free port, its output in `log`."""

    def __init__(self, env: dict[str, str], log: Path, *, args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.env = {**env, "WARROOM_PORT": str(self.port)}
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> ServeProcess:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "serve", *self.args], cwd=ROOT, env=self.env, stdout=out, stderr=out
            )
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def wait_ready(self, timeout: float = 60) -> None:
        """Until /readyz answers 200; fails at once if the process exits."""

        async def ready() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"warroom serve exited with {self.proc.returncode}:\n{self.output()}")
            try:
                async with httpx.AsyncClient(timeout=5) as c:
                    return (await c.get(f"{self.url}/readyz")).status_code == 200
            except httpx.HTTPError:
                return False

        await eventually(ready, timeout=timeout, interval=0.05)

    async def wait_exit(self, timeout: float = 60) -> int:
        """The exit code, once the process has ended."""
        assert self.proc is not None
        return await asyncio.to_thread(self.proc.wait, timeout)

    def kill(self) -> None:
        """kill -9."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM (a graceful stop), SIGKILL after 10 s."""
        stop_process(self.proc)
