"""Severity classification: rules, then the contract's label defaults, else SEV3 unconfirmed."""

from __future__ import annotations

import pytest

from bot.config import parse_config
from bot.domain.incident import Severity
from bot.domain.severity import classify, worst


@pytest.mark.parametrize(
    ("labels", "sev", "confirmed"),
    [
        ({"severity": "critical"}, Severity.SEV2, True),
        ({"severity": "critical", "customer_facing": "true"}, Severity.SEV1, True),
        ({"severity": "critical", "customer_facing": "false"}, Severity.SEV2, True),
        ({"severity": "error"}, Severity.SEV2, True),
        ({"severity": "high"}, Severity.SEV2, True),
        ({"severity": "warning"}, Severity.SEV3, True),
        ({"severity": "info"}, Severity.SEV4, True),
        ({"severity": "low"}, Severity.SEV4, True),
        ({"severity": "page-me"}, Severity.SEV3, False),
        ({}, Severity.SEV3, False),
    ],
)
def test_label_defaults(labels, sev, confirmed):
    c = classify(labels)
    assert (c.severity, c.confirmed) == (sev, confirmed)
    assert c.reason


def test_rules_win_and_explain_themselves():
    cfg = parse_config(
        """
severity_rules:
  - name: payments-down
    match: {service: payments-api}
    alertname: "(HighErrorRate|Down)"
    severity: SEV1
    reason: payments errors hit customers directly
  - name: staging-is-never-urgent
    match_re: {cluster: "staging-.*"}
    severity: SEV4
"""
    )
    rules = cfg.severity_rules
    c = classify({"service": "payments-api", "alertname": "HighErrorRate", "severity": "warning"}, rules)
    assert c.severity is Severity.SEV1 and c.reason == "payments errors hit customers directly"
    c = classify({"cluster": "staging-eu", "severity": "critical"}, rules)
    assert c.severity is Severity.SEV4 and "staging-is-never-urgent" in c.reason
    c = classify({"service": "payments-api", "alertname": "LatencyHigh", "severity": "warning"}, rules)
    assert c.severity is Severity.SEV3 and c.confirmed


def test_worst():
    a, b = classify({"severity": "warning"}), classify({"severity": "critical"})
    assert worst([a, b]) is b
