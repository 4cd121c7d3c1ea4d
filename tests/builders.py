"""Builders for test stores and dependencies."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bootstrap import build_reactors
from bot.clock import ManualClock
from bot.config import AppConfig
from bot.db.base import Base
from bot.db.store import Store
from bot.domain.events import EventKind
from bot.domain.ports import ChatRoom
from bot.services.deps import Deps
from bot.services.reactors import WarRoomReactor

ALL_KINDS = frozenset(k.value for k in EventKind)
"""The kinds of a test reactor that wants every event."""


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


def chat_reactors(deps: Deps, chat: ChatRoom, *, oncall: list[str] | None = None) -> WarRoomReactor:
    """The bot's chat reactors (war room, announcer) in the store's registry, as `warroom serve` adds them."""
    config = AppConfig.model_validate({"oncall": {"users": oncall or []}})
    return build_reactors(deps.store.reactors, deps, chat, config)
