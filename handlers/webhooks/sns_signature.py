"""The signature of an SNS message, and its freshness.

Everything here is pure except the certificate fetch, which goes through an injectable `CertFetcher`
(production: `HttpCertFetcher`). Verification order, all before any side effect: signature version ->
certificate URL shape (no fetch for a bad URL) -> fetch + parse the certificate -> certificate validity window
-> RSA PKCS#1 v1.5 signature over SNS's canonical string -> freshness of the signed `Timestamp` (a captured
message replayed later is refused).
"""

from __future__ import annotations

import base64
import binascii
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from handlers.webhooks.common import quote
from handlers.webhooks.sns import SnsError, SnsMessage, check_cert_url, string_to_sign

MAX_AGE: Final = timedelta(hours=1)
"""Default oldest accepted `Timestamp`: SNS's longest HTTP retry policy gives up after an hour."""
MAX_SKEW: Final = timedelta(minutes=5)
"""How far in the future a `Timestamp` may be (clock skew between AWS and us)."""
HASHES: Final[Mapping[str, Callable[[], hashes.HashAlgorithm]]] = {"1": hashes.SHA1, "2": hashes.SHA256}


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
        client: httpx.AsyncClient | Callable[[], httpx.AsyncClient] | None = None,
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
            shared = self._client() if callable(self._client) else self._client  # the container's shared client
            return await self._read(shared, url)
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
