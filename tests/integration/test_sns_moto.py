"""SNS -> HTTP receiver -> handle_sns, with moto's real signatures and moto's own signing certificate.

moto (in-process, `mock_aws`) auto-confirms HTTP subscriptions, POSTs each publish to the endpoint
synchronously, signs with SignatureVersion 2 and serves the PEM at the SigningCertURL (intercepted
`requests.get`). It leaves Subject out of what it signs, so we publish without a Subject, as the brief says.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws

from bot.domain.alert import AlertStatus, fingerprint
from handlers.webhooks.sns import SnsError, check_cert_url
from handlers.webhooks.sns_route import SnsOutcome, handle_sns
from handlers.webhooks.sns_signature import SnsVerifier
from tests.sns_support import alarm

REGION = "us-east-1"


class MotoCertFetcher:
    """Fetches the signing cert the way production would, but through moto's interception of requests."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, url: str) -> bytes:
        """GET the PEM (moto answers for https://sns.<region>.amazonaws.com/*.pem inside mock_aws)."""
        self.calls.append(url)
        response = await asyncio.to_thread(requests.get, url, timeout=5)
        response.raise_for_status()
        return response.content


@dataclass
class Receiver:
    """A loopback HTTP endpoint that feeds every raw body into handle_sns and records the result."""

    allowed_topics: list[str]
    fetcher: MotoCertFetcher = field(default_factory=MotoCertFetcher)
    outcomes: list[SnsOutcome] = field(default_factory=list)
    errors: list[SnsError] = field(default_factory=list)
    raw: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.verifier = SnsVerifier(self.fetcher)

    async def _confirm(self, url: str) -> None:
        raise AssertionError("moto auto-confirms; no SubscriptionConfirmation expected")

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        """Run handle_sns on one delivery; the HTTP status it would answer."""
        self.raw.append((headers, body))
        try:
            outcome = asyncio.run(
                handle_sns(
                    body, headers, verifier=self.verifier, allowed_topics=self.allowed_topics, confirm=self._confirm
                )
            )
        except SnsError as exc:
            self.errors.append(exc)
            return exc.status
        self.outcomes.append(outcome)
        return 200


def _handler_class(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver.handle(dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with mock_aws():
        yield boto3.client("sns", region_name=REGION)


def serve(receiver: Receiver) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(receiver))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    host, port = server.server_address[:2]
    return server, f"http://{host!s}:{port}/webhooks/cloudwatch"


@pytest.fixture
def topics(aws: Any) -> dict[str, str]:
    return {name: aws.create_topic(Name=name)["TopicArn"] for name in ("acme-prod-alarms", "someone-elses-topic")}


@pytest.fixture
def receiver(aws: Any, topics: dict[str, str]) -> Iterator[Receiver]:
    rec = Receiver(allowed_topics=[topics["acme-prod-alarms"]])
    server, url = serve(rec)
    for arn in topics.values():
        sub = aws.subscribe(TopicArn=arn, Protocol="http", Endpoint=url)
        assert sub["SubscriptionArn"].startswith(arn)
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()


def test_moto_alarm_notification_is_verified_and_mapped(aws: Any, topics: dict[str, str], receiver: Receiver) -> None:
    topic = topics["acme-prod-alarms"]
    account = topic.split(":")[4]
    alarm_arn = f"arn:aws:cloudwatch:{REGION}:{account}:alarm:acme-prod-payments-db-cpu-high"
    message_id = aws.publish(TopicArn=topic, Message=json.dumps(alarm("ALARM", arn=alarm_arn)))["MessageId"]

    assert receiver.errors == []
    [outcome] = receiver.outcomes
    assert (outcome.kind, outcome.message_id, outcome.topic_arn) == ("notification", message_id, topic)
    [alert] = outcome.alerts
    assert alert.status is AlertStatus.FIRING
    assert alert.fingerprint == fingerprint({"alarm_arn": alarm_arn})
    assert alert.labels["alertname"] == "acme-prod-payments-db-cpu-high"
    assert alert.labels["service"] == "acme-prod-payments-db"
    assert alert.labels["region"] == REGION
    assert alert.value == "93.41"

    # It really was moto's signature and moto's certificate: v2, fetched from the SNS URL it named.
    headers, body = receiver.raw[0]
    envelope = json.loads(body)
    assert headers["Content-Type"].startswith("text/plain")
    assert envelope["SignatureVersion"] == "2"
    assert receiver.fetcher.calls == [check_cert_url(envelope["SigningCertURL"])]

    # The OK for the same alarm resolves the same fingerprint.
    aws.publish(TopicArn=topic, Message=json.dumps(alarm("OK", arn=alarm_arn)))
    assert [o.alerts[0].status for o in receiver.outcomes] == [AlertStatus.FIRING, AlertStatus.RESOLVED]
    assert {o.alerts[0].fingerprint for o in receiver.outcomes} == {alert.fingerprint}


def test_moto_tampered_delivery_fails_verification(aws: Any, topics: dict[str, str], receiver: Receiver) -> None:
    aws.publish(TopicArn=topics["acme-prod-alarms"], Message=json.dumps(alarm("ALARM")))
    headers, body = receiver.raw[0]
    envelope = json.loads(body)
    envelope["Message"] = json.dumps(alarm("OK"))
    assert receiver.handle(headers, json.dumps(envelope).encode()) == 403
    assert receiver.errors[-1].code == "bad_signature"


def test_moto_topic_outside_the_allow_list_is_unknown_topic(
    aws: Any, topics: dict[str, str], receiver: Receiver
) -> None:
    aws.publish(TopicArn=topics["someone-elses-topic"], Message=json.dumps(alarm("ALARM")))
    assert receiver.outcomes == []
    [error] = receiver.errors
    assert (error.code, error.status) == ("unknown_topic", 403)
    assert len(receiver.fetcher.calls) == 1  # the signature was verified first
