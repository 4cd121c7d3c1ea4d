"""`POST /webhooks/generic`: a small documented JSON schema for any other alert source.

Body: `{"alerts": [Alert, ...]}` or a single Alert object, where Alert is
`{"labels": {"alertname": ..., "service": ..., "severity": ...}, "annotations": {"summary": ...},
  "status": "firing" | "resolved", "starts_at": RFC 3339, "ends_at": RFC 3339, "fingerprint": str,
  "generator_url": str, "value": str | number}`; only `labels` (with `alertname`) is required.
The fingerprint defaults to Alertmanager's fingerprint of the labels, so a resolve matches its firing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue, ValidationError

from bot.domain.alert import (
    ANNOTATION_CONTROL_CLASS,
    ANNOTATION_MAX,
    CONTROL_CLASS,
    LABEL_NAME,
    LABEL_VALUE_MAX,
    Alert,
    AlertError,
    AlertStatus,
    fingerprint,
)
from handlers.webhooks.common import WebhookError, invalid

MAX_ALERTS = 1000
# What check_labels and check_annotations enforce after validation, told in the served schema.
Schema = dict[str, JsonValue]
LABEL_VALUE_SCHEMA: Schema = {"type": "string", "maxLength": LABEL_VALUE_MAX, "pattern": f"^[^{CONTROL_CLASS}]*$"}
LABELS_SCHEMA: Schema = {
    "type": "object",
    "propertyNames": {"pattern": LABEL_NAME.pattern},
    "additionalProperties": LABEL_VALUE_SCHEMA,
    "properties": {"alertname": {**LABEL_VALUE_SCHEMA, "minLength": 1}},
    "required": ["alertname"],
}
ANNOTATIONS_SCHEMA: Schema = {
    "type": "object",
    "additionalProperties": {
        "type": "string",
        "maxLength": ANNOTATION_MAX,
        "pattern": f"^[^{ANNOTATION_CONTROL_CLASS}]*$",
    },
}


def _time_text(value: object) -> object:
    """Times are RFC 3339 text; pydantic alone would also read numbers as Unix times."""
    if value is not None and not isinstance(value, str):
        raise ValueError("must be an RFC 3339 time (a string)")
    return value


def _not_bool(value: object) -> object:
    """A value is text or a number; pydantic alone would read true as 1.0."""
    if isinstance(value, bool):
        raise ValueError("must be a string or a number")
    return value


Time = Annotated[datetime | None, BeforeValidator(_time_text)]


class GenericAlert(BaseModel):
    """One alert in the generic schema."""

    model_config = ConfigDict(extra="forbid")

    labels: dict[str, str] = Field(
        description="Identifying labels; `alertname` is required", json_schema_extra=LABELS_SCHEMA
    )
    annotations: dict[str, str] = Field(
        default_factory=dict, description="summary, description, runbook_url...", json_schema_extra=ANNOTATIONS_SCHEMA
    )
    status: AlertStatus = AlertStatus.FIRING
    starts_at: Time = Field(default=None, description="RFC 3339 with a time zone")
    ends_at: Time = Field(default=None, description="RFC 3339 with a time zone")
    fingerprint: str | None = Field(default=None, min_length=1, max_length=128)
    generator_url: str | None = Field(default=None, max_length=2000)
    value: Annotated[str | float | None, BeforeValidator(_not_bool)] = None


class GenericBody(BaseModel):
    """The request body."""

    model_config = ConfigDict(extra="forbid")

    alerts: list[GenericAlert] = Field(max_length=MAX_ALERTS)


def schema() -> dict[str, Any]:
    """The JSON schema served at GET /webhooks/generic/schema."""
    return GenericBody.model_json_schema()


def parse_generic(data: Any) -> list[Alert]:
    """Validate and normalize a generic body (all or nothing)."""
    if isinstance(data, dict) and "alerts" not in data and "labels" in data:
        data = {"alerts": [data]}
    if not isinstance(data, dict):
        raise WebhookError(400, "invalid_type: body", "the body must be a JSON object")
    if "alerts" not in data:
        raise WebhookError(400, "missing_field: alerts", 'send {"alerts": [...]} or a single alert with `labels`')
    try:
        body = GenericBody.model_validate(data)
    except ValidationError as exc:
        raise invalid(exc, "invalid_alert") from None
    out: list[Alert] = []
    for i, a in enumerate(body.alerts):
        if not a.labels.get("alertname"):
            raise WebhookError(400, "missing_field: alertname", f"alerts[{i}].labels has no alertname")
        for name, at in (("starts_at", a.starts_at), ("ends_at", a.ends_at)):
            if at is not None and at.tzinfo is None:
                raise WebhookError(400, "invalid_timestamp", f"alerts[{i}].{name} has no time zone")
        try:
            out.append(
                Alert.checked(
                    source="generic",
                    fingerprint=a.fingerprint or fingerprint(a.labels),
                    status=a.status,
                    labels=a.labels,
                    annotations=a.annotations,
                    starts_at=a.starts_at,
                    ends_at=a.ends_at,
                    generator_url=a.generator_url,
                    value=None if a.value is None else str(a.value),
                    labels_fingerprint=a.fingerprint is None,
                )
            )
        except AlertError as exc:
            raise WebhookError(400, exc.code, f"alerts[{i}]: {exc.detail}") from None
    return out
