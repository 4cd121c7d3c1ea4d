"""SNS envelope parsing, signature verification, certificate URLs and fetching, topic allow-list."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import timedelta
from functools import cache
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.webhooks.common import quote
from handlers.webhooks.sns import (
    Notification,
    SnsError,
    SubscriptionConfirmation,
    UnsubscribeConfirmation,
    check_cert_url,
    check_subscribe_url,
    parse_envelope,
    string_to_sign,
    topic_allowed,
)
from handlers.webhooks.sns_route import SnsOutcome, handle_sns
from handlers.webhooks.sns_signature import HttpCertFetcher, SnsVerifier
from tests.sns_support import (
    CERT_URL,
    NOW,
    OTHER_TOPIC,
    SUBSCRIBE_URL,
    TOPIC,
    FakeFetcher,
    SigningIdentity,
    alarm,
    canonical,
    confirmation,
    encode,
    notification,
)

TEXT_PLAIN = {"Content-Type": "text/plain; charset=UTF-8"}


@cache
def identity() -> SigningIdentity:
    """The "SNS" key used to sign the good messages."""
    return SigningIdentity.create()


@cache
def impostor() -> SigningIdentity:
    """A second key: its signatures must not verify against the first cert."""
    return SigningIdentity.create()


def fetcher() -> FakeFetcher:
    return FakeFetcher({CERT_URL: identity().cert_pem})


def verifier(fake: FakeFetcher | None = None) -> SnsVerifier:
    return SnsVerifier(fake or fetcher(), clock=lambda: NOW)


class Confirmer:
    """Records the SubscribeURLs it was asked to GET."""

    def __init__(self, error: Exception | None = None) -> None:
        self.urls: list[str] = []
        self.error = error

    async def __call__(self, url: str) -> None:
        self.urls.append(url)
        if self.error is not None:
            raise self.error


async def run(
    msg: dict[str, Any] | bytes,
    *,
    headers: dict[str, str] | None = None,
    fake: FakeFetcher | None = None,
    topics: tuple[str, ...] = (TOPIC,),
    confirm: Confirmer | None = None,
) -> SnsOutcome:
    body = msg if isinstance(msg, bytes) else encode(msg)
    return await handle_sns(
        body,
        headers if headers is not None else TEXT_PLAIN,
        verifier=verifier(fake),
        allowed_topics=topics,
        confirm=confirm or Confirmer(),
    )


async def rejected(msg: dict[str, Any] | bytes, code: str, status: int | None = None, **kwargs: Any) -> SnsError:
    with pytest.raises(SnsError) as info:
        await run(msg, **kwargs)
    assert info.value.code == code, info.value
    if status is not None:
        assert info.value.status == status
    return info.value


def signed_alarm(version: str = "1", subject: str | None = None) -> dict[str, Any]:
    return identity().sign(notification(alarm(), subject=subject), version)


# --- envelope -------------------------------------------------------------------------------


def test_parses_the_three_types_from_text_plain_bodies() -> None:
    assert isinstance(parse_envelope(encode(signed_alarm()), TEXT_PLAIN), Notification)
    sub = parse_envelope(encode(identity().sign(confirmation())), TEXT_PLAIN)
    assert isinstance(sub, SubscriptionConfirmation)
    assert sub.SubscribeURL == SUBSCRIBE_URL
    unsub = parse_envelope(encode(identity().sign(confirmation("UnsubscribeConfirmation"))), {})
    assert isinstance(unsub, UnsubscribeConfirmation)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "empty_body"),
        (b"  \r\n", "empty_body"),
        (b"{not json", "invalid_json"),
        (b"\xff\xfe{}", "invalid_json"),
        (b"[1, 2]", "invalid_envelope"),
        (b'"Notification"', "invalid_envelope"),
        (b"{}", "invalid_envelope"),
        (b'{"Type": 7}', "invalid_envelope"),
        (b'{"Type": "Telegram"}', "unsupported_type"),
        (b'{"Type": "Notification"}', "invalid_envelope"),
        (b"[" * 100_000, "invalid_json"),
    ],
)
def test_malformed_bodies_are_400(body: bytes, code: str) -> None:
    with pytest.raises(SnsError) as info:
        parse_envelope(body, TEXT_PLAIN)
    assert (info.value.code, info.value.status) == (code, 400)


def test_oversized_body_is_rejected_before_parsing() -> None:
    with pytest.raises(SnsError) as info:
        parse_envelope(b" " * (1024 * 1024 + 1), {})
    assert (info.value.code, info.value.status) == ("body_too_large", 413)


def test_non_string_fields_are_invalid_envelope_without_echoing_values() -> None:
    msg = signed_alarm()
    msg["MessageId"] = 12345
    msg["Token"] = "s3cr3t-token"
    with pytest.raises(SnsError) as info:
        parse_envelope(encode(msg), {})
    assert info.value.code == "invalid_envelope"
    assert "MessageId" in info.value.detail
    assert "12345" not in info.value.detail


@pytest.mark.parametrize("header_name", ["x-amz-sns-message-type", "X-Amz-Sns-Message-Type"])
async def test_header_type_must_agree_with_body(header_name: str) -> None:
    msg = signed_alarm()
    await rejected(msg, "type_mismatch", 400, headers={header_name: "SubscriptionConfirmation"})
    outcome = await run(msg, headers={header_name: "Notification"})
    assert outcome.kind == "notification"


def test_unsupported_type_detail_is_sanitized() -> None:
    with pytest.raises(SnsError) as info:
        parse_envelope(json.dumps({"Type": "\x1b[31mred\x00" + "A" * 500}).encode(), {})
    assert info.value.code == "unsupported_type"
    assert "\x1b" not in info.value.detail and "\x00" not in info.value.detail
    assert len(info.value.detail) < 160


def test_quote_escapes_and_caps() -> None:
    assert quote("a\nb\x00") == repr("a\nb\x00")
    assert quote("x" * 200) == repr("x" * 80) + "..."
    assert "\u202e" not in quote("abc\u202edef")


# --- canonical string -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "msg",
    [
        notification(alarm()),
        notification(alarm(), subject='ALARM: "x" in US East (N. Virginia)'),
        confirmation(),
        confirmation("UnsubscribeConfirmation"),
    ],
)
def test_string_to_sign_matches_the_sns_rules(msg: dict[str, Any]) -> None:
    signed = identity().sign(msg)
    assert string_to_sign(parse_envelope(encode(signed), {})) == canonical(signed)


def test_string_to_sign_layout_for_a_notification_without_subject() -> None:
    msg = {
        "Type": "Notification",
        "MessageId": "m-1",
        "TopicArn": TOPIC,
        "Message": "line1\nline2",
        "Timestamp": "2026-11-22T09:13:07.503Z",
        "SignatureVersion": "1",
        "Signature": "AAAA",
        "SigningCertURL": CERT_URL,
    }
    expected = f"Message\nline1\nline2\nMessageId\nm-1\nTimestamp\n2026-11-22T09:13:07.503Z\nTopicArn\n{TOPIC}\nType\nNotification\n"
    assert string_to_sign(parse_envelope(encode(msg), {})) == expected.encode()


# --- signatures -----------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("subject", [None, 'ALARM: "acme-prod-payments-db-cpu-high" in US East (N. Virginia)'])
async def test_valid_signatures_verify(version: str, subject: str | None) -> None:
    fake = fetcher()
    outcome = await run(signed_alarm(version, subject), fake=fake)
    assert outcome.kind == "notification"
    assert outcome.topic_arn == TOPIC
    assert outcome.message_id == "f2b6d8e1-9c3a-5d47-b0e2-4a8c1f6d3e95"
    assert len(outcome.alerts) == 1
    assert fake.calls == [CERT_URL]


async def test_tampered_message_is_rejected() -> None:
    msg = signed_alarm()
    msg["Message"] = msg["Message"].replace("ALARM", "OK")
    await rejected(msg, "bad_signature", 403)


async def test_tampered_subject_is_rejected() -> None:
    msg = signed_alarm(subject='ALARM: "a"')
    msg["Subject"] = 'OK: "a"'
    await rejected(msg, "bad_signature", 403)


async def test_removed_subject_is_rejected() -> None:
    msg = signed_alarm(subject='ALARM: "a"')
    del msg["Subject"]
    await rejected(msg, "bad_signature", 403)


async def test_added_subject_is_rejected() -> None:
    msg = signed_alarm()
    msg["Subject"] = "injected"
    await rejected(msg, "bad_signature", 403)


@pytest.mark.parametrize("field", ["TopicArn", "MessageId", "Timestamp", "Type"])
async def test_other_signed_fields_are_covered(field: str) -> None:
    msg = identity().sign(confirmation())
    msg[field] = {
        "TopicArn": OTHER_TOPIC,
        "MessageId": "x",
        "Timestamp": "2030-01-01T00:00:00Z",
        "Type": "UnsubscribeConfirmation",
    }[field]
    await rejected(msg, "bad_signature", 403, topics=(TOPIC, OTHER_TOPIC))


async def test_subscribe_url_is_signed() -> None:
    msg = identity().sign(confirmation())
    msg["SubscribeURL"] = SUBSCRIBE_URL + "&extra=1"
    confirm = Confirmer()
    await rejected(msg, "bad_signature", 403, confirm=confirm)
    assert confirm.urls == []


async def test_signature_by_another_key_is_rejected() -> None:
    await rejected(impostor().sign(notification(alarm())), "bad_signature", 403)


async def test_version_1_signature_presented_as_version_2_is_rejected() -> None:
    msg = signed_alarm("1")
    msg["SignatureVersion"] = "2"
    await rejected(msg, "bad_signature", 403)


@pytest.mark.parametrize("version", ["3", "0", "", "1 ", "01"])
async def test_unknown_signature_versions_are_rejected_without_fetching(version: str) -> None:
    msg = signed_alarm()
    msg["SignatureVersion"] = version
    fake = fetcher()
    await rejected(msg, "bad_signature_version", 403, fake=fake)
    assert fake.calls == []


@pytest.mark.parametrize("signature", ["not base64!!", "QUJD=extra", "\u00e9\u00e9\u00e9\u00e9"])
async def test_garbled_signature_is_bad_signature(signature: str) -> None:
    msg = signed_alarm()
    msg["Signature"] = signature
    await rejected(msg, "bad_signature", 403)


# --- certificate URLs -----------------------------------------------------------------------

BAD_CERT_URLS = [
    "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-abc.pem",
    "https://evil.example/sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com@evil.example/x.pem",
    "https://user:pw@sns.us-east-1.amazonaws.com/x.pem",
    "https://sns.us-east-1.amazonaws.com:8443/x.pem",
    "https://sns.us-east-1.amazonaws.com:443/x.pem",
    "https://sns.us-east-1.amazonaws.com/x.pem?x=1",
    "https://sns.us-east-1.amazonaws.com/x.pem#frag",
    "https://sns.us-east-1.amazonaws.com/x.txt",
    "https://sns.us-east-1.amazonaws.com/",
    "https://sns.us-east-1.amazonaws.com/../../x.pem",
    "https://sns.us-east-1.amazonaws.com/a/b.pem",
    "https://SNS.US-EAST-1.AMAZONAWS.COM/x.pem",
    "https://sns.amazonaws.com/x.pem",
    "https://sqs.us-east-1.amazonaws.com/x.pem",
    "https://sns.us-east-1.amazonaws.com\\@evil.example/x.pem",
    "https://sns.us-east-1.amazonaws.com/x.pem\n",
    "https://sns.us-east-1.amazon\taws.com/x.pem",
    "https://evil.example\\.sns.us-east-1.amazonaws.com/x.pem",
    "//sns.us-east-1.amazonaws.com/x.pem",
    "file:///etc/passwd",
]


@pytest.mark.parametrize("url", BAD_CERT_URLS)
async def test_bad_cert_urls_are_rejected_before_any_fetch(url: str) -> None:
    fake = FakeFetcher({url: identity().cert_pem})
    msg = identity().sign(notification(alarm()), cert_url=url)
    err = await rejected(msg, "bad_cert_url", 400, fake=fake)
    assert fake.calls == []
    assert "\n" not in err.detail and "\t" not in err.detail


@pytest.mark.parametrize(
    "url",
    [
        CERT_URL,
        "https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-01d088a6f77103d0fe307c0069e40ed6.pem",
        "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem",
        "https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
    ],
)
def test_real_cert_urls_are_accepted(url: str) -> None:
    assert check_cert_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",
        "https://evil.example/?Action=ConfirmSubscription&Token=abc",
        "https://sns.us-east-1.amazonaws.com@evil.example/?Action=ConfirmSubscription",
        "https://sns.us-east-1.amazonaws.com/evil?Action=ConfirmSubscription",
    ],
)
def test_bad_subscribe_urls_are_rejected_without_echoing_the_token(url: str) -> None:
    with pytest.raises(SnsError) as info:
        check_subscribe_url(url)
    assert info.value.code == "bad_subscribe_url"
    assert "Token" not in info.value.detail and "evil" not in info.value.detail


# --- certificates ---------------------------------------------------------------------------


async def test_expired_certificate_is_rejected() -> None:
    old = SigningIdentity.create(not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(days=1))
    fake = FakeFetcher({CERT_URL: old.cert_pem})
    await rejected(old.sign(notification(alarm())), "cert_expired", 403, fake=fake)


async def test_not_yet_valid_certificate_is_rejected() -> None:
    future = SigningIdentity.create(not_before=NOW + timedelta(hours=1), not_after=NOW + timedelta(days=1))
    fake = FakeFetcher({CERT_URL: future.cert_pem})
    await rejected(future.sign(notification(alarm())), "cert_not_yet_valid", 403, fake=fake)


async def test_now_argument_overrides_the_clock() -> None:
    sns_verifier = verifier()
    message = parse_envelope(encode(signed_alarm()), {})
    await sns_verifier.verify(message, now=NOW)
    with pytest.raises(SnsError) as info:
        await sns_verifier.verify(message, now=NOW + timedelta(days=31))
    assert info.value.code == "cert_expired"


def at(moment) -> str:
    """An SNS Timestamp (millisecond precision, Z)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


