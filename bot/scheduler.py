"""Durable timers: escalation deadlines, reminders, approval expiry, digests. Each fires once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.background import Backoff, LoopTask, Sleep, log_failure, log_recovery, persist
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
        sleep: Sleep = asyncio.sleep,
        backoff: Backoff | None = None,
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
        self.sleep = sleep  # every wait of the loop goes through it (tests pass one that does not wait)
        self.backoff = backoff or Backoff()
        self._loop_task = LoopTask(f"timers:{self.worker_id}")

    @property
    def running(self) -> bool:
        """True while the timer loop runs."""
        return self._loop_task.running

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
        error: str | None = None
        retry = None
        try:
            if handler is None:
                raise LookupError(f"no handler for timer kind {t.kind!r}")
            await handler(t)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            retry = self.clock.now() + self.retry_delay if t.attempts < self.max_attempts else None
            error = str(exc) or type(exc).__name__
            log.warning("timer %s failed (attempt %s): %s", t.key, t.attempts, exc)

        async def finish() -> None:
            await self.store.finish_timer(
                t.id, worker=self.worker_id, now=self.clock.now(), error=error, retry_at=retry
            )

        try:
            # The handler ran: its outcome must be recorded, through a database blip too, or it runs again.
            await persist(
                finish, what=f"recording timer {t.key}", logger=log, sleep=self.sleep,
                give_up_after=self.lease.total_seconds(),
            )  # fmt: skip
        except Exception:  # logged by persist; the lease runs out and the timer is claimed again
            return

    def start(self) -> None:
        """Run the timer loop in the background."""
        self._loop_task.start(self._loop)

    async def stop(self) -> None:
        """Stop the loop."""
        await self._loop_task.stop()

    async def _loop(self) -> None:
        while True:
            try:
                fired = await self.run_due()
                nxt = None if fired else await self.store.next_timer_due()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                delay = self.backoff.failed()
                log_failure(log, "timer round", exc, self.backoff, delay)
                await self.sleep(delay)
                continue
            log_recovery(log, "timer round", self.backoff)
            if fired:
                continue
            timeout = self.poll_interval
            if nxt is not None:
                timeout = max(0.05, min(timeout, (nxt - self.clock.now()).total_seconds()))
            await self.sleep(timeout)
