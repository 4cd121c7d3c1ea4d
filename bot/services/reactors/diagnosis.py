"""The diagnosis reactor: once the war room is open (and again when the incident's alerts change, coalesced,
or when someone asks), it runs the diagnostics and keeps one hypothesis card per hypothesis in the room.

Each card is posted once (the chat_posts marker `hypothesis:<id>`: a retry, a re-run or another process finds
it) and updated in place afterwards; a confirm or reject updates its card. Each card gets a small chart of its
evidence in its thread, once; a chart that fails (no data, a slow store, the upload refused) is logged and
never holds the card back. A query that fails is inconclusive evidence (bot.services.diagnostics): the cards
post anyway.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.domain.events import Event, EventKind
from bot.domain.hypothesis_cards import chart_evidence, chart_marker, chart_of, hypothesis_card, hypothesis_marker
from bot.domain.incident import Incident
from bot.domain.incident import Status as IncidentStatus
from bot.domain.ports import ChatError, ChatRoom
from bot.domain.root_cause import StoredHypothesis
from bot.domain.runbook import Query
from bot.plugins import GiveUp, RetryLater
from bot.services import hypotheses as use
from bot.services.deps import Deps
from bot.services.diagnosis_deps import DiagnosisDeps
from bot.services.diagnostics import diagnose
from bot.services.reactors.posting import chat_failure, post_once

log = logging.getLogger("warroom.diagnosis")
DIAGNOSIS_REFRESH = "diagnosis-refresh"
DECIDED = frozenset({EventKind.HYPOTHESIS_CONFIRMED.value, EventKind.HYPOTHESIS_REJECTED.value})
RUNS = frozenset({EventKind.ROOM_OPENED.value, EventKind.DIAGNOSIS_REQUESTED.value})
CHART_BEFORE = timedelta(hours=1)
CHART_AFTER = timedelta(minutes=15)
CHART_STEP = 60.0


class DiagnosisReactor:
    """Runs the diagnosis of an incident and keeps its hypothesis cards in the war room."""

    name = "diagnosis"
    kinds = frozenset({*RUNS, *DECIDED, EventKind.ALERTS_UPDATED.value})

    def __init__(
        self,
        deps: Deps,
        chat: ChatRoom,
        diagnosis: DiagnosisDeps,
        *,
        on_runbook: Callable[[int], Awaitable[None]] | None = None,
        on_diagnosed: Callable[[int], Awaitable[object]] | None = None,
    ) -> None:
        self.deps = deps
        self.chat = chat
        self.diagnosis = diagnosis
        self.on_runbook = on_runbook  # the triage card shows the matched runbook: refresh it when it changes
        self.on_diagnosed = on_diagnosed  # remediation proposes the leading hypothesis' steps

    async def handle(self, event: Event, *, attempt: int) -> None:
        """Run the diagnosis (room opened, asked for), schedule a re-run (alerts changed), or update one card."""
        if event.incident_id is None:
            raise GiveUp(f"event {event.id} has no incident")
        if event.kind == EventKind.ALERTS_UPDATED.value:
            await self._schedule_rerun(event.incident_id)
        elif event.kind in DECIDED:
            await self.refresh_card(event.incident_id, str(event.payload.get("hypothesis") or ""))
        else:
            await self.run(event.incident_id, attempt=attempt)

    async def _schedule_rerun(self, incident_id: int) -> None:
        """At most one re-diagnosis per incident per refresh window, however many alerts change (the timer key
        is the window)."""
        period = max(self.diagnosis.refresh_seconds, 1.0)
        now = self.deps.clock.now()
        bucket = int(now.timestamp() // period)
        due = datetime.fromtimestamp((bucket + 1) * period, tz=now.tzinfo)
        async with self.deps.store.transaction() as uow:
            await uow.schedule_timer(
                kind=DIAGNOSIS_REFRESH, key=f"{DIAGNOSIS_REFRESH}:{incident_id}:{bucket}", due_at=due,
                incident_id=incident_id,
            )  # fmt: skip

    async def run(self, incident_id: int, *, attempt: int = 1) -> list[StoredHypothesis]:
        """Diagnose the incident now, keep the result, post or update its cards, then draw their charts."""
        found = await use.incident_view(self.deps, incident_id=incident_id)
        if found is None:
            raise GiveUp(f"incident {incident_id} is gone")
        incident, view = found
        if incident.channel_id is None:
            raise RetryLater("war room not open yet")
        d = self.diagnosis
        report = await diagnose(view, metrics=d.metrics, logs=d.logs, runbooks=d.runbooks, settings=d.settings)
        kept = await use.keep_diagnosis(self.deps, incident_id=incident_id, report=report)
        if kept is None:
            raise GiveUp(f"incident {incident_id} is gone")
        try:
            posted = await self._cards(kept.incident, kept.hypotheses, view.anchor, attempt)
        except ChatError as exc:
            raise chat_failure(exc) from exc
        if kept.runbook_changed and self.on_runbook is not None:
            await self.on_runbook(incident_id)
        if self.on_diagnosed is not None:
            await self.on_diagnosed(incident_id)
        await self._charts(kept.incident, kept.hypotheses, posted, view.anchor)
        return kept.hypotheses

    async def _cards(
        self, incident: Incident, hypotheses: list[StoredHypothesis], anchor: datetime, attempt: int
    ) -> dict[str, str]:
        """Post each ranked hypothesis' card once, update the ones already posted; the card ts by id."""
        channel = incident.channel_id
        assert channel is not None
        posted: dict[str, str] = {}
        for h in hypotheses:
            card = hypothesis_card(h, ref=incident.ref, anchor=anchor, links=self.diagnosis.links,
                                   actionable=incident.status is not IncidentStatus.CLOSED)  # fmt: skip
            async with self.deps.store.read() as uow:
                ts = await uow.chat_post(card.marker)
            if ts is not None:
                await self.chat.update_card(channel, ts, card)
            elif h.rank is not None:  # a hypothesis that dropped out before it was ever shown stays unshown
                post = functools.partial(self.chat.post_card, channel, card)
                ts = await post_once(self.deps, self.chat, card.marker, channel, post, since=incident.declared_at,
                                     attempt=attempt)  # fmt: skip
            if ts is not None:
                posted[h.id] = ts
        return posted

    async def refresh_card(self, incident_id: int, hypothesis_id: str) -> None:
        """Update one hypothesis' card from its current state (after a confirm or reject)."""
        found = await use.incident_view(self.deps, incident_id=incident_id)
        if found is None or not hypothesis_id:
            return
        incident, view = found
        async with self.deps.store.read() as uow:
            ts = await uow.chat_post(hypothesis_marker(hypothesis_id))
            h = await uow.hypotheses.get(hypothesis_id)
        if ts is None or h is None or incident.channel_id is None:
            return  # never shown: nothing to update
        card = hypothesis_card(h, ref=incident.ref, anchor=view.anchor, links=self.diagnosis.links,
                               actionable=incident.status is not IncidentStatus.CLOSED)  # fmt: skip
        try:
            await self.chat.update_card(incident.channel_id, ts, card)
        except ChatError as exc:
            raise chat_failure(exc) from exc

    async def _charts(
        self, incident: Incident, hypotheses: list[StoredHypothesis], posted: dict[str, str], anchor: datetime
    ) -> None:
        """One chart per card, in its thread, once; a failure is logged, never raised."""
        if self.diagnosis.charts is None or self.diagnosis.metrics is None:
            return
        for h in hypotheses:
            if h.rank is None or h.id not in posted:
                continue
            try:
                async with asyncio.timeout(self.diagnosis.chart_timeout):
                    await self._chart(incident, h, posted[h.id], anchor)
            except Exception as exc:  # a chart is a nicety: the card is what matters
                log.warning("no chart for %s of %s: %s", h.id, incident.ref, type(exc).__name__ + f": {exc}")

    async def _chart(self, incident: Incident, h: StoredHypothesis, card_ts: str, anchor: datetime) -> None:
        marker = chart_marker(h.id)
        async with self.deps.store.read() as uow:
            if await uow.chat_post(marker) is not None:
                return
        evidence = chart_evidence(h)
        metrics, charts = self.diagnosis.metrics, self.diagnosis.charts
        if evidence is None or evidence.graph is None or metrics is None or charts is None:
            return
        end = min(anchor + CHART_AFTER, max(self.deps.clock.now(), anchor))
        timeout = self.diagnosis.settings.query_timeout
        series = await metrics.query_range(Query(promql=evidence.graph), start=anchor - CHART_BEFORE, end=end,
                                           step=CHART_STEP, time_limit=timeout)  # fmt: skip
        if not series:
            return
        chart = chart_of(h, evidence, series, start=anchor.timestamp())
        png = await asyncio.to_thread(charts.render, chart)
        assert incident.channel_id is not None
        file_id = await self.chat.upload_image(
            incident.channel_id, thread_ts=card_ts, filename=f"{h.id}.png", content=png,
            title=f"{h.title}: {evidence.detail}"[:250], alt_text=f"Chart of {evidence.query}"[:1000],
        )  # fmt: skip
        async with self.deps.store.transaction() as uow:
            await uow.record_chat_post(marker, channel_id=incident.channel_id, ts=(file_id or card_ts)[:32],
                                       at=self.deps.clock.now())  # fmt: skip
