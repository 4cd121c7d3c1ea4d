"""The JSON answers of /api/v1/* and /webhooks/* as pydantic models: the source of the OpenAPI schemas.

The handlers build these answers as plain dicts (handlers/api/*, bot.services); these models only describe
them. They forbid unknown fields so that a field added to an answer without its model fails the fuzz test
(tests/integration/test_openapi_fuzz.py) instead of drifting silently.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from bot.domain.alert import LABEL_NAME, AlertStatus
from bot.domain.incident import Severity, Status
from handlers.webhooks.generic import LABEL_VALUE_SCHEMA as LABEL_VALUE

MAX_SILENCE_MINUTES = 30 * 24 * 60

Time = AwareDatetime  # ISO 8601 in UTC with a Z, e.g. 2026-11-23T09:12:00.000000Z


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Error(_Answer):
    """Every refusal: a machine code and a human sentence (DESIGN.md 5)."""

    error: str = Field(description="Machine-readable code, e.g. `unauthorized`, `invalid_json`, `not_found`")
    detail: str = Field(description="What is wrong, in one sentence")


class Roles(_Answer):
    """User ids per incident role."""

    commander: list[str]
    comms: list[str]
    scribe: list[str]
    sme: list[str]


class Incident(_Answer):
    """An incident (times in UTC; null when not yet)."""

    ref: str = Field(pattern=r"^INC-\d{8}-\d{3,}$", examples=["INC-20261123-001"])
    title: str
    severity: Severity
    severity_reason: str
    severity_confirmed: bool
    status: Status
    channel_id: str | None
    channel_name: str | None
    commander: str | None
    roles: Roles
    services: list[str]
    alert_count: int = Field(ge=0)
    declared_by: str
    declared_at: Time
    acknowledged_at: Time | None
    mitigated_at: Time | None
    resolved_at: Time | None
    summary: str | None
    jira_key: str | None
    human_control: bool = Field(description="SEV0/SEV1 until `/incident release`: nothing runs without approval")
    frozen_since: Time | None = Field(description="deploys frozen for this incident since (null: not frozen)")
    group_key: str | None
    alertnames: list[str]
    runbook: str | None = Field(description="the best-matching runbook's id (once diagnosed)")
    root_cause: str | None = Field(description="the confirmed hypothesis, in words")
    root_cause_hypothesis: str | None = Field(description="the id of the confirmed hypothesis")


class TimelineEntry(_Answer):
    """One row of the incident's event log."""

    at: Time
    kind: str
    actor: str
    text: str
    seq: int = Field(ge=1)


class IncidentDetail(Incident):
    """An incident with its timeline, oldest first."""

    timeline: list[TimelineEntry]


class IncidentList(_Answer):
    """`GET /api/v1/incidents`: newest first."""

    incidents: list[Incident]


class ReviewAlert(_Answer):
    """A stored alert below the declare threshold, waiting for a human look."""

    id: int
    source: str
    fingerprint: str
    status: AlertStatus
    alertname: str
    labels: dict[str, str]
    annotations: dict[str, str]
    severity: Severity
    severity_reason: str
    count: int = Field(ge=1)
    incident: str | None
    silenced_by: str | None
    starts_at: Time | None
    first_seen_at: Time
    last_seen_at: Time
    resolved_at: Time | None
    generator_url: str | None


class ReviewQueue(_Answer):
    """`GET /api/v1/review`: newest first."""

    alerts: list[ReviewAlert]


class Freeze(_Answer):
    """`GET /api/v1/freeze`: whether deploys are frozen (200 either way, so pipelines can `jq .frozen`)."""

    frozen: bool = Field(description="true while an open incident freezes deploys (an open SEV0/SEV1, or by hand)")
    incidents: list[str] = Field(description="the refs of the incidents that freeze deploys, frozen longest first")
    since: Time | None = Field(description="when the longest-standing of these freezes began (null: not frozen)")


class Silence(_Answer):
    """A maintenance window: matching alerts are stored but declare nothing."""

    id: str = Field(pattern=r"^[0-9a-f-]{36}$")
    matchers: dict[str, str]
    starts_at: Time
    ends_at: Time
    comment: str
    created_by: str
    created_at: Time
    state: Literal["pending", "active", "expired"]


class SilenceList(_Answer):
    """`GET /api/v1/silences`: newest first."""

    silences: list[Silence]


class NewSilence(BaseModel):
    """`POST /api/v1/silences`: `ends_at`, or `duration_minutes` from `starts_at` (default now); 30 days at most."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["ends_at"], "properties": {"ends_at": {"type": "string"}}},
                {"required": ["duration_minutes"], "properties": {"duration_minutes": {"type": "number"}}},
            ]
        }
    )

    matchers: dict[str, str] = Field(
        min_length=1,
        description="label -> exact value; every one must match",
        examples=[{"service": "checkout-api"}],
        json_schema_extra={"propertyNames": {"pattern": LABEL_NAME.pattern}, "additionalProperties": LABEL_VALUE},
    )
    starts_at: Time | None = None
    ends_at: Time | None = Field(default=None, description="in the future")
    duration_minutes: float | None = Field(
        default=None, gt=0, le=MAX_SILENCE_MINUTES, description="used when ends_at is not given"
    )
    comment: str | None = None
    created_by: str | None = None


class Ingested(_Answer):
    """`POST /webhooks/*` once the alerts are durably stored."""

    accepted: int = Field(ge=0, description="alerts in the request")
    incidents: list[str] = Field(description="refs of the incidents declared or updated")
    declared: list[str] = Field(description="refs of the incidents this request declared")
    deduplicated: int = Field(ge=0)
    silenced: int = Field(ge=0)
    review: int = Field(ge=0, description="alerts put in the review queue (below the declare threshold)")
    resolved: int = Field(ge=0)
    duplicate_request: bool = Field(description="true when this SNS MessageId was already stored")


class SnsAnswered(_Answer):
    """`POST /webhooks/cloudwatch` for a delivery that carries no alert."""

    accepted: Literal[0]
    incidents: list[str] = Field(max_length=0)
    sns: Literal["subscription_confirmed", "unsubscribed"] | None = None
    topic: str | None = None
