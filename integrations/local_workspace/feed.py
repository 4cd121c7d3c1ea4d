"""Change notification for the page's live updates: a revision number and the streams waiting on it.

The workspace is shared between threads and event loops (tests run the emulator in a thread of its own),
so a change wakes each waiting stream on its own loop with `call_soon_threadsafe`. `close()` ends every
stream at once (server shutdown); `open()` lets new ones start again.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Awaitable


class FeedClosed(Exception):
    """The feed is closed: the server is shutting down."""


class Feed:
    """A counter bumped on every change of the workspace, and the streams waiting for the next bump."""

    def __init__(self, max_streams: int = 64) -> None:
        self.max_streams = max_streams
        self._lock = threading.Lock()
        self._revision = 0
        self._closed = False
        self._waiters: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}
        self._next_id = 0

    @property
    def revision(self) -> int:
        """How many changes so far."""
        return self._revision

    @property
    def closed(self) -> bool:
        """True between close() and open()."""
        return self._closed

    @property
    def streams(self) -> int:
        """How many streams are waiting for changes now."""
        with self._lock:
            return len(self._waiters)

    def changed(self) -> None:
        """Note a change and wake every stream (from any thread)."""
        with self._lock:
            self._revision += 1
            waiters = list(self._waiters.values())
        _wake(waiters)

    def close(self) -> None:
        """End every stream now, and refuse new ones until open()."""
        with self._lock:
            self._closed = True
            waiters = list(self._waiters.values())
        _wake(waiters)

    def open(self) -> None:
        """Accept streams again (a server starting on this workspace)."""
        with self._lock:
            self._closed = False

    async def changes(self, since: int | None = None, *, until: Awaitable[object] | None = None) -> AsyncIterator[int]:
        """Yield the revision now (unless it is `since`), then each newer one, coalesced, until the feed closes
        or `until` completes. FeedClosed when the feed is closed or full before the first yield."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        with self._lock:
            if self._closed:
                raise FeedClosed("the server is shutting down")
            if len(self._waiters) >= self.max_streams:
                raise FeedClosed(f"too many live streams (at most {self.max_streams})")
            key = self._next_id
            self._next_id += 1
            self._waiters[key] = (loop, event)
        stop = asyncio.ensure_future(until) if until is not None else None
        last = since
        try:
            while not self._closed and not (stop is not None and stop.done()):
                event.clear()
                current = self._revision
                if current != last:
                    last = current
                    yield current
                    continue
                await _first(event.wait(), stop)
        finally:
            with self._lock:
                self._waiters.pop(key, None)
            if stop is not None and not stop.done():
                stop.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await stop


async def _first(wait: Awaitable[object], stop: asyncio.Future[object] | None) -> None:
    """Wait for `wait`, or for `stop` to finish first; never leaves a task behind."""
    waiter = asyncio.ensure_future(wait)
    try:
        pending = {waiter} if stop is None else {waiter, stop}
        await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not waiter.done():
            waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiter


def _wake(waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]) -> None:
    for loop, event in waiters:
        with contextlib.suppress(RuntimeError):  # that stream's loop is closed: nothing left to wake
            loop.call_soon_threadsafe(event.set)
