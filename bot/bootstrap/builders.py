"""build(settings) -> Container, from small builders: the core (store, use-case dependencies), chat (chat.py),
reactors, workers, and the HTTP app."""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from bot.bootstrap.chat import SlackApp, SlackSide, build_chat, build_slack_app
from bot.bootstrap.container import LOCAL_PAGE_PATH, LOCAL_SLACK_PATH, Container, LocalSlack
from bot.bootstrap.diagnosis import build_diagnosis, register_rerun
from bot.bootstrap.escalation import build_pager, register_timers, routing_keys
from bot.bootstrap.executors import build_executors
from bot.bootstrap.outbound import Outbound, build_outbound, link_templates, postmortem_renderer, ticket_policy
from bot.bootstrap.remediation import register_remediation_timers, remediation_deps
from bot.bootstrap.reports import build_digest, register_digest
from bot.clock import SystemClock
from bot.config import AppConfig, Settings, load_config
from bot.config.response_rules import response_policy
from bot.db.processes import ProcessTable
from bot.db.store import ClaimedTimer, Store, new_worker_id
from bot.domain.policy import SlaTargets
from bot.domain.ports import ChatRoom, Clock, Pager
from bot.exposure import exposure_problems
from bot.heartbeat import Heartbeat
from bot.http_client import SharedHttp
from bot.outbox import OutboxWorker, RetryPolicy
from bot.plugins import ReactorRegistry
from bot.redact import Redactor, install_log_redaction
from bot.scheduler import Scheduler
from bot.services import reactors, remediation
from bot.services.alerts import CARD_REFRESH, note_joined_alerts
from bot.services.authority_deps import AuthorityDeps
from bot.services.deps import AlertPolicy, Deps
from bot.services.stats import Telemetry
from handlers.http import ApiAuth, HttpDeps, create_app
from handlers.webhooks.common import WebhookAuth
from handlers.webhooks.sns_route import cloudwatch_receiver
from handlers.webhooks.sns_signature import CertFetcher, HttpCertFetcher, SnsVerifier

log = logging.getLogger("warroom")
Confirm = Callable[[str], Awaitable[None]]


@dataclass(slots=True)
class Core:
    """What every other part is built on."""

    settings: Settings
    config: AppConfig
    clock: Clock
    redactor: Redactor
    telemetry: Telemetry
    store: Store
    deps: Deps
    http: SharedHttp
    closers: list[Callable[[], None]]
    pager_keys: dict[str, str]


@dataclass(slots=True)
class Workers:
    """The background workers of this process."""

    outbox: OutboxWorker
    scheduler: Scheduler
    heartbeat: Heartbeat


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


def sla_targets(config: AppConfig) -> dict[Any, SlaTargets]:
    """The response SLA targets per severity (defaults merged)."""
    return {
        sev: SlaTargets(t.ack_minutes, t.update_minutes, t.resolve_minutes, t.detect_minutes)
        for sev, t in config.sla.items()
    }


def _local_routes(local: LocalSlack) -> list[BaseRoute]:
    """Local mode: the emulator under /local-slack (its page at /local-slack/), and / leading to the page."""

    async def to_page(request: Request) -> Response:
        return RedirectResponse(LOCAL_PAGE_PATH, status_code=307)

    return [Mount(LOCAL_SLACK_PATH, app=local.app), Route("/", to_page, methods=["GET", "HEAD"])]


