"""CloudWatch alarm notifications (via SNS) -> normalized `Alert`s (SNS itself: sns.py, sns_signature.py).

Mapping of one alarm state change to at most one `Alert`:

- status: NewStateValue ALARM -> FIRING, OK -> RESOLVED, INSUFFICIENT_DATA -> no alert.
- fingerprint: `fingerprint({"alarm_arn": AlarmArn})`, so ALARM and OK of one alarm share it.
- labels: `alertname` (AlarmName), `service`, `namespace`, `metric`, `region` (code from AlarmArn),
  `account` (AWSAccountId, else from AlarmArn), and `dim_<Name>` per dimension (name reduced to
  `[A-Za-z0-9_]`). Empty values are left out.
- metric-math / anomaly alarms (no Trigger.MetricName): the "primary metric" is the first
  `Trigger.Metrics[]` entry with a MetricStat, preferring ReturnData=true entries; `metric`,
  `namespace` and the dimensions come from it. Without any MetricStat, `metric` is the Label,
  else Expression, else Id of the first ReturnData entry.
- service: the value of the first dimension found in `SERVICE_DIMENSIONS` (that order, not the
  alarm's); `LoadBalancer`/`TargetGroup` values `app/<name>/<id>` give `<name>`; else AlarmName.
- annotations: `summary` `"<AlarmName>: <metric> <op> <Threshold>"`, `description`
  (AlarmDescription, when set), `reason` (NewStateReason, when set).
- starts_at = StateChangeTime; for OK also ends_at = StateChangeTime; value = the first datapoint
  quoted in NewStateReason (`[93.41 (22/11/26 09:12:00), ...]`), else None.
- generator_url: the alarm in the CloudWatch console of its region (partition-aware host).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Final, Literal
from urllib.parse import quote as url_quote

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from bot.domain.alert import ANNOTATION_MAX, LABEL_VALUE_MAX, Alert, AlertError, AlertStatus, fingerprint
from handlers.webhooks.common import quote, validation_detail
from handlers.webhooks.sns import (
    SnsError,
)

SOURCE: Final = "cloudwatch"
SERVICE_DIMENSIONS: Final = (
    "ServiceName",
    "FunctionName",
    "DBInstanceIdentifier",
    "DBClusterIdentifier",
    "CacheClusterId",
    "ReplicationGroupId",
    "LoadBalancer",
    "LoadBalancerName",
    "TargetGroup",
    "ApiName",
    "QueueName",
    "TopicName",
    "TableName",
    "StreamName",
    "DeliveryStreamName",
    "StateMachineArn",
    "DomainName",
    "BucketName",
    "ClusterName",
    "AutoScalingGroupName",
)
OPERATORS: Final = {
    "GreaterThanOrEqualToThreshold": ">=",
    "GreaterThanThreshold": ">",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
    "LessThanLowerOrGreaterThanUpperThreshold": "outside the band",
    "LessThanLowerThreshold": "below the band",
    "GreaterThanUpperThreshold": "above the band",
}
CONSOLE_HOSTS: Final = {
    "aws": "https://{region}.console.aws.amazon.com",
    "aws-cn": "https://{region}.console.amazonaws.cn",
    "aws-us-gov": "https://console.amazonaws-us-gov.com",
}
ALARM_ARN: Final = re.compile(r"arn:(aws[a-z-]*):cloudwatch:([a-z]{2}(?:-[a-z]+)+-\d{1,2}):(\d{12}):alarm:(.+)", re.S)
FIRST_DATAPOINT: Final = re.compile(r"\[\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*\(")
LABEL_UNSAFE: Final = re.compile(r"[^A-Za-z0-9_]")
TMD_PREFIX: Final = re.compile(r"^-?\s*TreatMissingData:\s*", re.I)


# --- the alarm message ----------------------------------------------------------------------


def _aware(value: object) -> object:
    """Accept `+0000` offsets (pydantic does) and read naive times as UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip())
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _none_to_empty(value: object) -> object:
    return [] if value is None else value


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class AlarmDimension(_Model):
    """One dimension; CloudWatch writes them as `{"value": ..., "name": ...}`."""

    name: str = Field(min_length=1, max_length=255)
    value: str = Field(max_length=1024)


DimensionList = Annotated[list[AlarmDimension], BeforeValidator(_none_to_empty)]


class MetricRef(_Model):
    """`MetricStat.Metric` of a metric-math query."""

    MetricName: str | None = None
    Namespace: str | None = None
    Dimensions: DimensionList = Field(default_factory=list)


class AlarmMetricStat(_Model):
    """`MetricStat` of a metric-math query."""

    Metric: MetricRef
    Period: int | None = None
    Stat: str | None = None
    Unit: str | None = None


