"""Builders of alerts and webhook bodies for tests (the project's own test data)."""

from __future__ import annotations

from typing import Any

from bot.domain.alert import Alert, AlertStatus, fingerprint


def alert(
    alertname: str = "HighErrorRate",
    service: str = "checkout-api",
    severity: str | None = "critical",
    status: str = "firing",
    source: str = "alertmanager",
    summary: str | None = None,
    **labels: str,
) -> Alert:
    """A normalized alert."""
    lab = {"alertname": alertname, "service": service, **labels}
    if severity is not None:
        lab["severity"] = severity
    ann = {"summary": summary} if summary else {}
    return Alert(
        source=source,
        fingerprint=fingerprint(lab),
        status=AlertStatus(status),
        labels=lab,
        annotations=ann,
        labels_fingerprint=True,  # as the Alertmanager parser makes them
    )


def am_alert(status: str = "firing", summary: str | None = None, **labels: str) -> dict[str, Any]:
    """One alert as Alertmanager's webhook v4 body carries it."""
    labels.setdefault("alertname", "HighErrorRate")
    labels.setdefault("service", "checkout-api")
    return {
        "status": status,
        "labels": dict(sorted(labels.items())),
        "annotations": {"summary": summary} if summary else {},
        "startsAt": "2026-11-23T09:14:30.512Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-23T09:30:00Z",
        "generatorURL": "http://prometheus.acme.example/graph?g0.expr=up",
        "fingerprint": fingerprint(labels),
    }


def am_body(*alerts: dict[str, Any], version: str = "4") -> dict[str, Any]:
    """An Alertmanager webhook v4 body."""
    status = "firing" if any(a.get("status") == "firing" for a in alerts) else "resolved"
    labelled = [a.get("labels") for a in alerts if isinstance(a.get("labels"), dict)]
    common = dict(labelled[0]) if labelled else {}
    for labels in labelled[1:]:
        common = {k: v for k, v in common.items() if labels.get(k) == v}
    return {
        "receiver": "warroom",
        "status": status,
        "alerts": list(alerts),
        "groupLabels": {k: common[k] for k in ("alertname", "service") if k in common},
        "commonLabels": common,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.acme.example",
        "version": version,
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
    }
