"""The diagnostics use case with a fake metrics store: parallel queries, timeouts, deadline, label fallback, anchor."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.domain.causes import Cause
from bot.domain.hypotheses import Verdict
from bot.domain.ports import QueryError
from bot.runbooks import load_paths
from bot.services.diagnostics import AlertView, DiagnosisSettings, IncidentView, diagnose
from tests.fakes.metrics import FakeMetrics, value

LIBRARY = load_paths([Path(__file__).resolve().parents[2] / "runbooks"]).runbooks
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FAST = DiagnosisSettings(query_timeout=0.2, deadline=1.0, scan_enabled=False)


def incident(alertname: str = "HighErrorRate", **labels: str) -> IncidentView:
    base = {"alertname": alertname, "service": "checkout", "namespace": "shop", **labels}
    return IncidentView(
        (AlertView(base, {"summary": "checkout errors"}, START),), declared_at=START + timedelta(minutes=3)
    )


async def test_supported_hypothesis_ranks_first_and_posteriors_sum_to_one() -> None:
    metrics = FakeMetrics(
        {
            "kube_deployment_metadata_generation": value(2),
            'code=~"5.."': value(0.3),
            "http_client_requests_seconds_count": value(0.0),
        }
    )
    report = await diagnose(incident(), metrics=metrics, runbooks=LIBRARY, settings=FAST)
    top = report.diagnosis.hypotheses[0]
    assert (top.service, top.cause) == ("checkout", Cause.BAD_DEPLOY)
    assert report.runbooks[0].runbook.id == "error-rate-spike"
    assert 3 <= len(report.diagnosis.hypotheses) <= 5
    assert math.isclose(report.diagnosis.total, 1.0)
    verdicts = {e.verdict for h in report.diagnosis.hypotheses for e in h.evidence}
    assert Verdict.SUPPORTS in verdicts


async def test_every_query_is_anchored_at_the_first_alert_not_now() -> None:
    metrics = FakeMetrics()
    later = IncidentView(
        (
            AlertView({"alertname": "HighErrorRate", "service": "checkout"}, {}, START + timedelta(minutes=5)),
            AlertView({"alertname": "HighErrorRate", "service": "checkout"}, {}, START),
        )
    )
    await diagnose(
        later, metrics=metrics, runbooks=LIBRARY, settings=DiagnosisSettings(query_timeout=0.2, deadline=1.0)
    )
    assert metrics.asked
    assert {t for _, _, t in metrics.asked} == {START.timestamp()}


async def test_a_query_that_hangs_is_inconclusive_and_the_others_still_score() -> None:
    metrics = FakeMetrics({"kube_deployment_metadata_generation": None, 'code=~"5.."': value(0.3)})
    report = await diagnose(incident(), metrics=metrics, runbooks=LIBRARY, settings=FAST)
    evidence = [e for h in report.diagnosis.hypotheses for e in h.evidence]
    timed_out = [e for e in evidence if "kube_deployment_metadata_generation" in e.query]
    assert timed_out and all(e.verdict is Verdict.INCONCLUSIVE and e.detail == "timed out" for e in timed_out)
    top = report.diagnosis.hypotheses[0]
    assert top.cause is Cause.ERROR_SPIKE and top.evidence[0].verdict is Verdict.SUPPORTS
    assert any(r.outcome == "timeout" for r in report.queries)


async def test_a_failing_store_gives_inconclusive_evidence_never_an_exception() -> None:
    metrics = FakeMetrics({"": QueryError("prometheus unreachable: ConnectionError")})
    report = await diagnose(incident(), metrics=metrics, runbooks=LIBRARY, settings=FAST)
    assert 3 <= len(report.diagnosis.hypotheses) <= 5
    assert all(e.verdict is Verdict.INCONCLUSIVE for h in report.diagnosis.hypotheses for e in h.evidence)
    assert {r.outcome for r in report.queries} == {"error"}


async def test_an_adapter_bug_is_contained() -> None:
    metrics = FakeMetrics({"kube_deployment": RuntimeError("boom"), 'code=~"5.."': value(0.3)})
    report = await diagnose(incident(), metrics=metrics, runbooks=LIBRARY, settings=FAST)
    assert report.diagnosis.hypotheses[0].cause is Cause.ERROR_SPIKE


async def test_the_overall_deadline_cuts_slow_queries() -> None:
    metrics = FakeMetrics({"": None})
    settings = DiagnosisSettings(query_timeout=5.0, deadline=0.2, scan_enabled=False)
    started = datetime.now(UTC)
    report = await diagnose(incident(), metrics=metrics, runbooks=LIBRARY, settings=settings)
    assert (datetime.now(UTC) - started).total_seconds() < 2
    assert {r.outcome for r in report.queries} == {"deadline"}
    details = {e.detail for h in report.diagnosis.hypotheses for e in h.evidence if not e.detail.startswith("needs ")}
    assert details == {"cut by the diagnosis deadline"}


async def test_the_service_label_falls_back_to_job() -> None:
    metrics = FakeMetrics({'job="checkout", code=~"5.."': value(0.4)})
    report = await diagnose(incident(), metrics=metrics, runbooks=LIBRARY, settings=FAST)
    errors = next(h for h in report.diagnosis.hypotheses if h.cause is Cause.ERROR_SPIKE)
    assert errors.evidence[0].verdict is Verdict.SUPPORTS
    assert 'job="checkout"' in errors.evidence[0].query
    asked = [q for _, q, _ in metrics.asked if 'code=~"5.."' in q]
    assert any('service="checkout"' in q for q in asked) and any('job="checkout"' in q for q in asked)


async def test_an_alert_named_by_job_only_uses_job() -> None:
    metrics = FakeMetrics({'job="api", code=~"5.."': value(0.4)})
    alert = IncidentView((AlertView({"alertname": "HighErrorRate", "job": "api"}, {}, START),))
    report = await diagnose(alert, metrics=metrics, runbooks=LIBRARY, settings=FAST)
    assert report.service == "api"
    errors = next(h for h in report.diagnosis.hypotheses if h.cause is Cause.ERROR_SPIKE)
    assert errors.evidence[0].verdict is Verdict.SUPPORTS
    first = next(q for _, q, _ in metrics.asked if 'code=~"5.."' in q)
    assert 'job="api"' in first  # the label the alert used comes first; `service` only when job gives no data


async def test_unsafe_label_values_never_reach_a_query() -> None:
    metrics = FakeMetrics()
    evil = incident(service='x"} or vector(1) or {a="', namespace='shop"}')
    report = await diagnose(evil, metrics=metrics, runbooks=LIBRARY, settings=DiagnosisSettings(deadline=1.0))
    assert all("vector(1)" not in q and 'shop"' not in q for _, q, _ in metrics.asked)
    needs = [e.detail for h in report.diagnosis.hypotheses for e in h.evidence]
    assert any(d.startswith("needs service") or d.startswith("needs deployment") for d in needs)


async def test_without_any_metrics_source_it_still_lists_hypotheses() -> None:
    report = await diagnose(incident(), metrics=None, runbooks=LIBRARY, settings=FAST)
    assert 3 <= len(report.diagnosis.hypotheses) <= 5
    assert {r.outcome for r in report.queries} == {"skipped"}


async def test_logs_evidence_through_the_log_source() -> None:
    metrics = FakeMetrics(kinds=frozenset({"promql", "cloudwatch_logs"}), log_counts={"/aws/lambda/checkout": 12})
    pii = incident("PIIDetectedInLogs")
    report = await diagnose(pii, metrics=metrics, logs=metrics, runbooks=LIBRARY, settings=FAST)
    logs = next(e for h in report.diagnosis.hypotheses for e in h.evidence if e.source == "cloudwatch_logs")
    assert (logs.verdict, logs.observed) == (Verdict.SUPPORTS, 12.0)
    assert report.diagnosis.hypotheses[0].runbook == "pii-leak"
