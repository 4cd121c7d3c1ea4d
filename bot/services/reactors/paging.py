"""The pager reactor: pages through the Pager port (PagerDuty) on declare for SEV0/SEV1, on every escalation
and `/incident page` that names PagerDuty services; acknowledges and resolves what it paged when the incident
is acknowledged and resolved. One dedup key per incident (`warroom-<ref>`).

Each event is sent once per log entry and service: what the pager accepted is recorded (`pages_sent`), so a
retried delivery (the pager down for minutes, a 429, a crash) sends only what was not accepted yet.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from bot.domain.escalation import ONCALL
from bot.domain.events import Event, EventKind
from bot.domain.incident import Incident, Severity
from bot.domain.paging import Page, PageAction, follow_up, trigger
from bot.domain.ports import Pager, PagerError, PagerRefused
from bot.plugins import GiveUp, RetryLater, RetryPolicy
from bot.redact import redact_json
from bot.services.deps import Deps

log = logging.getLogger("warroom.pager")
K = EventKind
PAGING = frozenset({K.DECLARED.value, K.ESCALATED.value, K.PAGED.value})
FOLLOW_UPS = {K.ACKNOWLEDGED.value: PageAction.ACKNOWLEDGE, K.RESOLVED.value: PageAction.RESOLVE}


def services_paged(event: Event) -> list[str]:
    """The PagerDuty services a log entry pages."""
    if event.kind == K.DECLARED.value:
        try:
            major = Severity(str(event.payload.get("severity"))).is_major()
        except ValueError:
            major = False
        return [ONCALL] if major else []
    if event.kind in (K.ESCALATED.value, K.PAGED.value):
        return [str(s) for s in event.payload.get("pagerduty") or []]
    return []


def _why(event: Event) -> tuple[str, dict[str, Any]]:
    p = event.payload
    if event.kind == K.ESCALATED.value:
        return f"escalated to {p.get('label')}", {"escalation_tier": p.get("label"), "reason": p.get("reason")}
    if event.kind == K.PAGED.value:
        return "paged", {"message": p.get("message"), "paged_by": event.actor}
    return "declared", {}


class PagingReactor:
    """Triggers, acknowledges and resolves the incident's alert on the pager."""

    name = "pager"
    kinds = frozenset({*PAGING, *FOLLOW_UPS})
    # A page is never given up for an outage: retried every minute (after the first backoff) for about 8 hours.
    retry_policy = RetryPolicy(max_attempts=500, base_delay=1.0, max_delay=60.0)

    def __init__(self, deps: Deps, pager: Pager) -> None:
        self.deps = deps
        self.pager = pager

    async def handle(self, event: Event, *, attempt: int) -> None:
        """Send the pages this entry calls for that the pager has not accepted yet."""
        async with self.deps.store.read() as uow:
            incident = await uow.incidents.get_by_id(event.incident_id or 0, roles=False)
            if incident is None:
                raise GiveUp(f"event {event.id} has no incident")
            earlier = []
            if event.kind in FOLLOW_UPS:
                earlier = await uow.incidents.timeline(incident.id, kinds=PAGING, before_seq=event.seq)
        for page in self._pages(incident, event, earlier):
            await self._send_once(event, page)

    def _pages(self, incident: Incident, event: Event, earlier: list[Event]) -> list[Page]:
        if event.kind in FOLLOW_UPS:
            services = dict.fromkeys(s for e in earlier for s in services_paged(e))
            return [follow_up(incident, FOLLOW_UPS[event.kind], service=s) for s in services]
        why, details = _why(event)
        return [trigger(incident, service=s, why=why, details=details) for s in dict.fromkeys(services_paged(event))]

    async def _send_once(self, event: Event, page: Page) -> None:
        key = f"{event.id}:{page.service}:{page.action.value}"
        async with self.deps.store.read() as uow:
            if await uow.page_sent(key):
                return
        if not self.pager.serves(page.service):
            log.warning("no PagerDuty routing key for service %r: %s not paged there", page.service, event.chain)
            return
        try:
            await self.pager.send(self._redacted(page))
        except PagerRefused as exc:
            raise GiveUp(f"the pager refused the {page.action.value} of {page.dedup_key}: {exc}") from exc
        except PagerError as exc:
            raise RetryLater(f"pager: {exc}", after=exc.retry_after) from exc
        async with self.deps.store.transaction() as uow:
            await uow.record_page(
                key, dedup_key=page.dedup_key, service=page.service, action=page.action.value, at=self.deps.clock.now()
            )

    def _redacted(self, page: Page) -> Page:
        """What leaves the bot passes the redactor: summary, component and every string of the details, keys and
        values, however deep (the dedup key and the service name are the bot's own and route the page)."""
        r = self.deps.redact
        return replace(
            page, summary=r(page.summary), component=r(page.component) if page.component else None,
            details=redact_json(page.details, r),
        )  # fmt: skip
