"""Amazon SNS HTTP(S) deliveries: the envelope, its canonical string, URL shapes, the topic allow-list.

All pure. The signature and the freshness of a message are checked by `sns_signature.SnsVerifier`; the topic
allow-list by `check_topic` after the signature verifies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import Annotated, Final, Literal
from urllib.parse import SplitResult, urlsplit

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from handlers.webhooks.common import quote, validation_detail

MAX_BODY_BYTES: Final = 1024 * 1024
TYPE_HEADER: Final = "x-amz-sns-message-type"
MESSAGE_TYPES: Final = ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation")
SNS_HOST: Final = re.compile(r"sns\.[a-z]{2}(?:-[a-z]+)+-\d{1,2}\.amazonaws\.com(?:\.cn)?")
CERT_PATH: Final = re.compile(r"/[A-Za-z0-9][A-Za-z0-9_.-]{0,200}\.pem")
URL_CHARS: Final = re.compile(r"[!-~]{1,2048}")  # printable ASCII, no spaces, no control bytes
TOPIC_ARN: Final = re.compile(r"arn:[a-z-]+:sns:[a-z0-9-]+:\d{12}:")

NOTIFICATION_KEYS: Final = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_KEYS: Final = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")


class SnsError(Exception):
    """A rejected SNS delivery: `code` is machine-readable, `status` the HTTP answer."""

    def __init__(self, code: str, detail: str, status: int = 400) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.status = status


# --- envelope -------------------------------------------------------------------------------


class _Envelope(BaseModel):
    """Fields every SNS HTTP body carries (spelled as SNS spells them)."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)

    MessageId: str = Field(min_length=1, max_length=256)
    TopicArn: str = Field(min_length=1, max_length=1024)
    Message: str
    Timestamp: str = Field(min_length=1, max_length=64)
    SignatureVersion: str = Field(max_length=16)
    Signature: str = Field(min_length=1, max_length=4096)
    SigningCertURL: str = Field(min_length=1, max_length=2048)


class Notification(_Envelope):
    """A message published to the topic (for CloudWatch: the alarm JSON as a string)."""

    Type: Literal["Notification"]
    Subject: str | None = None
    UnsubscribeURL: str | None = None


class SubscriptionConfirmation(_Envelope):
    """Sent once on subscribe: GET `SubscribeURL` to confirm."""

    Type: Literal["SubscriptionConfirmation"]
    SubscribeURL: str = Field(min_length=1, max_length=4096)
    Token: str = Field(min_length=1, max_length=4096)


class UnsubscribeConfirmation(_Envelope):
    """Sent when the subscription is deleted; `SubscribeURL` would re-subscribe (we never call it)."""

    Type: Literal["UnsubscribeConfirmation"]
    SubscribeURL: str = Field(min_length=1, max_length=4096)
    Token: str = Field(min_length=1, max_length=4096)


SnsMessage = Notification | SubscriptionConfirmation | UnsubscribeConfirmation
_MESSAGE: TypeAdapter[SnsMessage] = TypeAdapter(Annotated[SnsMessage, Field(discriminator="Type")])


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup that works for plain dicts and Starlette headers."""
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _load_json(body: bytes) -> object:
    """Decode the body as UTF-8 JSON whatever the Content-Type says (SNS sends text/plain)."""
    if len(body) > MAX_BODY_BYTES:
        raise SnsError("body_too_large", f"body is {len(body)} bytes (max {MAX_BODY_BYTES})", 413)
    if not body.strip():
        raise SnsError("empty_body", "the request body is empty")
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise SnsError("invalid_json", f"body is not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise SnsError("invalid_json", f"body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (ValueError, RecursionError):
        raise SnsError("invalid_json", "body is not JSON") from None


def _message_type(data: Mapping[str, object], headers: Mapping[str, str]) -> str:
    """The body's `Type`, checked against the `x-amz-sns-message-type` header when present."""
    body_type = data.get("Type")
    if not isinstance(body_type, str):
        raise SnsError("invalid_envelope", "field 'Type' is missing or not a string")
    if body_type not in MESSAGE_TYPES:
        raise SnsError("unsupported_type", f"unsupported SNS message type {quote(body_type)}")
    header_type = _header(headers, TYPE_HEADER)
    if header_type is not None and header_type.strip() != body_type:
        raise SnsError("type_mismatch", f"header {TYPE_HEADER} {quote(header_type)} does not match Type {body_type}")
    return body_type


