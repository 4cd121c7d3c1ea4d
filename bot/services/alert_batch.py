"""One alert group of an ingest request: dedupe, silence, review queue, and the incident it declares or joins.

The alert rows go out in a few statements per group (inserts, repeat counts, attach, resolve: the hot
path's prepared statements behind the unit of work); the incident changes go through the aggregate and are
saved with their events.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.alert import Alert, AlertStatus
from bot.domain.incident import Incident
from bot.domain.severity import Classification, worst
from bot.domain.silence import covers
from bot.services.deps import AlertPolicy
from bot.services.uow import FiringRow, IncidentsByGroup, SilenceRecord, UnitOfWork

REGION_LABELS = ("region", "aws_region", "zone_region")
CARD_REFRESH = "card-refresh"


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


@dataclass(slots=True)
class Group:
    """The alerts of one group in a request: alert, classification, active key."""

    key: str
    items: list[tuple[Alert, Classification, str]] = field(default_factory=list)


@dataclass(slots=True)
class Request:
    """What every group of one request shares."""

    uow: UnitOfWork
    policy: AlertPolicy
    existing: dict[str, FiringRow]
    open_incidents: IncidentsByGroup
    silences: list[SilenceRecord]
    now: datetime
    source: str
    result: IngestResult


def new_row(alert: Alert, cls: Classification, grouping: str, active_key: str | None, now: datetime) -> dict[str, Any]:
    """A new alert row; `active_key` None records a resolved alert that was never seen firing."""
    resolved = active_key is None
    return {
        "source": alert.source, "fingerprint": alert.fingerprint, "active_key": active_key,
        "status": alert.status.value, "alertname": alert.alertname[:200], "labels": dict(alert.labels),
        "annotations": dict(alert.annotations), "group_key": grouping[:500], "severity": cls.severity.value,
        "severity_reason": cls.reason[:500], "severity_confirmed": cls.confirmed, "count": 1,
        "starts_at": alert.starts_at, "ends_at": alert.ends_at, "first_seen_at": now, "last_seen_at": now,
        "resolved_at": now if resolved else None, "generator_url": alert.generator_url,
        "value": str(alert.value)[:200] if alert.value else None, "review": False, "silenced_by": None,
        "incident_id": None,
    }  # fmt: skip


def blast_radius(incident: Incident | None, rows: list[Alert], policy: AlertPolicy) -> tuple[list[str], ...]:
    """Services, alertnames and regions with those of `rows` added (bounded, first seen first)."""
    services = list(incident.services) if incident else []
    names = list(incident.alertnames) if incident else []
    regions = list(incident.regions) if incident else []
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


def silenced_by(alert: Alert, policy: AlertPolicy, silences: list[SilenceRecord], now: datetime) -> str | None:
    """The silence that covers the alert: `config:<n>` for the rules file's, the id of an API one."""
    for i, s in enumerate(policy.silences):
        if s.is_active(now) and s.matches(alert.labels):
            return f"config:{i}"
    for api in silences:
        if covers(api.matchers, alert.labels):
            return api.id
    return None


def refresh_phase(incident_id: int, period: float) -> float:
    """An incident's offset within the refresh window: successive ids land far apart (golden ratio)."""
    return (incident_id * 0.6180339887498949) % 1.0 * period


