"""Durable timers: escalation deadlines, reminders, approval expiry, digests. Each fires once; a recurring
one (bot.recurring) once per occurrence."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.background import Backoff, Sleep, persist
from bot.claims import ClaimWorker
from bot.db.store import ClaimedTimer, Store, new_worker_id
from bot.domain.ports import Clock
from bot.recurring import Recurrence

log = logging.getLogger("warroom.scheduler")

TimerHandler = Callable[[ClaimedTimer], Awaitable[None]]


class Scheduler(ClaimWorker[ClaimedTimer]):
    """Claims due timers from the database and runs the handler registered for their kind."""

    what = "timer"

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
        attempt_timeout: float = 600.0,
    ) -> None:
        worker_id = worker_id or new_worker_id("timers")
        super().__init__(
            clock=clock, lease=lease, capacity=concurrency, poll_interval=poll_interval, worker_id=worker_id,
            sleep=sleep, backoff=backoff, attempt_timeout=attempt_timeout, logger=log, loop_name=f"timers:{worker_id}",
        )  # fmt: skip
        self.store = store
        self.retry_delay = retry_delay
        self.max_attempts = max_attempts
        self.handlers: dict[str, TimerHandler] = {}
        self.recurring: dict[str, tuple[str, Recurrence]] = {}  # key -> kind, schedule
        self._recurring_ensured = False

    @property
    def concurrency(self) -> int:
        """At most this many timers are claimed and firing at once."""
        return self.capacity

    def register(self, kind: str, handler: TimerHandler) -> None:
        """Run `handler` when a timer of `kind` fires."""
        self.handlers[kind] = handler

    def every(self, kind: str, key: str, recurrence: Recurrence, handler: TimerHandler | None = None) -> None:
        """A recurring timer `key` of `kind` (e.g. the daily digest at `0 23 * * *` in Europe/Paris); it is put
        in the table by `ensure_recurring` (the first round of the loop), once however many processes do it."""
        self.recurring[key] = (kind, recurrence)
        self._recurring_ensured = False
        if handler is not None:
            self.register(kind, handler)

    async def ensure_recurring(self) -> int:
        """Put every recurring timer in the table, at its next occurrence (a changed schedule replaces the
        stored one); how many rows were added or changed."""
        now = self.clock.now()
        changed = 0
        for key, (kind, recurrence) in self.recurring.items():
            changed += await self.store.ensure_recurring(
                kind=kind, key=key, payload=recurrence.payload(), due_at=recurrence.next_after(now)
            )
        return changed

    async def run_due(self, max_rounds: int = 1000) -> int:
        """Fire every timer due now, `concurrency` at a time (a slow one, e.g. waiting on a rate limit, holds
        up nobody); return how many fired or failed."""
        total = 0
        for _ in range(max_rounds):
            n = await self.claim_and_run()
            if n == 0:
                break
            total += n
        return total

    async def _claim(self, now: datetime, limit: int) -> list[ClaimedTimer]:
        if not self._recurring_ensured:  # in the loop's first round, retried with it while the database is down
            await self.ensure_recurring()
            self._recurring_ensured = True
        return await self.store.claim_timers(worker=self.worker_id, now=now, lease=self.lease, limit=limit)

    async def _next_due(self) -> datetime | None:
        return await self.store.next_timer_due()

    async def _renew(self, ids: list[int], until: datetime) -> set[int]:
        return await self.store.renew_timers(worker=self.worker_id, ids=ids, until=until)

    def _id(self, item: ClaimedTimer) -> int:
        return item.id

    async def _work(self, t: ClaimedTimer) -> None:
        handler = self.handlers.get(t.kind)
        error: str | None = None
        retry = None
        try:
            if handler is None:
                raise LookupError(f"no handler for timer kind {t.kind!r}")
            async with asyncio.timeout(self.attempt_timeout):
                await handler(t)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            retry = self.clock.now() + self.retry_delay if t.attempts < self.max_attempts else None
            error = str(exc) or type(exc).__name__
            log.warning("timer %s failed (attempt %s): %s", t.key, t.attempts, error)
        next_due = self._next_occurrence(t)

        async def finish() -> None:
            await self.store.finish_timer(
                t.id, worker=self.worker_id, now=self.clock.now(), error=error, retry_at=retry, next_due=next_due
            )

        try:
            # The handler ran: its outcome must be recorded, through a database blip too, or it runs again.
            await persist(
                finish, what=f"recording timer {t.key}", logger=log, sleep=self.sleep,
                give_up_after=self.lease.total_seconds(),
            )  # fmt: skip
        except Exception:  # logged by persist; the lease runs out and the timer is claimed again
            return

    def _next_occurrence(self, t: ClaimedTimer) -> datetime | None:
        """A recurring timer's next due time, computed now that this occurrence fired (None: a one-off)."""
        try:
            recurrence = Recurrence.of(t.payload)
        except ValueError as exc:
            log.error("timer %s has a broken schedule and will not recur: %s", t.key, exc)
            return None
        return recurrence.next_after(self.clock.now()) if recurrence else None
