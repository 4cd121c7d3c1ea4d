"""Background tasks of the bot's workers (outbox, timers, WAL checkpoints): how they stop."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel a worker's loop and wait until it has stopped (its CancelledError is the expected end)."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
