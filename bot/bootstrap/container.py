"""The running bot: everything it is made of, started and stopped in order, and its readiness."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette

from bot.background import loops_detail
from bot.bootstrap.outbound import Outbound
from bot.config import AppConfig, Settings
from bot.db.store import Store
from bot.domain.execution import ExecutorRegistry
from bot.domain.ports import ChatRoom, Clock
from bot.heartbeat import Heartbeat
from bot.http_client import SharedHttp
from bot.outbox import OutboxWorker
from bot.plugins import ReactorRegistry
from bot.redact import Redactor
from bot.scheduler import Scheduler
from bot.services.deps import Deps
from bot.services.stats import Telemetry, database_ready
from handlers.slack.socket_mode import SocketModeLink
from integrations.executors.dry_run import DryRunExecutor

log = logging.getLogger("warroom")
LOCAL_SLACK_PATH = "/local-slack"
LOCAL_PAGE_PATH = f"{LOCAL_SLACK_PATH}/"  # the emulator's web page (and where / leads in local mode)
ALERTMANAGER_PATH = "/webhooks/alertmanager"


@dataclass(slots=True)
class LocalSlack:
    """The built-in Slack emulator of local mode, mounted in the bot's own HTTP server."""

    workspace: Any
    app: Any


@dataclass(slots=True)
class Container:
    """Everything the running bot is made of."""

    settings: Settings
    config: AppConfig
    clock: Clock
    store: Store
    deps: Deps
    redactor: Redactor
    telemetry: Telemetry
    chat: ChatRoom
    slack_client: Any
    bolt: AsyncApp
    outbox: OutboxWorker
    scheduler: Scheduler
    heartbeat: Heartbeat
    app: Starlette
    http: SharedHttp
    local: LocalSlack | None = None
    socket: SocketModeLink | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)  # adapters' worker threads, closed last
    outbound: Outbound = field(default_factory=Outbound)
    # Remediation executors by name (remediation.executors in warroom.yml); dry_run only by default.
    executors: ExecutorRegistry = field(default_factory=lambda: ExecutorRegistry.of([DryRunExecutor()]))
    _started: bool = False
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    async def start(self) -> None:
        """Start the workers (and Socket Mode when configured)."""
        if self._started:
            return
        self._started = True
        if self.store.is_sqlite:
            # One process owns a SQLite file: rows it had in flight when it died are simply resumed.
            released = await self.store.release_inflight()
            if released:
                log.info("resumed %s deliveries left in flight by the previous run", released)
        try:
            await self.heartbeat.register()  # first: work an earlier run of this instance left is ours again
        except Exception as exc:  # the heartbeat loop registers once the database answers
            log.warning("could not register this process yet: %s: %s", type(exc).__name__, exc)
        self.store.start_background()
        self.outbox.start()
        self.outbox.wake()
        self.scheduler.start()
        self.heartbeat.start()
        if self.socket is not None:
            try:
                await self.socket.start()
            except BaseException:
                await self.stop()
                raise

    async def stop(self) -> None:
        """Stop taking Slack envelopes, then stop workers and close connections."""
        if self.socket is not None:
            await self.socket.stop()
        await self.outbox.stop()
        await self.scheduler.stop()
        await self.heartbeat.stop()  # after the workers: releases what they left in flight, for the others
        await self.http.aclose()
        for close in self.closers:
            await asyncio.to_thread(close)  # waits for its threads' work in flight
        self.closers.clear()
        await self.outbound.close()
        await self.store.dispose()
        self._started = False

    @property
    def reactors(self) -> ReactorRegistry:
        """The reactors of this process: adding one here is all it takes for it to receive its events."""
        return self.store.reactors

    def loops(self) -> dict[str, bool]:
        """Each background loop of this process, and whether it is running."""
        loops = {"outbox": self.outbox.running, "timers": self.scheduler.running, "heartbeat": self.heartbeat.running}
        if self.store.checkpointer is not None:
            loops["wal-checkpoints"] = self.store.checkpointer.running
        return loops

    async def ready(self) -> tuple[bool, str]:
        """For /readyz: the database answers at the newest migration, and every background loop runs."""
        ok, detail = await database_ready(self.deps)
        if not ok:
            return ok, detail
        loops_ok, loops = loops_detail(self.loops())
        return loops_ok, f"{detail}; {loops}"

    def begin_shutdown(self) -> None:
        """The HTTP server starts shutting down: end local mode's live page streams now, so an open browser
        tab does not hold the shutdown up until its timeout."""
        if self.local is not None:
            self.local.workspace.feed.close()

    def set_public_url(self, base_url: str) -> None:
        """Tell local mode where the server listens (known once a port is bound)."""
        if self.local is None:
            return
        base_url = base_url.rstrip("/")
        self.local.workspace.sample_alert.url = f"{base_url}{ALERTMANAGER_PATH}"
        self.local.workspace.events_url = f"{base_url}/slack/events"
        self.local.workspace.bot_events_urls = {self.local.workspace.events_url}
        self.local.workspace.base_url = f"{base_url}{LOCAL_SLACK_PATH}"
        self.slack_client.base_url = f"{base_url}{LOCAL_SLACK_PATH}/api/"
