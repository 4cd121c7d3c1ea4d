"""Amazon SNS HTTP(S) deliveries: the envelope, its signature, the topic allow-list.

Everything here is pure except the certificate fetch, which goes through an injectable
`CertFetcher` (production: `HttpCertFetcher`). Verification order, all before any side effect:
signature version -> certificate URL shape (no fetch for a bad URL) -> fetch + parse the
certificate -> certificate validity window -> RSA PKCS#1 v1.5 signature over SNS's canonical
string -> freshness of the signed `Timestamp` (a captured message replayed later is refused). The
topic allow-list is checked by `check_topic` after the signature verifies.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Final, Literal, Protocol
from urllib.parse import SplitResult, urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from handlers.webhooks.common import quote, validation_detail

MAX_BODY_BYTES: Final = 1024 * 1024
TYPE_HEADER: Final = "x-amz-sns-message-type"
MESSAGE_TYPES: Final = ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation")
SNS_HOST: Final = re.compile(r"sns\.[a-z]{2}(?:-[a-z]+)+-\d{1,2}\.amazonaws\.com(?:\.cn)?")
CERT_PATH: Final = re.compile(r"/[A-Za-z0-9][A-Za-z0-9_.-]{0,200}\.pem")
URL_CHARS: Final = re.compile(r"[!-~]{1,2048}")  # printable ASCII, no spaces, no control bytes
TOPIC_ARN: Final = re.compile(r"arn:[a-z-]+:sns:[a-z0-9-]+:\d{12}:")
MAX_AGE: Final = timedelta(hours=1)
"""Default oldest accepted `Timestamp`: SNS's longest HTTP retry policy gives up after an hour."""
MAX_SKEW: Final = timedelta(minutes=5)
"""How far in the future a `Timestamp` may be (clock skew between AWS and us)."""

NOTIFICATION_KEYS: Final = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_KEYS: Final = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
HASHES: Final[Mapping[str, Callable[[], hashes.HashAlgorithm]]] = {"1": hashes.SHA1, "2": hashes.SHA256}


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


# --- certificates ---------------------------------------------------------------------------


class CertFetcher(Protocol):
    """Returns the PEM bytes at a (pre-validated) SigningCertURL."""

    async def __call__(self, url: str) -> bytes:
        """Fetch the certificate; raise on any failure."""
        ...


class HttpCertFetcher:
    """Production fetcher: httpx GET with a timeout and a size cap, PEMs cached by URL for `ttl` seconds."""

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        timeout: float = 5.0,
        max_bytes: int = 64 * 1024,
        ttl: float = 6 * 3600.0,
        max_entries: int = 64,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._ttl = ttl
        self._max_entries = max_entries
        self._monotonic = monotonic
        self._cache: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    async def __call__(self, url: str) -> bytes:
        """The PEM at `url`, from the cache when fresh; re-checks the URL shape before any request."""
        check_cert_url(url)
        cached = self._cache.get(url)
        if cached is not None and cached[0] > self._monotonic():
            return cached[1]
        pem = await self._download(url)
        self._remember(url, pem)
        return pem

    async def _download(self, url: str) -> bytes:
        """GET without redirects; refuse non-200 answers and bodies over the size cap."""
        if self._client is not None:
            return await self._read(self._client, url)
        async with httpx.AsyncClient(follow_redirects=False) as client:
            return await self._read(client, url)

    async def _read(self, client: httpx.AsyncClient, url: str) -> bytes:
        """Stream the body, stopping as soon as it exceeds `max_bytes`."""
        async with client.stream("GET", url, timeout=self._timeout, follow_redirects=False) as resp:
            if resp.status_code != 200:
                raise SnsError("cert_fetch_failed", f"certificate fetch answered HTTP {resp.status_code}", 503)
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > self._max_bytes:
                    raise SnsError("cert_fetch_failed", f"certificate is larger than {self._max_bytes} bytes", 503)
                chunks.append(chunk)
        return b"".join(chunks)

    def _remember(self, url: str, pem: bytes) -> None:
        """Cache a PEM, evicting the oldest entries beyond `max_entries`."""
        self._cache[url] = (self._monotonic() + self._ttl, pem)
        self._cache.move_to_end(url)
        while len(self._cache) > self._max_entries:
            self._cache.popitem(last=False)


