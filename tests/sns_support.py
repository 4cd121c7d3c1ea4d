"""Test helpers for SNS: a throwaway RSA key + self-signed cert, and signing exactly like SNS does."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

NOW = datetime(2026, 11, 22, 9, 15, tzinfo=UTC)
ACCOUNT = "402816359027"
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:acme-prod-alarms"
OTHER_TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:someone-elses-topic"
CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-7c1f0b9e2d4a6e8f3b5c7d9e1a2b4c6d.pem"
ALARM_ARN = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:acme-prod-payments-db-cpu-high"
SUBSCRIBE_URL = (
    "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"
    f"&TopicArn={TOPIC}&Token=2336412f37fb687f5d51e6e2425a8a58764d2b4f3e1c0a9b"
)
NOTIFICATION_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_KEYS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}


def canonical(msg: dict[str, Any]) -> bytes:
    """An independent implementation of SNS's string to sign (kept separate from production code)."""
    keys = NOTIFICATION_KEYS if msg["Type"] == "Notification" else CONFIRMATION_KEYS
    return "".join(f"{k}\n{msg[k]}\n" for k in keys if k in msg).encode()


@dataclass
class SigningIdentity:
    """An RSA key and a self-signed certificate standing in for SNS's signing cert."""

    key: rsa.RSAPrivateKey
    cert_pem: bytes

    @classmethod
    def create(
        cls, *, not_before: datetime = NOW - timedelta(days=1), not_after: datetime = NOW + timedelta(days=30)
    ) -> SigningIdentity:
        """A fresh 2048-bit key and a cert valid over [not_before, not_after]."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .sign(key, hashes.SHA256())
        )
        return cls(key=key, cert_pem=cert.public_bytes(serialization.Encoding.PEM))

    def sign(self, msg: dict[str, Any], version: str = "1", cert_url: str = CERT_URL) -> dict[str, Any]:
        """A copy of `msg` with SignatureVersion, SigningCertURL and a real Signature, as SNS signs."""
        out = {**msg, "SignatureVersion": version, "SigningCertURL": cert_url}
        signature = self.key.sign(canonical(out), padding.PKCS1v15(), HASHES.get(version, hashes.SHA256)())
        out["Signature"] = base64.b64encode(signature).decode()
        return out


@dataclass
class FakeFetcher:
    """A CertFetcher that serves fixed PEMs and records every URL it was asked for."""

    pems: dict[str, bytes]
    calls: list[str] = field(default_factory=list)
    error: Exception | None = None

    async def __call__(self, url: str) -> bytes:
        """Return the PEM for `url` (raise KeyError for an unknown one)."""
        self.calls.append(url)
        if self.error is not None:
            raise self.error
        return self.pems[url]


def alarm(
    state: str = "ALARM",
    *,
    name: str = "acme-prod-payments-db-cpu-high",
    arn: str = ALARM_ARN,
    **overrides: Any,
) -> dict[str, Any]:
    """A CloudWatch alarm state-change message (as CloudWatch publishes it to SNS)."""
    reason = {
        "ALARM": "Threshold Crossed: 3 out of the last 5 datapoints [93.41 (22/11/26 09:12:00), "
        "91.07 (22/11/26 09:11:00), 88.6 (22/11/26 09:09:00)] were greater than the threshold (85.0) "
        "(minimum 3 datapoints for OK -> ALARM transition).",
        "OK": "Threshold Crossed: 3 out of the last 5 datapoints [41.2 (22/11/26 09:49:00), "
        "39.87 (22/11/26 09:48:00), 44.03 (22/11/26 09:47:00)] were not greater than the threshold (85.0) "
        "(minimum 3 datapoints for ALARM -> OK transition).",
        "INSUFFICIENT_DATA": "Insufficient Data: 1 datapoint was unknown.",
    }[state]
    body: dict[str, Any] = {
        "AlarmName": name,
        "AlarmDescription": "payments-db (RDS, prod) CPU above 85% for 3 of 5 minutes.",
        "AWSAccountId": ACCOUNT,
        "AlarmConfigurationUpdatedTimestamp": "2026-10-02T13:48:19.052+0000",
        "NewStateValue": state,
        "NewStateReason": reason,
        "StateChangeTime": "2026-11-22T09:13:07.448+0000" if state == "ALARM" else "2026-11-22T09:50:11.902+0000",
        "Region": "US East (N. Virginia)",
        "AlarmArn": arn,
        "OldStateValue": "OK" if state == "ALARM" else "ALARM",
        "OKActions": [TOPIC],
        "AlarmActions": [TOPIC],
        "InsufficientDataActions": [],
        "Trigger": {
            "MetricName": "CPUUtilization",
            "Namespace": "AWS/RDS",
            "StatisticType": "Statistic",
            "Statistic": "AVERAGE",
            "Unit": None,
            "Dimensions": [{"value": "acme-prod-payments-db", "name": "DBInstanceIdentifier"}],
            "Period": 60,
            "EvaluationPeriods": 5,
            "DatapointsToAlarm": 3,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 85.0,
            "TreatMissingData": "missing",
            "EvaluateLowSampleCountPercentile": "",
        },
    }
    body.update(overrides)
    return body


def metric_math_alarm(state: str = "ALARM") -> dict[str, Any]:
    """A metric-math alarm: `Trigger.Metrics[]`, no MetricName/Namespace, Threshold null, old TreatMissingData."""
    return alarm(
        state,
        name="acme-prod-checkout-5xx-ratio",
        arn=f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:acme-prod-checkout-5xx-ratio",
        AlarmDescription=None,
        Trigger={
            "Period": 60,
            "EvaluationPeriods": 3,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": None,
            "ThresholdMetricId": "e1",
            "TreatMissingData": "- TreatMissingData:                    missing",
            "EvaluateLowSampleCountPercentile": "",
            "Metrics": [
                {"Expression": "100 * m1 / m2", "Id": "e1", "Label": "5xx ratio", "ReturnData": True},
                {
                    "Id": "m1",
                    "MetricStat": {
                        "Metric": {
                            "Dimensions": [{"value": "app/acme-prod-alb/50dc6c495c0c9188", "name": "LoadBalancer"}],
                            "MetricName": "HTTPCode_Target_5XX_Count",
                            "Namespace": "AWS/ApplicationELB",
                        },
                        "Period": 60,
                        "Stat": "Sum",
                    },
                    "ReturnData": False,
                },
                {
                    "Id": "m2",
                    "MetricStat": {
                        "Metric": {
                            "Dimensions": [{"value": "app/acme-prod-alb/50dc6c495c0c9188", "name": "LoadBalancer"}],
                            "MetricName": "RequestCount",
                            "Namespace": "AWS/ApplicationELB",
                        },
                        "Period": 60,
                        "Stat": "Sum",
                    },
                    "ReturnData": False,
                },
            ],
        },
    )


def notification(message: dict[str, Any] | str, *, subject: str | None = None, **overrides: Any) -> dict[str, Any]:
    """An unsigned SNS Notification envelope carrying `message` (dicts are JSON-encoded, like CloudWatch does)."""
    body: dict[str, Any] = {
        "Type": "Notification",
        "MessageId": "f2b6d8e1-9c3a-5d47-b0e2-4a8c1f6d3e95",
        "TopicArn": TOPIC,
        "Message": message if isinstance(message, str) else json.dumps(message, separators=(",", ":")),
        "Timestamp": "2026-11-22T09:13:07.503Z",
        "UnsubscribeURL": f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TOPIC}:5c0e3d9a",
    }
    if subject is not None:
        body["Subject"] = subject
    body.update(overrides)
    return body


def confirmation(kind: str = "SubscriptionConfirmation", **overrides: Any) -> dict[str, Any]:
    """An unsigned SubscriptionConfirmation / UnsubscribeConfirmation envelope."""
    body: dict[str, Any] = {
        "Type": kind,
        "MessageId": "8a3f1c2e-5b7d-4e90-a1c3-6d2f8b4e0a17",
        "Token": "2336412f37fb687f5d51e6e2425a8a58764d2b4f3e1c0a9b",
        "TopicArn": TOPIC,
        "Message": f"You have chosen to subscribe to the topic {TOPIC}.\nTo confirm the subscription, visit the SubscribeURL.",
        "SubscribeURL": SUBSCRIBE_URL,
        "Timestamp": "2026-11-22T09:02:41.318Z",
    }
    body.update(overrides)
    return body


def encode(msg: dict[str, Any]) -> bytes:
    """The HTTP body SNS would POST (compact JSON, UTF-8)."""
    return json.dumps(msg).encode()
