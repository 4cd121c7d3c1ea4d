"""Side effects exactly once in effect: an attempt finds what another attempt posted (in the database
first, in the channel's whole history since the event on a retry), and a race leaves one copy."""

from __future__ import annotations

import asyncio

import pytest

from bot.domain.cards import TriageCard
from bot.domain.incident import Severity
from bot.domain.ports import ChatError
from bot.outbox import RetryLater
from bot.services import incidents
from bot.services.reactors import Announcer, WarRoomReactor
from bot.services.reactors.posting import post_once
from tests.builders import deps_for, sqlite_store
from tests.fakes.chat import FakeChatRoom


class Paused(FakeChatRoom):
    """A chat room in which the calls named in `pause` wait for `resume` (as in Slack's rate limiter)."""

    def __init__(self, base: FakeChatRoom, pause: set[str]) -> None:
        self.__dict__ = base.__dict__  # the same workspace, seen by another process
        self.pause = pause
        self.waiting = asyncio.Event()
        self.resume = asyncio.Event()

    async def _gate(self, name: str) -> None:
        if name in self.pause:
            self.waiting.set()
            await self.resume.wait()

    async def set_topic(self, channel_id: str, topic: str) -> None:
        await self._gate("set_topic")
        await super().set_topic(channel_id, topic)

    async def post_card(self, channel_id: str, card: TriageCard) -> str:
        await self._gate("post_card")
        return await super().post_card(channel_id, card)

    async def pin(self, channel_id: str, ts: str) -> None:
        await self._gate("pin")
        await super().pin(channel_id, ts)


@pytest.fixture
async def env(tmp_path):
    store = await sqlite_store(tmp_path)
    deps = deps_for(store)
    chat = FakeChatRoom()
    yield deps, chat
    await store.dispose()


async def declared_event(deps):
    out = await incidents.declare(deps, title="Checkout is failing", severity=Severity.SEV2, actor="U0ALICE")
    _, events = await incidents.timeline(deps, ref=out.incident.ref)
    return out.incident.ref, events[0]


def cards(chat):
    room = next(c for c in chat.channels.values() if c.name.startswith("inc-"))
    return room, [m for m in room.messages if m.card]


def announcements(chat, ref):
    return [m for m in chat.by_name("incidents").messages if ref in m.text and "declared" in m.text]


@pytest.mark.parametrize("paused_at", ["set_topic", "post_card"])
async def test_a_first_attempt_does_not_repeat_what_a_takeover_did_meanwhile(env, paused_at):
    """Attempt 1 waits (Slack's rate limit) past its claim; attempt 2 opens the whole room; attempt 1 goes on."""
    deps, chat = env
    ref, event = await declared_event(deps)
    slow = WarRoomReactor(deps, Paused(chat, {paused_at}))
    first = asyncio.create_task(slow.handle(event, attempt=1))
    await slow.chat.waiting.wait()
    await WarRoomReactor(deps, chat).handle(event, attempt=2)  # the takeover, complete
    slow.chat.resume.set()
    await first
    room, posted = cards(chat)
    assert len(posted) == 1, "one triage card"
    assert room.pins == {posted[0].ts}, "one pin, on that card"
    assert (await incidents.get(deps, ref=ref)).card_ts == posted[0].ts
    opened = [e for e in (await incidents.timeline(deps, ref=ref))[1] if e.kind == "room.opened"]
    assert len(opened) == 1, "the room is opened once"
    await asyncio.gather(*(Announcer(deps, chat).handle(opened[0], attempt=n) for n in (1, 2)))
    assert len(announcements(chat, ref)) == 1, "one announcement"


async def test_a_retry_finds_a_post_whose_ts_was_lost_behind_more_than_100_messages(env):
    deps, chat = env
    ref, event = await declared_event(deps)
    await WarRoomReactor(deps, chat).handle(event, attempt=1)
    opened = (await incidents.timeline(deps, ref=ref))[1][-1]
    reactor = Announcer(deps, chat)
    announced = chat.post_text

    async def post_then_crash(channel_id, text, *, marker=None, buttons=()):
        ts = await announced(channel_id, text, marker=marker, buttons=buttons)
        if marker == f"announce:{ref}":
            raise ChatError("the reply never came", code="timeout")  # Slack has it; we never learn its ts
        return ts

    chat.post_text = post_then_crash
    with pytest.raises(RetryLater):
        await reactor.handle(opened, attempt=1)
    chat.post_text = announced
    channel = chat.by_name("incidents")
    for i in range(150):  # a storm: more than 100 announcements arrive before the retry
        await chat.post_text(channel.id, f"other incident {i}", marker=f"announce:other-{i}")
    await reactor.handle(opened, attempt=2)
    assert len(announcements(chat, ref)) == 1
    assert chat.searches[-1][1:] == (f"announce:{ref}", event.at), "searched back to the event, not the last 100"


