"""Fault injection: queued error replies, slow replies, and held methods."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import asdict, dataclass
from typing import Any

ANY_METHOD = "*"


@dataclass
class Fault:
    """For the next `count` calls of `method` ("*" = any): wait `delay`, then answer `status` or `error`."""

    method: str = ANY_METHOD
    status: int | None = None
    error: str | None = None
    delay: float | None = None
    count: int = 1
    retry_after: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        """Build a fault from its JSON form, rejecting unknown keys and empty faults."""
        unknown = set(data) - {"method", "status", "error", "delay", "count", "retry_after"}
        if unknown:
            raise ValueError(f"unknown fault keys: {sorted(unknown)}")
        fault = cls(
            method=str(data.get("method") or ANY_METHOD),
            status=int(data["status"]) if data.get("status") is not None else None,
            error=str(data["error"]) if data.get("error") else None,
            delay=float(data["delay"]) if data.get("delay") is not None else None,
            count=int(data.get("count", 1)),
            retry_after=int(data["retry_after"]) if data.get("retry_after") is not None else None,
        )
        if fault.status is None and fault.error is None and fault.delay is None:
            raise ValueError("a fault needs a status, an error or a delay")
        if fault.count < 1:
            raise ValueError("count must be at least 1")
        return fault

    def to_dict(self) -> dict[str, Any]:
        """Return the fault's JSON form."""
        return asdict(self)


class FaultPlan:
    """The queue of faults and the set of held methods; safe to use from any thread or loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._faults: list[Fault] = []
        self._held: set[str] = set()
        self._waiters: dict[str, list[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def add(self, fault: Fault) -> Fault:
        """Queue a fault behind any already queued."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str) -> Fault | None:
        """Use up one count of the first fault matching `method`, returning a copy of it."""
        with self._lock:
            for fault in self._faults:
                if fault.method in (method, ANY_METHOD):
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                    return Fault(**{**fault.to_dict(), "count": 1})
        return None

    def pending(self) -> list[Fault]:
        """Return the faults still queued."""
        with self._lock:
            return [Fault(**f.to_dict()) for f in self._faults]

    def clear(self) -> None:
        """Drop every queued fault and release every held method."""
        with self._lock:
            self._faults.clear()
        self.release_all()

    def hold(self, method: str) -> None:
        """Make calls to `method` ("*" = any) wait until release(method)."""
        with self._lock:
            self._held.add(method)

    def release(self, method: str) -> None:
        """Let held and future calls to `method` through."""
        with self._lock:
            self._held.discard(method)
            waiters = self._waiters.pop(method, [])
        for loop, event in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    def release_all(self) -> None:
        """Release every held method."""
        with self._lock:
            methods = set(self._held) | set(self._waiters)
        for method in methods:
            self.release(method)

    def held(self) -> list[str]:
        """Return the methods currently held."""
        with self._lock:
            return sorted(self._held)

    def waiting(self, method: str | None = None) -> int:
        """Return how many requests are blocked by a hold (on `method`, or on any)."""
        with self._lock:
            if method is not None:
                return len(self._waiters.get(method, []))
            return sum(len(w) for w in self._waiters.values())

    def wait_for_waiting(self, method: str, count: int, seconds: float) -> bool:
        """Block the calling thread until `count` requests wait on `method`; False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._waiters.get(method, [])) >= count, seconds)

    async def wait_if_held(self, method: str) -> None:
        """Block the calling request while `method` (or "*") is held."""
        while True:
            with self._lock:
                key = method if method in self._held else ANY_METHOD if ANY_METHOD in self._held else None
                if key is None:
                    return
                event = asyncio.Event()
                self._waiters.setdefault(key, []).append((asyncio.get_running_loop(), event))
                self._changed.notify_all()
            await event.wait()
