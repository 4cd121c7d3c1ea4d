"""Ranking runbooks for an incident by alert name, labels, keywords and service."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.runbook import Runbook
from bot.domain.runbook_match import IncidentFacts, rank_runbooks, score_runbook
from bot.runbooks import load_paths, parse_runbook
from tests.unit.test_runbooks import GOOD

LIBRARY = load_paths([Path(__file__).resolve().parents[2] / "runbooks"]).runbooks


def best(labels: dict[str, str], annotations: dict[str, str] | None = None, title: str = "") -> str:
    facts = IncidentFacts.of([labels], [annotations or {}], title=title)
    ranked = rank_runbooks(LIBRARY, facts)
    assert ranked, labels
    return ranked[0].runbook.id


@pytest.mark.parametrize(
    ("alertname", "expected"),
    [
        ("HighErrorRate", "error-rate-spike"),
        ("CheckoutHighLatency", "latency-regression"),
        ("NodeFilesystemAlmostOutOfSpace", "disk-cleanup"),
        ("KubePodCrashLooping", "service-restart"),
        ("PostgresqlDown", "database-failover"),
        ("BlackboxSslCertificateWillExpireSoon", "certificate-renewal"),
        ("HikariPoolExhausted", "connection-pool-reset"),
        ("KubeDeploymentRolloutStuck", "deployment-rollback"),
        ("RedisCacheHitRatioLow", "cache-invalidation"),
        ("PIIDetectedInLogs", "pii-leak"),
        ("AWSBudgetExceeded", "cost-spike"),
    ],
)
def test_common_alert_names_find_their_runbook(alertname: str, expected: str) -> None:
    assert best({"alertname": alertname, "service": "checkout"}) == expected


def test_keywords_in_the_summary_match_when_the_name_says_nothing() -> None:
    assert (
        best({"alertname": "Page42"}, {"summary": "TLS certificate for api expires in 3 days"}) == "certificate-renewal"
    )


def test_labels_add_to_the_score() -> None:
    facts = IncidentFacts.of([{"alertname": "InstanceDown", "job": "postgres-exporter"}])
    ranked = rank_runbooks(LIBRARY, facts, limit=5)
    assert ranked[0].runbook.id == "database-failover"
    assert "label job" in ranked[0].reasons


def test_a_runbook_scoped_to_services_matches_only_them() -> None:
    scoped: Runbook = parse_runbook(GOOD.replace("params:", 'services: ["payments*"]\nparams:'))[0]
    for_payments = IncidentFacts.of([{"alertname": "HighErrorRate", "service": "payments-api"}])
    for_checkout = IncidentFacts.of([{"alertname": "HighErrorRate", "service": "checkout"}])
    assert score_runbook(scoped, for_payments) is not None
    assert score_runbook(scoped, for_checkout) is None
    # the service alone is not a match
    assert score_runbook(scoped, IncidentFacts.of([{"alertname": "Other", "service": "payments"}])) is None


def test_exact_names_beat_globs_and_nothing_matches_nothing() -> None:
    facts = IncidentFacts.of([{"alertname": "KubeHpaMaxedOut"}])
    ranked = rank_runbooks(LIBRARY, facts)
    assert ranked[0].runbook.id == "scale-up-down"
    assert ranked[0].score >= 5
    assert rank_runbooks(LIBRARY, IncidentFacts.of([{"alertname": "Zzz"}])) == []


def test_ranking_is_deterministic_and_limited() -> None:
    facts = IncidentFacts.of([{"alertname": "HighErrorRate"}, {"alertname": "HighLatency"}])
    first = [m.runbook.id for m in rank_runbooks(LIBRARY, facts, limit=2)]
    assert first == [m.runbook.id for m in rank_runbooks(list(reversed(LIBRARY)), facts, limit=2)]
    assert len(first) == 2
