"""The real-PostgreSQL fixtures: async SQLAlchemy works, SKIP LOCKED works, databases are per test."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.servers.postgres import PostgresServer, pg_dsn, pg_sync_url


async def test_select_one_and_skip_locked(pg_url: str) -> None:
    assert pg_url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    engine = create_async_engine(pg_url)
    try:
        async with engine.begin() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
            await conn.execute(text("CREATE TABLE jobs (id int PRIMARY KEY, state text NOT NULL)"))
            await conn.execute(text("INSERT INTO jobs VALUES (1, 'due'), (2, 'due'), (3, 'due')"))

        # Two workers claim concurrently: the rows one holds are skipped by the other.
        async with engine.connect() as first, engine.connect() as second:
            await first.begin()
            await second.begin()
            claim = text("SELECT id FROM jobs WHERE state = 'due' ORDER BY id LIMIT 2 FOR UPDATE SKIP LOCKED")
            got_first = (await first.execute(claim)).scalars().all()
            got_second = (await second.execute(claim)).scalars().all()
            assert got_first == [1, 2]
            assert got_second == [3]
            await first.rollback()
            await second.rollback()
    finally:
        await engine.dispose()


async def test_each_pg_url_is_its_own_database(pg_url: str, postgres_server: PostgresServer) -> None:
    other = f"{pg_url}_other"
    name = other.rsplit("/", 1)[1]
    postgres_server.create_database(name)
    try:
        engines = [create_async_engine(pg_url), create_async_engine(other)]
        try:
            async with engines[0].begin() as conn:
                await conn.execute(text("CREATE TABLE only_here (x int)"))
            async with engines[1].connect() as conn:
                exists = (await conn.execute(text("SELECT to_regclass('only_here') IS NOT NULL"))).scalar_one()
                assert exists is False
            names = []
            for engine in engines:
                async with engine.connect() as conn:
                    names.append((await conn.execute(text("SELECT current_database()"))).scalar_one())
            assert names[0] != names[1]
            assert names[0] == pg_url.rsplit("/", 1)[1]
        finally:
            await asyncio.gather(*(e.dispose() for e in engines))
    finally:
        postgres_server.drop_database(name)


previous_db: list[str] = []


@pytest.mark.parametrize("round_", [1, 2])
def test_databases_are_fresh_and_dropped(pg_url: str, postgres_server: PostgresServer, round_: int) -> None:
    name = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_dsn(pg_url), autocommit=True) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
        assert tables == (0,)
        conn.execute("CREATE TABLE leftover (x int)")
        existing = {r[0] for r in conn.execute("SELECT datname FROM pg_database").fetchall()}
    assert name in existing
    for prev in previous_db:
        assert prev not in existing  # the previous test's database was dropped
        assert prev != name
    previous_db.append(name)


def test_url_helpers() -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:5555/t_x"
    assert pg_sync_url(url) == url
    assert pg_sync_url("postgresql+psycopg_async://postgres@h:1/d") == "postgresql+psycopg://postgres@h:1/d"
    assert pg_sync_url("postgresql+asyncpg://postgres@h:1/d") == "postgresql+psycopg://postgres@h:1/d"
    assert pg_dsn(url) == "postgresql://postgres@127.0.0.1:5555/t_x"
