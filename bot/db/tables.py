"""The tables: incidents and roles, the event log (timeline + audit), the outbox and the timers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base


class IncidentRow(Base):
    """One incident."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(250))
    severity: Mapped[str] = mapped_column(String(4), index=True)
    severity_reason: Mapped[str] = mapped_column(String(500), default="")
    severity_confirmed: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    declared_by: Mapped[str] = mapped_column(String(64))
    declare_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    declared_at: Mapped[datetime] = mapped_column(index=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(index=True)  # the digest's MTTA per day
    mitigated_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)  # the digest's MTTR, open at a time
    closed_at: Mapped[datetime | None]
    summary: Mapped[str | None] = mapped_column(Text)
    channel_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    channel_name: Mapped[str | None] = mapped_column(String(80), unique=True)
    card_ts: Mapped[str | None] = mapped_column(String(32))
    human_control: Mapped[bool] = mapped_column(default=False)
    frozen_since: Mapped[datetime | None] = mapped_column(index=True)  # deploys frozen for this incident
    freeze_kind: Mapped[str | None] = mapped_column(String(16))
    jira_key: Mapped[str | None] = mapped_column(String(64))
    group_key: Mapped[str | None] = mapped_column(String(500), index=True)
    services: Mapped[list[str]] = mapped_column(default=list)
    alertnames: Mapped[list[str]] = mapped_column(default=list)
    regions: Mapped[list[str]] = mapped_column(default=list)
    alert_count: Mapped[int] = mapped_column(default=0)
    alerts_firing: Mapped[int] = mapped_column(default=0)
    alerts_unannounced: Mapped[int] = mapped_column(default=0)
    last_alert_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    runbook: Mapped[str | None] = mapped_column(String(80))
    root_cause: Mapped[str | None] = mapped_column(Text)
    root_cause_hypothesis: Mapped[str | None] = mapped_column(String(40))


class RoleRow(Base):
    """A user holding a role in an incident."""

    __tablename__ = "incident_roles"
    __table_args__ = (UniqueConstraint("incident_id", "role", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    assigned_by: Mapped[str] = mapped_column(String(64))
    assigned_at: Mapped[datetime]


class RefCounterRow(Base):
    """Last incident number handed out per UTC day (makes `INC-YYYYMMDD-NNN` unique)."""

    __tablename__ = "ref_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int]


class EventRow(Base):
    """One entry of the event log: timeline, audit trail (hash chain) and outbox source."""

    __tablename__ = "timeline_events"
    __table_args__ = (UniqueConstraint("chain", "seq"), Index("ix_timeline_events_kind_at", "kind", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    chain: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int]
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40), index=True)  # SLA breaches are counted by kind for /metrics
    text: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(250), unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """The newest entry of each chain of the event log, written with every append in the same transaction: what
    `warroom audit verify` compares the chains' ends with, so deleting the newest rows is seen too."""

    __tablename__ = "audit_heads"

    chain: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))


