"""Plain records the workspace keeps: users, channels, messages, views, calls."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

TEAM_ID = "T0LOCAL"
TEAM_NAME = "Local Workspace"
TEAM_DOMAIN = "local"
APP_ID = "A0LOCAL"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
BOT_NAME = "warroom"


@dataclass
class User:
    """A workspace member (human or the bot)."""

    id: str
    name: str
    real_name: str
    is_bot: bool = False
    bot_id: str | None = None
    tz: str = "UTC"

    def to_dict(self) -> JSON:
        """Return the user object as users.info answers it."""
        profile: JSON = {
            "real_name": self.real_name,
            "display_name": self.name,
            "real_name_normalized": self.real_name,
            "display_name_normalized": self.name,
            "team": TEAM_ID,
        }
        if self.is_bot:
            profile["bot_id"] = self.bot_id
        else:
            profile["email"] = f"{self.name}@{TEAM_DOMAIN}.example"
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "real_name": self.real_name,
            "deleted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "is_admin": False,
            "tz": self.tz,
            "tz_offset": 0,
            "profile": profile,
        }


@dataclass
class Channel:
    """A conversation: public or private channel, or a direct message with the bot."""

    id: str
    name: str
    created: int
    creator: str
    members: list[str] = field(default_factory=list)
    is_private: bool = False
    is_im: bool = False
    is_archived: bool = False
    is_general: bool = False
    topic: JSON = field(default_factory=lambda: {"value": "", "creator": "", "last_set": 0})
    purpose: JSON = field(default_factory=lambda: {"value": "", "creator": "", "last_set": 0})

    def to_dict(self, viewer: str = BOT_USER_ID) -> JSON:
        """Return the conversation object as conversations.info answers it to `viewer`."""
        data: JSON = {
            "id": self.id,
            "created": self.created,
            "is_archived": self.is_archived,
            "is_im": self.is_im,
            "is_org_shared": False,
            "context_team_id": TEAM_ID,
            "updated": self.created * 1000,
        }
        if self.is_im:
            other = next((m for m in self.members if m != BOT_USER_ID), "")
            data.update({"user": other, "is_user_deleted": False})
            return data
        data.update(
            {
                "name": self.name,
                "name_normalized": self.name,
                "is_channel": not self.is_private,
                "is_group": self.is_private,
                "is_mpim": False,
                "is_private": self.is_private,
                "is_general": self.is_general,
                "is_shared": False,
                "is_ext_shared": False,
                "is_pending_ext_shared": False,
                "creator": self.creator,
                "is_member": viewer in self.members,
                "topic": dict(self.topic),
                "purpose": dict(self.purpose),
                "num_members": len(self.members),
            }
        )
        return data


@dataclass
class Reaction:
    """One emoji on a message and who added it."""

    name: str
    users: list[str] = field(default_factory=list)

    def to_dict(self) -> JSON:
        """Return the reaction as Slack lists it on a message."""
        return {"name": self.name, "users": list(self.users), "count": len(self.users)}


@dataclass
class Pin:
    """Who pinned a message, and when."""

    pinned_by: str
    pinned_at: int


@dataclass
class Edit:
    """The text and blocks a message had before an edit, and when it was replaced."""

    edited_ts: str
    text: str
    blocks: list[JSON] | None


@dataclass
class Message:
    """A channel message (top level or thread reply)."""

    channel: str
    ts: str
    user: str
    text: str
    blocks: list[JSON] | None = None
    attachments: list[JSON] | None = None
    thread_ts: str | None = None
    bot_id: str | None = None
    metadata: JSON | None = None
    edited: JSON | None = None
    edits: list[Edit] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    pin: Pin | None = None
    replies: list[str] = field(default_factory=list)
    files: list[JSON] | None = None

    def to_dict(self) -> JSON:
        """Return the message as conversations.history answers it."""
        data: JSON = {"type": "message", "user": self.user, "text": self.text, "ts": self.ts, "team": TEAM_ID}
        if self.bot_id:
            data.update({"bot_id": self.bot_id, "app_id": APP_ID})
        if self.blocks is not None:
            data["blocks"] = copy.deepcopy(self.blocks)
        if self.attachments is not None:
            data["attachments"] = copy.deepcopy(self.attachments)
        if self.files:
            data.update({"files": copy.deepcopy(self.files), "upload": True})
        if self.metadata is not None:
            data["metadata"] = copy.deepcopy(self.metadata)
        if self.thread_ts:
            data["thread_ts"] = self.thread_ts
            if self.thread_ts != self.ts:
                data["parent_user_id"] = ""
        if self.replies:
            data.update({"reply_count": len(self.replies), "latest_reply": self.replies[-1]})
        if self.edited:
            data["edited"] = dict(self.edited)
        if self.reactions:
            data["reactions"] = [r.to_dict() for r in self.reactions]
        if self.pin:
            data["pinned_to"] = [self.channel]
        return data

    def reaction(self, name: str) -> Reaction | None:
        """Return the reaction called `name`, if any."""
        return next((r for r in self.reactions if r.name == name), None)


@dataclass
class Ephemeral:
    """A message only one user saw (chat.postEphemeral or an ephemeral response_url reply)."""

    channel: str
    user: str
    ts: str
    text: str
    blocks: list[JSON] | None = None
    thread_ts: str | None = None
    source: str = "api"

    def to_dict(self) -> JSON:
        """Return the record for the control API."""
        return {
            "channel": self.channel,
            "user": self.user,
            "ts": self.ts,
            "text": self.text,
            "blocks": copy.deepcopy(self.blocks),
            "thread_ts": self.thread_ts,
            "source": self.source,
        }


@dataclass
class View:
    """A modal (or home tab) the bot opened for a user."""

    id: str
    user: str
    payload: JSON
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    is_open: bool = True
    errors: JSON | None = None

    def to_dict(self) -> JSON:
        """Return the view object as views.open answers it."""
        data = copy.deepcopy(self.payload)
        blocks = data.get("blocks") or []
        data.setdefault("private_metadata", "")
        data.setdefault("callback_id", "")
        data.setdefault("external_id", "")
        data.setdefault("clear_on_close", False)
        data.setdefault("notify_on_close", False)
        data.update(
            {
                "id": self.id,
                "team_id": TEAM_ID,
                "blocks": blocks,
                "state": {"values": {}},
                "hash": self.hash,
                "previous_view_id": self.previous_view_id,
                "root_view_id": self.root_view_id,
                "app_id": APP_ID,
                "app_installed_team_id": TEAM_ID,
                "bot_id": BOT_ID,
            }
        )
        return data


@dataclass
class Trigger:
    """A trigger_id the emulator handed out with a command or interaction."""

    id: str
    user: str
    issued_at: float
    used: bool = False


@dataclass
class ResponseTarget:
    """Where a response_url posts: the user and channel it came from, and the message clicked."""

    token: str
    user: str
    channel: str
    message_ts: str | None = None
    uses: int = 0


@dataclass
class ApiCall:
    """One Web API request as the emulator saw it; status is None while it is still pending."""

    method: str
    args: JSON
    time: float
    status: int | None = None
    ok: bool | None = None
    error: str | None = None
    messages: list[str] = field(default_factory=list)
    retry_after: int | None = None

    def to_dict(self) -> JSON:
        """Return the call for the control API."""
        return {
            "method": self.method,
            "args": copy.deepcopy(self.args),
            "time": self.time,
            "status": self.status,
            "ok": self.ok,
            "error": self.error,
            "messages": list(self.messages),
            "retry_after": self.retry_after,
        }


@dataclass
class Delivery:
    """One payload the emulator sent to the bot (a signed POST, or a Socket Mode envelope), and the answer."""

    kind: str
    body: str
    status: int | None = None
    response: str | None = None
    transport: str = "http"

    def to_dict(self) -> JSON:
        """Return the delivery for the control API."""
        return {
            "kind": self.kind,
            "body": self.body,
            "status": self.status,
            "response": self.response,
            "transport": self.transport,
        }


@dataclass
class File:
    """A file the app uploads (files.getUploadURLExternal, the upload, files.completeUploadExternal)."""

    id: str
    name: str
    length: int
    user: str
    created: int
    upload_token: str
    alt_txt: str | None = None
    title: str | None = None
    content: bytes | None = None
    mimetype: str = "application/octet-stream"
    completed: bool = False

    def to_dict(self, base_url: str) -> JSON:
        """Return the file object as Slack lists it on a message."""
        url = f"{base_url}/_emulator/files/{self.id}"
        data: JSON = {
            "id": self.id,
            "created": self.created,
            "timestamp": self.created,
            "name": self.name,
            "title": self.title or self.name,
            "mimetype": self.mimetype,
            "filetype": self.mimetype.rsplit("/", 1)[-1],
            "user": self.user,
            "user_team": TEAM_ID,
            "size": len(self.content or b""),
            "mode": "hosted",
            "is_external": False,
            "is_public": False,
            "url_private": url,
            "url_private_download": f"{url}?download=1",
        }
        if self.alt_txt:
            data["alt_txt"] = self.alt_txt
        return data
