"""Reactor plugins: what a reactor is, how it says a delivery failed, and the one registry of them.

A reactor turns event-log entries into side effects (the war room, the announcements channel, later Jira,
the pager, Discord). Each reactor module under `bot/services/reactors/` declares its `name` and the event
`kinds` it handles; the composition root adds one instance per reactor to the `ReactorRegistry`. That one
list is all the outbox knows: the store writes a delivery row for each reactor whose kinds include an
appended event, and the outbox worker hands the row to the reactor of that name. Adding a reactor is
adding it to the registry, nothing else. A reactor whose side effect must outlast a long outage (the pager)
may carry its own `retry_policy`; the others follow the outbox's.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

from bot.domain.events import Event, EventKind

KNOWN_KINDS = frozenset(k.value for k in EventKind)


class Reactor(Protocol):
    """A subscriber that turns events into side effects. Must be idempotent per event."""

    @property
    def name(self) -> str:
        """Stable name: stored on each delivery row (renaming a reactor orphans its pending deliveries)."""
        ...

    @property
    def kinds(self) -> frozenset[str]:
        """The event kinds this reactor handles: only those get a delivery for it."""
        ...

    async def handle(self, event: Event, *, attempt: int) -> None:
        """Do the side effect; raise RetryLater (or any error) to be retried, GiveUp to dead-letter."""
        ...


class RetryLater(Exception):
    """Raised by a reactor for a transient failure; `after` seconds when the far side said so."""

    def __init__(self, message: str, *, after: float | None = None) -> None:
        super().__init__(message)
        self.after = after


class Postpone(RetryLater):
    """Raised by a reactor that did not try: the far side is known to be unavailable (its circuit breaker is
    open) or the reactor's own rate is used up. Retried after `after` seconds without counting an attempt,
    so an outage of any length delays the side effect but never dead-letters it."""

    def __init__(self, message: str, *, after: float) -> None:
        super().__init__(message, after=after)


class GiveUp(Exception):
    """Raised by a reactor for a permanent failure: dead-letter at once."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter, capped; a dead letter after `max_attempts`."""

    max_attempts: int = 10
    base_delay: float = 1.0
    max_delay: float = 300.0
    jitter: float = 0.1

    def delay(self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based); never less than Retry-After."""
        d = float(min(self.max_delay, self.base_delay * (2 ** max(attempt - 1, 0))))
        d *= 1 + (rng or random).uniform(0, self.jitter)
        if retry_after is not None:
            d = max(d, retry_after)
        return d


R = TypeVar("R", bound=Reactor)


class ReactorRegistry:
    """The reactors of this process, by name: the one list deliveries are written for and handed to."""

    def __init__(self, reactors: Iterable[Reactor] = ()) -> None:
        self._by_name: dict[str, Reactor] = {}
        self._names_for: dict[str, tuple[str, ...]] = {}
        for r in reactors:
            self.add(r)

    def add(self, reactor: R) -> R:
        """Register a reactor; its name must be new and its kinds must be event kinds."""
        if not reactor.name or len(reactor.name) > 40:
            raise ValueError(f"a reactor needs a name of 1 to 40 characters, not {reactor.name!r}")
        if reactor.name in self._by_name:
            raise ValueError(f"a reactor named {reactor.name!r} is already registered")
        unknown = set(reactor.kinds) - KNOWN_KINDS
        if unknown:
            raise ValueError(f"reactor {reactor.name!r} asks for unknown event kinds: {', '.join(sorted(unknown))}")
        self._by_name[reactor.name] = reactor
        self._names_for.clear()
        return reactor

    def get(self, name: str) -> Reactor | None:
        """The reactor with this name, if registered here."""
        return self._by_name.get(name)

    def names_for(self, kind: str) -> tuple[str, ...]:
        """Names of the reactors that handle `kind` (asked for every appended event: cached)."""
        names = self._names_for.get(kind)
        if names is None:
            names = self._names_for[kind] = tuple(n for n, r in self._by_name.items() if kind in r.kinds)
        return names

    def __iter__(self) -> Iterator[Reactor]:
        return iter(list(self._by_name.values()))

    def __len__(self) -> int:
        return len(self._by_name)
