"""Programmatic alembic: upgrade to head (one process at a time), current revision, drift check."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

from bot.db.engine import is_sqlite, sync_url

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
# The PostgreSQL advisory lock every warroom process takes around its migrations ("warroom" + 1).
MIGRATION_LOCK = 0x7761_7272_6F6F_6D01
LOCK_POLL_SECONDS = 0.1
LOCK_WAIT_SECONDS = 600.0

log = logging.getLogger("warroom.db")


class MigrationLockTimeout(RuntimeError):
    """Another process held the migration lock for too long."""


def alembic_config(url: str) -> Config:
    """An alembic Config for the project's migrations and this database."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head", *, wait: float = LOCK_WAIT_SECONDS) -> None:
    """Apply migrations up to `revision`; on PostgreSQL under an advisory lock, so that processes
    starting together on one database migrate one after the other (the later ones find nothing to do)."""
    cfg = alembic_config(url)
    if is_sqlite(url):
        command.upgrade(cfg, revision)
        return
    engine = create_engine(sync_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn, MigrationLock(conn, wait=wait):
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            conn.commit()
    finally:
        engine.dispose()


class MigrationLock:
    """Hold the PostgreSQL migration advisory lock on `conn` (a session lock: it outlives transactions and
    goes away with the connection, so a process that dies while migrating never leaves it held)."""

    def __init__(
        self,
        conn: Connection,
        *,
        wait: float = LOCK_WAIT_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.conn = conn
        self.wait = wait
        self.monotonic = monotonic
        self.sleep = sleep

    def _try(self) -> bool:
        got = bool(self.conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": MIGRATION_LOCK}).scalar())
        self.conn.commit()
        return got

    def __enter__(self) -> Connection:
        start = self.monotonic()
        if not self._try():
            log.info("another process is migrating the database; waiting for it to finish")
            while not self._try():
                if self.monotonic() - start > self.wait:
                    raise MigrationLockTimeout(
                        f"another process has held the migration lock for over {self.wait:.0f}s; is a"
                        " `warroom migrate` stuck? (pg_locks: locktype='advisory', objid of"
                        f" {MIGRATION_LOCK})"
                    )
                self.sleep(LOCK_POLL_SECONDS)
        return self.conn

    def __exit__(self, *exc: object) -> None:
        if self.conn.in_transaction():
            self.conn.rollback()
        self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
        self.conn.commit()


def head_revision() -> str | None:
    """The newest migration's revision id."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
