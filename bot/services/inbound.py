"""Inbound idempotency: remember deliveries already handled (Slack event ids, retried requests)."""

from __future__ import annotations

from bot.services.deps import Deps


async def first_time(deps: Deps, *, key: str) -> bool:
    """True the first time `key` is seen; False for a retry of the same delivery."""
    async with deps.store.transaction() as tx:
        return await tx.first_time(key, deps.clock.now())
