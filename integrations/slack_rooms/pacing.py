"""Proactive pacing per Slack rate tier, so bursts queue in the bot instead of earning 429s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

# Requests per minute by tier (https://api.slack.com/apis/rate-limits).
TIER_RATES = {1: 1.0, 2: 20.0, 3: 50.0, 4: 100.0}

METHOD_TIERS = {
    "auth.test": 4,
    "conversations.create": 2,
    "conversations.invite": 2,
    "conversations.setTopic": 2,
    "conversations.setPurpose": 2,
    "conversations.list": 2,
    "conversations.members": 4,
    "conversations.info": 3,
    "conversations.join": 3,
    "conversations.history": 3,
    "chat.update": 3,
    "chat.delete": 3,
    "chat.postEphemeral": 4,
    "chat.getPermalink": 4,
    "pins.add": 2,
    "reactions.add": 3,
    "users.info": 4,
    "usergroups.users.list": 2,
    "views.open": 4,
    "views.update": 4,
}
# chat.postMessage is "special": about one message per second per channel, with short bursts.
POST_MESSAGE_PER_SECOND = 1.0
POST_MESSAGE_BURST = 10.0
# Tiers allow bursts: a full minute's allowance may be spent at once.
TIER_BURST_SECONDS = 60.0


class TokenBucket:
    """A token bucket: `rate` tokens per second, at most `burst` saved up."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float]) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self.tokens = self.burst
        self.clock = clock
        self.updated = clock()
        self.lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_time(self) -> float:
        """Seconds until one token is available (0 when one is)."""
        self._refill()
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    async def take(self) -> float:
        """Take one token, waiting for it; return the seconds waited."""
        waited = 0.0
        async with self.lock:
            while (delay := self.wait_time()) > 0:
                await asyncio.sleep(delay)
                waited += delay
            self.tokens -= 1
        return waited


class Pacer:
    """Buckets per method (and per channel for chat.postMessage); `scale` 0 turns pacing off."""

    def __init__(self, scale: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.scale = scale
        self.clock = clock
        self.buckets: dict[str, TokenBucket] = {}

    def bucket(self, method: str, channel: str | None = None) -> TokenBucket | None:
        """The bucket governing this call, or None when unpaced."""
        if self.scale <= 0:
            return None
        if method == "chat.postMessage":
            key, per_second, burst = f"{method}:{channel}", POST_MESSAGE_PER_SECOND, POST_MESSAGE_BURST
        else:
            tier = METHOD_TIERS.get(method)
            if tier is None:
                return None
            key, per_second = method, TIER_RATES[tier] / 60.0
            burst = per_second * TIER_BURST_SECONDS
        b = self.buckets.get(key)
        if b is None:
            b = self.buckets[key] = TokenBucket(per_second * self.scale, burst=burst * self.scale, clock=self.clock)
        return b

    async def acquire(self, method: str, channel: str | None = None) -> float:
        """Wait for permission to call `method`; return the seconds waited."""
        b = self.bucket(method, channel)
        return await b.take() if b is not None else 0.0
