"""The shape both queue workers share (outbox deliveries, timers): claim only what can run now, run each
claimed item as its own task, renew the claims of the items still running, let go of lost ones.

A worker holds at most `capacity` claims. A slot that frees up (an item finished) wakes the loop, which
claims again, so work is never claimed long before it can start: an item waiting in the worker is an item
another process could be doing. While an item runs, the process heartbeat (bot.heartbeat) renews its claim
every beat, so a slow item (waiting for Slack's rate limit) keeps it however long it takes, up to
`attempt_timeout`; when the process dies the renewals stop and the survivors take the item over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from bot.background import Backoff, LoopTask, Sleep, log_failure, log_recovery, wait_event
from bot.domain.ports import Clock

C = TypeVar("C")


class ClaimWorker(Generic[C]):
    """Claims items of a durable queue and runs them, at most `capacity` at a time. Subclasses say how."""

    what = "item"

    def __init__(
        self,
        *,
        clock: Clock,
        lease: timedelta,
        capacity: int,
        poll_interval: float,
        worker_id: str,
        sleep: Sleep,
        backoff: Backoff | None,
        attempt_timeout: float,
        logger: logging.Logger,
        loop_name: str,
    ) -> None:
        self.clock = clock
        self.lease = lease
        self.capacity = max(1, capacity)
        self.poll_interval = poll_interval
        self.worker_id = worker_id
        self.sleep = sleep  # every wait of the loop goes through it (tests pass one that does not wait)
        self.backoff = backoff or Backoff()
        self.attempt_timeout = attempt_timeout
        self.log = logger
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._loop_task = LoopTask(loop_name)

    # -- what a subclass provides ------------------------------------------------------------

    async def _claim(self, now: datetime, limit: int) -> list[C]:
        raise NotImplementedError

    async def _next_due(self) -> datetime | None:
        raise NotImplementedError

    async def _renew(self, ids: list[int], until: datetime) -> set[int]:
        raise NotImplementedError

    def _id(self, item: C) -> int:
        raise NotImplementedError

    async def _work(self, item: C) -> None:
        """Run one claimed item and record its outcome; raises only when cancelled."""
        raise NotImplementedError

    # -- running items -----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """True while the loop runs."""
        return self._loop_task.running

    @property
    def in_flight(self) -> list[int]:
        """Ids of the items this worker is running now."""
        return list(self._inflight)

    def wake(self) -> None:
        """Look for work now (after a commit, a freed slot, claims released by a dead process)."""
        self._wake.set()

    def _spawn(self, item: C) -> asyncio.Task[None]:
        key = self._id(item)
        running = self._inflight.get(key)
        if running is not None:
            # Our own claim ran out while the item still runs here (a stall, a database outage): we claimed it
            # again, and the task already running finishes it.
            return running
        task = asyncio.create_task(self._work(item), name=f"{self.what}:{key}")
        self._inflight[key] = task

        def done(t: asyncio.Task[None]) -> None:
            if self._inflight.get(key) is t:
                del self._inflight[key]
            if not t.cancelled() and t.exception() is not None:
                self.log.error("%s %s ended with an error", self.what, key, exc_info=t.exception())
            self._wake.set()

        task.add_done_callback(done)
        return task

    async def _run_all(self, items: Iterable[C]) -> None:
        tasks = [self._spawn(i) for i in items]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def claim_and_run(self) -> int:
        """One round outside the loop (tests, CLI): claim what fits, run it to the end; how many ran."""
        items = await self._claim(self.clock.now(), self.capacity - len(self._inflight))
        await self._run_all(items)
        return len(items)

    # -- claims --------------------------------------------------------------------------------

    async def renew_claims(self, now: datetime) -> None:
        """Extend the lease of every item still running; stop those whose claim another worker has now."""
        ids = self.in_flight
        if not ids:
            return
        kept = await self._renew(ids, now + self.lease)
        for key in ids:
            task = self._inflight.get(key)
            if key not in kept and task is not None and not task.done():
                self.log.warning(
                    "%s %s: our claim is gone (another worker took it over); stopping this attempt", self.what, key
                )
                task.cancel()

    def abandon_claims(self) -> None:
        """Stop every running item: this process was taken for dead and its claims went to others."""
        for task in list(self._inflight.values()):
            task.cancel()

    # -- the loop ------------------------------------------------------------------------------

    def start(self) -> None:
        """Run the loop in the background."""
        self._loop_task.start(self._loop)

    async def stop(self) -> None:
        """Stop the loop and the items still running (their claims are released or run out)."""
        await self._loop_task.stop()
        tasks = list(self._inflight.values())
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t

    async def _loop(self) -> None:
        name = f"{self.what} round"
        while True:
            self._wake.clear()
            try:
                free = self.capacity - len(self._inflight)
                claimed = await self._claim(self.clock.now(), free) if free > 0 else []
                for item in claimed:
                    self._spawn(item)
                nxt = None if claimed or free <= 0 else await self._next_due()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                delay = self.backoff.failed()
                log_failure(self.log, name, exc, self.backoff, delay)
                await self.sleep(delay)
                continue
            log_recovery(self.log, name, self.backoff)
            if claimed and len(claimed) == free:
                continue  # the slots are full: the next round claims once one frees up (it wakes us)
            timeout = self.poll_interval
            if nxt is not None:
                timeout = max(0.0, min(timeout, (nxt - self.clock.now()).total_seconds()))
            await wait_event(self._wake, timeout)
