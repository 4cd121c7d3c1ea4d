"""In-memory ChatRoom: a fake of our own port for unit tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.cards import Button, Card
from bot.domain.ports import ChannelInfo, ChatError, ChatMessage, NameTaken
from bot.domain.text import ChannelLink, Icon, Mention, Strong, Text, as_text

BOT = "U0BOT"


def readable(text: Text | str) -> str:
    """A test's view of a Text: data as is, mentions as <@U...>, links as <#C...>, emphasis as its text, icons
    as [name] (not escaped: never sent)."""
    out = []
    for p in as_text(text):
        if isinstance(p, Mention):
            out.append(f"<@{p.user_id}>")
        elif isinstance(p, ChannelLink):
            out.append(f"<#{p.channel_id}>")
        elif isinstance(p, Strong):
            out.append(p.text)
        elif isinstance(p, Icon):
            out.append(f"[{p.value}]")
        else:
            out.append(p)
    return "".join(out)


@dataclass
class FakeMessage:
    ts: str
    user: str
    text: str
    card: Card | None = None
    marker: str | None = None
    edits: int = 0
    buttons: tuple[Button, ...] = ()
    parts: Text | None = None
    thread_ts: str | None = None


@dataclass
class FakeUpload:
    channel_id: str
    thread_ts: str
    filename: str
    content: bytes
    title: str
    alt_text: str
    file_id: str


@dataclass
class FakeChannel:
    id: str
    name: str
    creator: str
    topic: str = ""
    topic_parts: Text | None = None
    members: set[str] = field(default_factory=set)
    messages: list[FakeMessage] = field(default_factory=list)
    pins: set[str] = field(default_factory=set)


class FakeChatRoom:
    """Keeps channels and messages in dicts; `fail_next` makes the next calls raise."""

    def __init__(self) -> None:
        self.channels: dict[str, FakeChannel] = {}
        self._ids = itertools.count(1)
        self._ts = itertools.count(1)
        self.failures: list[ChatError] = []
        self.calls: list[str] = []
        self.searches: list[tuple[str, str, datetime]] = []
        self.uploads: list[FakeUpload] = []

    def fail_next(self, *errors: ChatError) -> None:
        self.failures.extend(errors)

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if self.failures:
            raise self.failures.pop(0)

    def by_name(self, name: str) -> FakeChannel | None:
        return next((c for c in self.channels.values() if c.name == name), None)

    def add_human_channel(self, name: str, creator: str = "U0HUMAN") -> FakeChannel:
        ch = FakeChannel(id=f"C{next(self._ids):04d}", name=name, creator=creator)
        self.channels[ch.id] = ch
        return ch

    async def bot_user_id(self) -> str:
        return BOT

    async def create_channel(self, name: str) -> ChannelInfo:
        self._call("create_channel")
        if self.by_name(name):
            raise NameTaken("name_taken", code="name_taken")
        ch = FakeChannel(id=f"C{next(self._ids):04d}", name=name, creator=BOT, members={BOT})
        self.channels[ch.id] = ch
        return ChannelInfo(ch.id, ch.name, BOT)

    async def find_channel(self, name: str) -> ChannelInfo | None:
        self._call("find_channel")
        ch = self.by_name(name)
        return ChannelInfo(ch.id, ch.name, ch.creator) if ch else None

    async def ensure_channel(self, name: str) -> ChannelInfo:
        self._call("ensure_channel")
        ch = self.by_name(name)
        if ch is None:
            return await self.create_channel(name)
        ch.members.add(BOT)
        return ChannelInfo(ch.id, ch.name, ch.creator)

    async def set_topic(self, channel_id: str, topic: Text | str) -> None:
        self._call("set_topic")
        self.channels[channel_id].topic = readable(topic)
        self.channels[channel_id].topic_parts = as_text(topic)

    async def invite(self, channel_id: str, user_ids: list[str]) -> None:
        self._call("invite")
        self.channels[channel_id].members.update(user_ids)

    def _post(self, channel_id: str, text: str, card: Card | None, marker: str | None) -> str:
        ts = f"1763900000.{next(self._ts):06d}"
        self.channels[channel_id].messages.append(FakeMessage(ts, BOT, text, card, marker))
        return ts

    async def post_card(self, channel_id: str, card: Card) -> str:
        self._call("post_card")
        return self._post(channel_id, str(getattr(card, "title", "")), card, card.marker)

    async def update_card(self, channel_id: str, ts: str, card: Card) -> None:
        self._call("update_card")
        for m in self.channels[channel_id].messages:
            if m.ts == ts:
                m.card = card
                m.edits += 1
                return
        raise ChatError("message_not_found", code="message_not_found")

    async def post_text(
        self,
        channel_id: str,
        text: Text | str,
        *,
        marker: str | None = None,
        buttons: tuple[Button, ...] = (),
        thread_ts: str | None = None,
    ) -> str:
        self._call("post_text")
        if thread_ts is not None:
            assert any(m.ts == thread_ts for m in self.channels[channel_id].messages), "no such thread"
        ts = self._post(channel_id, readable(text), None, marker)
        self.channels[channel_id].messages[-1].buttons = buttons
        self.channels[channel_id].messages[-1].parts = as_text(text)
        self.channels[channel_id].messages[-1].thread_ts = thread_ts
        return ts

    async def pin(self, channel_id: str, ts: str) -> None:
        self._call("pin")
        self.channels[channel_id].pins.add(ts)

    async def recent_messages(self, channel_id: str, limit: int = 50) -> list[ChatMessage]:
        self._call("recent_messages")
        msgs = list(reversed(self.channels[channel_id].messages))[:limit]
        return [ChatMessage(m.ts, m.user, m.text, (m.marker,) if m.marker else ()) for m in msgs]

    async def find_marked(self, channel_id: str, marker: str, *, since: datetime) -> str | None:
        self._call("find_marked")
        self.searches.append((channel_id, marker, since))
        return next((m.ts for m in self.channels[channel_id].messages if m.marker == marker), None)

    async def delete_message(self, channel_id: str, ts: str) -> None:
        self._call("delete_message")
        msgs = self.channels[channel_id].messages
        msgs[:] = [m for m in msgs if m.ts != ts]
        self.channels[channel_id].pins.discard(ts)

    async def get_message(self, channel_id: str, ts: str) -> ChatMessage | None:
        self._call("get_message")
        for m in self.channels[channel_id].messages:
            if m.ts == ts:
                return ChatMessage(m.ts, m.user, m.text)
        return None

    async def upload_image(
        self, channel_id: str, *, thread_ts: str, filename: str, content: bytes, title: str, alt_text: str
    ) -> str:
        self._call("upload_image")
        assert any(m.ts == thread_ts for m in self.channels[channel_id].messages), "no such thread"
        file_id = f"F{next(self._ids):04d}"
        self.uploads.append(FakeUpload(channel_id, thread_ts, filename, content, title, alt_text, file_id))
        return file_id

    async def upload_file(
        self, channel_id: str, *, filename: str, content: bytes, title: str, thread_ts: str | None = None
    ) -> str:
        self._call("upload_file")
        assert thread_ts is None or any(m.ts == thread_ts for m in self.channels[channel_id].messages), "no thread"
        file_id = f"F{next(self._ids):04d}"
        self.uploads.append(FakeUpload(channel_id, thread_ts or "", filename, content, title, "", file_id))
        return file_id

    def render(self, text: Text | str) -> str:
        return readable(text)

    def plain(self, markup: str) -> str:
        return markup
