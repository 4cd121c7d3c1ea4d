"""This process's heartbeat in the shared database: it keeps the claims of running work alive, and lets
the survivors take over the work of a process that died, within seconds instead of a whole lease.

Every `interval` seconds the process (1) refreshes its row in `processes`, (2) renews the claims of the
deliveries and timers it is still working on, and (3) looks for processes silent for `missed` beats: their
rows are deleted and their claims released, and the local workers are woken to take the work. A process
that finds its own row gone was taken for dead (a stall longer than `missed` beats): its claims may be
someone else's by now, so it stops its in-flight work and registers again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import datetime, timedelta
from typing import Protocol

from bot.background import Backoff, LoopTask, Sleep, log_failure, log_recovery
from bot.db.processes import ProcessTable, Released
from bot.domain.ports import Clock

log = logging.getLogger("warroom.heartbeat")
MISSED_BEATS = 5


class ClaimHolder(Protocol):
    """A worker holding claims (bot.claims.ClaimWorker)."""

    async def renew_claims(self, now: datetime) -> None:
        """Extend the claims of the work still running."""
        ...

    def abandon_claims(self) -> None:
        """Stop all running work: its claims are no longer ours."""
        ...

    def wake(self) -> None:
        """Look for work now."""
        ...


class Heartbeat:
    """Registers this process, beats, renews its workers' claims and releases those of dead processes."""

    def __init__(
        self,
        table: ProcessTable,
        *,
        clock: Clock,
        process_id: str,
        instance: str | None = None,
        interval: float = 1.0,
        missed: int = MISSED_BEATS,
        holders: list[ClaimHolder] | None = None,
        sleep: Sleep = asyncio.sleep,
        backoff: Backoff | None = None,
    ) -> None:
        self.table = table
        self.clock = clock
        self.process_id = process_id
        self.instance = instance or process_id
        self.interval = interval
        self.timeout = timedelta(seconds=interval * missed)
        self.holders = list(holders or [])
        self.sleep = sleep
        self.backoff = backoff or Backoff(base=interval, cap=max(interval, 5.0))
        self.registered = False
        self._loop_task = LoopTask(f"heartbeat:{process_id}")

    @property
    def running(self) -> bool:
        """True while the heartbeat loop runs."""
        return self._loop_task.running

    async def register(self) -> None:
        """Record this process as alive; claims of earlier runs of this instance are released at once."""
        released = await self.table.register(
            process_id=self.process_id, instance=self.instance, host=socket.gethostname(), pid=os.getpid(),
            now=self.clock.now(),
        )  # fmt: skip
        self.registered = True
        if released:
            log.warning(
                "released %s deliveries and %s timers left in flight by an earlier run of %s",
                released.deliveries,
                released.timers,
                self.instance,
            )
            self._wake_all()

    async def beat_once(self) -> Released:
        """One beat: heartbeat, renew running claims, release those of dead processes (returned)."""
        now = self.clock.now()
        if not self.registered:
            await self.register()
        elif not await self.table.beat(self.process_id, now):
            log.error(
                "this process was taken for dead (no heartbeat for %.0fs): its claims went to other processes;"
                " stopping its in-flight work",
                self.timeout.total_seconds(),
            )
            for holder in self.holders:
                holder.abandon_claims()
            await self.register()
        for holder in self.holders:
            await holder.renew_claims(now)
        released = await self.table.reap(cutoff=now - self.timeout)
        if released:
            log.warning(
                "process(es) %s stopped beating: released %s deliveries and %s timers to the survivors",
                ", ".join(released.processes),
                released.deliveries,
                released.timers,
            )
            self._wake_all()
        return released

    def _wake_all(self) -> None:
        for holder in self.holders:
            holder.wake()

    async def _loop(self) -> None:
        while True:
            try:
                await self.beat_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                delay = self.backoff.failed()
                log_failure(log, "heartbeat", exc, self.backoff, delay)
                await self.sleep(delay)
                continue
            log_recovery(log, "heartbeat", self.backoff)
            await self.sleep(self.interval)

    def start(self) -> None:
        """Beat in the background."""
        self._loop_task.start(self._loop)

    async def stop(self, *, unregister: bool = True) -> None:
        """Stop beating; `unregister` (a clean stop, after the workers stopped) releases our claims now."""
        await self._loop_task.stop()
        if unregister and self.registered:
            self.registered = False
            try:
                released = await self.table.unregister(self.process_id)
            except Exception as exc:  # the heartbeat runs out and the survivors release them instead
                log.warning("could not release this process's claims at stop: %s: %s", type(exc).__name__, exc)
                return
            if released.deliveries or released.timers:
                log.info("released %s deliveries and %s timers at stop", released.deliveries, released.timers)