def build_core(settings: Settings, config: AppConfig, clock: Clock) -> Core:
    """The store, the redactor, the counters, the shared HTTP client, and what the use cases need."""
    pager_keys = routing_keys(settings, config)
    redactor = Redactor([*settings.secret_values(), *pager_keys.values()], ips=config.redaction.ip_addresses)
    store = Store.from_url(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    diagnosis, closers = build_diagnosis(settings, config)
    deps = Deps(
        store=store, clock=clock, sla=sla_targets(config), alerts=alert_policy(config), redact=redactor,
        diagnosis=diagnosis, response=response_policy(config), remediation=remediation_deps(config),
        authority=AuthorityDeps(config.approvers.approvers(), config.permissions.major_changes),
    )  # fmt: skip
    http = SharedHttp(timeout=10.0)
    return Core(settings, config, clock, redactor, Telemetry(), store, deps, http, closers, pager_keys)


def build_reactors(
    registry: ReactorRegistry,
    deps: Deps,
    chat: ChatRoom,
    config: AppConfig,
    *,
    outbound: Outbound | None = None,
    pager: Pager | None = None,
) -> reactors.WarRoomReactor:
    """Add this process's reactors to the registry, one line each; returns the war room (its card refreshes
    are driven by timers). A new integration is a port, an adapter, a reactor module and a line here."""
    oncall = response_policy(config).oncall
    war_room = registry.add(
        reactors.WarRoomReactor(deps, chat, prefix=config.channels.prefix, oncall=lambda: oncall.now(deps.clock.now()))
    )
    registry.add(reactors.Announcer(deps, chat, channel=config.channels.announcements))
    registry.add(reactors.ClocksReactor(deps))
    if pager is not None:
        registry.add(reactors.PagingReactor(deps, pager))
    propose = None
    if deps.remediation.enabled:  # executors configured (dry_run at least, in `warroom serve`)
        registry.add(reactors.RemediationReactor(deps, chat))
        propose = functools.partial(remediation.propose_after_diagnosis, deps)
    if deps.diagnosis.enabled:
        registry.add(reactors.DiagnosisReactor(deps, chat, deps.diagnosis, on_runbook=war_room.refresh,
                                               on_diagnosed=propose))  # fmt: skip
    renderer = postmortem_renderer(config)
    registry.add(reactors.PostmortemReactor(deps, chat, renderer))
    out = outbound or Outbound()
    if out.tracker is not None:
        registry.add(reactors.TicketsReactor(deps, out.tracker, policy=ticket_policy(config)))
        registry.add(reactors.PostmortemTicketReactor(deps, out.tracker, renderer))
    if out.alerts is not None:
        d = config.discord
        registry.add(reactors.DiscordAlerts(deps, out.alerts, per_minute=d.messages_per_minute, ping_at=d.ping_at,
                                   links=link_templates(config)))  # fmt: skip
    return war_room


def build_workers(
    core: Core, war_room: reactors.WarRoomReactor, *, poll_interval: float, instance: str | None
) -> Workers:
    """The outbox worker and the scheduler, woken by the commits that give them work, and the heartbeat."""
    settings, store, clock = core.settings, core.store, core.clock

    def failed(reactor_name: str) -> None:
        core.telemetry.delivery_failures[reactor_name] += 1

    lease = timedelta(seconds=settings.outbox_lease_seconds)  # deliveries and timers alike
    process_id = new_worker_id("p")  # claimed_by of every delivery and timer this process works on
    policy = RetryPolicy(
        max_attempts=settings.outbox_max_attempts,
        base_delay=settings.outbox_base_delay,
        max_delay=settings.outbox_max_delay,
    )
    outbox = OutboxWorker(
        store, clock=clock, policy=policy, lease=lease, poll_interval=poll_interval, on_failure=failed,
        worker_id=process_id,
    )  # fmt: skip
    store.on_commit(outbox.wake)
    scheduler = Scheduler(store, clock=clock, lease=lease, poll_interval=poll_interval, worker_id=process_id)
    store.on_timers_committed(scheduler.wake)
    heartbeat = Heartbeat(
        ProcessTable(store), clock=clock, process_id=process_id, instance=settings.instance_name or instance,
        interval=settings.heartbeat_seconds, holders=[outbox, scheduler],
    )  # fmt: skip

    async def refresh_card(timer: ClaimedTimer) -> None:
        if timer.incident_id is not None:
            await note_joined_alerts(core.deps, incident_id=timer.incident_id)
            await war_room.refresh(timer.incident_id)

    scheduler.register(CARD_REFRESH, refresh_card)
    register_timers(scheduler, core.deps)
    register_remediation_timers(scheduler, core.deps)
    diagnosis = core.store.reactors.get(reactors.DiagnosisReactor.name)
    if isinstance(diagnosis, reactors.DiagnosisReactor):
        register_rerun(scheduler, diagnosis)
    return Workers(outbox, scheduler, heartbeat)


def build_http(
    core: Core,
    slack: SlackSide,
    app: SlackApp,
    holder: dict[str, Container],
    *,
    cert_fetcher: CertFetcher | None,
    sns_confirm: Confirm | None,
) -> Starlette:
    """The ASGI app: /slack/events, the webhooks, /api/v1, health; its lifespan starts and stops the container."""
    settings, http = core.settings, core.http

    async def slack_events(request: Request) -> Response:
        response: Response = await app.handler.handle(request)
        return response

    async def ready() -> tuple[bool, str]:
        return await holder["c"].ready()

    async def confirm_subscription(url: str) -> None:
        resp = await http.client.get(url, timeout=10)
        resp.raise_for_status()
        log.info("confirmed the SNS subscription (%s)", url.split("?")[0])

    verifier = SnsVerifier(
        cert_fetcher or HttpCertFetcher(lambda: http.client),
        clock=core.clock.now,
        max_age=timedelta(seconds=settings.sns_max_age_seconds),
    )
    api_token = settings.api_token.get_secret_value() if settings.api_token else None
    alert_token = settings.alert_token.get_secret_value() if settings.alert_token else None
    http_deps = HttpDeps(
        deps=core.deps,
        slack=slack_events,
        ready=ready,
        telemetry=core.telemetry,
        auth=ApiAuth(token=api_token, public_read=settings.api_public_read),
        extra_routes=_local_routes(slack.local) if slack.local else [],
        redact=core.redactor,
        webhook_auth=WebhookAuth(token=alert_token, local_mode=settings.local_mode),
        cloudwatch=cloudwatch_receiver(
            verifier=verifier, topics=list(core.config.cloudwatch.topics), confirm=sns_confirm or confirm_subscription
        ),
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await holder["c"].start()
        try:
            yield
        finally:
            await holder["c"].stop()

    return create_app(http_deps, lifespan=lifespan)


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    config: AppConfig | None = None,
    poll_interval: float = 1.0,
    cert_fetcher: CertFetcher | None = None,
    sns_confirm: Confirm | None = None,
    instance: str | None = None,
) -> Container:
    """Wire the bot. Nothing is started or connected until `Container.start()`.

    `instance` names this process across restarts (WARROOM_INSTANCE_NAME wins; the CLI passes host:port);
    without either, each run is its own instance.
    """
    if problems := exposure_problems(settings):
        raise ValueError("; ".join(problems))
    core = build_core(settings, config or load_config(settings.config_path), clock or SystemClock())
    slack = build_chat(settings, core.redactor, core.telemetry, core.clock)
    core.deps.authority.groups = slack.groups
    install_log_redaction(core.redactor)
    outbound = build_outbound(settings, core.config, core.redactor, core.clock)
    pager = build_pager(core.pager_keys, settings, core.http, core.redactor)
    executors = build_executors(core.config.remediation.executors, http=core.http, redact=core.redactor)
    core.deps.remediation.executors = executors  # before the reactors: remediation is on with its executors
    war_room = build_reactors(core.store.reactors, core.deps, slack.chat, core.config, outbound=outbound, pager=pager)
    workers = build_workers(core, war_room, poll_interval=poll_interval, instance=instance)
    digest = build_digest(core.deps, core.store, core.config, chat=slack.chat, discord=outbound.reports)
    register_digest(workers.scheduler, digest, core.config)
    app = build_slack_app(slack, settings, core.deps)
    holder: dict[str, Container] = {}
    container = Container(
        settings=settings, config=core.config, clock=core.clock, store=core.store, deps=core.deps,
        redactor=core.redactor, telemetry=core.telemetry, chat=slack.chat, slack_client=slack.client, bolt=app.bolt,
        outbox=workers.outbox, scheduler=workers.scheduler, heartbeat=workers.heartbeat,
        app=build_http(core, slack, app, holder, cert_fetcher=cert_fetcher, sns_confirm=sns_confirm),
        http=core.http, local=slack.local, socket=app.socket, closers=core.closers, outbound=outbound,
        executors=executors,
    )  # fmt: skip
    holder["c"] = container
    return container
