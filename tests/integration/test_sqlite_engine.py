"""The SQLite engine: the inline driver, its raw connection for hot paths, and WAL checkpoints off the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select, text
from sqlalchemy.exc import OperationalError

from bot.db.checkpoint import WalCheckpointer
from bot.db.engine import sqlite_file
from bot.db.store import Store
from bot.db.tables import RefCounterRow
from tests.builders import sqlite_store
from tests.e2e.harness import eventually


async def test_statements_run_on_the_event_loops_thread(tmp_path: Path) -> None:
    store = await sqlite_store(tmp_path)
    seen: list[int] = []
    try:
        async with store.transaction() as tx:
            raw = await tx.raw_sqlite()
            assert isinstance(raw, sqlite3.Connection)
            raw.create_function("thread_id", 0, threading.get_ident)
            seen.append(int((await tx.session.execute(text("SELECT thread_id()"))).scalar_one()))
        assert seen == [threading.get_ident()]
    finally:
        await store.dispose()


async def test_raw_writes_commit_and_roll_back_with_the_unit_of_work(tmp_path: Path) -> None:
    store = await sqlite_store(tmp_path)
    try:
        async with store.transaction() as tx:
            raw = await tx.raw_sqlite()
            assert raw is not None
            raw.execute("INSERT INTO ref_counters (day, last) VALUES ('20261123', 7)")
        with pytest.raises(RuntimeError):
            async with store.transaction() as tx:
                raw = await tx.raw_sqlite()
                assert raw is not None
                raw.execute("INSERT INTO ref_counters (day, last) VALUES ('20261124', 1)")
                raise RuntimeError("boom")
        async with store.read() as tx:
            rows = (await tx.session.execute(select(RefCounterRow.day, RefCounterRow.last))).all()
        assert [tuple(r) for r in rows] == [("20261123", 7)]
    finally:
        await store.dispose()


async def test_concurrent_units_of_work_do_not_block_each_other(tmp_path: Path) -> None:
    store = await sqlite_store(tmp_path)

    async def bump(day: str) -> None:
        for _ in range(25):
            async with store.transaction() as tx:
                await tx.next_ref(date.fromisoformat(day))
                await asyncio.sleep(0)  # yield inside the unit of work: others queue on the write lock

    try:
        await asyncio.wait_for(asyncio.gather(*(bump(d) for d in ("2026-11-23", "2026-11-24", "2026-11-25"))), 20)
        async with store.read() as tx:
            total = (await tx.session.execute(select(func.sum(RefCounterRow.last)))).scalar_one()
        assert total == 75
    finally:
        await store.dispose()


def test_sqlite_file_names_only_file_databases() -> None:
    assert sqlite_file("sqlite+aiosqlite:////var/lib/warroom/w.db") == "/var/lib/warroom/w.db"
    assert sqlite_file("sqlite+aiosqlite://") is None
    assert sqlite_file("sqlite:///:memory:") is None
    assert sqlite_file("postgresql+psycopg://u@h/db") is None
    assert Store.from_url("sqlite+aiosqlite://").checkpointer is None


async def test_checkpointer_copies_the_wal_back_and_keeps_it_small(tmp_path: Path) -> None:
    store = await sqlite_store(tmp_path)
    assert store.checkpointer is not None
    wal = Path(f"{store.checkpointer.path}-wal")
    try:
        for i in range(200):
            async with store.transaction() as tx:
                raw = await tx.raw_sqlite()
                assert raw is not None
                raw.execute("INSERT INTO ref_counters (day, last) VALUES (?, ?)", (f"d{i:05d}", i))
        first = await store.checkpointer.run_once()
        assert not first.busy and first.wal_frames > 100 and first.checkpointed == first.wal_frames
        size = wal.stat().st_size
        # The next writer starts the WAL over from its beginning: it does not grow past what it was.
        for i in range(200, 400):
            async with store.transaction() as tx:
                raw = await tx.raw_sqlite()
                assert raw is not None
                raw.execute("INSERT INTO ref_counters (day, last) VALUES (?, ?)", (f"d{i:05d}", i))
        second = await store.checkpointer.run_once()
        assert second.checkpointed == second.wal_frames <= first.wal_frames + 5
        assert wal.stat().st_size <= size + 5 * 4096
        assert store.checkpointer.runs == 2
        # Everything is in the database file itself once checkpointed: a reader without the WAL sees it.
        copy = tmp_path / "copy.db"
        copy.write_bytes(Path(store.checkpointer.path).read_bytes())
        with sqlite3.connect(copy) as conn:
            assert conn.execute("SELECT count(*) FROM ref_counters").fetchone() == (400,)
    finally:
        await store.dispose()


async def test_checkpointer_runs_in_the_background_until_the_store_is_disposed(tmp_path: Path) -> None:
    store = await sqlite_store(tmp_path)
    checkpointer = store.checkpointer
    assert checkpointer is not None
    checkpointer.interval = 3600.0  # only kicks make it run in this test
    store.start_background()
    async with store.transaction() as tx:
        await tx.next_ref(date(2026, 11, 23))
    checkpointer.kick()
    await eventually(lambda: checkpointer.runs == 1)
    assert checkpointer.last is not None and checkpointer.last.checkpointed == checkpointer.last.wal_frames
    await store.dispose()
    checkpointer.kick()
    await asyncio.sleep(0)
    assert checkpointer.runs == 1  # stopped with the store


async def test_a_checkpointer_on_a_missing_directory_reports_the_error(tmp_path: Path) -> None:
    checkpointer = WalCheckpointer(str(tmp_path / "no" / "such" / "dir.db"))
    with pytest.raises(sqlite3.OperationalError):
        await checkpointer.run_once()
    await checkpointer.stop()


@pytest.mark.parametrize(("setting", "level"), [("NORMAL", 1), ("FULL", 2)])
async def test_synchronous_follows_the_setting(tmp_path: Path, setting: str, level: int) -> None:
    store = Store.from_url(f"sqlite+aiosqlite:///{tmp_path / 's.db'}", sqlite_synchronous=setting)
    try:
        async with store.read() as tx:
            assert (await tx.session.execute(text("PRAGMA synchronous"))).scalar_one() == level
            assert (await tx.session.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
            assert (await tx.session.execute(text("PRAGMA busy_timeout"))).scalar_one() == 5000
        assert await store.scan(lambda conn: conn.execute(text("PRAGMA busy_timeout")).scalar_one()) == 5000
    finally:
        await store.dispose()


def test_an_unknown_synchronous_level_is_refused() -> None:
    with pytest.raises(ValueError, match="NORMAL, FULL"):
        Store.from_url("sqlite+aiosqlite://", sqlite_synchronous="OFF")


async def test_scans_run_off_the_loop_on_a_read_only_connection(tmp_path: Path) -> None:
    store = await sqlite_store(tmp_path)
    try:
        async with store.transaction() as tx:
            await tx.next_ref(date(2026, 11, 23))

        def look(conn: Connection) -> tuple[int, int]:
            return threading.get_ident(), int(
                conn.execute(select(func.count()).select_from(RefCounterRow)).scalar_one()
            )

        thread, rows = await store.scan(look)
        assert rows == 1 and thread != threading.get_ident()

        def write(conn: Connection) -> None:
            conn.execute(text("DELETE FROM ref_counters"))

        with pytest.raises(OperationalError, match="readonly"):
            await store.scan(write)
        assert await store.delivery_counts() == {}
    finally:
        await store.dispose()


async def test_an_in_memory_store_scans_on_its_own_connection() -> None:
    store = Store.from_url("sqlite+aiosqlite://")
    try:
        async with store.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (1), (2)"))
        assert await store.scan(lambda conn: conn.execute(text("SELECT sum(x) FROM t")).scalar_one()) == 3
    finally:
        await store.dispose()
