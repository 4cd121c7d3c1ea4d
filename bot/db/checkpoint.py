"""SQLite WAL checkpoints off the event loop.

In WAL mode every commit appends pages to the `-wal` file; a checkpoint copies them back into the
database file. Left to itself SQLite checkpoints inside the commit that crosses `wal_autocheckpoint`,
which (the driver running inline on the loop, see bot.db.sqlite_inline) stalls every request for the
tens of milliseconds it takes to copy and sync a large WAL. This worker instead runs a PASSIVE checkpoint
every `interval` seconds on its own connection in a thread of its own: PASSIVE never waits for, nor blocks, readers
and writers, and SQLite releases the GIL while it copies, so the work lands on another core. The WAL stays
small, and `wal_autocheckpoint` remains only as a safety net should this worker fall behind.

The connection is used by that thread alone, and `stop` closes it only after a checkpoint still running there
has finished (see bot.worker_threads), never from under it.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.background import Backoff, LoopTask, log_failure, log_recovery, wait_event
from bot.worker_threads import WorkerThreads

log = logging.getLogger("warroom.db")


@dataclass(frozen=True, slots=True)
class CheckpointResult:
    """What `PRAGMA wal_checkpoint` reported: busy flag, WAL frames, frames copied into the database."""

    busy: bool
    wal_frames: int
    checkpointed: int


class WalCheckpointer:
    """Periodic PASSIVE checkpoints of one SQLite database file, in a worker thread."""

    def __init__(
        self,
        path: str,
        *,
        interval: float = 0.5,
        connect: Callable[[str], sqlite3.Connection] | None = None,
    ) -> None:
        self.path = path
        self.interval = interval
        self.runs = 0
        self.last: CheckpointResult | None = None
        self._connect = connect or _connect
        self._conn: sqlite3.Connection | None = None  # used by self._thread's jobs only, closed once they end
        self._thread = WorkerThreads(f"sqlite-checkpoint-{Path(path).name}")
        self._loop_task = LoopTask("sqlite-checkpoint")
        self._kick = asyncio.Event()
        self.backoff = Backoff(base=interval, cap=max(interval, 30.0))

    @property
    def running(self) -> bool:
        """True while the checkpoint loop runs."""
        return self._loop_task.running

    def _checkpoint(self) -> CheckpointResult:
        if self._conn is None:
            self._conn = self._connect(self.path)
        busy, frames, done = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return CheckpointResult(bool(busy), int(frames), int(done))

    def _close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

    async def run_once(self) -> CheckpointResult:
        """One PASSIVE checkpoint, in the checkpointer's thread."""
        result = await self._thread.run(self._checkpoint)
        self.runs += 1
        self.last = result
        return result

    def kick(self) -> None:
        """Checkpoint now rather than at the next interval."""
        self._kick.set()

    async def _loop(self) -> None:
        delay = self.interval
        while True:
            await wait_event(self._kick, delay)
            self._kick.clear()
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the next run tries again; the autocheckpoint is the safety net
                delay = self.backoff.failed()
                log_failure(log, "WAL checkpoint", exc, self.backoff, delay)
            else:
                log_recovery(log, "WAL checkpoint", self.backoff)
                delay = self.interval

    def start(self) -> None:
        """Start checkpointing in the background."""
        self._loop_task.start(self._loop)

    async def stop(self) -> None:
        """Stop, and close the connection once a checkpoint still running in the thread has finished."""
        await self._loop_task.stop()
        thread, self._thread = self._thread, WorkerThreads(self._thread.name)  # a later start gets a new thread
        await thread.close(self._close)


def _connect(path: str) -> sqlite3.Connection:
    # check_same_thread=False: it is closed from the helper thread that waited for the worker to finish.
    return sqlite3.connect(path, timeout=0.1, check_same_thread=False)
