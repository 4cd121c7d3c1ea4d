"""Alert ingest: normalize -> dedupe -> silence -> classify -> group -> correlate -> maybe declare.

One transaction per request: alert rows, incident changes, events, deliveries and the coalesced card
refresh timers commit together, so ingest never depends on Slack being up.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, text

from bot.db.alert_rows import ALERTS, CHUNK, FiringRow, firing_rows, insert_rows, update_repeats
from bot.db.store import Tx
from bot.db.tables import AlertRow, IncidentRow, SilenceRow
from bot.domain.alert import Alert, AlertStatus, group_key
from bot.domain.events import EventKind
from bot.domain.incident import Severity, Status
from bot.domain.severity import Classification, classify, worst
from bot.domain.silence import covers
from bot.domain.times import iso
from bot.services.deps import AlertPolicy, Deps
from bot.services.incidents import create_incident, record_event

CARD_REFRESH = "card-refresh"
REGION_LABELS = ("region", "aws_region", "zone_region")


@dataclass(slots=True)
class IngestResult:
    """What one request did."""

    accepted: int = 0
    incidents: list[str] = field(default_factory=list)
    declared: list[str] = field(default_factory=list)
    deduplicated: int = 0
    silenced: int = 0
    review: int = 0
    resolved: int = 0
    duplicate_request: bool = False

    def touch(self, ref: str) -> None:
        """Remember an incident this request declared or updated."""
        if ref not in self.incidents:
            self.incidents.append(ref)


def _lock_key(text_key: str) -> int:
    return int.from_bytes(hashlib.sha256(text_key.encode()).digest()[:8], "big", signed=True)


@dataclass(slots=True)
class _Group:
    key: str
    items: list[tuple[Alert, Classification, str]] = field(default_factory=list)  # alert, class, active key


async def ingest(deps: Deps, alerts: list[Alert], *, source: str, request_key: str | None = None) -> IngestResult:
    """Store a batch of alerts and turn them into incidents; idempotent per `request_key`."""
    policy = deps.alerts
    now = deps.clock.now()
    result = IngestResult(accepted=len(alerts))
    # Grouping and classification need no database: they happen before the write lock.
    groups: dict[str, _Group] = {}
    active_keys: list[str] = []
    owner: dict[str, _Group] = {}  # active key -> the group that handles it: one alert, one group
    for alert in alerts:
        active = alert.active_key
        group = owner.get(active)
        if group is None:
            # Alerts that share an active key are one alert (a sender's fingerprint with label sets that
            # differ only where the key folds them); its later copies go where its first one went.
            key = group_key(alert, policy.group_by)
            group = owner[active] = groups.get(key) or groups.setdefault(key, _Group(key))
        active_keys.append(active)
        group.items.append((alert, classify(alert.labels, policy.rules), active))
    async with deps.store.transaction() as tx:
        if request_key is not None and not await tx.first_time(f"alerts:{request_key}", now):
            result.duplicate_request = True
            return result
        if not deps.store.is_sqlite:
            for key in sorted(groups):  # a stable order: no deadlocks between concurrent requests
                await tx.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(f"group:{key}")})
        existing = await firing_rows(tx, active_keys)
        open_incidents = await _open_incidents(tx, list(groups))
        silences = await _api_silences(tx, now) if await _any_api_silence(deps, tx, now) else []
        for group in groups.values():
            await _ingest_group(tx, policy, group, existing, open_incidents, silences, now, source, result)
    return result


_OPEN_BY_GROUP = (
    select(IncidentRow)
    .where(
        IncidentRow.group_key.in_(bindparam("keys", expanding=True)),
        IncidentRow.status.in_([s.value for s in Status if s.is_open]),
    )
    .order_by(IncidentRow.id)
)  # built once: this runs for every request
_OPEN_BY_GROUP_LOCKED = _OPEN_BY_GROUP.with_for_update()


async def _open_incidents(tx: Tx, keys: list[str]) -> dict[str, IncidentRow]:
    out: dict[str, IncidentRow] = {}
    stmt = _OPEN_BY_GROUP if tx.session.bind and tx.session.bind.dialect.name == "sqlite" else _OPEN_BY_GROUP_LOCKED
    for i in range(0, len(keys), CHUNK):
        for row in (await tx.session.execute(stmt, {"keys": keys[i : i + CHUNK]})).scalars():
            out[str(row.group_key)] = row  # the newest open incident of the group wins
    return out


async def _any_api_silence(deps: Deps, tx: Tx, now: datetime) -> bool:
    """Whether any API silence may apply; the answer "none" is cached for a second (storms ask constantly)."""
    cache = deps.store.cache
    until = cache.get("no-silences-until")
    if isinstance(until, datetime) and now < until and cache.get("silences-version") == SILENCES_VERSION[0]:
        return False
    q = select(SilenceRow.id).where(SilenceRow.ends_at > now, SilenceRow.expired_at.is_(None)).limit(1)
    found = (await tx.session.execute(q)).first() is not None
    if not found:
        cache["no-silences-until"] = now + timedelta(seconds=1)
        cache["silences-version"] = SILENCES_VERSION[0]
    return found


# Bumped by this process when it creates a silence, so its own new silences apply at once.
SILENCES_VERSION = [0]


async def _api_silences(tx: Tx, now: datetime) -> list[SilenceRow]:
    q = select(SilenceRow).where(SilenceRow.starts_at <= now, SilenceRow.ends_at > now, SilenceRow.expired_at.is_(None))
    return list((await tx.session.execute(q)).scalars())


def _silenced_by(alert: Alert, policy: AlertPolicy, silences: list[SilenceRow], now: datetime) -> str | None:
    for i, s in enumerate(policy.silences):
        if s.is_active(now) and s.matches(alert.labels):
            return f"config:{i}"
    for row in silences:
        if covers(row.matchers or {}, alert.labels):
            return row.id
    return None


async def _ingest_group(
    tx: Tx,
    policy: AlertPolicy,
    group: _Group,
    existing: dict[str, FiringRow],
    open_incidents: dict[str, IncidentRow],
    silences: list[SilenceRow],
    now: datetime,
    source: str,
    result: IngestResult,
) -> None:
    incident = open_incidents.get(group.key)
    if (
        incident is not None
        and incident.last_alert_at is not None
        and now - incident.last_alert_at > policy.correlation_window
    ):
        incident = None  # the group went quiet for longer than the window: this is a new incident
    inserts: list[dict[str, Any]] = []  # new rows; "_attach" marks those joining the incident
    updates: list[dict[str, Any]] = []  # repeats of firing rows
    attach_existing: list[int] = []
    attach_rows: list[Alert] = []  # everything that joins the incident now
    attach_cls: list[Classification] = []
    resolved_by_incident: dict[int, int] = defaultdict(int)
    resolved_ids: list[int] = []
    pending_new: dict[str, dict[str, Any]] = {}
    for alert, cls, key in group.items:
        row = existing.get(key)
        if alert.status is AlertStatus.RESOLVED:
            result.resolved += 1
            if row is None:
                inserts.append(_new_row(alert, cls, group.key, None, now))
                continue
            if row.id < 0:  # it fired earlier in this same request: its new row is stored resolved
                pending_new[key].update(
                    status=AlertStatus.RESOLVED.value, active_key=None, resolved_at=now, ends_at=alert.ends_at or now
                )
                del existing[key]
                continue
            resolved_ids.append(row.id)
            del existing[key]
            if row.incident_id is not None:
                resolved_by_incident[row.incident_id] += 1
            continue
        silenced = _silenced_by(alert, policy, silences, now)
        declarable = silenced is None and cls.severity.rank <= policy.auto_declare_at.rank
        if row is not None and row.id < 0:  # a repeat of an alert first seen in this same batch
            result.deduplicated += 1
            pending_new[key]["count"] += 1
            continue
        if row is not None:
            result.deduplicated += 1
            row.count += 1
            # "SEV0" < "SEV1" < ...: the stored text compares like the rank (no enum lookup per repeat)
            severity = str(cls.severity) if cls.severity < row.severity else row.severity
            review = row.incident_id is None and silenced is None and not declarable
            updates.append(
                {
                    "_id": row.id,
                    "count": row.count,
                    "last_seen_at": now,
                    "annotations": dict(alert.annotations),
                    "severity": severity,
                    "silenced_by": silenced,
                    "review": review,
                }
            )
            row.severity = severity
            if declarable and row.incident_id is None:
                attach_existing.append(row.id)
                attach_rows.append(alert)
                attach_cls.append(cls)
                row.incident_id = -1  # joins below; a repeat in the same batch must not join twice
        else:
            new = _new_row(alert, cls, group.key, key, now)
            new["silenced_by"] = silenced
            new["review"] = silenced is None and not declarable
            if declarable:
                new["_attach"] = True
                attach_rows.append(alert)
                attach_cls.append(cls)
            inserts.append(new)
            pending_new[key] = new
            existing[key] = FiringRow(-1, cls.severity.value, -1 if declarable else None, 1, bool(new["review"]))
        if silenced is not None:
            result.silenced += 1
        elif not declarable and (row is None or row.incident_id is None):
            result.review += 1
    if attach_rows:
        incident = await _incident_for(
            tx, policy, incident, group, attach_rows, attach_cls, open_incidents, now, source, result
        )
    incident_id = incident.id if incident is not None and attach_rows else None
    if resolved_ids:  # first: an alert resolved and firing again in one request frees its key for the new row
        await tx.session.execute(
            ALERTS.update()
            .where(ALERTS.c.id.in_(resolved_ids))
            .values(status=AlertStatus.RESOLVED.value, resolved_at=now, ends_at=now, active_key=None, last_seen_at=now)
        )
    if inserts:
        for r in inserts:
            r["incident_id"] = incident_id if r.pop("_attach", False) else None
        await insert_rows(tx, inserts)
    if updates:
        await update_repeats(tx, updates)
    if attach_existing and incident_id is not None:
        await tx.session.execute(
            ALERTS.update().where(ALERTS.c.id.in_(attach_existing)).values(incident_id=incident_id, review=False)
        )
    for rid, n in resolved_by_incident.items():
        if rid < 0:
            continue
        await _alerts_resolved(tx, rid, n, now, source, result)
        resolved_incident = await tx.incident_row_by_id(rid)
        if resolved_incident is not None:
            await _schedule_card_refresh(tx, resolved_incident, policy, now)


async def _incident_for(
    tx: Tx,
    policy: AlertPolicy,
    incident: IncidentRow | None,
    group: _Group,
    attach_rows: list[Alert],
    attach_cls: list[Classification],
    open_incidents: dict[str, IncidentRow],
    now: datetime,
    source: str,
    result: IngestResult,
) -> IncidentRow:
    """Declare the group's incident, or update the open one (counts, blast radius, severity rise)."""
    top = worst(attach_cls)
    n = len(attach_rows)
    if incident is None:
        # A new incident is inserted with its blast radius already in place (one INSERT, no UPDATE after it).
        services, names, regions = _blast_radius([], [], [], attach_rows, policy)
        incident = await create_incident(
            tx,
            now=now,
            title=" ".join(attach_rows[0].summary.split())[:200],
            severity=top.severity,
            actor=source,
            severity_reason=top.reason,
            severity_confirmed=top.confirmed,
            group_key=group.key,
            services=services,
            alertnames=names,
            regions=regions,
            alert_count=n,
            alerts_firing=n,
        )
        open_incidents[group.key] = incident
        result.declared.append(incident.ref)
    else:
        if top.severity.rank < Severity(incident.severity).rank:
            await _raise_severity(tx, incident, top, now, source)
        incident.services, incident.alertnames, incident.regions = _blast_radius(
            incident.services or [], incident.alertnames or [], incident.regions or [], attach_rows, policy
        )
        incident.alert_count += n
        incident.alerts_firing += n
        incident.last_alert_at = now
        incident.updated_at = now
        # Joins are written to the timeline once per refresh window (see note_joined_alerts), not per request:
        # a storm makes one timeline line per few seconds, and the hot path one statement less.
        incident.alerts_unannounced += n
    await _schedule_card_refresh(tx, incident, policy, now)
    result.touch(incident.ref)
    return incident


