"""Wiring of the daily digest: its reads, the chart renderer, the chat and Discord destinations, and the recurring
timer that posts it (`reports.digest` in warroom.yml)."""

from __future__ import annotations

from bot.config import AppConfig
from bot.db.digest_queries import DigestQueries
from bot.db.store import ClaimedTimer, Store
from bot.domain.outbound import Broadcaster
from bot.domain.ports import ChatRoom
from bot.recurring import Recurrence
from bot.scheduler import Scheduler
from bot.services.deps import Deps
from bot.services.reports import DIGEST_KEY, DIGEST_TIMER, DailyDigest, DigestSchedule


def digest_schedule(config: AppConfig) -> DigestSchedule:
    """The `reports.digest` section (the channel defaults to the announcements channel)."""
    d = config.reports.digest
    return DigestSchedule(at=d.time, tz=d.timezone, channel=d.channel or config.channels.announcements, chart=d.chart)


def build_digest(
    deps: Deps, store: Store, config: AppConfig, *, chat: ChatRoom | None, discord: Broadcaster | None
) -> DailyDigest:
    """The digest service over this store, posting to `chat` and `discord` (either may be None)."""
    schedule = digest_schedule(config)
    charts = None
    if schedule.chart:
        from integrations.digest_chart import MatplotlibDigestChart  # matplotlib loads only when used

        charts = MatplotlibDigestChart()
    return DailyDigest(deps, DigestQueries(store), schedule=schedule, chat=chat, discord=discord, charts=charts)


def register_digest(scheduler: Scheduler, digest: DailyDigest, config: AppConfig) -> None:
    """The recurring digest timer (every day at the configured time and zone), unless the digest is off."""
    d = config.reports.digest
    if not d.enabled:
        return

    async def fire(timer: ClaimedTimer) -> None:
        await digest.fired(due_at=timer.due_at, attempts=timer.attempts)

    scheduler.every(DIGEST_TIMER, DIGEST_KEY, Recurrence(d.cron, d.timezone), fire)
