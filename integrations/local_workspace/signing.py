"""Slack's v0 request signing, used on every request the emulator sends to the bot."""

from __future__ import annotations

import hashlib
import hmac

RETRY_REASON = "http_timeout"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Return `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}` under the signing secret."""
    base = b"v0:" + str(timestamp).encode("ascii") + b":" + body
    return "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, timestamp: int, body: bytes, content_type: str, retry_num: int | None = None
) -> dict[str, str]:
    """Return the headers Slack sends with a request: content type, timestamp, signature, retry info."""
    headers = {
        "Content-Type": content_type,
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature(secret, timestamp, body),
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = RETRY_REASON
    return headers