def _new_row(alert: Alert, cls: Classification, grouping: str, active_key: str | None, now: datetime) -> dict[str, Any]:
    """A new alert row; `active_key` None records a resolved alert that was never seen firing."""
    resolved = active_key is None
    return {
        "source": alert.source,
        "fingerprint": alert.fingerprint,
        "active_key": active_key,
        "status": alert.status.value,
        "alertname": alert.alertname[:200],
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "group_key": grouping[:500],
        "severity": cls.severity.value,
        "severity_reason": cls.reason[:500],
        "severity_confirmed": cls.confirmed,
        "count": 1,
        "starts_at": alert.starts_at,
        "ends_at": alert.ends_at,
        "first_seen_at": now,
        "last_seen_at": now,
        "resolved_at": now if resolved else None,
        "generator_url": alert.generator_url,
        "value": str(alert.value)[:200] if alert.value else None,
        "review": False,
        "silenced_by": None,
        "incident_id": None,
    }


def _blast_radius(
    services: list[str], names: list[str], regions: list[str], rows: list[Alert], policy: AlertPolicy
) -> tuple[list[str], list[str], list[str]]:
    """Services, alertnames and regions with those of `rows` added (bounded, first seen first)."""
    services, names, regions = list(services), list(names), list(regions)
    for r in rows:
        svc = r.service(policy.service_label)
        if svc and svc not in services:
            services.append(svc)
        if r.alertname not in names:
            names.append(r.alertname)
        for label in REGION_LABELS:
            reg = r.labels.get(label)
            if reg and reg not in regions:
                regions.append(reg)
    return services[:50], names[:50], regions[:20]


