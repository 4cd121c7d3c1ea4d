"""Alertmanager webhook v4 bodies -> normalized alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.domain.alert import Alert, AlertError, AlertStatus, fingerprint
from handlers.webhooks.common import WebhookError, safe

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
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise WebhookError(400, "invalid_timestamp", f"{field} {safe(value, 40)} is not an RFC 3339 time") from None
    if at.tzinfo is None:
        raise WebhookError(400, "invalid_timestamp", f"{field} {safe(value, 40)} has no time zone")
    return at


def parse_alertmanager(data: Any) -> list[Alert]:
    """Validate a decoded v4 body and normalize its alerts (all or nothing)."""
    if not isinstance(data, dict):
        raise WebhookError(400, "invalid_type: body", "the body must be a JSON object (Alertmanager webhook v4)")
    version = data.get("version")
    if version != "4":
        raise WebhookError(
            400, "unsupported_version", f'version {safe(version, 20)} is not supported; send version "4"'
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
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ()))
        raise WebhookError(400, "invalid_alert", f"alerts[{i}].{where}: {err.get('msg')}") from None
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
        )
    except AlertError as exc:
        raise WebhookError(400, exc.code, f"alerts[{i}]: {exc.detail}") from None