async def test_the_ts_is_recorded_where_every_attempt_looks_first(env):
    deps, chat = env
    ref, event = await declared_event(deps)
    await WarRoomReactor(deps, chat).handle(event, attempt=1)
    chat.calls.clear()
    await WarRoomReactor(deps, chat).handle(event, attempt=3)
    assert "post_card" not in chat.calls and "post_text" not in chat.calls
    assert "find_marked" not in chat.calls, "the database answered: no search through the channel"
    async with deps.store.read() as tx:
        assert await tx.chat_post(f"card:{ref}") == cards(chat)[1][0].ts


async def test_two_attempts_that_both_posted_leave_one_copy(env):
    deps, chat = env
    ref, event = await declared_event(deps)
    await WarRoomReactor(deps, chat).handle(event, attempt=1)
    await chat.ensure_channel("incidents")
    room = chat.by_name("incidents")
    other = await chat.post_text(room.id, "resolved", marker="announce:99")  # another attempt's copy

    async def post_while_the_other_records() -> str:
        ours = await chat.post_text(room.id, "resolved", marker="announce:99")
        async with deps.store.transaction() as tx:  # the other attempt records its ts first
            await tx.record_chat_post("announce:99", channel_id=room.id, ts=other, at=event.at)
        return ours

    kept = await post_once(deps, chat, "announce:99", room.id, post_while_the_other_records, since=event.at, attempt=1)
    assert kept == other
    assert [m.ts for m in room.messages if m.marker == "announce:99"] == [other], "our later copy was deleted"


async def test_a_copy_whose_delete_failed_is_deleted_by_the_next_attempt(env):
    deps, chat = env
    ref, event = await declared_event(deps)
    await WarRoomReactor(deps, chat).handle(event, attempt=1)
    await chat.ensure_channel("incidents")
    room = chat.by_name("incidents")
    other = await chat.post_text(room.id, "resolved", marker="announce:99")

    async def post_while_the_other_records() -> str:
        ours = await chat.post_text(room.id, "resolved", marker="announce:99")
        async with deps.store.transaction() as tx:
            await tx.record_chat_post("announce:99", channel_id=room.id, ts=other, at=event.at)
        chat.fail_next(ChatError("rate limited", code="ratelimited", retry_after=1))  # the delete fails
        return ours

    with pytest.raises(ChatError):
        await post_once(deps, chat, "announce:99", room.id, post_while_the_other_records, since=event.at, attempt=1)
    assert len([m for m in room.messages if m.marker == "announce:99"]) == 2, "the delete failed"

    async def never() -> str:
        raise AssertionError("the message was posted already")

    kept = await post_once(deps, chat, "announce:99", room.id, never, since=event.at, attempt=2)
    assert kept == other
    assert [m.ts for m in room.messages if m.marker == "announce:99"] == [other], "the retry deleted our copy"
    await post_once(deps, chat, "announce:99", room.id, never, since=event.at, attempt=3)  # gone already: fine


class DiesAtPin(FakeChatRoom):
    """A process that posts the card and is killed (-9) before its pins.add reaches Slack."""

    def __init__(self, base: FakeChatRoom) -> None:
        self.__dict__ = base.__dict__

    async def pin(self, channel_id: str, ts: str) -> None:
        raise asyncio.CancelledError  # the process is gone: nothing after this runs


async def test_a_takeover_pins_the_card_a_dead_process_posted_but_never_pinned(env):
    deps, chat = env
    ref, event = await declared_event(deps)
    with pytest.raises(asyncio.CancelledError):
        await WarRoomReactor(deps, DiesAtPin(chat)).handle(event, attempt=1)
    room, posted = cards(chat)
    assert len(posted) == 1 and room.pins == set()  # the card's ts is saved, the pin never happened

    await WarRoomReactor(deps, chat).handle(event, attempt=2)  # the survivor takes the delivery over
    room, posted = cards(chat)
    assert len(posted) == 1, "the card is not posted again"
    assert room.pins == {posted[0].ts}, "and it is pinned"
    opened = [e for e in (await incidents.timeline(deps, ref=ref))[1] if e.kind == "room.opened"]
    assert len(opened) == 1, "the room is opened once (its announcement follows from that)"
