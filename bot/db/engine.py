"""Engine creation for SQLite (WAL, busy timeout) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

from bot.db.sqlite_inline import inline_creator


def _with_driver(url: str, sqlite_driver: str) -> str:
    u = make_url(url)
    drivers = {"sqlite": sqlite_driver, "postgresql": "postgresql+psycopg"}
    backend = u.get_backend_name()
    if backend in drivers:
        u = u.set(drivername=drivers[backend])
    return u.render_as_string(hide_password=False)


def async_url(url: str) -> str:
    """Normalize a database URL to an async driver (aiosqlite or psycopg)."""
    return _with_driver(url, "sqlite+aiosqlite")


def sync_url(url: str) -> str:
    """The same database through a sync driver (alembic, CLI tools)."""
    return _with_driver(url, "sqlite")


def is_sqlite(url: str) -> bool:
    """True for SQLite URLs."""
    return make_url(url).get_backend_name() == "sqlite"


# Writes inside the process never wait on each other (the store serializes them), so the busy timeout only
# matters against another process (a `warroom migrate` during a run); it is spent on the loop's thread.
BUSY_TIMEOUT_S = 5.0


def sqlite_file(url: str) -> str | None:
    """The database file of a SQLite URL; None for other backends and in-memory databases."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or u.database in (None, "", ":memory:"):
        return None
    return u.database


def _sqlite_pragmas(synchronous: str) -> Any:
    def apply(dbapi_connection: Any, _record: Any) -> None:
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA wal_autocheckpoint=20000")  # a safety net: bot.db.checkpoint keeps the WAL small
        cur.execute("PRAGMA cache_size=-16384")  # 16 MiB of page cache per connection (KiB when negative)
        cur.execute("PRAGMA mmap_size=268435456")  # reads of the database file through a 256 MiB map
        cur.close()

    return apply


SYNCHRONOUS = ("NORMAL", "FULL")


def make_engine(url: str, *, echo: bool = False, sqlite_synchronous: str = "NORMAL") -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys, the inline driver and `sqlite_synchronous`.

    In WAL mode NORMAL makes a commit survive a crash of the process (the WAL is written before the commit
    returns) and FULL also a power loss (the WAL is synced at every commit).
    """
    if sqlite_synchronous not in SYNCHRONOUS:
        raise ValueError(f"sqlite_synchronous must be one of {', '.join(SYNCHRONOUS)}")
    url = async_url(url)
    if is_sqlite(url):
        path = sqlite_file(url)
        memory = path is None
        creator = inline_creator(
            path or ":memory:",
            timeout=BUSY_TIMEOUT_S,  # sqlite3's timeout is SQLite's busy timeout
            uri=str(make_url(url).query.get("uri", "")).lower() in ("true", "1"),
        )
        # The driver runs on the loop's thread (bot.db.sqlite_inline). Units of work always end in commit or
        # rollback, so the pool's extra rollback on check-in would be a wasted statement per transaction.
        # An in-memory database lives in its one connection, so it gets a single shared one.
        engine = create_async_engine(
            url,
            echo=echo,
            async_creator=creator,
            pool_reset_on_return=None,
            # Last in, first out: the connection just used is used again, so its page cache is warm
            # (SQLite drops a connection's cache whenever another connection has written since).
            **({"poolclass": StaticPool} if memory else {"pool_use_lifo": True}),
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(sqlite_synchronous))
        return engine
    return create_async_engine(url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True)


def make_scan_engine(url: str) -> Engine:
    """A synchronous, read-only engine on a SQLite file, for long reads run in a worker thread.

    The main engine's driver runs on the event loop (bot.db.sqlite_inline), so a read over many rows would
    hold up every request; WAL lets this one read beside the writers.
    """
    engine = create_engine(sync_url(url), connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S})

    def read_only(dbapi_connection: Any, _record: Any) -> None:
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA query_only=1")
        cur.close()

    event.listen(engine, "connect", read_only)
    return engine
