"""The normalized alert: one shape for Alertmanager, CloudWatch and generic sources."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# `$` (not `\Z`): the pattern is also a JSON Schema / pydantic (Rust regex) pattern, where `$` ends the text;
# Python code matches it with `fullmatch`.
LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$")
LABEL_VALUE_MAX = 1024
ANNOTATION_MAX = 16384
# Characters refused in label values, and in annotations (which may hold \t, \n and \r), as regex classes
# (parsers that validate in one pass build their patterns from these).
CONTROL_CLASS = r"\x00-\x08\x0b-\x1f\x7f-\x9f"
ANNOTATION_CONTROL_CLASS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
CONTROL = re.compile(f"[{CONTROL_CLASS}]")
ANNOTATION_CONTROL = re.compile(f"[{ANNOTATION_CONTROL_CLASS}]")


class AlertStatus(StrEnum):
    """Firing or resolved."""

    FIRING = "firing"
    RESOLVED = "resolved"


class AlertError(ValueError):
    """An alert that cannot be accepted; `code` is the machine-readable reason."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def check_labels(labels: dict[str, str]) -> dict[str, str]:
    """Validate label names and values: no control characters, bounded length."""
    for name, value in labels.items():
        if not LABEL_NAME.fullmatch(name):
            raise AlertError("invalid_label_name", f"label name {name[:40]!r} is not a valid label name")
        if not isinstance(value, str):
            raise AlertError("invalid_label_value", f"label {name} must be a string")
        if len(value) > LABEL_VALUE_MAX:
            raise AlertError("label_too_long", f"label {name} is {len(value)} characters (max {LABEL_VALUE_MAX})")
        if CONTROL.search(value):
            raise AlertError("invalid_label_value", f"label {name} contains control characters")
    return labels


def check_annotations(annotations: dict[str, str]) -> dict[str, str]:
    """Annotations may hold newlines and tabs but no other control characters; bounded length."""
    for name, value in annotations.items():
        if not isinstance(value, str):
            raise AlertError("invalid_annotation", f"annotation {name[:40]} must be a string")
        if len(value) > ANNOTATION_MAX:
            raise AlertError("annotation_too_long", f"annotation {name[:40]} is {len(value)} characters")
        if ANNOTATION_CONTROL.search(value):
            raise AlertError("invalid_annotation", f"annotation {name[:40]} contains control characters")
    return annotations


def fingerprint(labels: dict[str, str]) -> str:
    """Alertmanager's fingerprint: FNV-1a 64 over sorted `name 0xFF value 0xFF`, 16 hex digits."""
    h = 0xCBF29CE484222325
    for name in sorted(labels):
        for part in (name.encode(), b"\xff", labels[name].encode(), b"\xff"):
            for byte in part:
                h ^= byte
                h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


@dataclass(slots=True, eq=True)
class Alert:
    """One alert after normalization. Build it with `Alert.checked` from outside input (it validates);
    the plain constructor trusts its arguments (parsers that validated already, tests)."""

    source: str
    fingerprint: str
    status: AlertStatus
    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    generator_url: str | None = None
    value: str | None = None
    # True when the fingerprint is a hash of the label set (Alertmanager's own, or computed here), so that
    # alerts with the same fingerprint have the same labels: see `active_key`.
    labels_fingerprint: bool = False

    @property
    def active_key(self) -> str:
        """Unique while the alert fires: see `active_key`."""
        return active_key(self.source, self.fingerprint, self.labels if self.labels_fingerprint else None)

    @classmethod
    def checked(
        cls,
        *,
        source: str,
        fingerprint: str,
        status: AlertStatus,
        labels: dict[str, str],
        annotations: dict[str, str],
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        generator_url: str | None = None,
        value: str | None = None,
        labels_fingerprint: bool = False,
    ) -> Alert:
        """A validated alert: labels (names, values, lengths), annotations, fingerprint; AlertError otherwise."""
        if not labels:
            raise AlertError("missing_labels", "an alert needs at least one label")
        if not fingerprint or len(fingerprint) > 128:
            raise AlertError("invalid_fingerprint", "the fingerprint must be 1 to 128 characters")
        return cls(
            source,
            fingerprint,
            AlertStatus(status),
            check_labels(labels),
            check_annotations(annotations),
            starts_at,
            ends_at,
            generator_url,
            value,
            labels_fingerprint,
        )

    @property
    def alertname(self) -> str:
        """The alert's name (label `alertname`)."""
        return self.labels.get("alertname", "") or "alert"

    def service(self, label: str = "service") -> str:
        """The service: the configured label, else `job`."""
        return self.labels.get(label) or self.labels.get("job") or ""

    @property
    def summary(self) -> str:
        """The `summary` annotation, else `<alertname> on <service>`."""
        s = self.annotations.get("summary", "").strip()
        if s:
            return s
        svc = self.service()
        return f"{self.alertname} on {svc}" if svc else self.alertname


ACTIVE_KEY_MAX = 160  # the width of alerts.active_key
NEAR_MAX = 60


def active_key(source: str, fingerprint: str, labels: dict[str, str] | None = None) -> str:
    """The key that is unique among firing alerts: the source and the fingerprint.

    When the fingerprint is a hash of the labels (`labels` given), the alert's `alertname/service` leads
    the key: two alerts with one fingerprint have one label set, so this changes nothing about which
    alerts are the same, but the alerts of one group sit together in the unique index, and a storm's
    inserts touch a few index pages instead of one page per alert. The two forms cannot meet: sources hold
    neither `:` nor `/`, so the character after the source tells the form (`source:fp` or
    `source/lead|fp`), and `|` cannot occur in the lead.
    """
    if labels is None:
        return f"{source}:{fingerprint}"
    near = f"{labels.get('alertname', '')}/{labels.get('service') or labels.get('job', '')}".replace("|", "/")
    room = min(NEAR_MAX, ACTIVE_KEY_MAX - len(source) - len(fingerprint) - 2)
    return f"{source}/{near[: max(0, room)]}|{fingerprint}"


def group_key(alert: Alert, by: list[str]) -> str:
    """The grouping key: `name=value` of the `by` labels, in order (like Alertmanager's group_by)."""
    return ",".join(f"{name}={alert.labels.get(name, '')}" for name in by)