async def test_a_signed_message_from_2020_is_refused_as_a_replay() -> None:
    old = identity().sign(notification(alarm(), Timestamp="2020-03-02T10:00:00.000Z"))
    error = await rejected(old, "stale_message", 400)
    assert "2020-03-02T10:00:00Z" in error.detail and "more than 1 h ago" in error.detail


@pytest.mark.parametrize(
    ("offset", "code"),
    [
        (-timedelta(hours=1), None),
        (-timedelta(hours=1, seconds=1), "stale_message"),
        (timedelta(minutes=5), None),
        (timedelta(minutes=5, seconds=1), "future_timestamp"),
        (timedelta(days=3650), "future_timestamp"),
    ],
)
async def test_freshness_window_is_one_hour_back_and_five_minutes_ahead(offset: timedelta, code: str | None) -> None:
    msg = identity().sign(notification(alarm(), Timestamp=at(NOW + offset)))
    if code is None:
        assert (await run(msg)).kind == "notification"
    else:
        await rejected(msg, code, 400)


async def test_stale_confirmation_is_not_confirmed() -> None:
    confirm = Confirmer()
    stale = identity().sign(confirmation(Timestamp=at(NOW - timedelta(days=2))))
    await rejected(stale, "stale_message", 400, confirm=confirm)
    assert confirm.urls == []


