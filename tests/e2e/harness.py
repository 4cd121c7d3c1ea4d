"""A running bot (real ASGI app under uvicorn on port 0) wired to the Slack emulator."""

from __future__ import annotations

import asyncio
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bot.bootstrap import Container, build
from bot.config import AppConfig, Settings
from integrations.local_workspace import Workspace
from tests.e2e.serve import START_SECONDS, stop_process

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "xoxb-test-token"
ALERT_TOKEN = "alert-token-for-tests"
SIGNING_SECRET = "test-signing-secret"


async def eventually(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.01) -> Any:
    """Poll `check` (sync or async) until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {last!r})")


def bot_settings(db_url: str, api_url: str, **extra: Any) -> Settings:
    """Settings for a bot in Slack HTTP mode against the emulator."""
    values: dict[str, Any] = {
        "WARROOM_DATABASE_URL": db_url,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api_url,
        "WARROOM_HOST": "127.0.0.1",
        "WARROOM_PORT": 0,
        "WARROOM_LOCAL_MODE": False,
        "WARROOM_OUTBOX_BASE_DELAY": 0.05,
        "WARROOM_OUTBOX_MAX_DELAY": 0.5,
        "WARROOM_ALERT_TOKEN": ALERT_TOKEN,
    }
    values.update(extra)
    return Settings(_env_file=None, **values)


@dataclass
class RunningBot:
    """The bot under test."""

    container: Container
    url: str
    workspace: Workspace
    server: uvicorn.Server
    task: asyncio.Task[None]

    @property
    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=10)

    async def idle(self, timeout: float = 10.0) -> None:
        """Wait until the outbox has nothing pending or in flight."""

        async def drained() -> bool:
            counts = await self.container.store.delivery_counts()
            return counts.get("pending", 0) == 0 and counts.get("inflight", 0) == 0

        await eventually(drained, timeout=timeout)

    async def stop(self, timeout: float = 60.0) -> None:
        """Shut the server down as `warroom serve` does on SIGTERM. A shutdown that does not finish within
        `timeout` is a failure that shows what every task was waiting for, never a hang of the suite."""
        self.server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self.task), timeout)
        except TimeoutError:
            stuck = pending_tasks()
            connections = len(self.server.server_state.connections)
            self.server.force_exit = True  # uvicorn stops waiting for connections and background tasks
            try:
                await asyncio.wait_for(asyncio.shield(self.task), 30)
                after = "it ended once told to force its exit"
            except TimeoutError:
                after = f"even told to force its exit it did not end; now:\n{pending_tasks()}"
            raise AssertionError(
                f"the bot did not shut down in {timeout:.0f} s ({connections} connection(s) still open), {after}\n"
                f"tasks at {timeout:.0f} s:\n{stuck}"
            ) from None


async def start_bot(
    settings: Settings, workspace: Workspace, config: AppConfig | None = None, **build_kwargs: Any
) -> RunningBot:
    """Migrate, build and serve the bot on a free loopback port; point the workspace's events at it."""
    from bot.db.migrate import upgrade

    await asyncio.to_thread(upgrade, settings.database_url)
    container = build(settings, config=config, poll_interval=0.05, **build_kwargs)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY on accept
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(container.app, log_config=None, access_log=False, lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await eventually(lambda: server.started, timeout=10)
    url = f"http://127.0.0.1:{port}"
    workspace.events_url = f"{url}/slack/events"
    return RunningBot(container, url, workspace, server, task)


def pending_tasks() -> str:
    """Every asyncio task of this loop but the caller, with the stack it waits in."""
    out = io.StringIO()
    for task in asyncio.all_tasks():
        if task is asyncio.current_task():
            continue
        out.write(f"--- {task!r}\n")
        task.print_stack(limit=25, file=out)
    return out.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


READY = re.compile(rb"warroom ready on (http://\S+)")


class BotProcess:
    """`warroom serve` (the real CLI) in a subprocess; port 0 = the port it prints in its ready line."""

    def __init__(self, db: Path, api_url: str, port: int, log: Path, **env: str | None) -> None:
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WARROOM_"))},
            "WARROOM_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
            "SLACK_BOT_TOKEN": TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": api_url,
            "WARROOM_HOST": "127.0.0.1",
            "WARROOM_PORT": str(port),
            "WARROOM_LOCAL_MODE": "false",
            "WARROOM_OUTBOX_BASE_DELAY": "0.05",
            "WARROOM_OUTBOX_MAX_DELAY": "0.5",
            "WARROOM_SLACK_RATE_SCALE": "0",
        }
        for name, value in env.items():
            if value is None:
                self.env.pop(name, None)
            else:
                self.env[name] = value
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start_process(self) -> int:
        """Launch `warroom serve`; return where its output starts in the log."""
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot.cli", "serve"], cwd=ROOT, env=self.env, stdout=out, stderr=out
            )
        return offset

    async def exited(self, seconds: float) -> int:
        """Wait (without blocking this event loop) for the process to exit by itself; return its exit code."""
        assert self.proc is not None
        return await asyncio.to_thread(self.proc.wait, seconds)

    async def start(self) -> None:
        """Start the bot and wait until it answers /healthz."""
        offset = self.start_process()

        async def healthy() -> bool:
            assert self.proc is not None and self.proc.poll() is None, self.log.read_text()
            if self.env["WARROOM_PORT"] == "0":
                ready = READY.search(self.log.read_bytes()[offset:])
                if ready is None:
                    return False
                self.url = ready.group(1).decode()
            try:
                async with httpx.AsyncClient() as c:
                    return (await c.get(f"{self.url}/healthz")).status_code == 200
            except httpx.HTTPError:
                return False

        try:
            await eventually(healthy, timeout=START_SECONDS, interval=0.05)
        except BaseException:
            self.stop()  # a bot that never came up must not outlive the test (it would load every later one)
            raise

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    async def terminate(self, seconds: float = 10.0) -> int | None:
        """SIGTERM and wait without blocking this event loop (an in-process emulator must keep answering)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                await asyncio.to_thread(self.proc.wait, seconds)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                await asyncio.to_thread(self.proc.wait, seconds)
        return self.proc.returncode

    def stop(self) -> int | None:
        """SIGTERM and wait (SIGKILL after 10 s); return the exit code."""
        return stop_process(self.proc)
