"""The workspace's data: users, channels, messages, pins, reactions and ephemeral messages."""

from __future__ import annotations

import re
import threading

from .clock import Clock, system_clock
from .errors import ApiError
from .feed import Feed
from .ids import IdFactory
from .records import (
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    JSON,
    Channel,
    Edit,
    Ephemeral,
    File,
    Message,
    Pin,
    Reaction,
    User,
)

HUMANS = (
    ("U0ALICE", "alice", "Alice Adams"),
    ("U0BOB", "bob", "Bob Brown"),
    ("U0CAROL", "carol", "Carol Chen"),
    ("U0DAVE", "dave", "Dave Diaz"),
)
GENERAL_ID = "C0GENERAL"
OPS_ALERTS_ID = "C0OPSALERTS"
NAME_PATTERN = re.compile(r"^[a-z0-9_-]+\Z")
MAX_NAME = 80
MAX_TOPIC = 250


class WorkspaceState:
    """In-memory Slack data; every mutation runs under `lock`, so threads and event loops can share it."""

    def __init__(self, clock: Clock | None = None, base_url: str = "http://127.0.0.1") -> None:
        self.clock: Clock = clock or system_clock
        self.base_url = base_url
        self.lock = threading.RLock()
        self.feed = Feed()
        self._seed_state()

    def _seed_state(self) -> None:
        """Start over with the seeded team: the bot, four humans, #general and #ops-alerts."""
        self.ids = IdFactory(self.clock)
        bot = User(BOT_USER_ID, BOT_NAME, "Warroom", is_bot=True, bot_id=BOT_ID)
        self.users: dict[str, User] = {bot.id: bot}
        self.users.update({uid: User(uid, name, real) for uid, name, real in HUMANS})
        self.usergroups: dict[str, tuple[str, list[str]]] = {}  # id -> (handle, member ids)
        self._channels: dict[str, Channel] = {}
        self._messages: dict[str, dict[str, Message]] = {}
        self.ephemeral: list[Ephemeral] = []
        self.files: dict[str, File] = {}
        humans = [uid for uid, _, _ in HUMANS]
        created = int(self.clock())
        general = Channel(GENERAL_ID, "general", created, "U0ALICE", members=humans, is_general=True)
        alerts = Channel(OPS_ALERTS_ID, "ops-alerts", created, "U0ALICE", members=[*humans, BOT_USER_ID])
        for channel in (general, alerts):
            self._add_channel(channel)

    def _add_channel(self, channel: Channel) -> Channel:
        self._channels[channel.id] = channel
        self._messages[channel.id] = {}
        self.feed.changed()
        return channel

    # -- users ---------------------------------------------------------------

    def user(self, user_id: str | None) -> User:
        """Return the user, or answer user_not_found."""
        user = self.users.get(user_id or "")
        if user is None:
            raise ApiError("user_not_found")
        return user

    def add_user(self, user_id: str, name: str, real_name: str | None = None) -> User:
        """Add a human member (for tests that need more people)."""
        with self.lock:
            user = User(user_id, name, real_name or name.title())
            self.users[user_id] = user
            self.feed.changed()
            return user

    def add_usergroup(self, group_id: str, handle: str, members: list[str]) -> None:
        """Create (or replace) a user group such as S0SRELEADS, @sre-leads (for tests of approver groups)."""
        with self.lock:
            self.usergroups[group_id] = (handle, list(members))
            self.feed.changed()

    # -- channels ------------------------------------------------------------

    def channels(self) -> list[Channel]:
        """Return every conversation, oldest first."""
        with self.lock:
            return list(self._channels.values())

    def channel(self, channel_id: str) -> Channel | None:
        """Return the conversation with this id, if any."""
        return self._channels.get(channel_id)

    def channel_by_name(self, name: str) -> Channel | None:
        """Return the channel called `name` (with or without '#'), if any."""
        name = name.removeprefix("#")
        with self.lock:
            return next((c for c in self._channels.values() if c.name == name and not c.is_im), None)

    def resolve_channel(self, ref: str | None) -> Channel:
        """Find a conversation by id, '#name', name or user id (a DM); else answer channel_not_found."""
        ref = (ref or "").strip()
        channel = self._channels.get(ref) or (self.channel_by_name(ref) if ref else None)
        if channel is None and ref in self.users:
            channel = self.dm_channel(ref)
        if channel is None:
            raise ApiError("channel_not_found")
        return channel

    def create_channel(self, name: str, creator: str = BOT_USER_ID, is_private: bool = False) -> Channel:
        """Create a channel with Slack's name rules; the creator becomes its first member."""
        if not name:
            raise ApiError("invalid_name_required")
        if len(name) > MAX_NAME:
            raise ApiError("invalid_name_maxlength")
        if not NAME_PATTERN.match(name):
            raise ApiError("invalid_name_specials")
        if not name.strip("-_"):
            raise ApiError("invalid_name_punctuation")
        with self.lock:
            if self.channel_by_name(name) is not None:
                raise ApiError("name_taken")
            prefix = "G0CH" if is_private else "C0CH"
            channel_id = self.ids.next(prefix)
            channel = Channel(channel_id, name, int(self.clock()), creator, [creator], is_private=is_private)
            return self._add_channel(channel)

    def dm_channel(self, user_id: str) -> Channel:
        """Return (opening it when needed) the direct-message conversation between the bot and a user."""
        self.user(user_id)
        with self.lock:
            for channel in self._channels.values():
                if channel.is_im and user_id in channel.members:
                    return channel
            members = [BOT_USER_ID, user_id]
            channel = Channel(self.ids.next("D0DM"), user_id, int(self.clock()), BOT_USER_ID, members)
            channel.is_im = channel.is_private = True
            return self._add_channel(channel)

    def set_topic(self, channel: Channel, field: str, value: str, user: str = BOT_USER_ID) -> None:
        """Set the channel's topic or purpose (`field`), answering too_long past 250 characters."""
        if len(value) > MAX_TOPIC:
            raise ApiError("too_long")
        with self.lock:
            setattr(channel, field, {"value": value, "creator": user, "last_set": int(self.clock())})
            self.feed.changed()

    # -- messages ------------------------------------------------------------

    def post(
        self,
        channel: Channel,
        user: str,
        text: str,
        *,
        blocks: list[JSON] | None = None,
        attachments: list[JSON] | None = None,
        thread_ts: str | None = None,
        metadata: JSON | None = None,
        files: list[JSON] | None = None,
    ) -> Message:
        """Add a message (a thread reply when `thread_ts` is set) and return it."""
        with self.lock:
            root = None
            if thread_ts:
                root = self.message(channel.id, thread_ts)
                if root.thread_ts and root.thread_ts != root.ts:
                    root = self.message(channel.id, root.thread_ts)
            bot_id = self.users[user].bot_id if user in self.users else None
            message = Message(channel.id, self.ids.ts(), user, text, blocks=blocks, attachments=attachments)
            message.bot_id, message.metadata, message.files = bot_id, metadata, files
            if root is not None:
                root.thread_ts = root.ts
                root.replies.append(message.ts)
                message.thread_ts = root.ts
            self._messages[channel.id][message.ts] = message
            self.feed.changed()
            return message

    def message(self, channel_id: str, ts: str | None) -> Message:
        """Return the message, or answer message_not_found."""
        message = self._messages.get(channel_id, {}).get(ts or "")
        if message is None:
            raise ApiError("message_not_found")
        return message

    def find_message(self, channel_id: str, ts: str) -> Message | None:
        """Return the message if it exists."""
        return self._messages.get(channel_id, {}).get(ts)

    def messages(self, channel_id: str, include_replies: bool = False) -> list[Message]:
        """Return a channel's messages oldest first (top level only unless `include_replies`)."""
        with self.lock:
            found = list(self._messages.get(channel_id, {}).values())
        return [m for m in found if include_replies or not m.thread_ts or m.thread_ts == m.ts]

    def replies(self, channel_id: str, thread_ts: str) -> list[Message]:
        """Return a thread: its parent then its replies, oldest first."""
        parent = self.message(channel_id, thread_ts)
        with self.lock:
            return [parent, *(self._messages[channel_id][ts] for ts in parent.replies)]

    def edit(self, message: Message, user: str, text: str, blocks: list[JSON] | None) -> None:
        """Give a message new text and blocks, keeping its ts and recording the previous version."""
        with self.lock:
            edited_ts = self.ids.ts()
            message.edits.append(Edit(edited_ts, message.text, message.blocks))
            message.text, message.blocks = text, blocks
            message.edited = {"user": user, "ts": edited_ts}
            self.feed.changed()

    def delete(self, message: Message) -> None:
        """Remove a message (and its thread replies when it is a parent)."""
        with self.lock:
            stored = self._messages[message.channel]
            for ts in message.replies:
                stored.pop(ts, None)
            stored.pop(message.ts, None)
            if message.thread_ts and message.thread_ts != message.ts:
                parent = stored.get(message.thread_ts)
                if parent is not None and message.ts in parent.replies:
                    parent.replies.remove(message.ts)
            self.feed.changed()

    def add_reaction(self, message: Message, user: str, name: str) -> None:
        """Add `user`'s reaction `name`, answering already_reacted the second time."""
        with self.lock:
            reaction = message.reaction(name)
            if reaction is None:
                reaction = Reaction(name)
                message.reactions.append(reaction)
            if user in reaction.users:
                raise ApiError("already_reacted")
            reaction.users.append(user)
            self.feed.changed()

    def pin_message(self, message: Message, user: str) -> None:
        """Pin a message, answering already_pinned the second time."""
        with self.lock:
            if message.pin is not None:
                raise ApiError("already_pinned")
            message.pin = Pin(user, int(self.clock()))
            self.feed.changed()

    def pins(self, channel_id: str) -> list[Message]:
        """Return the channel's pinned messages, most recently pinned first."""
        pinned = [m for m in self.messages(channel_id, include_replies=True) if m.pin is not None]
        return sorted(pinned, key=lambda m: (m.pin.pinned_at if m.pin else 0, m.ts), reverse=True)

    def post_ephemeral(
        self,
        channel: Channel,
        user: str,
        text: str,
        blocks: list[JSON] | None = None,
        thread_ts: str | None = None,
        source: str = "api",
    ) -> Ephemeral:
        """Record a message only `user` sees in `channel`."""
        with self.lock:
            note = Ephemeral(channel.id, user, self.ids.ts(), text, blocks, thread_ts, source)
            self.ephemeral.append(note)
            self.feed.changed()
            return note

    def permalink(self, channel_id: str, ts: str) -> str:
        """Return the message's permalink, in Slack's archive URL format."""
        message = self.message(channel_id, ts)
        link = f"{self.base_url}/archives/{channel_id}/p{ts.replace('.', '')}"
        if message.thread_ts and message.thread_ts != message.ts:
            link += f"?thread_ts={message.thread_ts}&cid={channel_id}"
        return link