async def _raise_severity(tx: Tx, incident: IncidentRow, top: Classification, now: datetime, source: str) -> None:
    old = Severity(incident.severity)
    incident.severity = top.severity.value
    incident.severity_reason = top.reason
    incident.severity_confirmed = top.confirmed
    if top.severity.is_major():
        incident.human_control = True
    await record_event(
        tx, incident, actor=source, kind=EventKind.SEVERITY_CHANGED, at=now,
        text=f"raised severity {old.value} → {top.severity.value}: {top.reason}",
        old=old.value, new=top.severity.value, reason=top.reason,
    )  # fmt: skip


async def _schedule_card_refresh(tx: Tx, incident: IncidentRow, policy: AlertPolicy, now: datetime) -> None:
    """At most one card refresh per incident per window, however many alerts arrive (storm-safe).

    Each incident's windows are shifted by its own phase, so a storm of many incidents spreads its card
    refreshes over the window instead of firing them all on the same boundary.
    """
    period = max(policy.card_refresh_seconds, 0.1)
    phase = refresh_phase(incident.id, period)
    bucket = int((now.timestamp() - phase) // period)
    due = datetime.fromtimestamp((bucket + 1) * period + phase, tz=now.tzinfo)
    await tx.schedule_timer(
        kind=CARD_REFRESH,
        key=f"{CARD_REFRESH}:{incident.ref}:{bucket}",
        due_at=due,
        incident_id=incident.id,
    )


def refresh_phase(incident_id: int, period: float) -> float:
    """An incident's offset within the refresh window: successive ids land far apart (golden ratio)."""
    return (incident_id * 0.6180339887498949) % 1.0 * period


async def note_joined_alerts(deps: Deps, *, incident_id: int) -> int:
    """Write one timeline entry for the alerts that joined since the last one; return how many."""
    now = deps.clock.now()
    async with deps.store.transaction() as tx:
        incident = await tx.incident_row_by_id(incident_id, lock=True)
        if incident is None or incident.alerts_unannounced <= 0:
            return 0
        n, incident.alerts_unannounced = incident.alerts_unannounced, 0
        await record_event(
            tx, incident, actor="warroom", kind=EventKind.ALERTS_UPDATED, at=now,
            text=f"{n} new alert(s) joined; {incident.alert_count} in all, {incident.alerts_firing} firing",
            new=n, total=incident.alert_count, firing=incident.alerts_firing,
        )  # fmt: skip
        return n


async def _alerts_resolved(tx: Tx, incident_id: int, n: int, now: datetime, source: str, result: IngestResult) -> None:
    incident = await tx.incident_row_by_id(incident_id, lock=True)
    if incident is None:
        return
    incident.alerts_firing = max(0, incident.alerts_firing - n)
    result.touch(incident.ref)
    await record_event(
        tx, incident, actor=source, kind=EventKind.ALERTS_RESOLVED, at=now,
        text=f"{n} alert(s) resolved; {incident.alerts_firing} still firing",
        resolved=n, firing=incident.alerts_firing,
    )  # fmt: skip
    if incident.alerts_firing == 0 and Status(incident.status).is_open:
        await record_event(
            tx, incident, actor=source, kind=EventKind.ALL_ALERTS_RESOLVED, at=now,
            text="all alerts of this incident are resolved", alerts=incident.alert_count,
        )  # fmt: skip


# -- queries for the API ---------------------------------------------------------------------


def alert_json(row: AlertRow, ref: str | None = None) -> dict[str, Any]:
    """An alert as the API shows it."""
    return {
        "id": row.id,
        "source": row.source,
        "fingerprint": row.fingerprint,
        "status": row.status,
        "alertname": row.alertname,
        "labels": dict(row.labels or {}),
        "annotations": dict(row.annotations or {}),
        "severity": row.severity,
        "severity_reason": row.severity_reason,
        "count": row.count,
        "incident": ref,
        "silenced_by": row.silenced_by,
        "starts_at": iso(row.starts_at),
        "first_seen_at": iso(row.first_seen_at),
        "last_seen_at": iso(row.last_seen_at),
        "resolved_at": iso(row.resolved_at),
        "generator_url": row.generator_url,
    }


async def review_queue(deps: Deps, *, limit: int = 100, include_resolved: bool = False) -> list[dict[str, Any]]:
    """SEV4 (below the declare threshold) alerts waiting for a human look, newest first."""
    async with deps.store.read() as tx:
        waiting = AlertRow.review == True  # noqa: E712 - renders `review = 1`, the partial index's condition
        q = select(AlertRow).where(waiting, AlertRow.incident_id.is_(None))
        if not include_resolved:
            q = q.where(AlertRow.status == AlertStatus.FIRING.value)
        q = q.order_by(AlertRow.last_seen_at.desc(), AlertRow.id.desc()).limit(max(1, min(limit, 500)))
        return [alert_json(r) for r in (await tx.session.execute(q)).scalars()]


async def incident_alerts(deps: Deps, *, incident_id: int) -> list[AlertRow]:
    """The alerts attached to an incident."""
    async with deps.store.read() as tx:
        q = select(AlertRow).where(AlertRow.incident_id == incident_id).order_by(AlertRow.id)
        return list((await tx.session.execute(q)).scalars())