class MetricQuery(_Model):
    """One `Trigger.Metrics[]` entry (metric-math and anomaly-detection alarms)."""

    Id: str | None = None
    Expression: str | None = None
    Label: str | None = None
    ReturnData: bool | None = None
    MetricStat: AlarmMetricStat | None = None


class AlarmTrigger(_Model):
    """The alarm's rule; either a single metric or `Metrics[]`."""

    MetricName: str | None = None
    Namespace: str | None = None
    Statistic: str | None = None
    ExtendedStatistic: str | None = None
    Unit: str | None = None
    Dimensions: DimensionList = Field(default_factory=list)
    Period: int | None = None
    EvaluationPeriods: int | None = None
    DatapointsToAlarm: int | None = None
    ComparisonOperator: str | None = None
    Threshold: float | None = None
    ThresholdMetricId: str | None = None
    TreatMissingData: str | None = None
    Metrics: Annotated[list[MetricQuery], BeforeValidator(_none_to_empty)] = Field(default_factory=list)

    @field_validator("TreatMissingData")
    @classmethod
    def _treat_missing(cls, v: str | None) -> str | None:
        """Old alarms send `- TreatMissingData:   missing`; keep just the value."""
        return None if v is None else TMD_PREFIX.sub("", v).strip()


class CloudWatchAlarm(_Model):
    """The alarm state-change JSON that CloudWatch publishes to SNS (tolerant of real variations)."""

    AlarmName: str = Field(min_length=1, max_length=1024)
    AlarmDescription: str | None = None
    AWSAccountId: str | None = None
    NewStateValue: Literal["ALARM", "OK", "INSUFFICIENT_DATA"]
    NewStateReason: str | None = None
    StateChangeTime: Annotated[datetime, BeforeValidator(_aware)]
    Region: str | None = None
    AlarmArn: str
    OldStateValue: str | None = None
    AlarmRule: str | None = None
    Trigger: AlarmTrigger = Field(default_factory=AlarmTrigger)


@dataclass(frozen=True)
class ParsedArn:
    """The parts of an alarm ARN the labels use."""

    partition: str
    region: str
    account: str


def parse_alarm(message: str) -> CloudWatchAlarm:
    """Parse SNS `Message` (the alarm JSON as a string) or raise `not_a_cloudwatch_alarm` (400)."""
    try:
        data = json.loads(message)
    except (ValueError, RecursionError):
        raise SnsError("not_a_cloudwatch_alarm", "Message is not JSON") from None
    if not isinstance(data, dict) or "AlarmArn" not in data or "NewStateValue" not in data:
        raise SnsError("not_a_cloudwatch_alarm", "Message is not a CloudWatch alarm state change")
    try:
        return CloudWatchAlarm.model_validate(data)
    except ValidationError as exc:
        raise SnsError("not_a_cloudwatch_alarm", "invalid alarm: " + validation_detail(exc, limit=5)) from None


def parse_alarm_arn(arn: str) -> ParsedArn:
    """Partition, region code and account from an alarm ARN."""
    match = ALARM_ARN.fullmatch(arn)
    if match is None:
        raise SnsError("not_a_cloudwatch_alarm", f"AlarmArn {quote(arn)} is not a CloudWatch alarm ARN")
    return ParsedArn(partition=match[1], region=match[2], account=match[3])


# --- mapping --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrimaryMetric:
    """The metric an alarm watches: name, namespace and dimensions."""

    name: str
    namespace: str
    dimensions: list[AlarmDimension]


def _primary_query(metrics: list[MetricQuery]) -> MetricQuery | None:
    """First query with a MetricStat, preferring ReturnData=true ones."""
    with_stat = [q for q in metrics if q.MetricStat is not None]
    returned = [q for q in with_stat if q.ReturnData]
    candidates = returned or with_stat
    return candidates[0] if candidates else None


def _query_label(metrics: list[MetricQuery]) -> str:
    """Label, else Expression, else Id of the first returned query (metric math without MetricStat)."""
    returned = [q for q in metrics if q.ReturnData] or metrics
    if not returned:
        return ""
    query = returned[0]
    return query.Label or query.Expression or query.Id or ""


def primary_metric(trigger: AlarmTrigger) -> PrimaryMetric:
    """The metric an alarm watches: the Trigger's own, else the primary metric-math query's."""
    if trigger.MetricName:
        return PrimaryMetric(trigger.MetricName, trigger.Namespace or "", list(trigger.Dimensions))
    query = _primary_query(trigger.Metrics)
    if query is None or query.MetricStat is None:
        return PrimaryMetric(_query_label(trigger.Metrics), trigger.Namespace or "", list(trigger.Dimensions))
    ref = query.MetricStat.Metric
    return PrimaryMetric(ref.MetricName or "", ref.Namespace or "", list(ref.Dimensions))


