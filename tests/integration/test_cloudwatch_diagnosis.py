"""Diagnosis evidence from CloudWatch metrics and CloudWatch Logs, through boto3 against a moto server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from bot.domain.causes import Cause
from bot.domain.hypotheses import Verdict
from bot.domain.ports import QueryError
from bot.domain.runbook import CloudWatchLogs, CloudWatchMetric, Query
from bot.runbooks import load_paths
from bot.services.diagnostics import AlertView, DiagnosisSettings, IncidentView, diagnose
from integrations.cloudwatch_metrics import CloudWatchSource

LIBRARY = load_paths([Path(__file__).resolve().parents[2] / "runbooks"]).runbooks
REGION = "us-east-1"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def session() -> boto3.session.Session:
    return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)


@pytest.fixture
def source(moto_url: str, session: boto3.session.Session) -> Iterator[CloudWatchSource]:
    cw = CloudWatchSource(endpoint_url=moto_url, session=session, region=REGION)
    yield cw
    cw.close()


async def test_metric_data_and_log_events_become_evidence(
    moto_url: str, session: boto3.session.Session, source: CloudWatchSource
) -> None:
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    cloudwatch = session.client("cloudwatch", endpoint_url=moto_url)
    cloudwatch.put_metric_data(
        Namespace="AWS/ApplicationELB",
        MetricData=[
            {
                "MetricName": "HTTPCode_Target_5XX_Count",
                "Dimensions": [{"Name": "LoadBalancer", "Value": "app/web/50dc6c495c0c9188"}],
                "Timestamp": at - timedelta(minutes=m),
                "Value": 40.0 + m,
                "Unit": "Count",
            }
            for m in range(1, 9)
        ],
    )
    logs = session.client("logs", endpoint_url=moto_url)
    logs.create_log_group(logGroupName="/aws/lambda/web")
    logs.create_log_stream(logGroupName="/aws/lambda/web", logStreamName="s1")
    logs.put_log_events(
        logGroupName="/aws/lambda/web",
        logStreamName="s1",
        logEvents=[
            {"timestamp": int((at - timedelta(minutes=5 - i)).timestamp() * 1000), "message": text}
            for i, text in enumerate(["login ok", "login password=hunter2", "db ok", "retry password=x"])
        ],
    )

    alb = IncidentView(
        (
            AlertView(
                {"alertname": "HighErrorRate", "service": "web", "load_balancer": "app/web/50dc6c495c0c9188"},
                {},
                at,
            ),
        )
    )
    settings = DiagnosisSettings(query_timeout=5, deadline=10, scan_enabled=False)
    report = await diagnose(alb, metrics=source, logs=source, runbooks=LIBRARY, settings=settings)
    alb5xx = next(e for h in report.diagnosis.hypotheses for e in h.evidence if e.source == "cloudwatch_metric")
    assert (alb5xx.verdict, alb5xx.observed, alb5xx.threshold) == (Verdict.SUPPORTS, 48.0, 10.0)
    top = report.diagnosis.hypotheses[0]
    assert (top.service, top.cause) == ("web", Cause.ERROR_SPIKE)
    # PromQL hypotheses have no source here: inconclusive, never an error
    assert {r.outcome for r in report.queries if r.text.startswith(("sum(", "max(", "count("))} == {"skipped"}

    pii = IncidentView((AlertView({"alertname": "PIIDetectedInLogs", "service": "web"}, {}, at),))
    report = await diagnose(pii, metrics=source, logs=source, runbooks=LIBRARY, settings=settings)
    found = next(e for h in report.diagnosis.hypotheses for e in h.evidence if e.source == "cloudwatch_logs")
    assert (found.verdict, found.observed) == (Verdict.SUPPORTS, 2.0)
    assert report.diagnosis.hypotheses[0].runbook == "pii-leak"


async def test_a_missing_log_group_or_metric_is_no_evidence(source: CloudWatchSource) -> None:
    at = datetime.now(UTC)
    with pytest.raises(QueryError, match="ResourceNotFoundException"):
        await source.count(
            Query(cloudwatch_logs=CloudWatchLogs(log_group="/nope", filter="ERROR")),
            start=at - timedelta(minutes=5),
            end=at,
            time_limit=5,
        )
    empty = await source.query(
        Query(
            cloudwatch_metric=CloudWatchMetric(
                namespace="AWS/Lambda", metric="Errors", dimensions={"FunctionName": "x"}
            )
        ),
        at=at,
        time_limit=5,
    )
    assert empty == []


async def test_an_unreachable_endpoint_is_a_query_error(session: boto3.session.Session) -> None:
    dead = CloudWatchSource(endpoint_url="http://127.0.0.1:9", session=session, region=REGION, timeout=1)
    try:
        with pytest.raises(QueryError, match="unreachable"):
            await dead.query(
                Query(cloudwatch_metric=CloudWatchMetric(namespace="AWS/Lambda", metric="Errors")),
                at=datetime.now(UTC),
                time_limit=1,
            )
    finally:
        dead.close()
