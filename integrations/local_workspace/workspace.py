"""The emulated workspace: state, rate limits, fault injection, the call log and outbound requests."""

from __future__ import annotations

import asyncio
from typing import Any

from .clock import Clock
from .faults import ANY_METHOD, Fault, FaultPlan
from .interactions import TRIGGER_TTL
from .limits import RateLimiter
from .outbound import Outbound
from .records import ApiCall
from .sample_alert import SampleAlert
from .socket_mode import ACK_TIMEOUT

DEFAULT_TOKEN = "xoxb-local-token"  # noqa: S105 - a fixed token for the loopback emulator, not a secret
DEFAULT_SIGNING_SECRET = "local-signing-secret"  # noqa: S105 - same


class Workspace(Outbound):
    """An in-memory Slack workspace with one bot token, Slack's limits, and hooks for tests.

    Give it an `app_token` (xapp-...) to turn Socket Mode on: apps.connections.open then answers
    to that token, and commands, interactions and events go to the app's WebSocket as envelopes.
    Give it a `sample_alert` to turn on the page's "Send test alert" button.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        signing_secret: str = DEFAULT_SIGNING_SECRET,
        events_url: str | None = None,
        *,
        clock: Clock | None = None,
        rate_limit_scale: float | None = 1.0,
        base_url: str = "http://127.0.0.1",
        trigger_ttl: float | None = TRIGGER_TTL,
        delivery_timeout: float = 10.0,
        app_token: str | None = None,
        ack_timeout: float = ACK_TIMEOUT,
        sample_alert: SampleAlert | None = None,
    ) -> None:
        self.token = token
        self.faults = FaultPlan()
        self.sample_alert = sample_alert
        super().__init__(
            signing_secret=signing_secret,
            events_url=events_url,
            clock=clock,
            base_url=base_url,
            trigger_ttl=trigger_ttl,
            delivery_timeout=delivery_timeout,
            app_token=app_token,
            ack_timeout=ack_timeout,
        )
        self.limiter = RateLimiter(self.clock, rate_limit_scale)

    def _seed_state(self) -> None:
        super()._seed_state()
        self.calls: list[ApiCall] = []

    @property
    def rate_limit_scale(self) -> float | None:
        """Multiplier on every Slack rate (2.0 = twice as many calls); 0 or None turns limits off."""
        return self.limiter.scale

    @rate_limit_scale.setter
    def rate_limit_scale(self, scale: float | None) -> None:
        self.limiter.scale = scale

    def reset(self) -> None:
        """Return to the seeded state: forget messages, channels made since, calls, limits and faults."""
        with self.lock:
            self._seed_state()
            self.limiter.reset()
        self.faults.clear()
        self.feed.changed()

    # -- fault injection -----------------------------------------------------

    def inject_fault(
        self,
        method: str = ANY_METHOD,
        *,
        status: int | None = None,
        error: str | None = None,
        delay: float | None = None,
        count: int = 1,
        retry_after: int | None = None,
    ) -> Fault:
        """Make the next `count` calls of `method` ("*" = any) wait `delay` s, then fail with status/error."""
        data = {"method": method, "status": status, "error": error, "delay": delay}
        return self.faults.add(Fault.from_dict({**data, "count": count, "retry_after": retry_after}))

    def add_fault(self, fault: Fault | dict[str, Any]) -> Fault:
        """Queue a fault given as a Fault or its JSON form."""
        return self.faults.add(fault if isinstance(fault, Fault) else Fault.from_dict(fault))

    def clear_faults(self) -> None:
        """Drop queued faults and release held methods."""
        self.faults.clear()

    def hold(self, method: str) -> None:
        """Make requests to `method` ("*" = any) block until release(method)."""
        self.faults.hold(method)

    def release(self, method: str) -> None:
        """Let requests to `method` through again, including those already waiting."""
        self.faults.release(method)

    async def wait_until_held(self, method: str, count: int = 1, *, seconds: float = 5.0) -> None:
        """Wait until `count` requests are blocked on a hold of `method`; TimeoutError after `seconds`."""
        if not await asyncio.to_thread(self.faults.wait_for_waiting, method, count, seconds):
            raise TimeoutError(f"fewer than {count} requests to {method} were held within {seconds}s")

    # -- observation ---------------------------------------------------------

    def record_call(self, method: str, args: dict[str, Any]) -> ApiCall:
        """Append a pending call to the log and return it."""
        with self.lock:
            call = ApiCall(method, args, self.clock())
            self.calls.append(call)
            return call

    def calls_to(self, method: str) -> list[ApiCall]:
        """Return the logged calls of one method, oldest first."""
        with self.lock:
            return [call for call in self.calls if call.method == method]
