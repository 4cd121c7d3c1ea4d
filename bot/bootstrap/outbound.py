"""The outbound side of the composition root: the Jira tracker and the Discord channels, each behind redaction
(and the tracker behind its guard), or None when its settings are absent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bot.config import AppConfig, Settings
from bot.domain.outbound import Broadcaster, TicketTracker
from bot.domain.ports import Clock
from bot.domain.postmortem import PostmortemRenderer
from bot.domain.throttle import CircuitBreaker, SlidingWindow
from bot.redact import Redactor
from bot.redact_outbound import RedactingBroadcaster, RedactingTracker
from bot.services.tickets import GuardedTracker, LinkTemplates, TicketPolicy


@dataclass(slots=True)
class Outbound:
    """Where incidents go besides chat: a ticket tracker, the Discord alert and reports channels (each None when
    not configured), and what to close when the container stops."""

    tracker: TicketTracker | None = None
    alerts: Broadcaster | None = None
    reports: Broadcaster | None = None
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def close(self) -> None:
        """Close every adapter (after the workers stopped)."""
        for close in self.closers:
            await close()


def link_templates(config: AppConfig) -> LinkTemplates:
    """The `links` section."""
    return LinkTemplates(war_room=config.links.war_room, runbook=config.links.runbook)


def ticket_policy(config: AppConfig) -> TicketPolicy:
    """The `jira` section's events, transitions and the links."""
    t = config.jira.transitions
    return TicketPolicy(
        comment_on=frozenset(config.jira.comment_on),
        transitions={"resolved": tuple(t.resolved), "closed": tuple(t.closed), "reopened": tuple(t.reopened)},
        links=link_templates(config),
    )


def build_tracker(settings: Settings, config: AppConfig, redactor: Redactor, clock: Clock, out: Outbound) -> None:
    """Jira, when JIRA_URL, JIRA_USER, JIRA_API_TOKEN and JIRA_PROJECT are all set."""
    if not settings.jira_enabled:
        return
    from integrations.jira_tracker import JiraOptions, JiraTracker  # the jira library loads only when used

    assert settings.jira_url and settings.jira_user and settings.jira_api_token and settings.jira_project
    jira = config.jira
    options = JiraOptions(
        project=settings.jira_project, issue_type=jira.issue_type, summary=jira.summary, labels=tuple(jira.labels),
        priority_field=jira.priority_field, priorities={k.value: v for k, v in jira.priorities.items()},
        severity_field=jira.severity_field, services_field=jira.services_field, fields=dict(jira.fields),
        timeout=jira.timeout_seconds,
    )  # fmt: skip
    adapter = JiraTracker(
        url=settings.jira_url, user=settings.jira_user, token=settings.jira_api_token.get_secret_value(),
        options=options, redact=redactor,
    )  # fmt: skip
    out.closers.append(adapter.close)
    out.tracker = GuardedTracker(
        RedactingTracker(adapter, redactor), clock=clock,
        breaker=CircuitBreaker(jira.breaker_failures, timedelta(minutes=jira.breaker_open_minutes)),
        creates=SlidingWindow(jira.creates_per_hour, timedelta(hours=1)),
    )  # fmt: skip


def build_discord(settings: Settings, config: AppConfig, redactor: Redactor, out: Outbound) -> None:
    """The Discord alert and reports channels whose webhook URLs are set."""
    urls = {"alerts": settings.discord_alerts_webhook_url, "reports": settings.discord_reports_webhook_url}
    if not any(urls.values()):
        return
    from integrations.discord_alerts import DiscordWebhook  # discord.py loads only when used

    for which, url in urls.items():
        if url is None:
            continue
        hook = DiscordWebhook(
            url.get_secret_value(), api_url=settings.discord_api_url, role_id=config.discord.role_id,
            username=config.discord.username, redact=redactor,
        )  # fmt: skip
        setattr(out, which, RedactingBroadcaster(hook, redactor))


def build_outbound(settings: Settings, config: AppConfig, redactor: Redactor, clock: Clock) -> Outbound:
    """Every configured outbound channel."""
    out = Outbound()
    build_tracker(settings, config, redactor, clock, out)
    build_discord(settings, config, redactor, out)
    return out


def postmortem_renderer(config: AppConfig) -> PostmortemRenderer:
    """Markdown from `postmortem.template` (relative to the rules file), else the built-in template; a template
    that cannot work raises ValueError (TemplateProblem) naming the file, at start-up."""
    from integrations.postmortem_markdown import MarkdownPostmortem
    from integrations.postmortem_markdown.render import sample_doc

    path: Path | None = None
    if config.postmortem.template:
        path = Path(config.postmortem.template).expanduser()
        if not path.is_absolute() and config.source is not None:
            path = config.source.parent / path
    return MarkdownPostmortem(path, sample=sample_doc())