@dataclass(frozen=True)
class _SigningKey:
    """A parsed signing certificate: its RSA public key and validity window."""

    key: rsa.RSAPublicKey
    not_before: datetime
    not_after: datetime


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _load_signing_key(pem: bytes) -> _SigningKey:
    """Parse PEM bytes into an RSA key plus validity window, or raise `bad_certificate` (403)."""
    try:
        cert = x509.load_pem_x509_certificate(pem)
        key = cert.public_key()
    except (ValueError, TypeError):
        raise SnsError("bad_certificate", "the signing certificate is not a valid PEM X.509 certificate", 403) from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise SnsError("bad_certificate", "the signing certificate does not hold an RSA key", 403)
    return _SigningKey(key=key, not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc)


def _decode_signature(signature: str) -> bytes:
    """Strict base64 decode of the `Signature` field."""
    try:
        return base64.b64decode(signature.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        raise SnsError("bad_signature", "Signature is not valid base64", 403) from None


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def check_fresh(timestamp: str, now: datetime, *, max_age: timedelta = MAX_AGE, max_skew: timedelta = MAX_SKEW) -> None:
    """Raise (400) unless the signed `Timestamp` lies within [now - max_age, now + max_skew]."""
    try:
        published = _aware(datetime.fromisoformat(timestamp))
    except ValueError:
        raise SnsError("bad_timestamp", f"Timestamp {quote(timestamp)} is not an ISO 8601 time") from None
    now = _aware(now)
    if published < now - max_age:
        raise SnsError(
            "stale_message",
            f"the message was published at {published:%Y-%m-%dT%H:%M:%SZ}, more than {_span(max_age)} ago"
            " (WARROOM_SNS_MAX_AGE_SECONDS); a replayed message is refused",
        )
    if published > now + max_skew:
        raise SnsError(
            "future_timestamp",
            f"the message says it was published at {published:%Y-%m-%dT%H:%M:%SZ},"
            f" more than {_span(max_skew)} in the future",
        )


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


class SnsVerifier:
    """Verifies SNS signatures and freshness; certificates come from `fetcher`, parsed keys are cached by URL."""

    def __init__(
        self,
        fetcher: CertFetcher,
        *,
        clock: Callable[[], datetime] = _utcnow,
        max_keys: int = 64,
        max_age: timedelta = MAX_AGE,
        max_skew: timedelta = MAX_SKEW,
    ) -> None:
        self._fetcher = fetcher
        self._clock = clock
        self._max_keys = max_keys
        self._max_age = max_age
        self._max_skew = max_skew
        self._keys: OrderedDict[str, _SigningKey] = OrderedDict()

    async def verify(self, message: SnsMessage, *, now: datetime | None = None) -> None:
        """Raise `SnsError` unless `message` is signed by a currently valid cert at an SNS URL, and fresh."""
        algorithm = HASHES.get(message.SignatureVersion)
        if algorithm is None:
            raise SnsError(
                "bad_signature_version", f"SignatureVersion {quote(message.SignatureVersion)} is not 1 or 2", 403
            )
        url = check_cert_url(message.SigningCertURL)
        signature = _decode_signature(message.Signature)
        signing = await self._signing_key(url)
        now = now or self._clock()
        self._check_validity(signing, now)
        try:
            signing.key.verify(signature, string_to_sign(message), padding.PKCS1v15(), algorithm())
        except (InvalidSignature, ValueError):
            raise SnsError("bad_signature", "the SNS signature does not verify", 403) from None
        check_fresh(message.Timestamp, now, max_age=self._max_age, max_skew=self._max_skew)

    async def _signing_key(self, url: str) -> _SigningKey:
        """The cached key for `url`, else fetch, parse and cache it."""
        cached = self._keys.get(url)
        if cached is not None:
            return cached
        signing = _load_signing_key(await self._fetch(url))
        self._keys[url] = signing
        while len(self._keys) > self._max_keys:
            self._keys.popitem(last=False)
        return signing

    async def _fetch(self, url: str) -> bytes:
        """Call the fetcher; any failure becomes `cert_fetch_failed` (503, so SNS retries)."""
        try:
            return await self._fetcher(url)
        except SnsError:
            raise
        except Exception as exc:
            raise SnsError(
                "cert_fetch_failed", f"could not fetch the signing certificate ({type(exc).__name__})", 503
            ) from None

    @staticmethod
    def _check_validity(signing: _SigningKey, now: datetime) -> None:
        """Reject certificates outside their not_before/not_after window."""
        now = _aware(now)
        if now < signing.not_before:
            raise SnsError("cert_not_yet_valid", "the signing certificate is not valid yet", 403)
        if now > signing.not_after:
            raise SnsError("cert_expired", "the signing certificate has expired", 403)
