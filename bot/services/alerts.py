"""Alert ingest: normalize -> dedupe -> silence -> classify -> group -> correlate -> maybe declare.

One unit of work per request: alert rows, incident changes, events, deliveries and the coalesced card
refresh timers commit together, so ingest never depends on Slack being up. A group is worked by
bot.services.alert_batch.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.domain.alert import Alert, group_key
from bot.domain.severity import classify
from bot.domain.times import iso
from bot.services.alert_batch import CARD_REFRESH, Group, GroupIngest, IngestResult, Request, refresh_phase
from bot.services.deps import Deps
from bot.services.uow import AlertRecord, UnitOfWork

__all__ = ["CARD_REFRESH", "IngestResult", "alert_json", "ingest", "note_joined_alerts", "refresh_phase"]

# Bumped by this process when it creates a silence, so its own new silences apply at once.
SILENCES_VERSION = [0]


async def ingest(deps: Deps, alerts: list[Alert], *, source: str, request_key: str | None = None) -> IngestResult:
    """Store a batch of alerts and turn them into incidents; idempotent per `request_key`."""
    policy = deps.alerts
    now = deps.clock.now()
    result = IngestResult(accepted=len(alerts))
    # Grouping and classification need no database: they happen before the write lock.
    groups: dict[str, Group] = {}
    active_keys: list[str] = []
    owner: dict[str, Group] = {}  # active key -> the group that handles it: one alert, one group
    for alert in alerts:
        active = alert.active_key
        group = owner.get(active)
        if group is None:
            # Alerts that share an active key are one alert (a sender's fingerprint with label sets that
            # differ only where the key folds them); its later copies go where its first one went.
            key = group_key(alert, policy.group_by)
            group = owner[active] = groups.get(key) or groups.setdefault(key, Group(key))
        active_keys.append(active)
        group.items.append((alert, classify(alert.labels, policy.rules), active))
    async with deps.store.transaction() as uow:
        if request_key is not None and not await uow.first_time(f"alerts:{request_key}", now):
            result.duplicate_request = True
            return result
        for key in sorted(groups):  # a stable order: no deadlocks between concurrent requests
            await uow.lock_group(key)
        req = Request(
            uow=uow, policy=policy, existing=await uow.alerts.firing(active_keys),
            open_incidents=await uow.incidents.open_for_groups(list(groups)),
            silences=await uow.alerts.silences_in_force(now) if await _any_api_silence(deps, uow, now) else [],
            now=now, source=source, result=result,
        )  # fmt: skip
        for group in groups.values():
            await GroupIngest(req, group).run()
    return result


async def _any_api_silence(deps: Deps, uow: UnitOfWork, now: datetime) -> bool:
    """Whether any API silence may apply; the answer "none" is cached for a second (storms ask constantly)."""
    cache = deps.store.cache
    until = cache.get("no-silences-until")
    if isinstance(until, datetime) and now < until and cache.get("silences-version") == SILENCES_VERSION[0]:
        return False
    found = await uow.alerts.any_silence(now)
    if not found:
        cache["no-silences-until"] = now + timedelta(seconds=1)
        cache["silences-version"] = SILENCES_VERSION[0]
    return found


async def note_joined_alerts(deps: Deps, *, incident_id: int) -> int:
    """Write one timeline entry for the alerts that joined since the last one; return how many."""
    now = deps.clock.now()
    async with deps.store.transaction() as uow:
        incident = await uow.incidents.get_by_id(incident_id, lock=True, roles=False)
        if incident is None:
            return 0
        n = incident.alerts_unannounced
        events = incident.announce_joined(at=now)
        if not events:
            return 0
        await uow.save(incident, events)
        return n


# -- queries for the API ---------------------------------------------------------------------


def alert_json(a: AlertRecord, ref: str | None = None) -> dict[str, Any]:
    """An alert as the API shows it."""
    return {
        "id": a.id, "source": a.source, "fingerprint": a.fingerprint, "status": a.status, "alertname": a.alertname,
        "labels": dict(a.labels), "annotations": dict(a.annotations), "severity": a.severity,
        "severity_reason": a.severity_reason, "count": a.count, "incident": ref, "silenced_by": a.silenced_by,
        "starts_at": iso(a.starts_at), "first_seen_at": iso(a.first_seen_at), "last_seen_at": iso(a.last_seen_at),
        "resolved_at": iso(a.resolved_at), "generator_url": a.generator_url,
    }  # fmt: skip


async def review_queue(deps: Deps, *, limit: int = 100, include_resolved: bool = False) -> list[dict[str, Any]]:
    """SEV4 (below the declare threshold) alerts waiting for a human look, newest first."""
    async with deps.store.read() as uow:
        found = await uow.alerts.review_queue(limit=max(1, min(limit, 500)), include_resolved=include_resolved)
        return [alert_json(a) for a in found]
