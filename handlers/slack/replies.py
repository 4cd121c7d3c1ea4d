"""Acknowledge within Slack's 3 seconds, whatever the work takes; turn errors into clear replies."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from bot.domain.text import Text
from bot.services.errors import NotAllowed, ServiceError

log = logging.getLogger("warroom.slack")
WORKING = ":hourglass_flowing_sand: Working on it…"


def error_text(exc: BaseException) -> str:
    """A user-facing sentence for an error; unexpected ones get an id to find in the logs."""
    if isinstance(exc, NotAllowed):
        return f":no_entry: {exc}"
    if isinstance(exc, ServiceError | ValueError):
        return f":warning: {exc}"
    ref = uuid.uuid4().hex[:8]
    log.error("unexpected error %s: %s", ref, exc, exc_info=exc)
    return f":x: Something went wrong (error id `{ref}`); it is in the bot's logs."


async def ack_with_result(
    ack: Any, respond: Any, work: Awaitable[Text | str], *, deadline: float, render: Callable[[Text | str], str]
) -> None:
    """Ack with the work's reply if it finishes within `deadline`, else ack now and respond later.

    Replies are rendered by `render` (the chat room's: redacted, data escaped, only the bot's mentions live).
    """
    task: asyncio.Future[Text | str] = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=deadline)
    if task in done:
        exc = task.exception()
        text = render(error_text(exc) if exc else task.result())
        await (ack(response_type="ephemeral", text=text) if text else ack())
        return
    await ack(response_type="ephemeral", text=WORKING)
    try:
        reply = await task
    except Exception as exc:
        reply = error_text(exc)
    text = render(reply)
    if text:
        await respond(response_type="ephemeral", replace_original=False, text=text)
