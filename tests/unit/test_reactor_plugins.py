"""Reactors are plugins: one registry is what deliveries are written for and what the worker hands them to."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.bootstrap import build
from bot.db.migrate import upgrade
from bot.db.tables import DeliveryRow
from bot.domain.events import Event, EventKind
from bot.domain.incident import Severity
from bot.outbox import OutboxWorker, RetryPolicy
from bot.plugins import ReactorRegistry
from bot.services import incidents
from tests.builders import deps_for, sqlite_store
from tests.e2e.harness import bot_settings


class Toy:
    """A reactor for a new integration: it only records what it is handed."""

    name = "toy"
    kinds = frozenset({EventKind.NOTE_ADDED.value, EventKind.RESOLVED.value})

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    async def handle(self, event: Event, *, attempt: int) -> None:
        self.seen.append((event.kind, event.text))


async def test_a_toy_reactor_added_to_the_registry_alone_receives_the_events_it_declares(tmp_path):
    store = await sqlite_store(tmp_path)
    deps = deps_for(store)
    toy = store.reactors.add(Toy())  # the only registration
    worker = OutboxWorker(store, clock=deps.clock, policy=RetryPolicy(jitter=0))
    try:
        ref = (await incidents.declare(deps, title="toy", severity=Severity.SEV3, actor="U1")).incident.ref
        await incidents.add_note(deps, ref=ref, actor="U1", text="a note for the toy")
        await incidents.acknowledge(deps, ref=ref, actor="U1")
        await incidents.resolve(deps, ref=ref, actor="U1", summary="done")
        assert await worker.drain() == 2
        assert [k for k, _ in toy.seen] == [EventKind.NOTE_ADDED.value, EventKind.RESOLVED.value]
        assert toy.seen[0][1] == "a note for the toy"
        async with store.read() as tx:
            rows = list((await tx.session.execute(select(DeliveryRow.reactor, DeliveryRow.status))).all())
        assert rows == [("toy", "done"), ("toy", "done")], "no delivery for kinds it did not declare"
    finally:
        await store.dispose()


def test_the_registry_refuses_unknown_kinds_and_a_second_reactor_of_one_name():
    registry = ReactorRegistry([Toy()])
    with pytest.raises(ValueError, match="already registered"):
        registry.add(Toy())
    typo = Toy()
    typo.name = "typo"
    typo.kinds = frozenset({"incident.note_addded"})
    with pytest.raises(ValueError, match=r"unknown event kinds: incident\.note_addded"):
        registry.add(typo)
    assert registry.names_for(EventKind.NOTE_ADDED.value) == ("toy",)
    assert registry.names_for(EventKind.DECLARED.value) == ()


async def test_the_bot_s_outbox_hands_out_exactly_what_its_registry_subscribes(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'plugins.db'}"
    await asyncio.to_thread(upgrade, url)
    container = build(bot_settings(url, "http://127.0.0.1:9/api/"))
    try:
        assert container.outbox.reactors is container.store.reactors
        assert sorted(r.name for r in container.store.reactors) == [
            "announcer",
            "postmortem",
            "remediation",
            "sla-clocks",
            "slack-warroom",
        ]
        toy = container.store.reactors.add(Toy())
        assert container.outbox.reactors.get("toy") is toy
        out = await incidents.declare(container.deps, title="t", severity=Severity.SEV3, actor="U1")
        await incidents.add_note(container.deps, ref=out.incident.ref, actor="U1", text="n")
        async with container.store.read() as tx:
            rows = sorted((await tx.session.execute(select(DeliveryRow.reactor))).scalars())
        assert rows == ["sla-clocks", "slack-warroom", "slack-warroom", "toy"]
    finally:
        await container.store.dispose()
