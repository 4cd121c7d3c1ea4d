"""Wiring of escalation and paging: the PagerDuty pager (when a routing key is set), and the timer handlers of
the SLA clocks, the escalation ladder and the reminders."""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable, Mapping

from bot.config import AppConfig, Settings
from bot.db.store import ClaimedTimer
from bot.domain.escalation import ONCALL
from bot.http_client import SharedHttp
from bot.scheduler import Scheduler
from bot.services import action_items, escalation, sla_clocks
from bot.services.deps import Deps
from integrations.pagerduty_pager import PagerDutyPager

log = logging.getLogger("warroom")
Handler = Callable[[Deps, ClaimedTimer], Awaitable[None]]
TIMERS: dict[str, Handler] = {
    escalation.TIER_TIMER: escalation.tier_due,
    sla_clocks.ACK: sla_clocks.ack_due_fired,
    sla_clocks.RESOLVE: sla_clocks.resolve_due_fired,
    sla_clocks.UPDATE: sla_clocks.update_due_fired,
    sla_clocks.COMMANDER: sla_clocks.commander_due_fired,
    sla_clocks.RESOLUTION: sla_clocks.resolution_due_fired,
    action_items.ACTION_ITEM: action_items.action_item_due_fired,
}
"""Timer kind -> what runs when one fires."""


def register_timers(scheduler: Scheduler, deps: Deps) -> None:
    """Register every escalation and reminder timer kind with the scheduler."""
    for kind, handler in TIMERS.items():

        async def run(timer: ClaimedTimer, handler: Handler = handler) -> None:
            await handler(deps, timer)

        scheduler.register(kind, run)


def routing_keys(settings: Settings, config: AppConfig, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """PagerDuty routing keys by service name: `oncall` from PAGERDUTY_ROUTING_KEY, the others from the
    environment variables the rules file names (a variable that is not set leaves its service unpaged)."""
    keys: dict[str, str] = {}
    if settings.pagerduty_routing_key is not None:
        keys[ONCALL] = settings.pagerduty_routing_key.get_secret_value()
    for name, service in config.pagerduty.services.items():
        value = environ.get(service.routing_key_env, "")
        if value:
            keys[name] = value
        else:
            log.warning("PagerDuty service %r: %s is not set, it will not be paged", name, service.routing_key_env)
    return keys


def build_pager(
    keys: Mapping[str, str], settings: Settings, http: SharedHttp, redact: Callable[[str], str]
) -> PagerDutyPager | None:
    """The PagerDuty pager, or None when no routing key is configured (paging off)."""
    if not keys:
        return None
    return PagerDutyPager(
        routing_keys=keys, client=lambda: http.client, url=settings.pagerduty_events_url, redact=redact
    )
