"""Builders for test stores and dependencies."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import ManualClock
from bot.db.base import Base
from bot.db.store import Store
from bot.services.deps import Deps


async def create_schema(engine: AsyncEngine) -> None:
    """Create every table directly (unit tests; migrations are tested separately)."""
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)


async def sqlite_store(tmp_path: Path) -> Store:
    """A fresh SQLite store in a temporary file."""
    store = Store.from_url(f"sqlite+aiosqlite:///{tmp_path / 'warroom.db'}")
    await create_schema(store.engine)
    return store


def deps_for(store: Store, clock: ManualClock | None = None) -> Deps:
    """Deps over a store with a manual clock."""
    return Deps(store=store, clock=clock or ManualClock())
