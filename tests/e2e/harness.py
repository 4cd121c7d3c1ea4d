"""A running bot (real ASGI app under uvicorn on port 0) wired to the Slack emulator."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from bot.bootstrap import Container, build
from bot.config import AppConfig, Settings
from integrations.local_workspace import Workspace

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

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task


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