def dimension_label(name: str) -> str:
    """`dim_<name>` with anything outside `[A-Za-z0-9_]` replaced by `_`, at most 128 characters."""
    return ("dim_" + LABEL_UNSAFE.sub("_", name))[:128]


def _service_value(name: str, value: str) -> str:
    """`app/<name>/<id>` (LoadBalancer, TargetGroup) -> `<name>`; others unchanged."""
    if name in ("LoadBalancer", "TargetGroup") and value.count("/") >= 2:
        return value.split("/")[1]
    return value


def service_for(alarm_name: str, dimensions: list[AlarmDimension]) -> str:
    """The first SERVICE_DIMENSIONS dimension's value, else the alarm name."""
    by_name = {d.name: d.value for d in dimensions if d.value}
    for name in SERVICE_DIMENSIONS:
        if name in by_name:
            return _service_value(name, by_name[name])
    return alarm_name


def _labels(alarm: CloudWatchAlarm, arn: ParsedArn, metric: PrimaryMetric) -> dict[str, str]:
    """The label set (see module docstring); empty values are dropped."""
    labels = {
        "alertname": alarm.AlarmName,
        "service": service_for(alarm.AlarmName, metric.dimensions),
        "namespace": metric.namespace,
        "metric": metric.name,
        "region": arn.region,
        "account": alarm.AWSAccountId or arn.account,
    }
    for dim in metric.dimensions:
        labels.setdefault(dimension_label(dim.name), dim.value)
    return {k: v[:LABEL_VALUE_MAX] for k, v in labels.items() if v}


def format_threshold(value: float) -> str:
    """85.0 -> "85", 0.5 -> "0.5"."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def summary_for(alarm: CloudWatchAlarm, metric: PrimaryMetric) -> str:
    """`"<AlarmName>: <metric> <op> <Threshold>"`; band alarms name the band's query id instead."""
    trigger = alarm.Trigger
    op_name = trigger.ComparisonOperator or ""
    op = OPERATORS.get(op_name, op_name)
    bound = format_threshold(trigger.Threshold) if trigger.Threshold is not None else trigger.ThresholdMetricId or ""
    if not metric.name and alarm.AlarmRule:
        return f"{alarm.AlarmName}: {alarm.AlarmRule}"
    rule = " ".join(part for part in (metric.name or "metric", op, bound) if part)
    return f"{alarm.AlarmName}: {rule}"


def first_datapoint(reason: str | None) -> str | None:
    """The first datapoint quoted in NewStateReason (`[93.41 (22/11/26 09:12:00), ...]`), if any."""
    match = FIRST_DATAPOINT.search(reason or "")
    return match[1] if match else None


def console_url(arn: ParsedArn, alarm_name: str) -> str:
    """The alarm's page in the CloudWatch console (url-quoted name)."""
    host = CONSOLE_HOSTS.get(arn.partition, CONSOLE_HOSTS["aws"]).format(region=arn.region)
    return f"{host}/cloudwatch/home?region={arn.region}#alarmsV2:alarm/{url_quote(alarm_name, safe='')}"


def _annotations(alarm: CloudWatchAlarm, metric: PrimaryMetric) -> dict[str, str]:
    annotations = {
        "summary": summary_for(alarm, metric),
        "description": alarm.AlarmDescription or "",
        "reason": alarm.NewStateReason or "",
    }
    return {k: v[:ANNOTATION_MAX] for k, v in annotations.items() if v}


def alarm_to_alerts(alarm: CloudWatchAlarm) -> list[Alert]:
    """One `Alert` for ALARM/OK, none for INSUFFICIENT_DATA; raises `SnsError` on unusable data."""
    if alarm.NewStateValue == "INSUFFICIENT_DATA":
        return []
    arn = parse_alarm_arn(alarm.AlarmArn)
    metric = primary_metric(alarm.Trigger)
    status = AlertStatus.FIRING if alarm.NewStateValue == "ALARM" else AlertStatus.RESOLVED
    try:
        alert = Alert.checked(
            source=SOURCE,
            fingerprint=fingerprint({"alarm_arn": alarm.AlarmArn}),
            status=status,
            labels=_labels(alarm, arn, metric),
            annotations=_annotations(alarm, metric),
            starts_at=alarm.StateChangeTime,
            ends_at=alarm.StateChangeTime if status is AlertStatus.RESOLVED else None,
            generator_url=console_url(arn, alarm.AlarmName),
            value=first_datapoint(alarm.NewStateReason),
        )
    except AlertError as exc:
        raise SnsError("not_a_cloudwatch_alarm", f"alarm cannot be normalized: {exc.code}") from None
    return [alert]


def message_to_alerts(message: str) -> list[Alert]:
    """SNS `Message` string -> the alarm's alerts (0 or 1)."""
    return alarm_to_alerts(parse_alarm(message))