async def test_unreadable_timestamp_is_refused() -> None:
    error = await rejected(identity().sign(notification(alarm(), Timestamp="yesterday")), "bad_timestamp", 400)
    assert "'yesterday'" in error.detail


async def test_an_old_message_with_a_bad_signature_is_a_signature_failure() -> None:
    await rejected(impostor().sign(notification(alarm(), Timestamp="2020-03-02T10:00:00.000Z")), "bad_signature", 403)


async def test_max_age_is_configurable() -> None:
    message = parse_envelope(encode(identity().sign(notification(alarm(), Timestamp=at(NOW - timedelta(days=2))))), {})
    relaxed = SnsVerifier(fetcher(), clock=lambda: NOW, max_age=timedelta(days=3))
    await relaxed.verify(message)
    with pytest.raises(SnsError) as info:
        await SnsVerifier(fetcher(), clock=lambda: NOW, max_age=timedelta(days=1)).verify(message)
    assert info.value.code == "stale_message" and "more than 24 h ago" in info.value.detail


async def test_parsed_keys_are_cached_by_url() -> None:
    fake = fetcher()
    sns_verifier = verifier(fake)
    for version in ("1", "2", "1"):
        await sns_verifier.verify(parse_envelope(encode(signed_alarm(version)), {}))
    assert fake.calls == [CERT_URL]


