"""Durable timers: escalation deadlines, reminders, approval expiry, digests. Each fires once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.background import cancel_and_wait
from bot.db.store import ClaimedTimer, Store, new_worker_id
from bot.domain.ports import Clock

log = logging.getLogger("warroom.scheduler")

TimerHandler = Callable[[ClaimedTimer], Awaitable[None]]


class Scheduler:
    """Claims due timers from the database and runs the handler registered for their kind."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Clock,
        lease: timedelta = timedelta(seconds=60),
        retry_delay: timedelta = timedelta(seconds=30),
        max_attempts: int = 5,
        poll_interval: float = 1.0,
        worker_id: str | None = None,
        concurrency: int = 8,
    ) -> None:
        self.concurrency = concurrency
        self.store = store
        self.clock = clock
        self.lease = lease
        self.retry_delay = retry_delay
        self.max_attempts = max_attempts
        self.poll_interval = poll_interval
        self.worker_id = worker_id or new_worker_id("timers")
        self.handlers: dict[str, TimerHandler] = {}
        self._task: asyncio.Task[None] | None = None

    def register(self, kind: str, handler: TimerHandler) -> None:
        """Run `handler` when a timer of `kind` fires."""
        self.handlers[kind] = handler

    async def run_due(self) -> int:
        """Fire every timer due now, several at a time (a slow one, e.g. waiting on a rate limit, holds up
        nobody); return how many fired or failed."""
        timers = await self.store.claim_timers(worker=self.worker_id, now=self.clock.now(), lease=self.lease)
        gate = asyncio.Semaphore(self.concurrency)

        async def fire(t: ClaimedTimer) -> None:
            async with gate:
                await self._fire(t)

        await asyncio.gather(*(fire(t) for t in timers))
        return len(timers)

    async def _fire(self, t: ClaimedTimer) -> None:
        handler = self.handlers.get(t.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for timer kind {t.kind!r}")
            await handler(t)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            retry = self.clock.now() + self.retry_delay if t.attempts < self.max_attempts else None
            log.warning("timer %s failed (attempt %s): %s", t.key, t.attempts, exc)
            await self.store.finish_timer(
                t.id,
                worker=self.worker_id,
                now=self.clock.now(),
                error=str(exc) or type(exc).__name__,
                retry_at=retry,
            )
        else:
            await self.store.finish_timer(t.id, worker=self.worker_id, now=self.clock.now())

    def start(self) -> None:
        """Run the timer loop in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=f"timers:{self.worker_id}")

    async def stop(self) -> None:
        """Stop the loop."""
        await cancel_and_wait(self._task)
        self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                fired = await self.run_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("timer round failed")
                fired = 0
            if fired:
                continue
            nxt = await self.store.next_timer_due()
            timeout = self.poll_interval
            if nxt is not None:
                timeout = max(0.05, min(timeout, (nxt - self.clock.now()).total_seconds()))
            await asyncio.sleep(timeout)
