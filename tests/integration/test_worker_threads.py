"""Resources used by worker threads are closed only once those threads are done with them.

The race these tests hold shut crashed the suite (a segmentation fault in `PRAGMA wal_checkpoint`): a
cancelled `asyncio.to_thread` keeps running, and `stop()` closed the same `sqlite3` connection from another
thread meanwhile. Each test holds a job inside its thread, stops or closes in the middle, and checks the
order of what happened.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

from bot.db.checkpoint import WalCheckpointer
from bot.worker_threads import WorkerThreads
from tests.builders import sqlite_store
from tests.e2e.harness import eventually

HOLD_S = 0.3  # how long a test lets a wrong close happen before it releases the job (a wrong close is prompt)


class Gate:
    """A job's way in and out: `entered` once it is inside, it leaves when `release` is set."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.order: list[str] = []
        self.lock = threading.Lock()

    def note(self, what: str) -> None:
        with self.lock:
            self.order.append(what)

    def hold(self) -> None:
        self.note("job started")
        self.entered.set()
        assert self.release.wait(10), "the test never released the job"
        self.note("job finished")

    async def wait_inside(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, 10), "the job never started"


def gated_connection_class(gate: Gate) -> type[sqlite3.Connection]:
    class GatedConnection(sqlite3.Connection):
        """A real sqlite3 connection whose checkpoint statements wait at the gate while inside the driver."""

        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
            if "wal_checkpoint" in sql:
                gate.hold()
            return super().execute(sql, *args)

        def close(self) -> None:
            gate.note("close")
            super().close()

    return GatedConnection


async def test_stopping_in_the_middle_of_a_checkpoint_closes_its_connection_after_it(tmp_path: Path) -> None:
    gate = Gate()
    cls = gated_connection_class(gate)
    db = tmp_path / "cp.db"
    sqlite3.connect(db).execute("PRAGMA journal_mode=WAL").close()
    checkpointer = WalCheckpointer(
        str(db), interval=3600.0, connect=lambda path: sqlite3.connect(path, factory=cls, check_same_thread=False)
    )
    checkpointer.start()
    checkpointer.kick()
    await gate.wait_inside()

    stopping = asyncio.create_task(checkpointer.stop())  # cancels the loop while the checkpoint is in its thread
    done, _ = await asyncio.wait({stopping}, timeout=HOLD_S)
    assert not done, "stop() returned while a checkpoint was still running on the connection"
    assert gate.order == ["job started"], "the connection was closed under a running checkpoint"

    gate.release.set()
    await stopping
    assert gate.order == ["job started", "job finished", "close"]


async def test_a_cancelled_stop_still_closes_after_the_checkpoint(tmp_path: Path) -> None:
    gate = Gate()
    cls = gated_connection_class(gate)
    db = tmp_path / "cp.db"
    checkpointer = WalCheckpointer(
        str(db), interval=3600.0, connect=lambda path: sqlite3.connect(path, factory=cls, check_same_thread=False)
    )
    running = asyncio.create_task(checkpointer.run_once())
    await gate.wait_inside()
    running.cancel()
    stopping = asyncio.create_task(checkpointer.stop())
    await asyncio.sleep(0)
    stopping.cancel()  # shutdown gave up waiting: the close must still not overtake the checkpoint
    with pytest.raises(asyncio.CancelledError):
        await stopping
    assert gate.order == ["job started"]
    gate.release.set()
    await eventually(lambda: "close" in gate.order)
    assert gate.order == ["job started", "job finished", "close"]


async def test_disposing_the_store_waits_for_a_scan_still_running_in_its_thread(tmp_path: Path) -> None:
    store = await sqlite_store(tmp_path)
    gate = Gate()
    outcome: list[object] = []

    def slow_read(conn: Connection) -> int:
        gate.hold()
        try:
            value = int(conn.execute(text("SELECT count(*) FROM incidents")).scalar_one())
        except Exception as exc:
            outcome.append(exc)
            raise
        outcome.append(value)
        return value

    scan = asyncio.create_task(store.scan(slow_read))
    await gate.wait_inside()
    scan.cancel()  # e.g. the /metrics request went away
    disposing = asyncio.create_task(store.dispose())
    done, _ = await asyncio.wait({disposing}, timeout=HOLD_S)
    assert not done, "dispose() returned while a scan was still reading in its thread"
    gate.release.set()
    await disposing
    assert outcome == [0], f"the scan's connection was closed under it: {outcome}"
    with pytest.raises(asyncio.CancelledError):
        await scan


async def test_worker_threads_refuse_jobs_once_closed_and_run_the_finalizer_once() -> None:
    threads = WorkerThreads("test")
    finals: list[str] = []
    assert await threads.run(lambda: 41 + 1) == 42
    await asyncio.gather(threads.close(lambda: finals.append("x")), threads.close(lambda: finals.append("y")))
    assert finals == ["x"]
    assert threads.closed
    with pytest.raises(RuntimeError, match="closed"):
        await threads.run(lambda: 1)
