"""Inbound idempotency: remember deliveries already handled (Slack event ids, retried requests)."""

from __future__ import annotations

from bot.services.deps import Deps


async def first_time(deps: Deps, *, key: str) -> bool:
    """True the first time `key` is seen; False for a retry of the same delivery."""
    async with deps.store.transaction() as uow:
        return await uow.first_time(key, deps.clock.now())