def parse_envelope(body: bytes, headers: Mapping[str, str]) -> SnsMessage:
    """Parse a raw SNS HTTP body into one of the three message models, or raise `SnsError`."""
    data = _load_json(body)
    if not isinstance(data, dict):
        raise SnsError("invalid_envelope", f"body must be a JSON object, not {type(data).__name__}")
    _message_type(data, headers)
    try:
        return _MESSAGE.validate_python(data)
    except ValidationError as exc:
        raise SnsError("invalid_envelope", validation_detail(exc, limit=5, skip_root=True)) from None


# --- canonical string -----------------------------------------------------------------------


def string_to_sign(message: SnsMessage) -> bytes:
    """SNS's canonical string: `Name\\nvalue\\n` per key in the fixed order for the message type."""
    fields = message.model_dump()
    keys = NOTIFICATION_KEYS if isinstance(message, Notification) else CONFIRMATION_KEYS
    parts = [f"{key}\n{fields[key]}\n" for key in keys if fields.get(key) is not None]
    return "".join(parts).encode("utf-8")


# --- URL checks -----------------------------------------------------------------------------


def _split_sns_url(url: str, what: str, code: str, *, echo: bool) -> SplitResult:
    """Parse `url` and insist on https://sns.<region>.amazonaws.com[.cn] with no userinfo or port."""
    shown = f": {quote(url)}" if echo else ""
    if not URL_CHARS.fullmatch(url):
        raise SnsError(code, f"{what} contains characters not allowed in a URL")
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise SnsError(code, f"{what} must use https{shown}")
    if not SNS_HOST.fullmatch(parts.netloc):  # netloc == host: rules out userinfo and ports
        raise SnsError(code, f"{what} host is not sns.<region>.amazonaws.com{shown}")
    if parts.fragment:
        raise SnsError(code, f"{what} must not have a fragment{shown}")
    return parts


def check_cert_url(url: str) -> str:
    """Accept only `https://sns.<region>.amazonaws.com[.cn]/<name>.pem`; raise `bad_cert_url` otherwise."""
    parts = _split_sns_url(url, "SigningCertURL", "bad_cert_url", echo=True)
    if parts.query or not CERT_PATH.fullmatch(parts.path):
        raise SnsError("bad_cert_url", f"SigningCertURL path must be /<name>.pem: {quote(url)}")
    return url


def check_subscribe_url(url: str) -> str:
    """Accept only `https://sns.<region>.amazonaws.com[.cn]/?...`; the URL (it holds the token) is never echoed."""
    parts = _split_sns_url(url, "SubscribeURL", "bad_subscribe_url", echo=False)
    if parts.path not in ("", "/"):
        raise SnsError("bad_subscribe_url", "SubscribeURL path must be /")
    return url


# --- topics ---------------------------------------------------------------------------------


def topic_allowed(topic_arn: str, allowed_topics: Collection[str]) -> bool:
    """Exact ARN match, or a `*` suffix entry whose prefix holds a full `arn:...:sns:<region>:<account>:`."""
    for entry in allowed_topics:
        if entry == topic_arn:
            return True
        if entry.endswith("*") and TOPIC_ARN.match(entry) and topic_arn.startswith(entry[:-1]):
            return True
    return False


def check_topic(topic_arn: str, allowed_topics: Collection[str]) -> None:
    """Raise `unknown_topic` (403) unless the topic is allowed; an empty allow-list allows nothing."""
    if not topic_allowed(topic_arn, allowed_topics):
        raise SnsError("unknown_topic", f"topic {quote(topic_arn)} is not in the allow-list", 403)
