"""A bot without HTTP for escalation tests: a SQLite store, a manual clock, the in-memory chat room and pager,
the reactors `warroom serve` registers, its outbox worker and its scheduler with every timer kind."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.bootstrap import build_reactors
from bot.bootstrap.escalation import register_timers
from bot.clock import ManualClock
from bot.config import AppConfig
from bot.config.response_rules import response_policy
from bot.db.store import Store
from bot.db.tables import EventRow, TimerRow
from bot.domain.events import Event, EventKind
from bot.outbox import OutboxWorker, RetryPolicy
from bot.scheduler import Scheduler
from bot.services.deps import Deps
from tests.builders import create_schema
from tests.fakes.chat import FakeChatRoom
from tests.fakes.pager import FakePager

TIERS = {
    "escalation": {
        "tiers": [
            {"after_minutes": 0, "name": "on-call", "notify": ["oncall"], "pagerduty": ["oncall"]},
            {"after_minutes": 15, "name": "senior + lead", "notify": ["U0SENIOR", "S0LEADS"]},
            {"after_minutes": 30, "name": "manager + director", "notify": ["U0MANAGER"]},
            {"after_minutes": 60, "name": "VP", "notify": ["U0VP"]},
        ]
    },
    "oncall": {"users": ["U0ONCALL"]},
}


@dataclass
class Env:
    """Everything of one test bot."""

    path: Path
    rules: dict[str, Any] | None
    config: AppConfig
    clock: ManualClock
    store: Store
    deps: Deps
    chat: FakeChatRoom
    pager: FakePager
    outbox: OutboxWorker
    scheduler: Scheduler

    @property
    def t0(self) -> datetime:
        return START

    async def settle(self, rounds: int = 50) -> int:
        """Deliver and fire everything due now, until nothing more is (the clock does not move)."""
        total = 0
        for _ in range(rounds):
            n = await self.outbox.drain() + await self.scheduler.run_due()
            if n == 0:
                return total
            total += n
        raise AssertionError("the bot did not settle")

    async def at(self, minutes: float) -> None:
        """Move the clock to `minutes` after START, stopping at every timer due on the way (as a running
        scheduler would fire it then), and settle."""
        target = START + timedelta(minutes=minutes)
        while True:
            await self.settle()
            due = await self.store.next_timer_due()
            if due is None or due > target:
                break
            self.clock._now = max(self.clock.now(), due)
        self.clock._now = target
        await self.settle()

    async def events(self, ref: str, kind: EventKind) -> list[Event]:
        async with self.store.read() as uow:
            inc = await uow.incidents.get(ref)
            assert inc is not None
            return await uow.incidents.timeline(inc.id, kinds={kind.value})

    async def timers(self, **where: Any) -> list[TimerRow]:
        async with self.store.read() as tx:
            q = select(TimerRow).filter_by(**where).order_by(TimerRow.due_at)
            return list((await tx.session.execute(q)).scalars())

    async def all_events(self) -> list[EventRow]:
        async with self.store.read() as tx:
            return list((await tx.session.execute(select(EventRow).order_by(EventRow.id))).scalars())

    def room_lines(self, name_prefix: str = "inc-") -> list[str]:
        room = next(c for c in self.chat.channels.values() if c.name.startswith(name_prefix))
        return [m.text for m in room.messages if m.card is None]

    def room(self, name_prefix: str = "inc-"):
        return next(c for c in self.chat.channels.values() if c.name.startswith(name_prefix))

    async def restart(self) -> None:
        """A new process on the same database file: new store, worker and scheduler, nothing kept in memory but
        the chat room and the pager (the outside world)."""
        await self.store.dispose()
        fresh = await make_env(self.path, self.rules, clock=self.clock, create=False, chat=self.chat, pager=self.pager)
        self.__dict__.update(fresh.__dict__)
        await self.store.timers.release_inflight()  # what `warroom serve` does at start on SQLite
        await self.store.release_inflight()

    async def close(self) -> None:
        await self.store.dispose()


START = datetime(2026, 11, 23, 9, 0, tzinfo=ManualClock().now().tzinfo)


async def make_env(
    path: Path, rules: dict[str, Any] | None = None, *, clock: ManualClock | None = None, create: bool = True,
    chat: FakeChatRoom | None = None, pager: FakePager | None = None,
) -> Env:  # fmt: skip
    config = AppConfig.model_validate({**TIERS, **(rules or {})})
    clock = clock or ManualClock(START)
    store = Store.from_url(f"sqlite+aiosqlite:///{path / 'esc.db'}")
    if create:
        await create_schema(store.engine)
    deps = Deps(store=store, clock=clock, response=response_policy(config))
    chat = chat or FakeChatRoom()
    pager = pager or FakePager()
    build_reactors(store.reactors, deps, chat, config, pager=pager)
    outbox = OutboxWorker(store, clock=clock, policy=RetryPolicy(base_delay=1, max_delay=60, jitter=0))
    scheduler = Scheduler(store, clock=clock)
    register_timers(scheduler, deps)
    return Env(path, rules, config, clock, store, deps, chat, pager, outbox, scheduler)
