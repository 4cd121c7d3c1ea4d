"""Background loops of the bot's workers (outbox, timers, heartbeat, WAL checkpoints): backoff, health, stop.

A loop must outlive the failures of what it calls (a database restart, a network blip): it logs each
failure, waits a growing delay (`Backoff`), and tries again. `LoopTask` runs such a loop and tells
`/readyz` whether it is still running; a loop that ends by itself (which it never should) is logged as
an error at once, not discovered at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

log = logging.getLogger("warroom.background")


async def wait_event(event: asyncio.Event, timeout: float | None) -> bool:  # noqa: ASYNC109
    """Wait until `event` is set or `timeout` seconds pass; True when it was set.

    Not `asyncio.wait_for(event.wait(), timeout)`: on Python 3.11, when the event is set in the same loop
    iteration as the waiting task is cancelled, wait_for returns the result and the cancellation is lost. A
    worker loop being stopped then runs on, and its stop waits for it forever (seen as a shutdown that hung).
    """
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel a worker's loop and wait until it has stopped (its CancelledError is the expected end)."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@dataclass(slots=True)
class Backoff:
    """Delays after consecutive failures: `base`, doubling, at most `cap` seconds; `reset` after a success."""

    base: float = 0.1
    cap: float = 5.0
    failures: int = 0

    def failed(self) -> float:
        """Count one more failure; the seconds to wait before the next try."""
        self.failures += 1
        return float(min(self.cap, self.base * 2 ** (self.failures - 1)))

    def reset(self) -> int:
        """A success: start again from `base`; return how many failures came before it."""
        failures, self.failures = self.failures, 0
        return failures


def log_failure(logger: logging.Logger, what: str, exc: BaseException, backoff: Backoff, delay: float) -> None:
    """Log one failed round of a loop: the traceback the first time, one line each time after."""
    if backoff.failures == 1:
        logger.error("%s failed; retrying in %.1fs", what, delay, exc_info=exc)
    else:
        logger.warning(
            "%s failed again (%s in a row); retrying in %.1fs: %s: %s",
            what,
            backoff.failures,
            delay,
            type(exc).__name__,
            exc,
        )


def log_recovery(logger: logging.Logger, what: str, backoff: Backoff) -> None:
    """After a success: say so when failures came before it, and start the backoff again."""
    failures = backoff.reset()
    if failures:
        logger.warning("%s works again, after %s consecutive error(s)", what, failures)


async def persist(
    op: Callable[[], Awaitable[T]],
    *,
    what: str,
    logger: logging.Logger,
    sleep: Sleep,
    give_up_after: float,
    backoff: Backoff | None = None,
) -> T:
    """Run a database write that records work already done, retrying it through an outage.

    The side effect has happened; losing its record would make another worker do it again. Retries with
    backoff until about `give_up_after` seconds have been spent waiting, then raises the last error.
    """
    backoff = backoff or Backoff()
    waited = 0.0
    while True:
        try:
            result = await op()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            delay = backoff.failed()
            if waited + delay > give_up_after:
                logger.error("%s failed %s time(s); giving up: %s: %s", what, backoff.failures, type(exc).__name__, exc)
                raise
            log_failure(logger, what, exc, backoff, delay)
            await sleep(delay)
            waited += delay
        else:
            log_recovery(logger, what, backoff)
            return result


class LoopTask:
    """One named background loop: start, stop, and whether it is running (for `/readyz`)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def running(self) -> bool:
        """True while the loop's task is alive."""
        return self._task is not None and not self._task.done()

    @property
    def started(self) -> bool:
        """True between start() and stop()."""
        return self._task is not None

    def start(self, loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `loop()` in the background (once; a second start while running does nothing)."""
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(loop(), name=self.name)
            self._task.add_done_callback(self._ended)

    async def stop(self) -> None:
        """Cancel the loop and wait for it to end."""
        self._stopping = True
        task, self._task = self._task, None
        if task is not None and task.done():
            return  # it ended by itself, and that was logged then
        await cancel_and_wait(task)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if self._stopping or task.cancelled():
            return
        exc = task.exception()
        log.critical("background loop %s stopped by itself; it no longer runs", self.name, exc_info=exc)


def loops_detail(loops: dict[str, bool]) -> tuple[bool, str]:
    """Whether every named loop runs, and a sentence naming those that do not."""
    stopped = [name for name, running in loops.items() if not running]
    if stopped:
        return False, "background loop(s) not running: " + ", ".join(stopped)
    return True, "background loops running: " + ", ".join(loops)
