"""Migrations: `alembic upgrade head` on fresh SQLite and PostgreSQL databases, and no drift."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from bot.clock import ManualClock
from bot.db.base import Base
from bot.db.engine import sync_url
from bot.db.migrate import head_revision, upgrade
from bot.db.store import Store
from bot.services.deps import Deps
from bot.services.stats import database_ready

TABLES = {
    "incidents",
    "incident_roles",
    "ref_counters",
    "timeline_events",
    "deliveries",
    "timers",
    "inbound_seen",
}


def _check(url: str) -> None:
    upgrade(url)
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) >= TABLES
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
            assert diff == [], f"models and migrations drifted: {diff}"
    finally:
        engine.dispose()
    upgrade(url)  # a second run is a no-op


def test_sqlite_upgrade_head_and_no_drift(tmp_path):
    _check(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_postgres_upgrade_head_and_no_drift(pg_url):
    _check(pg_url)


async def test_readyz_check_follows_migrations(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    store = Store.from_url(url)
    deps = Deps(store=store, clock=ManualClock())
    ok, detail = await database_ready(deps)
    assert not ok
    await asyncio.to_thread(upgrade, url)
    ok, detail = await database_ready(deps)
    assert ok and head_revision() in detail
    await store.dispose()