@pytest.mark.parametrize("error", [OSError("connection refused"), KeyError("nope"), TimeoutError()])
async def test_fetch_failures_are_503_so_sns_retries(error: Exception) -> None:
    fake = FakeFetcher({}, error=error)
    err = await rejected(signed_alarm(), "cert_fetch_failed", 503, fake=fake)
    assert "refused" not in err.detail


def _ec_cert_pem() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize("pem", [b"not a pem", b"", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"])
async def test_garbage_certificates_are_rejected(pem: bytes) -> None:
    await rejected(signed_alarm(), "bad_certificate", 403, fake=FakeFetcher({CERT_URL: pem}))


async def test_non_rsa_certificates_are_rejected() -> None:
    await rejected(signed_alarm(), "bad_certificate", 403, fake=FakeFetcher({CERT_URL: _ec_cert_pem()}))


# --- HttpCertFetcher ------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _transport(requests: list[str], status: int = 200, body: bytes = b"PEM") -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(str(request.url))
        return httpx.Response(status, content=body)

    return httpx.MockTransport(handler)


async def test_http_fetcher_caches_with_ttl() -> None:
    requests: list[str] = []
    clock = Clock()
    async with httpx.AsyncClient(transport=_transport(requests)) as client:
        fetch = HttpCertFetcher(client, ttl=60, monotonic=clock)
        assert await fetch(CERT_URL) == b"PEM"
        assert await fetch(CERT_URL) == b"PEM"
        assert requests == [CERT_URL]
        clock.t += 61
        await fetch(CERT_URL)
    assert requests == [CERT_URL, CERT_URL]


async def test_http_fetcher_rejects_non_200_and_oversized() -> None:
    requests: list[str] = []
    async with httpx.AsyncClient(transport=_transport(requests, status=302)) as client:
        with pytest.raises(SnsError) as info:
            await HttpCertFetcher(client)(CERT_URL)
    assert (info.value.code, info.value.status) == ("cert_fetch_failed", 503)
    async with httpx.AsyncClient(transport=_transport(requests, body=b"x" * 5000)) as client:
        with pytest.raises(SnsError) as info:
            await HttpCertFetcher(client, max_bytes=4096)(CERT_URL)
    assert info.value.code == "cert_fetch_failed"


async def test_http_fetcher_never_requests_a_bad_url() -> None:
    requests: list[str] = []
    async with httpx.AsyncClient(transport=_transport(requests)) as client:
        with pytest.raises(SnsError) as info:
            await HttpCertFetcher(client)("https://evil.example/x.pem")
    assert info.value.code == "bad_cert_url"
    assert requests == []


async def test_http_fetcher_with_verifier_end_to_end() -> None:
    requests: list[str] = []
    async with httpx.AsyncClient(transport=_transport(requests, body=identity().cert_pem)) as client:
        sns_verifier = SnsVerifier(HttpCertFetcher(client), clock=lambda: NOW)
        await sns_verifier.verify(parse_envelope(encode(signed_alarm("2")), {}))
    assert requests == [CERT_URL]


# --- topics ---------------------------------------------------------------------------------


async def test_unknown_topic_is_403_after_verification() -> None:
    await rejected(signed_alarm(), "unknown_topic", 403, topics=(OTHER_TOPIC,))


async def test_empty_allow_list_rejects_everything() -> None:
    await rejected(signed_alarm(), "unknown_topic", 403, topics=())


async def test_unknown_topic_still_needs_a_valid_signature_first() -> None:
    await rejected(impostor().sign(notification(alarm())), "bad_signature", 403, topics=())


@pytest.mark.parametrize(
    ("entry", "allowed"),
    [
        (TOPIC, True),
        ("arn:aws:sns:us-east-1:402816359027:*", True),
        ("arn:aws:sns:us-east-1:402816359027:acme-prod-*", True),
        ("arn:aws:sns:us-east-1:402816359027:acme-staging-*", False),
        ("arn:aws:sns:us-east-1:111111111111:*", False),
        ("arn:aws:sns:us-west-2:402816359027:*", False),
        (TOPIC + "-suffix", False),
        (TOPIC[:-1], False),
        ("*", False),
        ("arn:*", False),
        ("arn:aws:sns:*", False),
        (TOPIC.upper(), False),
    ],
)
def test_topic_allow_list(entry: str, allowed: bool) -> None:
    assert topic_allowed(TOPIC, [entry]) is allowed


# --- confirmations --------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2"])
async def test_subscription_confirmation_calls_confirm(version: str) -> None:
    confirm = Confirmer()
    outcome = await run(identity().sign(confirmation(), version), confirm=confirm)
    assert outcome == SnsOutcome("subscription_confirmed", "8a3f1c2e-5b7d-4e90-a1c3-6d2f8b4e0a17", TOPIC, [])
    assert confirm.urls == [SUBSCRIBE_URL]


async def test_subscription_for_unknown_topic_is_not_confirmed() -> None:
    confirm = Confirmer()
    await rejected(identity().sign(confirmation()), "unknown_topic", 403, confirm=confirm, topics=(OTHER_TOPIC,))
    assert confirm.urls == []


async def test_subscription_with_foreign_subscribe_url_is_not_confirmed() -> None:
    confirm = Confirmer()
    msg = identity().sign(confirmation(SubscribeURL="https://evil.example/?Action=ConfirmSubscription"))
    await rejected(msg, "bad_subscribe_url", 400, confirm=confirm)
    assert confirm.urls == []


async def test_confirm_failure_is_503() -> None:
    confirm = Confirmer(error=httpx.ConnectError("down"))
    await rejected(identity().sign(confirmation()), "subscription_confirm_failed", 503, confirm=confirm)


async def test_unsubscribe_confirmation_is_recorded_without_action() -> None:
    confirm = Confirmer()
    outcome = await run(identity().sign(confirmation("UnsubscribeConfirmation")), confirm=confirm)
    assert outcome.kind == "unsubscribed"
    assert outcome.alerts == []
    assert confirm.urls == []


# --- properties -----------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
ENVELOPE_KEYS = [
    "Type",
    "MessageId",
    "TopicArn",
    "Subject",
    "Message",
    "Timestamp",
    "SignatureVersion",
    "Signature",
    "SigningCertURL",
    "UnsubscribeURL",
    "SubscribeURL",
    "Token",
]
envelope_like = st.fixed_dictionaries(
    {"Type": st.sampled_from(["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation", "X"])},
    optional={
        key: st.one_of(st.text(max_size=40), json_values, st.just(CERT_URL), st.just("1"), st.just(TOPIC))
        for key in ENVELOPE_KEYS
        if key != "Type"
    },
)
headers_st = st.dictionaries(
    st.sampled_from(["x-amz-sns-message-type", "Content-Type", "X-AMZ-SNS-MESSAGE-TYPE"]), st.text(max_size=30)
)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _only_sns_errors(body: bytes, headers: dict[str, str]) -> None:
    try:
        outcome = asyncio.run(run(body, headers=headers))
    except SnsError as exc:
        assert exc.code and 400 <= exc.status < 600
        assert all(ch.isprintable() for ch in exc.detail)
    else:
        assert outcome.kind in ("notification", "subscription_confirmed", "unsubscribed")


@SETTINGS
@given(st.binary(max_size=300), headers_st)
def test_arbitrary_bytes_raise_only_sns_error(body: bytes, headers: dict[str, str]) -> None:
    _only_sns_errors(body, headers)


@SETTINGS
@given(st.dictionaries(st.text(max_size=15), json_values, max_size=8), headers_st)
def test_arbitrary_json_objects_raise_only_sns_error(obj: dict[str, Any], headers: dict[str, str]) -> None:
    _only_sns_errors(json.dumps(obj).encode(), headers)


@SETTINGS
@given(envelope_like)
def test_envelope_shaped_objects_raise_only_sns_error(obj: dict[str, Any]) -> None:
    _only_sns_errors(json.dumps(obj).encode(), {})


@SETTINGS
@given(st.text(max_size=200), st.one_of(st.none(), st.text(max_size=40)), st.sampled_from(["1", "2"]))
def test_signed_notifications_with_arbitrary_messages_raise_only_sns_error(
    message: str, subject: str | None, version: str
) -> None:
    _only_sns_errors(encode(identity().sign(notification(message, subject=subject), version)), {})


def test_signature_helper_is_valid_base64() -> None:
    assert base64.b64decode(signed_alarm()["Signature"], validate=True)
