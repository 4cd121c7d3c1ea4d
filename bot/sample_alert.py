"""The sample Alertmanager alert of local mode: the page's "Send test alert" button and `warroom demo`.

It goes through the real webhook (`POST /webhooks/alertmanager`), exactly as Alertmanager would send it.
Each press without options takes the next of a few scenarios, so pressing again shows another incident.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.alert import fingerprint

LABEL_VALUE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}\Z")
SEVERITY_LABELS = ("critical", "error", "high", "warning", "info", "low")
OPTIONS = {"summary", "service", "alertname", "severity", "customer_facing"}


@dataclass(frozen=True, slots=True)
class Scenario:
    """One made-up alert."""

    alertname: str
    service: str
    severity: str
    summary: str
    description: str


SCENARIOS = (
    Scenario(
        "HighErrorRate",
        "checkout",
        "critical",
        "Checkout is failing",
        "5xx responses of checkout are above 5% for 5 minutes (now 23%).",
    ),
    Scenario(
        "HighLatency",
        "payments",
        "critical",
        "Payments p99 latency above 2s",
        "p99 of payments requests is 2.7 s over the last 10 minutes (objective: 800 ms).",
    ),
    Scenario(
        "DiskWillFillIn4Hours",
        "search",
        "warning",
        "Search index disk fills within 4 hours",
        "node_filesystem_avail_bytes of /var/lib/search falls 3% an hour; 11% left.",
    ),
)


def _checked(options: dict[str, str]) -> dict[str, str]:
    unknown = set(options) - OPTIONS
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(OPTIONS))}")
    for name in ("service", "alertname"):
        if name in options and not LABEL_VALUE.match(options[name]):
            raise ValueError(f"{name} must be 1-64 letters, digits or _.:-")
    if "severity" in options and options["severity"] not in SEVERITY_LABELS:
        raise ValueError(f"severity must be one of {', '.join(SEVERITY_LABELS)}")
    if "customer_facing" in options and options["customer_facing"] not in ("true", "false"):
        raise ValueError("customer_facing must be true or false")
    return options


def alertmanager_body(scenario: Scenario, options: dict[str, str], now: datetime) -> dict[str, Any]:
    """An Alertmanager webhook v4 body with one firing alert: the scenario, `options` taking precedence."""
    options = _checked(options)
    labels = {
        "alertname": options.get("alertname", scenario.alertname),
        "service": options.get("service", scenario.service),
        "severity": options.get("severity", scenario.severity),
        "namespace": "shop",
        "env": "local",
    }
    if "customer_facing" in options:
        labels["customer_facing"] = options["customer_facing"]
    annotations = {"summary": options.get("summary", scenario.summary), "description": scenario.description}
    group = {k: labels[k] for k in ("alertname", "service")}
    return {
        "version": "4",
        "groupKey": "{}:{" + f'alertname="{group["alertname"]}", service="{group["service"]}"' + "}",
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "warroom",
        "groupLabels": group,
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "http://alertmanager.local:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": annotations,
                "startsAt": now.isoformat().replace("+00:00", "Z"),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.local:9090/graph?g0.expr=up",
                "fingerprint": fingerprint(labels),
            }
        ],
    }


def sample_alerts(now: Callable[[], datetime]) -> Callable[[dict[str, str]], dict[str, Any]]:
    """A body builder for the emulator's button: each call without options takes the next scenario; with
    options (`warroom demo`, tests) the first scenario with those options. ValueError for bad options."""
    turns = itertools.cycle(SCENARIOS)

    def build(options: dict[str, str]) -> dict[str, Any]:
        scenario = SCENARIOS[0] if options else next(turns)
        return alertmanager_body(scenario, options, now())

    return build
