"""A Store that fails on demand: a fake of our own store for the loops' error handling."""

from __future__ import annotations

import inspect
from collections import Counter
from typing import Any

from sqlalchemy.exc import OperationalError

from bot.db.store import Store


def db_down() -> OperationalError:
    """The error SQLAlchemy raises when the server has gone away."""
    return OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))


class FlakyStore:
    """Delegates to a real Store; `fail(name, n)` makes the next `n` calls of that method raise."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.pending_failures: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.raised: Counter[str] = Counter()

    def fail(self, name: str, times: int) -> None:
        self.pending_failures[name] += times

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if not inspect.iscoroutinefunction(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            if self.pending_failures[name] > 0:
                self.pending_failures[name] -= 1
                self.raised[name] += 1
                raise db_down()
            return await attr(*args, **kwargs)

        return call