class DeliveryRow(Base):
    """The outbox: one event to deliver to one reactor."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "reactor"),
        Index("ix_deliveries_due", "status", "due_at"),
        Index("ix_deliveries_chain", "reactor", "chain", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("timeline_events.id"))
    reactor: Mapped[str] = mapped_column(String(40))
    chain: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class TimerRow(Base):
    """A durable timer (escalation deadline, reminder, approval expiry, digest)."""

    __tablename__ = "timers"
    __table_args__ = (
        Index("ix_timers_due", "status", "due_at", "id"),  # claims walk it in (due_at, id) order
        Index("ix_timers_kind_due", "kind", "due_at"),  # the digest's overdue action items
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(250), unique=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    due_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    fired_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class InboundSeenRow(Base):
    """Inbound deliveries already handled (Slack event_id, retried requests): makes retries no-ops."""

    __tablename__ = "inbound_seen"

    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    seen_at: Mapped[datetime]


class AlertRow(Base):
    """One alert: deduplicated by fingerprint while it fires (`active_key` is unique then, NULL after)."""

    __tablename__ = "alerts"
    # Partial: only rows waiting for review are in it, so counting a repeat (which moves last_seen_at) does
    # not touch this index for the alerts that joined an incident (nearly all of a storm).
    __table_args__ = (
        Index(
            "ix_alerts_review_queue",
            "last_seen_at",
            "id",
            sqlite_where=text("review = 1 AND incident_id IS NULL"),
            postgresql_where=text("review = true AND incident_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    fingerprint: Mapped[str] = mapped_column(String(128))
    active_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    status: Mapped[str] = mapped_column(String(10))
    alertname: Mapped[str] = mapped_column(String(200))
    labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    annotations: Mapped[dict[str, Any]] = mapped_column(default=dict)
    group_key: Mapped[str] = mapped_column(String(500))
    severity: Mapped[str] = mapped_column(String(4))
    severity_reason: Mapped[str] = mapped_column(String(500), default="")
    severity_confirmed: Mapped[bool] = mapped_column(default=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    silenced_by: Mapped[str | None] = mapped_column(String(64))
    review: Mapped[bool] = mapped_column(default=False)
    count: Mapped[int] = mapped_column(default=1)
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)  # set once: the digest's alerts of a day
    generator_url: Mapped[str | None] = mapped_column(Text)
    value: Mapped[str | None] = mapped_column(String(200))


class SilenceRow(Base):
    """A silence created through the API (rules-file silences live in warroom.yml)."""

    __tablename__ = "silences"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    matchers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime] = mapped_column(index=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]
    expired_at: Mapped[datetime | None]


class ProcessRow(Base):
    """A running warroom process: its heartbeat tells the others it is alive and holds its claims.

    `id` is what the process writes as `claimed_by` on the deliveries and timers it works on; `instance`
    names the process across restarts (host and port, or WARROOM_INSTANCE_NAME).
    """

    __tablename__ = "processes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    instance: Mapped[str] = mapped_column(String(200), index=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int]
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime] = mapped_column(index=True)


class PageSentRow(Base):
    """An event the pager accepted, by `<log entry id>:<service>:<action>`: a retried delivery (the same
    transition) finds it here and does not page again."""

    __tablename__ = "pages_sent"

    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(255))
    service: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(12))
    sent_at: Mapped[datetime]


class ChatPostRow(Base):
    """A message the bot posted, by its marker, recorded as soon as the platform gave its ts: every later
    attempt (a retry, another process) finds it here instead of posting it again."""

    __tablename__ = "chat_posts"

    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    posted_at: Mapped[datetime]


class HypothesisRow(Base):
    """A hypothesis of an incident, re-scored by each diagnosis, confirmed or rejected by people."""

    __tablename__ = "hypotheses"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(250))
    service: Mapped[str | None] = mapped_column(String(253))
    cause: Mapped[str] = mapped_column(String(40))
    runbook: Mapped[str | None] = mapped_column(String(80))
    origin: Mapped[str] = mapped_column(String(16))
    prior: Mapped[float] = mapped_column(Float)
    posterior: Mapped[float] = mapped_column(Float)
    rank: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(12))
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    scored_at: Mapped[datetime]


class ActionRow(Base):
    """A remediation action of an incident: proposed from a runbook step, decided by people or policy, run at
    most once (bot.domain.remediation)."""

    __tablename__ = "remediation_actions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    runbook: Mapped[str] = mapped_column(String(80))
    step: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(250))
    risk: Mapped[str] = mapped_column(String(8))
    executor: Mapped[str] = mapped_column(String(40))
    argv: Mapped[list[str]] = mapped_column(JSON, default=list)
    argv_values: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rollback: Mapped[list[str] | None] = mapped_column(JSON)
    verify: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    hypothesis: Mapped[str | None] = mapped_column(String(40))
    rationale: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[str] = mapped_column(Text, default="")
    blast_radius: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(16), index=True)
    proposed_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    exit_code: Mapped[int | None]
    output: Mapped[str] = mapped_column(Text, default="")
    rollback_output: Mapped[str] = mapped_column(Text, default="")
    refusal: Mapped[str | None] = mapped_column(Text)
    verified: Mapped[bool | None]
