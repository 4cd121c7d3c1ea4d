"""Worker threads that own a resource (a SQLite connection, an engine) and close it only when idle.

`asyncio.to_thread` cannot be cancelled: cancelling the awaiting task leaves the function running in its
worker thread. Closing the resource it uses from anywhere else at that moment (the pattern
`task.cancel(); await to_thread(conn.close)`) closes a `sqlite3` connection under a statement still inside
it, which crashes the process (a segmentation fault in `sqlite3_step`). So a resource that worker threads
use gets threads of its own: every use runs on them, and `close` first waits, off the loop, until every job
submitted before it has finished, then runs the finalizer. Cancelling a caller, or `close` itself, never
lets the finalizer overtake a job.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class WorkerThreads:
    """At most `size` threads named `name` that run blocking jobs for the event loop, and one final close."""

    def __init__(self, name: str, *, size: int = 1) -> None:
        self.name = name
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix=name)
        self._closing: asyncio.Future[None] | None = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once `close` has been called: no new job is taken."""
        return self._closed

    async def run(self, job: Callable[[], T]) -> T:
        """Run `job()` on one of the threads. Cancelling the caller does not stop a job that has started."""
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self.name}: closed")
            future = self._executor.submit(job)
        return await asyncio.wrap_future(future)

    async def close(self, finalizer: Callable[[], object] | None = None) -> None:
        """Take no more jobs, wait until every job has finished, then run `finalizer` (once).

        The waiting and the finalizer run together in one helper thread: if this coroutine is cancelled, they
        still happen in that order. Calling it again waits for the same close.
        """
        with self._lock:
            self._closed = True
            closing = self._closing
            if closing is None:

                def finish() -> None:
                    self._executor.shutdown(wait=True)
                    if finalizer is not None:
                        finalizer()

                closing = self._closing = asyncio.ensure_future(asyncio.to_thread(finish))
        await asyncio.shield(closing)
