"""The composition root: build(settings) -> Container. The only module that wires integrations in."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from bot.background import loops_detail
from bot.clock import SystemClock
from bot.config import AppConfig, Settings, load_config
from bot.db.processes import ProcessTable
from bot.db.store import ClaimedTimer, Store, new_worker_id
from bot.domain.cards import SlaTargets
from bot.domain.ports import ChatRoom, Clock
from bot.domain.text import visible
from bot.exposure import exposure_problems
from bot.heartbeat import Heartbeat
from bot.http_client import SharedHttp
from bot.outbox import OutboxWorker, RetryPolicy
from bot.plugins import ReactorRegistry
from bot.redact import RedactingChatRoom, Redactor, install_log_redaction
from bot.sample_alert import sample_alerts
from bot.scheduler import Scheduler
from bot.services.alerts import CARD_REFRESH, note_joined_alerts
from bot.services.deps import AlertPolicy, Deps
from bot.services.reactors import Announcer, WarRoomReactor
from bot.services.stats import Telemetry, database_ready
from handlers import slack as slack_handlers
from handlers.http import ApiAuth, HttpDeps, create_app
from handlers.slack.signature import UnverifiedBodyFilter
from handlers.slack.socket_mode import SocketModeLink
from handlers.webhooks.common import WebhookAuth
from handlers.webhooks.sns_route import cloudwatch_receiver
from handlers.webhooks.sns_signature import CertFetcher, HttpCertFetcher, SnsVerifier
from integrations.slack_rooms import SlackChatRoom, make_client
from integrations.slack_rooms.pacing import Pacer

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
        await self.store.dispose()
        self._started = False

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


def alert_policy(config: AppConfig) -> AlertPolicy:
    """Grouping, correlation, severity rules and silences from the rules file."""
    return AlertPolicy(
        group_by=list(config.grouping.by),
        correlation_window=timedelta(minutes=config.grouping.correlation_window_minutes),
        auto_declare_at=config.grouping.auto_declare_at,
        rules=list(config.severity_rules),
        silences=list(config.silences),
        card_refresh_seconds=config.grouping.card_refresh_seconds,
    )


def _local_routes(local: LocalSlack) -> list[BaseRoute]:
    """Local mode: the emulator under /local-slack (its page at /local-slack/), and / leading to the page."""

    async def to_page(request: Request) -> Response:
        return RedirectResponse(LOCAL_PAGE_PATH, status_code=307)

    return [Mount(LOCAL_SLACK_PATH, app=local.app), Route("/", to_page, methods=["GET", "HEAD"])]


def _sla(config: AppConfig) -> dict[Any, SlaTargets]:
    return {sev: SlaTargets(t.ack_minutes, t.update_minutes, t.resolve_minutes) for sev, t in config.sla.items()}


def build_reactors(registry: ReactorRegistry, deps: Deps, chat: ChatRoom, config: AppConfig) -> WarRoomReactor:
    """Add this process's reactors to the registry (one line each); the war room (its card refreshes are
    driven by timers)."""
    war_room = registry.add(WarRoomReactor(deps, chat, prefix=config.channels.prefix, oncall=list(config.oncall.users)))
    registry.add(Announcer(deps, chat, channel=config.channels.announcements))
    return war_room


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    config: AppConfig | None = None,
    poll_interval: float = 1.0,
    cert_fetcher: CertFetcher | None = None,
    sns_confirm: Callable[[str], Awaitable[None]] | None = None,
    instance: str | None = None,
) -> Container:
    """Wire the bot. Nothing is started or connected until `Container.start()`.

    `instance` names this process across restarts (WARROOM_INSTANCE_NAME wins; the CLI passes host:port);
    without either, each run is its own instance.
    """
    if problems := exposure_problems(settings):
        raise ValueError("; ".join(problems))
    clock = clock or SystemClock()
    config = config or load_config(settings.config_path)
    redactor = Redactor(settings.secret_values())
    telemetry = Telemetry()
    store = Store.from_url(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    http = SharedHttp(timeout=10.0)
    deps = Deps(store=store, clock=clock, sla=_sla(config), alerts=alert_policy(config), redact=redactor)

    local: LocalSlack | None = None
    base = f"http://{settings.host}:{settings.port}"
    if settings.local_mode:
        from integrations.local_workspace import SampleAlert, Workspace
        from integrations.local_workspace import create_app as create_emulator

        token = f"xoxb-local-{secrets.token_hex(8)}"
        signing_secret = secrets.token_hex(16)
        workspace = Workspace(
            token=token,
            signing_secret=signing_secret,
            events_url=f"{base}/slack/events",
            base_url=f"{base}{LOCAL_SLACK_PATH}",
            rate_limit_scale=1.0,
            sample_alert=SampleAlert(  # the page's "Send test alert": through the real webhook
                sample_alerts(clock.now),
                url=f"{base}{ALERTMANAGER_PATH}",
                headers={"Authorization": f"Bearer {settings.alert_token.get_secret_value()}"}
                if settings.alert_token
                else {},
            ),
        )
        local = LocalSlack(workspace=workspace, app=create_emulator(workspace))
        api_url = f"{base}{LOCAL_SLACK_PATH}/api/"
        redactor.add_secret(token)
        redactor.add_secret(signing_secret)
    else:
        if settings.slack_bot_token is None or not settings.slack_configured:
            raise ValueError(
                "outside local mode SLACK_BOT_TOKEN is needed, with SLACK_SIGNING_SECRET (HTTP mode) "
                "or SLACK_APP_TOKEN (Socket Mode)"
            )
        token = settings.slack_bot_token.get_secret_value()
        # Socket Mode needs no signing secret; without one, /slack/events gets a random secret nobody
        # knows, so it refuses every request instead of checking signatures against an empty key.
        secret = settings.slack_signing_secret
        signing_secret = secret.get_secret_value() if secret is not None else secrets.token_hex(32)
        api_url = settings.slack_api_url

    install_log_redaction(redactor)
    client = make_client(
        token, base_url=api_url, on_rate_limited=telemetry.rate_limited, scrub=lambda s: visible(redactor(s))
    )
    chat: ChatRoom = RedactingChatRoom(SlackChatRoom(client, pacer=Pacer(scale=settings.slack_rate_scale)), redactor)
    war_room = build_reactors(store.reactors, deps, chat, config)

    def failed(reactor_name: str) -> None:
        telemetry.delivery_failures[reactor_name] += 1

    lease = timedelta(seconds=settings.outbox_lease_seconds)  # deliveries and timers alike
    process_id = new_worker_id("p")  # claimed_by of every delivery and timer this process works on
    outbox = OutboxWorker(
        store,
        clock=clock,
        policy=RetryPolicy(
            max_attempts=settings.outbox_max_attempts,
            base_delay=settings.outbox_base_delay,
            max_delay=settings.outbox_max_delay,
        ),
        lease=lease,
        poll_interval=poll_interval,
        on_failure=failed,
        worker_id=process_id,
    )
    store.on_commit(outbox.wake)
    scheduler = Scheduler(store, clock=clock, lease=lease, poll_interval=poll_interval, worker_id=process_id)
    store.on_timers_committed(scheduler.wake)
    heartbeat = Heartbeat(
        ProcessTable(store), clock=clock, process_id=process_id, instance=settings.instance_name or instance,
        interval=settings.heartbeat_seconds, holders=[outbox, scheduler],
    )  # fmt: skip

    async def refresh_card(timer: ClaimedTimer) -> None:
        if timer.incident_id is not None:
            await note_joined_alerts(deps, incident_id=timer.incident_id)
            await war_room.refresh(timer.incident_id)

    scheduler.register(CARD_REFRESH, refresh_card)

    bolt_logger = logging.getLogger("warroom.bolt")
    if not any(isinstance(f, UnverifiedBodyFilter) for f in bolt_logger.filters):
        bolt_logger.addFilter(UnverifiedBodyFilter())  # Bolt copies it to its own loggers
    bolt = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
        logger=bolt_logger,
    )
    slack_handlers.register(bolt, slack_handlers.SlackContext(deps=deps, chat=chat))
    bolt_handler = AsyncSlackRequestHandler(bolt)
    socket = None
    if settings.slack_app_token is not None and local is None:
        socket = SocketModeLink(bolt, settings.slack_app_token.get_secret_value())

    async def slack(request: Request) -> Response:
        response: Response = await bolt_handler.handle(request)
        return response

    async def ready() -> tuple[bool, str]:
        return await holder["c"].ready()

    async def confirm_subscription(url: str) -> None:
        resp = await http.client.get(url, timeout=10)
        resp.raise_for_status()
        log.info("confirmed the SNS subscription (%s)", url.split("?")[0])

    cloudwatch = cloudwatch_receiver(
        verifier=SnsVerifier(
            cert_fetcher or HttpCertFetcher(lambda: http.client),
            clock=clock.now,
            max_age=timedelta(seconds=settings.sns_max_age_seconds),
        ),
        topics=list(config.cloudwatch.topics),
        confirm=sns_confirm or confirm_subscription,
    )
    api_token = settings.api_token.get_secret_value() if settings.api_token else None
    holder: dict[str, Container] = {}
    http_deps = HttpDeps(
        deps=deps,
        slack=slack,
        ready=ready,
        telemetry=telemetry,
        auth=ApiAuth(token=api_token, public_read=settings.api_public_read),
        extra_routes=_local_routes(local) if local else [],
        redact=redactor,
        webhook_auth=WebhookAuth(
            token=settings.alert_token.get_secret_value() if settings.alert_token else None,
            local_mode=settings.local_mode,
        ),
        cloudwatch=cloudwatch,
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await holder["c"].start()
        try:
            yield
        finally:
            await holder["c"].stop()

    container = Container(
        settings=settings,
        config=config,
        clock=clock,
        store=store,
        deps=deps,
        redactor=redactor,
        telemetry=telemetry,
        chat=chat,
        slack_client=client,
        bolt=bolt,
        outbox=outbox,
        scheduler=scheduler,
        heartbeat=heartbeat,
        app=create_app(http_deps, lifespan=lifespan),
        http=http,
        local=local,
        socket=socket,
    )
    holder["c"] = container
    return container
