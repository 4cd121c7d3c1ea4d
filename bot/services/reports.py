"""The daily digest: read the day's figures, post them to the announcements channel (Block Kit, with the chart in
its thread) and to the Discord reports channel (embeds, the chart attached), once per day.

A durable recurring timer (`digest:daily`, bot.scheduler) fires at the configured time in the configured zone:
its claim makes each day's occurrence fire in one process, and a restart finds the next one in the table. A
retried or re-claimed occurrence (a crash after Slack took the message, a failed Discord post) posts nothing
twice: each destination's post is recorded under the day's key (`digest:<date>`, `digest-chart:<date>`,
`discord:digest:<date>`) as soon as the platform took it, and looked up before posting.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Protocol

from bot.domain.digest import (
    DigestChartRenderer,
    DigestData,
    DigestReport,
    chart_filename,
    chart_of,
    report_day,
    windows,
)
from bot.domain.digest_notices import digest_headline, digest_notices
from bot.domain.outbound import Attachment, Broadcaster
from bot.domain.ports import ChatError, ChatRoom
from bot.services.action_items import ACTION_ITEM
from bot.services.deps import Deps
from bot.services.reactors.posting import post_once

log = logging.getLogger("warroom.reports")

DIGEST_TIMER = "digest"
DIGEST_KEY = "digest:daily"


class DigestSource(Protocol):
    """The digest's reads (bot/db/digest_queries.py): every figure aggregated in SQL."""

    async def digest_data(
        self, *, days: Sequence[tuple[date, datetime, datetime]], action_item_kind: str
    ) -> DigestData:
        """The figures of `days` (oldest first; the digest's own day last)."""
        ...


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    """When the digest is due (`at` in `tz`, every day) and where it goes."""

    at: time = time(23, 0)
    tz: str = "UTC"
    channel: str = "incidents"
    chart: bool = True

    def day_of(self, due_at: datetime) -> date:
        """The report day of an occurrence due at `due_at`."""
        return report_day(due_at, tz=self.tz)


@dataclass(frozen=True, slots=True)
class Posted:
    """Where one digest went (False: that destination was not configured or had it already)."""

    slack_ts: str | None = None
    chart: bool = False
    discord: bool = False


class DailyDigest:
    """Builds and posts the digest of a report day."""

    def __init__(
        self,
        deps: Deps,
        source: DigestSource,
        *,
        schedule: DigestSchedule,
        chat: ChatRoom | None = None,
        discord: Broadcaster | None = None,
        charts: DigestChartRenderer | None = None,
    ) -> None:
        self.deps = deps
        self.source = source
        self.schedule = schedule
        self.chat = chat
        self.discord = discord
        self.charts = charts if schedule.chart else None

    async def build(self, day: date) -> DigestReport:
        """The digest of `day` (a report day: the 24 hours up to the schedule's time on that date)."""
        s = self.schedule
        days = windows(day, at=s.at, tz=s.tz)
        data = await self.source.digest_data(days=days, action_item_kind=ACTION_ITEM)
        return DigestReport(day, s.tz, days[-1][1], days[-1][2], data)

    async def chart(self, report: DigestReport) -> bytes | None:
        """The PNG of the digest's chart (None without a renderer), drawn off the event loop."""
        if self.charts is None:
            return None
        return await asyncio.to_thread(self.charts.render, chart_of(report))

    async def post(self, report: DigestReport, *, attempt: int = 1) -> Posted:
        """Post the digest everywhere it goes, each destination once however many attempts."""
        png = await self.chart(report)
        slack_ts, charted = await self._slack(report, png, attempt)
        discord = await self._discord(report, png)
        return Posted(slack_ts, charted, discord)

    async def _slack(self, report: DigestReport, png: bytes | None, attempt: int) -> tuple[str | None, bool]:
        if self.chat is None:
            return None, False
        chat = self.chat
        channel = await chat.ensure_channel(self.schedule.channel)
        ts = await post_once(
            self.deps, chat, report.marker, channel.id, lambda: chat.post_card(channel.id, report),
            since=report.end, attempt=attempt,
        )  # fmt: skip
        if png is None:
            return ts, False
        key = f"digest-chart:{report.day.isoformat()}"
        async with self.deps.store.read() as uow:
            if await uow.chat_post(key) is not None:
                return ts, False
        file_id = await chat.upload_image(
            channel.id, thread_ts=ts, filename=chart_filename(report.day), content=png,
            title=f"Incidents and MTTR, 14 days to {report.day.isoformat()}",
            alt_text="Incidents declared per day by severity over 14 days, and the mean time to resolve per day",
        )  # fmt: skip
        async with self.deps.store.transaction() as uow:
            await uow.record_chat_post(key, channel_id=channel.id, ts=file_id[:32], at=self.deps.clock.now())
        return ts, True

    async def _discord(self, report: DigestReport, png: bytes | None) -> bool:
        if self.discord is None:
            return False
        key = f"discord:digest:{report.day.isoformat()}"
        async with self.deps.store.read() as uow:
            if await uow.chat_post(key) is not None:
                return False
        name = chart_filename(report.day) if png is not None else None
        files = [Attachment(name, png, "image/png")] if name and png else []
        await self.discord.broadcast(digest_notices(report, image=name), headline=digest_headline(report), files=files)
        async with self.deps.store.transaction() as uow:
            await uow.record_chat_post(key, channel_id="discord", ts=report.day.isoformat(), at=self.deps.clock.now())
        return True

    async def fired(self, *, due_at: datetime, attempts: int) -> Posted:
        """The digest timer fired: build and post the digest of the day it was due (not of "now": a late or
        retried occurrence still reports its own day)."""
        report = await self.build(self.schedule.day_of(due_at))
        try:
            return await self.post(report, attempt=attempts)
        except ChatError as exc:
            log.warning("digest of %s not posted yet: %s (%s)", report.day, exc, exc.code)
            raise
