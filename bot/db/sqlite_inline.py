"""An asyncio face for the stdlib `sqlite3` driver that runs each call inline, on the event loop's thread.

SQLAlchemy's aiosqlite dialect talks to a driver connection through awaitables (`cursor()`,
`cursor.execute()`, `commit()`, ...). aiosqlite answers each of them by a hop to a worker thread and a
future back; for SQLite, where a statement takes tens of microseconds, those hops (three or four per
statement, each a GIL hand-over) cost more than the statement. This module gives the dialect the same
awaitables over a plain `sqlite3.Connection`, run in place, through SQLAlchemy's documented
`async_creator` hook.

It is safe because writes never wait on each other inside the process: `Store.transaction` holds an
asyncio lock around every SQLite write unit of work, and WAL readers never block. A writer in another
process (`warroom migrate` during a run) makes a write wait for SQLite's busy timeout on the loop's
thread, which is why the engine sets a short one for this driver (see `bot.db.engine`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any, Self


class InlineCursor:
    """aiosqlite's Cursor surface over a `sqlite3.Cursor`, without the thread."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Any = ()) -> Self:
        self._cursor.execute(sql, parameters if parameters is not None else ())
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> Self:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def nextset(self) -> None:
        return None

    async def setinputsizes(self, *sizes: Any) -> None:
        return None

    async def close(self) -> None:
        self._cursor.close()


class _CursorOpener:
    """What `connection.cursor()` returns: awaitable, and usable as `async with` (as aiosqlite's is)."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: InlineCursor) -> None:
        self._cursor = cursor

    def __await__(self) -> Any:
        return self._ready().__await__()

    async def _ready(self) -> InlineCursor:
        return self._cursor

    async def __aenter__(self) -> InlineCursor:
        return self._cursor

    async def __aexit__(self, *exc: object) -> None:
        await self._cursor.close()


class InlineConnection:
    """aiosqlite's Connection surface over a `sqlite3.Connection`, run on the caller's thread."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        # SQLAlchemy's adapter checks `_connection` before commit and rollback (aiosqlite's attribute name).
        self._connection: sqlite3.Connection | None = connection

    def _live(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The stdlib connection, for hot paths that bypass SQLAlchemy inside a unit of work."""
        return self._live()

    @property
    def isolation_level(self) -> str | None:
        return self._live().isolation_level

    def cursor(self) -> _CursorOpener:
        return _CursorOpener(InlineCursor(self._live().cursor()))

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> InlineCursor:
        return InlineCursor(self._live().execute(sql, parameters))

    async def commit(self) -> None:
        self._live().commit()

    async def rollback(self) -> None:
        self._live().rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._live().create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Close at once (also SQLAlchemy's terminate path, e.g. on garbage collection)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def inline_creator(path: str, *, timeout: float, uri: bool = False) -> Any:
    """An `async_creator` for `create_async_engine`: opens `path` with sqlite3 and wraps it inline."""

    async def create() -> InlineConnection:
        # check_same_thread=False: the pool may hand the connection to another thread at shutdown
        # (garbage collection); every statement still runs on the loop's thread.
        conn = sqlite3.connect(path, timeout=timeout, uri=uri, check_same_thread=False)
        return InlineConnection(conn)

    return create
