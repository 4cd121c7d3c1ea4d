"""What chat reactors share: posting a message exactly once in effect, and the outbox's view of chat errors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.domain.ports import ChatError, ChatRefused, ChatRoom
from bot.plugins import GiveUp, RetryLater
from bot.services.deps import Deps

log = logging.getLogger("warroom.reactors")


def chat_failure(exc: ChatError) -> Exception:
    """Map a chat error to the outbox's retry vocabulary: the adapter said which errors are permanent."""
    if isinstance(exc, ChatRefused):
        return GiveUp(f"chat refused: {exc.code}")
    return RetryLater(f"chat: {exc.code}", after=exc.retry_after)


def stray_key(marker: str) -> str:
    """Where the copy that lost a race is recorded until it is deleted (a failed delete is retried)."""
    return f"{marker}~stray"


async def post_once(
    deps: Deps,
    chat: ChatRoom,
    marker: str,
    channel_id: str,
    post: Callable[[], Awaitable[str]],
    *,
    since: datetime,
    attempt: int,
) -> str:
    """Post a message carrying `marker` exactly once in effect, however many attempts and processes try.

    Every attempt first looks in the database, where the ts is recorded as soon as the platform returns
    it (another attempt may have posted it meanwhile). A retry also searches the channel back to `since`
    (when the message could first have been posted), for a post whose ts was never recorded (a crash
    between the two). If two attempts still both posted, the one recorded first stays and the other
    deletes its copy; that copy is recorded first, so a delete that fails (rate limited, a crash) is done
    again by the next attempt instead of leaving two messages.
    """
    async with deps.store.read() as uow:
        ts = await uow.chat_post(marker)
        stray = await uow.chat_post(stray_key(marker)) if ts is not None and attempt > 1 else None
    if ts is not None:
        if stray is not None and stray != ts:
            await chat.delete_message(channel_id, stray)
        return ts
    if attempt > 1:
        ts = await chat.find_marked(channel_id, marker, since=since)
    if ts is None:
        ts = await post()
    async with deps.store.transaction() as uow:
        kept = await uow.record_chat_post(marker, channel_id=channel_id, ts=ts, at=deps.clock.now())
    if kept != ts:
        log.warning("%s was posted twice (%s and %s): deleting the later copy", marker, kept, ts)
        async with deps.store.transaction() as uow:
            await uow.record_chat_post(stray_key(marker), channel_id=channel_id, ts=ts, at=deps.clock.now())
        await chat.delete_message(channel_id, ts)
    return kept