async def schedule_card_refresh(uow: UnitOfWork, incident: Incident, policy: AlertPolicy, now: datetime) -> None:
    """At most one card refresh per incident per window, however many alerts arrive (storm-safe).

    Each incident's windows are shifted by its own phase, so a storm of many incidents spreads its card
    refreshes over the window instead of firing them all on the same boundary.
    """
    period = max(policy.card_refresh_seconds, 0.1)
    phase = refresh_phase(incident.id, period)
    bucket = int((now.timestamp() - phase) // period)
    due = datetime.fromtimestamp((bucket + 1) * period + phase, tz=now.tzinfo)
    key = f"{CARD_REFRESH}:{incident.ref}:{bucket}"
    await uow.schedule_timer(kind=CARD_REFRESH, key=key, due_at=due, incident_id=incident.id)


class GroupIngest:
    """The alerts of one group, sorted into statements, then written with the incident they belong to."""

    def __init__(self, req: Request, group: Group) -> None:
        self.req = req
        self.group = group
        self.inserts: list[dict[str, Any]] = []  # new rows; "_attach" marks those joining the incident
        self.updates: list[dict[str, Any]] = []  # repeats of firing rows
        self.attach_existing: list[int] = []
        self.joining: list[tuple[Alert, Classification]] = []  # everything that joins the incident now
        self.resolved_by_incident: dict[int, int] = defaultdict(int)
        self.resolved_ids: list[int] = []
        self.pending_new: dict[str, dict[str, Any]] = {}

    async def run(self) -> Incident | None:
        """Sort every alert, then write the group; the incident the alerts joined, if any."""
        self._sort()
        incident = await self._incident() if self.joining else None
        await self._write(incident)
        return incident

    def _sort(self) -> None:
        """Each alert to its statement. A storm is mostly repeats: that case is handled inline, with locals."""
        req = self.req
        existing, result, now, policy, silences = req.existing, req.result, req.now, req.policy, req.silences
        threshold, updates = policy.auto_declare_at.rank, self.updates
        for alert, cls, key in self.group.items:
            if alert.status is AlertStatus.RESOLVED:
                self._resolved(alert, cls, key)
                continue
            row = existing.get(key)
            silenced = silenced_by(alert, policy, silences, now)
            declarable = silenced is None and cls.severity.rank <= threshold
            if row is None:
                self._new(alert, cls, key, silenced, declarable)
            elif row.id < 0:  # a repeat of an alert first seen in this same batch
                result.deduplicated += 1
                self.pending_new[key]["count"] += 1
                continue
            else:
                result.deduplicated += 1
                row.count += 1
                # "SEV0" < "SEV1" < ...: the stored text compares like the rank (no enum lookup per repeat)
                severity = str(cls.severity) if cls.severity < row.severity else row.severity
                review = row.incident_id is None and silenced is None and not declarable
                updates.append(
                    {"_id": row.id, "count": row.count, "last_seen_at": now, "annotations": dict(alert.annotations),
                     "severity": severity, "silenced_by": silenced, "review": review}
                )  # fmt: skip
                row.severity = severity
                if declarable and row.incident_id is None:
                    self.attach_existing.append(row.id)
                    self.joining.append((alert, cls))
                    row.incident_id = -1  # joins below; a repeat in the same batch must not join twice
            if silenced is not None:
                result.silenced += 1
            elif not declarable and (row is None or row.incident_id is None):
                result.review += 1

    def _resolved(self, alert: Alert, cls: Classification, key: str) -> None:
        req = self.req
        req.result.resolved += 1
        row = req.existing.get(key)
        if row is None:
            self.inserts.append(new_row(alert, cls, self.group.key, None, req.now))
            return
        if row.id < 0:  # it fired earlier in this same request: its new row is stored resolved
            self.pending_new[key].update(
                status=AlertStatus.RESOLVED.value,
                active_key=None,
                resolved_at=req.now,
                ends_at=alert.ends_at or req.now,
            )
            del req.existing[key]
            return
        self.resolved_ids.append(row.id)
        del req.existing[key]
        if row.incident_id is not None:
            self.resolved_by_incident[row.incident_id] += 1

    def _new(self, alert: Alert, cls: Classification, key: str, silenced: str | None, declarable: bool) -> None:
        new = new_row(alert, cls, self.group.key, key, self.req.now)
        new["silenced_by"] = silenced
        new["review"] = silenced is None and not declarable
        if declarable:
            new["_attach"] = True
            self.joining.append((alert, cls))
        self.inserts.append(new)
        self.pending_new[key] = new
        self.req.existing[key] = FiringRow(-1, cls.severity.value, -1 if declarable else None, 1, bool(new["review"]))

    async def _incident(self) -> Incident:
        """Declare the group's incident, or update the open one (counts, blast radius, severity rise)."""
        req, group = self.req, self.group
        incident = req.open_incidents.get(group.key)
        if incident is not None and not incident.correlates(req.now, req.policy.correlation_window):
            incident = None  # the group went quiet for longer than the window: this is a new incident
        alerts = [a for a, _ in self.joining]
        top = worst([c for _, c in self.joining])
        services, names, regions = blast_radius(incident, alerts, req.policy)
        if incident is None:
            # A new incident is inserted with its blast radius already in place (one INSERT, no UPDATE after it).
            incident, events = Incident.declare(
                ref=await req.uow.incidents.next_ref(req.now.date()), title=" ".join(alerts[0].summary.split())[:200],
                severity=top.severity, actor=req.source, at=req.now, reason=top.reason, confirmed=top.confirmed,
                group_key=group.key, services=services, alertnames=names, regions=regions, alert_count=len(alerts),
                alerts_firing=len(alerts), started_at=min((a.starts_at for a in alerts if a.starts_at), default=None),
            )  # fmt: skip
            await req.uow.incidents.add(incident)
            req.open_incidents[group.key] = incident
            req.result.declared.append(incident.ref)
        else:
            events = incident.raise_severity(
                top.severity, reason=top.reason, confirmed=top.confirmed, actor=req.source, at=req.now
            )
            incident.alerts_joined(len(alerts), services=services, alertnames=names, regions=regions, at=req.now)
        await req.uow.save(incident, events)
        await schedule_card_refresh(req.uow, incident, req.policy, req.now)
        req.result.touch(incident.ref)
        return incident

    async def _write(self, incident: Incident | None) -> None:
        """The group's alert statements (resolves first: they free the active keys a new firing may take);
        then the incidents whose alerts resolved."""
        uow, now = self.req.uow, self.req.now
        incident_id = incident.id if incident is not None else None
        if self.resolved_ids:
            await uow.alerts.resolve(self.resolved_ids, now)
        if self.inserts:
            for r in self.inserts:
                r["incident_id"] = incident_id if r.pop("_attach", False) else None
            await uow.alerts.insert(self.inserts)
        if self.updates:
            await uow.alerts.count_repeats(self.updates)
        if self.attach_existing and incident_id is not None:
            await uow.alerts.attach(self.attach_existing, incident_id)
        for rid, n in self.resolved_by_incident.items():
            if rid < 0:
                continue
            resolved = await uow.incidents.get_by_id(rid, lock=True, roles=False)
            if resolved is None:
                continue
            self.req.result.touch(resolved.ref)
            await uow.save(resolved, resolved.alerts_resolved(n, actor=self.req.source, at=now))
            await schedule_card_refresh(uow, resolved, self.req.policy, now)
