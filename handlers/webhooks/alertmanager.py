"""Alertmanager webhook v4 bodies -> normalized alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, WithJsonSchema

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
from bot.domain.times import parse_iso
from handlers.webhooks.common import WebhookError, invalid, parse_json, quote

ZERO_TIME_PREFIX = "0001-01-01"


class AmAlert(BaseModel):
    """One alert of the webhook body."""

    model_config = ConfigDict(extra="ignore")

    status: AlertStatus = AlertStatus.FIRING
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    startsAt: str | None = None
    endsAt: str | None = None
    generatorURL: str | None = None
    fingerprint: str | None = None


def parse_time(value: str | None, field: str) -> datetime | None:
    """RFC 3339 time; Alertmanager's zero time means none."""
    if value is None or value == "" or value.startswith(ZERO_TIME_PREFIX):
        return None
    try:
        at = parse_iso(value)
    except ValueError:
        raise WebhookError(400, "invalid_timestamp", f"{field} {quote(value, 40)} is not an RFC 3339 time") from None
    if at.tzinfo is None:
        raise WebhookError(400, "invalid_timestamp", f"{field} {quote(value, 40)} has no time zone")
    return at


# The fast path: the whole body validated in one pass by pydantic-core (Rust), with the same label and
# annotation rules as bot.domain.alert (check_labels, check_annotations) written as constraints. It accepts
# only bodies the careful path below accepts, with the same result (a property test holds them together);
# anything it refuses goes through the careful path, which says exactly what is wrong.
_LabelName = Annotated[str, StringConstraints(pattern=LABEL_NAME.pattern)]
_LabelValue = Annotated[str, StringConstraints(max_length=LABEL_VALUE_MAX, pattern=f"^[^{CONTROL_CLASS}]*$")]
_AnnotationValue = Annotated[
    str, StringConstraints(max_length=ANNOTATION_MAX, pattern=f"^[^{ANNOTATION_CONTROL_CLASS}]*$")
]


_ONLY_VALID_NAMES: dict[str, Any] = {"additionalProperties": False}  # a label name outside the pattern is refused
_Time = Annotated[
    str | None,
    WithJsonSchema({"anyOf": [{"type": "string", "format": "date-time"}, {"const": ""}, {"type": "null"}]}),
]


class AlertmanagerAlert(BaseModel):
    """One alert of a v4 webhook body."""

    model_config = ConfigDict(extra="ignore", strict=True)

    status: AlertStatus = AlertStatus.FIRING
    labels: Annotated[dict[_LabelName, _LabelValue], Field(min_length=1, json_schema_extra=_ONLY_VALID_NAMES)]
    annotations: dict[str, _AnnotationValue] = {}
    startsAt: _Time = Field(default=None, description="RFC 3339; empty or 0001-01-01... means none")
    endsAt: _Time = Field(default=None, description="RFC 3339; empty or 0001-01-01... (still firing) means none")
    generatorURL: str | None = None
    fingerprint: str | None = Field(default=None, max_length=128, description="default: a hash of the labels")


class AlertmanagerWebhook(BaseModel):
    """Alertmanager's webhook body, version 4; its other fields (receiver, groupLabels, ...) are ignored."""

    model_config = ConfigDict(extra="ignore", strict=True)

    version: Literal["4"]
    alerts: list[AlertmanagerAlert]


def schema() -> dict[str, Any]:
    """The JSON schema of the body (for the OpenAPI description)."""
    return AlertmanagerWebhook.model_json_schema()


def parse_alertmanager_body(body: bytes) -> list[Alert]:
    """A v4 request body -> normalized alerts (all or nothing); 400 with the reason otherwise."""
    try:
        fast = AlertmanagerWebhook.model_validate_json(body)
    except ValidationError:
        return parse_alertmanager(parse_json(body))  # the careful path names the problem
    out: list[Alert] = []
    for i, am in enumerate(fast.alerts):
        out.append(
            Alert(
                source="alertmanager",
                fingerprint=am.fingerprint or fingerprint(am.labels),
                status=am.status,
                labels=am.labels,
                annotations=am.annotations,
                starts_at=parse_time(am.startsAt, f"alerts[{i}].startsAt"),
                ends_at=parse_time(am.endsAt, f"alerts[{i}].endsAt"),
                generator_url=am.generatorURL,
                value=None,
                labels_fingerprint=True,
            )
        )
    return out


def parse_alertmanager(data: Any) -> list[Alert]:
    """Validate a decoded v4 body and normalize its alerts (all or nothing)."""
    if not isinstance(data, dict):
        raise WebhookError(400, "invalid_type: body", "the body must be a JSON object (Alertmanager webhook v4)")
    version = data.get("version")
    if version != "4":
        raise WebhookError(
            400, "unsupported_version", f'version {quote(version, 20)} is not supported; send version "4"'
        )
    if "alerts" not in data:
        raise WebhookError(400, "missing_field: alerts", "the body has no `alerts` list")
    raw = data["alerts"]
    if not isinstance(raw, list):
        raise WebhookError(400, "invalid_type: alerts", "`alerts` must be a list")
    out: list[Alert] = []
    for i, item in enumerate(raw):
        out.append(_one(i, item))
    return out


def _one(i: int, item: Any) -> Alert:
    if not isinstance(item, dict):
        raise WebhookError(400, "invalid_type: alerts", f"alerts[{i}] must be an object")
    if "labels" not in item:
        raise WebhookError(400, "missing_field: labels", f"alerts[{i}] has no labels")
    try:
        am = AmAlert.model_validate(item)
    except ValidationError as exc:
        raise invalid(exc, "invalid_alert", at=f"alerts[{i}].") from None
    starts = parse_time(am.startsAt, f"alerts[{i}].startsAt")
    ends = parse_time(am.endsAt, f"alerts[{i}].endsAt")
    try:
        return Alert.checked(
            source="alertmanager",
            fingerprint=am.fingerprint or fingerprint(am.labels),
            status=am.status,
            labels=am.labels,
            annotations=am.annotations,
            starts_at=starts,
            ends_at=ends,
            generator_url=am.generatorURL,
            labels_fingerprint=True,
        )
    except AlertError as exc:
        raise WebhookError(400, exc.code, f"alerts[{i}]: {exc.detail}") from None
