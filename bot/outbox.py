"""Durable delivery of event-log entries to reactors: backoff, Retry-After, dead letters.

The worker hands each claimed delivery to the reactor of its name in the store's `ReactorRegistry`, the
same list the store wrote the delivery rows from (see bot.plugins).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.background import Backoff, Sleep, persist
from bot.claims import ClaimWorker
from bot.db.store import ClaimedDelivery, Store, new_worker_id
from bot.domain.ports import Clock
from bot.plugins import GiveUp, Postpone, Reactor, ReactorRegistry, RetryLater, RetryPolicy

__all__ = ["GiveUp", "OutboxWorker", "Postpone", "Reactor", "RetryLater", "RetryPolicy"]

log = logging.getLogger("warroom.outbox")


class OutboxWorker(ClaimWorker[ClaimedDelivery]):
    """Claims due deliveries and hands them to reactors; one in flight per incident and reactor."""

    what = "delivery"

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        policy: RetryPolicy | None = None,
        lease: timedelta = timedelta(seconds=60),
        poll_interval: float = 1.0,
        batch: int = 16,
        worker_id: str | None = None,
        on_failure: Callable[[str], None] | None = None,
        sleep: Sleep = asyncio.sleep,
        backoff: Backoff | None = None,
        attempt_timeout: float = 600.0,
    ) -> None:
        worker_id = worker_id or new_worker_id("outbox")
        super().__init__(
            clock=clock, lease=lease, capacity=batch, poll_interval=poll_interval, worker_id=worker_id,
            sleep=sleep, backoff=backoff, attempt_timeout=attempt_timeout, logger=log, loop_name=f"outbox:{worker_id}",
        )  # fmt: skip
        self.on_failure = on_failure
        self.store = store
        self.reactors: ReactorRegistry = store.reactors
        self.policy = policy or RetryPolicy()
        self.delivered = 0
        self.failures = 0
        self.dead = 0

    @property
    def batch(self) -> int:
        """At most this many deliveries are claimed and in flight at once."""
        return self.capacity

    async def run_once(self) -> int:
        """Claim and deliver one round of due deliveries; return how many were handled."""
        return await self.claim_and_run()

    async def drain(self, max_rounds: int = 1000) -> int:
        """Deliver until nothing is due now (tests and CLI); return the number handled."""
        total = 0
        for _ in range(max_rounds):
            n = await self.run_once()
            if n == 0:
                break
            total += n
        return total

    async def _claim(self, now: datetime, limit: int) -> list[ClaimedDelivery]:
        return await self.store.claim_deliveries(worker=self.worker_id, now=now, lease=self.lease, limit=limit)

    async def _next_due(self) -> datetime | None:
        return await self.store.next_delivery_due()

    async def _renew(self, ids: list[int], until: datetime) -> set[int]:
        return await self.store.renew_deliveries(worker=self.worker_id, ids=ids, until=until)

    def _id(self, item: ClaimedDelivery) -> int:
        return item.id

    async def _work(self, c: ClaimedDelivery) -> None:
        reactor = self.reactors.get(c.reactor)
        if reactor is None:
            await self._record(c, "no such reactor", retry_at=None)
            return
        try:
            async with asyncio.timeout(self.attempt_timeout):
                await reactor.handle(c.event, attempt=c.attempts)
        except asyncio.CancelledError:
            raise
        except Postpone as exc:
            later = self.clock.now() + timedelta(seconds=max(exc.after or 0.0, 0.0))
            log.debug("delivery of event %s to %s postponed: %s", c.event.id, c.reactor, exc)
            await self._record(c, f"postponed: {exc}", retry_at=later, attempts=c.attempts - 1)
        except GiveUp as exc:
            self.dead += 1
            log.error("delivery %s to %s dead: %s", c.event.id, c.reactor, exc)
            await self._record(c, str(exc), retry_at=None)
        except Exception as exc:
            self.failures += 1
            if self.on_failure is not None:
                self.on_failure(c.reactor)
            after = exc.after if isinstance(exc, RetryLater) else getattr(exc, "retry_after", None)
            retry_at: datetime | None = None
            policy = getattr(reactor, "retry_policy", None) or self.policy  # a reactor may need longer (the pager)
            if c.attempts < policy.max_attempts:
                retry_at = self.clock.now() + timedelta(seconds=policy.delay(c.attempts, after))
            else:
                self.dead += 1
            log.warning(
                "delivery of event %s (%s) to %s failed (attempt %s): %s",
                c.event.id,
                c.event.kind,
                c.reactor,
                c.attempts,
                exc if str(exc) else type(exc).__name__,
            )
            await self._record(c, f"{type(exc).__name__}: {exc}", retry_at=retry_at)
        else:
            await self._record(c, None, retry_at=None)

    async def _record(
        self, c: ClaimedDelivery, error: str | None, *, retry_at: datetime | None, attempts: int | None = None
    ) -> None:
        """Record the outcome of an attempt, retrying through a database blip (the side effect is done);
        `attempts` rewrites the count (a postponed delivery did not really try)."""

        async def write() -> bool:
            if error is None:
                return await self.store.complete_delivery(c.id, worker=self.worker_id, now=self.clock.now())
            await self.store.fail_delivery(
                c.id, worker=self.worker_id, error=error, retry_at=retry_at, attempts=attempts
            )
            return False

        try:
            done = await persist(
                write, what=f"recording delivery {c.id}", logger=log, sleep=self.sleep,
                give_up_after=self.lease.total_seconds(),
            )  # fmt: skip
        except Exception:  # logged by persist; the lease runs out and the delivery is claimed again
            return
        if done:
            self.delivered += 1
