"""One warroom process per SQLite file: an exclusive lock on `<file>.lock`, held while the process runs.

SQLite serves one warroom process: at start the process takes back every delivery left in flight, which
would steal the work of another process still running on the same file. A second `warroom serve` (or a
`warroom migrate` under a running bot) is refused with a clear message instead. Several processes need
PostgreSQL (see the README). The lock is the kernel's (`flock`), so a killed process never leaves it held.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from bot.db.engine import sqlite_file


class DatabaseInUse(RuntimeError):
    """Another process holds the SQLite database file."""


class SqliteOwner:
    """The exclusive claim of this process on one SQLite database file."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.path = Path(f"{database}.lock")
        self._fd: int | None = None

    @classmethod
    def for_url(cls, url: str) -> SqliteOwner | None:
        """The owner lock of a SQLite file URL; None for PostgreSQL and in-memory SQLite."""
        path = sqlite_file(url)
        return cls(path) if path is not None else None

    def acquire(self, *, purpose: str = "serve") -> None:
        """Take the lock without waiting; DatabaseInUse names the process that holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DatabaseInUse(
                f"the SQLite database {self.database} is in use by another warroom process ({holder}); "
                f"SQLite serves one process at a time, so this {purpose} cannot run beside it. Stop that "
                "process first, or run several processes on PostgreSQL (see the README)."
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, {purpose}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Let the file go (also happens when the process ends, however it ends)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)

    def __enter__(self) -> SqliteOwner:
        """Acquire on entering a `with` block."""
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        """Release on leaving it."""
        self.release()
