"""Slack's rate tiers, enforced with token buckets on the workspace clock."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from .clock import Clock


@dataclass(frozen=True)
class Rate:
    """`count` calls per `per_seconds`, with up to `burst` calls at once (default: `count`)."""

    count: float
    per_seconds: float
    burst: float | None = None


TIER_1 = Rate(1, 60)
TIER_2 = Rate(20, 60)
TIER_3 = Rate(50, 60)
TIER_4 = Rate(100, 60)
CONNECTIONS_OPEN = Rate(1, 60, burst=5)
"""apps.connections.open: Tier 1, with the short burst Slack tolerates (a reconnect right after a connect)."""
POST_MESSAGE = Rate(1, 1, burst=3)
"""chat.postMessage: one message per second per channel, with a short burst allowance."""

METHOD_RATES: dict[str, Rate] = {
    "apps.connections.open": CONNECTIONS_OPEN,
    "conversations.create": TIER_2,
    "conversations.invite": TIER_2,
    "conversations.setTopic": TIER_2,
    "conversations.setPurpose": TIER_2,
    "conversations.list": TIER_2,
    "conversations.members": TIER_2,
    "conversations.archive": TIER_2,
    "pins.add": TIER_2,
    "pins.list": TIER_2,
    "usergroups.users.list": TIER_2,
    "usergroups.list": TIER_2,
    "chat.update": TIER_3,
    "chat.delete": TIER_3,
    "conversations.history": TIER_3,
    "conversations.replies": TIER_3,
    "conversations.info": TIER_3,
    "conversations.join": TIER_3,
    "conversations.open": TIER_3,
    "views.open": TIER_3,
    "views.update": TIER_3,
    "reactions.add": TIER_3,
    "users.info": TIER_3,
    "auth.test": TIER_4,
    "users.list": TIER_4,
    "chat.getPermalink": TIER_4,
    "chat.postEphemeral": TIER_4,
    "files.getUploadURLExternal": TIER_4,
    "files.completeUploadExternal": TIER_4,
    "chat.postMessage": POST_MESSAGE,
}
PER_CHANNEL_METHODS = frozenset({"chat.postMessage"})
DEFAULT_RATE = TIER_3


def rate_for(method: str) -> Rate:
    """Return the rate Slack allows for `method` (Tier 3 when not listed)."""
    return METHOD_RATES.get(method, DEFAULT_RATE)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets per method (or per method and channel); `scale` multiplies every rate, 0/None = off."""

    def __init__(self, clock: Clock, scale: float | None = 1.0) -> None:
        self._clock = clock
        self.scale = scale
        self._buckets: dict[tuple[str, str | None], _Bucket] = {}
        self._lock = threading.Lock()

    def acquire(self, method: str, channel: str | None = None) -> int | None:
        """Take one call from the bucket; return None when allowed, else the Retry-After seconds (>= 1)."""
        if not self.scale:
            return None
        rate = rate_for(method)
        per_second = rate.count / rate.per_seconds * self.scale
        capacity = max(1.0, (rate.burst if rate.burst is not None else rate.count) * self.scale)
        key = (method, channel if method in PER_CHANNEL_METHODS else None)
        now = self._clock()
        with self._lock:
            bucket = self._buckets.setdefault(key, _Bucket(tokens=capacity, updated=now))
            bucket.tokens = min(capacity, bucket.tokens + max(0.0, now - bucket.updated) * per_second)
            bucket.updated = max(bucket.updated, now)
            if bucket.tokens >= 1 - 1e-9:
                bucket.tokens -= 1
                return None
            return max(1, math.ceil((1 - bucket.tokens) / per_second - 1e-9))

    def reset(self) -> None:
        """Forget every call made so far."""
        with self._lock:
            self._buckets.clear()
