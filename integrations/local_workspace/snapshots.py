"""JSON views of the workspace for tests and the control API (richer than Slack's own answers)."""

from __future__ import annotations

from .records import JSON, Channel, Message
from .workspace import Workspace


def channel_snapshot(channel: Channel) -> JSON:
    """Return a channel with its member list."""
    return {**channel.to_dict(), "name": channel.name, "members": list(channel.members)}


def message_snapshot(ws: Workspace, message: Message) -> JSON:
    """Return a message with its pin, edit history and thread replies."""
    data = message.to_dict()
    data["channel"] = message.channel
    data["pinned"] = None
    if message.pin is not None:
        data["pinned"] = {"pinned_by": message.pin.pinned_by, "pinned_at": message.pin.pinned_at}
    data["edits"] = [{"edited_ts": e.edited_ts, "text": e.text, "blocks": e.blocks} for e in message.edits]
    data["replies"] = [
        message_snapshot(ws, reply)
        for ts in message.replies
        if (reply := ws.find_message(message.channel, ts)) is not None
    ]
    return data


def messages_snapshot(ws: Workspace, channel_id: str) -> list[JSON]:
    """Return a channel's top-level messages, oldest first, each with its replies."""
    with ws.lock:
        return [message_snapshot(ws, m) for m in ws.messages(channel_id)]
