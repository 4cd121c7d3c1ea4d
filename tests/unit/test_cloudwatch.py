"""CloudWatch alarm message -> Alert mapping, and handle_sns on CloudWatch notifications."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.alert import Alert, AlertStatus, check_annotations, check_labels, fingerprint
from handlers.webhooks.cloudwatch import (
    dimension_label,
    first_datapoint,
    format_threshold,
    message_to_alerts,
    parse_alarm,
    service_for,
)
from handlers.webhooks.sns import SnsError
from handlers.webhooks.sns_route import handle_sns
from handlers.webhooks.sns_signature import SnsVerifier
from tests.sns_support import (
    ACCOUNT,
    ALARM_ARN,
    CERT_URL,
    NOW,
    TOPIC,
    FakeFetcher,
    SigningIdentity,
    alarm,
    encode,
    metric_math_alarm,
    notification,
)


@cache
def identity() -> SigningIdentity:
    return SigningIdentity.create()


def one(message: dict[str, Any]) -> Alert:
    alerts = message_to_alerts(json.dumps(message))
    assert len(alerts) == 1
    return alerts[0]


async def _no_confirm(url: str) -> None:
    raise AssertionError("confirm must not be called for notifications")


async def deliver(message: dict[str, Any] | str, *, subject: str | None = None, message_id: str = "m-1") -> Any:
    signed = identity().sign(notification(message, subject=subject, MessageId=message_id), "2")
    return await handle_sns(
        encode(signed),
        {"Content-Type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "Notification"},
        verifier=SnsVerifier(FakeFetcher({CERT_URL: identity().cert_pem}), clock=lambda: NOW),
        allowed_topics=[f"arn:aws:sns:us-east-1:{ACCOUNT}:*"],
        confirm=_no_confirm,
    )


# --- the standard alarm ---------------------------------------------------------------------


def test_alarm_maps_to_a_firing_alert() -> None:
    alert = one(alarm("ALARM"))
    assert alert.source == "cloudwatch"
    assert alert.status is AlertStatus.FIRING
    assert alert.labels == {
        "alertname": "acme-prod-payments-db-cpu-high",
        "service": "acme-prod-payments-db",
        "namespace": "AWS/RDS",
        "metric": "CPUUtilization",
        "region": "us-east-1",
        "account": ACCOUNT,
        "dim_DBInstanceIdentifier": "acme-prod-payments-db",
    }
    assert alert.annotations["summary"] == "acme-prod-payments-db-cpu-high: CPUUtilization > 85"
    assert alert.annotations["description"].startswith("payments-db (RDS, prod) CPU above 85%")
    assert alert.annotations["reason"].startswith("Threshold Crossed: 3 out of the last 5 datapoints")
    assert alert.starts_at == datetime(2026, 11, 22, 9, 13, 7, 448000, tzinfo=UTC)
    assert alert.ends_at is None
    assert alert.value == "93.41"
    assert alert.fingerprint == fingerprint({"alarm_arn": ALARM_ARN})
    assert alert.generator_url == (
        "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1"
        "#alarmsV2:alarm/acme-prod-payments-db-cpu-high"
    )


def test_ok_resolves_the_same_alert() -> None:
    firing, resolved = one(alarm("ALARM")), one(alarm("OK"))
    assert resolved.status is AlertStatus.RESOLVED
    assert resolved.fingerprint == firing.fingerprint
    assert resolved.labels == firing.labels
    assert resolved.ends_at == datetime(2026, 11, 22, 9, 50, 11, 902000, tzinfo=UTC)
    assert resolved.value == "41.2"


def test_insufficient_data_gives_no_alert() -> None:
    assert message_to_alerts(json.dumps(alarm("INSUFFICIENT_DATA"))) == []


def test_different_alarms_have_different_fingerprints() -> None:
    other = alarm(name="other", arn=f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:other")
    assert one(other).fingerprint != one(alarm()).fingerprint


def test_labels_and_annotations_pass_the_alert_validators() -> None:
    for message in (alarm("ALARM"), alarm("OK"), metric_math_alarm("ALARM"), metric_math_alarm("OK")):
        alert = one(message)
        assert check_labels(dict(alert.labels)) == alert.labels
        assert check_annotations(dict(alert.annotations)) == alert.annotations
        assert Alert.checked(**dataclasses.asdict(alert)) == alert


# --- real-world variations ------------------------------------------------------------------


def test_region_code_comes_from_the_arn_not_the_display_name() -> None:
    msg = alarm(arn=f"arn:aws:cloudwatch:ap-southeast-2:{ACCOUNT}:alarm:acme", Region="Asia Pacific (Sydney)")
    alert = one(msg)
    assert alert.labels["region"] == "ap-southeast-2"
    assert alert.generator_url is not None
    assert alert.generator_url.startswith(
        "https://ap-southeast-2.console.aws.amazon.com/cloudwatch/home?region=ap-southeast-2#"
    )


def test_china_partition_console_url() -> None:
    alert = one(alarm(arn="arn:aws-cn:cloudwatch:cn-north-1:402816359027:alarm:x"))
    assert alert.labels["region"] == "cn-north-1"
    assert alert.generator_url is not None
    assert alert.generator_url.startswith("https://cn-north-1.console.amazonaws.cn/")


def test_metric_math_alarm_without_metric_name() -> None:
    alert = one(metric_math_alarm())
    assert alert.labels == {
        "alertname": "acme-prod-checkout-5xx-ratio",
        "service": "acme-prod-alb",
        "namespace": "AWS/ApplicationELB",
        "metric": "HTTPCode_Target_5XX_Count",
        "region": "eu-west-1",
        "account": ACCOUNT,
        "dim_LoadBalancer": "app/acme-prod-alb/50dc6c495c0c9188",
    }
    assert alert.annotations["summary"] == "acme-prod-checkout-5xx-ratio: HTTPCode_Target_5XX_Count > e1"
    assert "description" not in alert.annotations


def test_pure_expression_alarm_uses_the_expression_label() -> None:
    msg = alarm(
        Trigger={
            "Metrics": [
                {
                    "Id": "e1",
                    "Expression": 'SELECT AVG(CPUUtilization) FROM SCHEMA("AWS/EC2")',
                    "Label": "fleet cpu",
                    "ReturnData": True,
                }
            ],
            "Threshold": 90.0,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        }
    )
    alert = one(msg)
    assert alert.labels["metric"] == "fleet cpu"
    assert "namespace" not in alert.labels
    assert alert.labels["service"] == alert.labels["alertname"]
    assert alert.annotations["summary"].endswith("fleet cpu >= 90")


def test_anomaly_detection_alarm() -> None:
    trigger = {
        "Period": 300,
        "EvaluationPeriods": 2,
        "ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold",
        "ThresholdMetricId": "ad1",
        "TreatMissingData": "",
        "Metrics": [
            {"Expression": "ANOMALY_DETECTION_BAND(m1, 2)", "Id": "ad1", "Label": "band", "ReturnData": True},
            {
                "Id": "m1",
                "MetricStat": {
                    "Metric": {
                        "Dimensions": [{"value": "checkout", "name": "FunctionName"}],
                        "MetricName": "Duration",
                        "Namespace": "AWS/Lambda",
                    },
                    "Period": 300,
                    "Stat": "p99",
                },
                "ReturnData": True,
            },
        ],
    }
    alert = one(alarm(Trigger=trigger))
    assert alert.labels["service"] == "checkout"
    assert alert.labels["metric"] == "Duration"
    assert alert.annotations["summary"].endswith("Duration outside the band ad1")


def test_threshold_null_and_odd_fields_are_tolerated() -> None:
    msg = alarm(AlarmDescription=None)
    msg["Trigger"].update(Threshold=None, Unit=None, Statistic="SAMPLE_COUNT", TreatMissingData="", Dimensions=None)
    alert = one(msg)
    assert alert.annotations["summary"] == "acme-prod-payments-db-cpu-high: CPUUtilization >"
    assert alert.labels["service"] == "acme-prod-payments-db-cpu-high"
    assert not any(k.startswith("dim_") for k in alert.labels)


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("missing", "missing"),
        ("", ""),
        ("- TreatMissingData:                    missing", "missing"),
        ("breaching", "breaching"),
    ],
)
def test_treat_missing_data_variants(raw: str, normalized: str) -> None:
    msg = alarm()
    msg["Trigger"]["TreatMissingData"] = raw
    assert parse_alarm(json.dumps(msg)).Trigger.TreatMissingData == normalized


@pytest.mark.parametrize(
    "when",
    [
        "2026-11-22T09:13:07.448+0000",
        "2026-11-22T09:13:07.448Z",
        "2026-11-22T09:13:07.448+00:00",
        "2026-11-22T09:13:07.448",
    ],
)
def test_state_change_time_formats(when: str) -> None:
    assert one(alarm(StateChangeTime=when)).starts_at == datetime(2026, 11, 22, 9, 13, 7, 448000, tzinfo=UTC)


def test_composite_alarm_without_trigger() -> None:
    msg = alarm(AlarmRule='ALARM("a") OR ALARM("b")', arn=f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:composite")
    del msg["Trigger"]
    alert = one(msg)
    assert alert.annotations["summary"] == 'acme-prod-payments-db-cpu-high: ALARM("a") OR ALARM("b")'
    assert alert.labels["service"] == "acme-prod-payments-db-cpu-high"


def test_dimension_labels_are_sanitized() -> None:
    msg = alarm()
    msg["Trigger"]["Dimensions"] = [
        {"name": "Per-Host Metric.Name", "value": "h1"},
        {"name": "ClusterName", "value": "prod"},
        {"name": "ServiceName", "value": "checkout-api"},
    ]
    alert = one(msg)
    assert alert.labels["dim_Per_Host_Metric_Name"] == "h1"
    assert alert.labels["service"] == "checkout-api"  # ServiceName outranks ClusterName


def test_alarm_name_is_url_quoted_in_the_console_link() -> None:
    alert = one(alarm(name="p99 latency / checkout #1"))
    assert alert.generator_url is not None
    assert alert.generator_url.endswith("#alarmsV2:alarm/p99%20latency%20%2F%20checkout%20%231")


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("DBInstanceIdentifier", "dim_DBInstanceIdentifier"),
        ("a b", "dim_a_b"),
        ("\u00e9t\u00e9", "dim__t_"),
        ("x" * 300, "dim_" + "x" * 124),
    ],
)
def test_dimension_label(name: str, label: str) -> None:
    assert dimension_label(name) == label


def test_service_rule() -> None:
    def dims(**kv: str) -> Any:
        return parse_alarm(
            json.dumps(
                alarm(Trigger={"MetricName": "m", "Dimensions": [{"name": k, "value": v} for k, v in kv.items()]})
            )
        ).Trigger.Dimensions

    assert service_for("alarm", dims(InstanceId="i-1")) == "alarm"
    assert service_for("alarm", dims(AutoScalingGroupName="web", FunctionName="fn")) == "fn"
    assert service_for("alarm", dims(TargetGroup="targetgroup/web-tg/73e2d6bc24d8a067")) == "web-tg"
    assert service_for("alarm", dims(ClusterName="c", ServiceName="")) == "c"


@pytest.mark.parametrize(
    ("reason", "value"),
    [
        ("Threshold Crossed: 1 datapoint [2.0 (22/11/26 09:12:00)] was greater than the threshold (1.0).", "2.0"),
        (
            "Threshold Crossed: 2 out of the last 2 datapoints [-3.5E-4 (22/11/26 09:12:00), 1.0 (x)] were less",
            "-3.5E-4",
        ),
        (
            "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [Breaching].",
            None,
        ),
        ("Unchecked: Initial alarm creation", None),
        (None, None),
    ],
)
def test_first_datapoint(reason: str | None, value: str | None) -> None:
    assert first_datapoint(reason) == value


@pytest.mark.parametrize(("threshold", "text"), [(85.0, "85"), (0.5, "0.5"), (-1.0, "-1"), (1e20, "1e+20")])
def test_format_threshold(threshold: float, text: str) -> None:
    assert format_threshold(threshold) == text


# --- not an alarm ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "hello world",
        "[]",
        '"just a string"',
        json.dumps({"foo": "bar"}),
        json.dumps({**alarm(), "NewStateValue": "BROKEN"}),
        json.dumps({**alarm(), "AlarmArn": "arn:aws:sns:us-east-1:402816359027:not-an-alarm"}),
        json.dumps({**alarm(), "StateChangeTime": "yesterday"}),
        json.dumps({**alarm(), "AlarmName": ""}),
        json.dumps({**alarm(), "AlarmName": "bad\x00name"}),
        json.dumps({**alarm(), "Trigger": {"Dimensions": [{"name": "x"}]}}),
        json.dumps({**alarm(), "Trigger": "nope"}),
    ],
)
def test_non_alarm_messages_are_400(message: str) -> None:
    with pytest.raises(SnsError) as info:
        message_to_alerts(message)
    assert (info.value.code, info.value.status) == ("not_a_cloudwatch_alarm", 400)
    assert "\x00" not in info.value.detail


# --- through handle_sns ---------------------------------------------------------------------


async def test_handle_sns_maps_a_verified_alarm_notification() -> None:
    outcome = await deliver(
        alarm("ALARM"),
        subject='ALARM: "acme-prod-payments-db-cpu-high" in US East (N. Virginia)',
        message_id="retry-me",
    )
    assert outcome.kind == "notification"
    assert outcome.message_id == "retry-me"
    assert outcome.topic_arn == TOPIC
    assert [a.status for a in outcome.alerts] == [AlertStatus.FIRING]


async def test_handle_sns_insufficient_data_is_a_notification_without_alerts() -> None:
    outcome = await deliver(alarm("INSUFFICIENT_DATA"))
    assert outcome.kind == "notification"
    assert outcome.alerts == []


async def test_handle_sns_rejects_non_alarm_messages() -> None:
    with pytest.raises(SnsError) as info:
        await deliver("plain text published by hand")
    assert info.value.code == "not_a_cloudwatch_alarm"


async def test_retries_share_the_message_id() -> None:
    first = await deliver(alarm(), message_id="abc")
    again = await deliver(alarm(), message_id="abc")
    assert first == again


# --- properties -----------------------------------------------------------------------------

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
trigger_st = st.fixed_dictionaries(
    {},
    optional={
        "MetricName": scalars,
        "Namespace": scalars,
        "Threshold": scalars,
        "ComparisonOperator": scalars,
        "TreatMissingData": scalars,
        "Dimensions": st.none() | st.lists(st.fixed_dictionaries({"name": scalars, "value": scalars}), max_size=3),
        "Metrics": st.lists(
            st.dictionaries(st.sampled_from(["Id", "Expression", "Label", "ReturnData", "MetricStat"]), scalars),
            max_size=3,
        ),
    },
)
alarm_st = st.fixed_dictionaries(
    {
        "AlarmName": scalars,
        "AlarmArn": st.one_of(
            scalars,
            st.just(ALARM_ARN),
            st.text(max_size=20).map(lambda s: f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{s}"),
        ),
        "NewStateValue": st.sampled_from(["ALARM", "OK", "INSUFFICIENT_DATA", "x"]),
        "StateChangeTime": st.one_of(scalars, st.just("2026-11-22T09:13:07.448+0000")),
    },
    optional={
        "Trigger": st.one_of(scalars, trigger_st),
        "NewStateReason": scalars,
        "AlarmDescription": scalars,
        "AWSAccountId": scalars,
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(alarm_st)
def test_alarm_like_messages_raise_only_sns_error(message: dict[str, Any]) -> None:
    try:
        alerts = message_to_alerts(json.dumps(message))
    except SnsError as exc:
        assert exc.code == "not_a_cloudwatch_alarm"
    else:
        assert len(alerts) <= 1


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(alarm_st)
def test_signed_alarm_like_notifications_raise_only_sns_error(message: dict[str, Any]) -> None:
    try:
        asyncio.run(deliver(message))
    except SnsError as exc:
        assert exc.code == "not_a_cloudwatch_alarm"


def test_long_expression_and_rule_are_truncated_not_rejected() -> None:
    expression = "m1 + " * 500 + "m1"
    alert = one(alarm(Trigger={"Metrics": [{"Id": "e1", "Expression": expression, "ReturnData": True}]}))
    assert len(alert.labels["metric"]) == 1024
    composite = alarm(AlarmRule="ALARM(a) OR " * 2000)
    del composite["Trigger"]
    assert len(one(composite).annotations["summary"]) == 16384
