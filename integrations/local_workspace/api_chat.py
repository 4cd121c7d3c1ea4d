"""chat.* Web API methods."""

from __future__ import annotations

from typing import Any

from . import args as a
from .api_conversations import joined, visible
from .args import Args
from .blockkit import check_message_content, parse_blocks
from .errors import ApiError
from .records import BOT_USER_ID, JSON
from .workspace import Workspace


def content(args: Args) -> tuple[str | None, list[JSON] | None, Any]:
    """Read and validate `text`, `blocks` and `attachments` the way Slack does."""
    text = args.get("text")
    text = None if text is None else str(text)
    raw_blocks = args.get("blocks")
    blocks = parse_blocks(raw_blocks) if raw_blocks not in (None, "") else None
    attachments = a.structured(args, "attachments", "invalid_attachments")
    check_message_content(text, blocks, attachments)
    return text, blocks, attachments


def post_message(ws: Workspace, args: Args) -> JSON:
    """chat.postMessage: post as the bot (thread reply with `thread_ts`)."""
    channel = ws.resolve_channel(a.text(args, "channel"))
    if channel.is_archived:
        raise ApiError("is_archived")
    if BOT_USER_ID not in channel.members:
        raise ApiError("not_in_channel")
    text, blocks, attachments = content(args)
    thread_ts = a.text(args, "thread_ts")
    if thread_ts and ws.find_message(channel.id, thread_ts) is None:
        raise ApiError("thread_not_found")
    metadata = a.structured(args, "metadata", "invalid_metadata_format")
    message = ws.post(
        channel,
        BOT_USER_ID,
        text or "",
        blocks=blocks,
        attachments=attachments,
        thread_ts=thread_ts,
        metadata=metadata if isinstance(metadata, dict) else None,
    )
    return {"channel": channel.id, "ts": message.ts, "message": message.to_dict()}


def update(ws: Workspace, args: Args) -> JSON:
    """chat.update: replace the bot's own message, keeping its ts."""
    channel = visible(ws, args)
    message = ws.message(channel.id, a.text(args, "ts"))
    if message.user != BOT_USER_ID:
        raise ApiError("cant_update_message")
    text, blocks, _ = content(args)
    new_blocks = blocks if "blocks" in args else message.blocks
    ws.edit(message, BOT_USER_ID, text if text is not None else message.text, new_blocks)
    return {"channel": channel.id, "ts": message.ts, "text": message.text, "message": message.to_dict()}


def delete(ws: Workspace, args: Args) -> JSON:
    """chat.delete: remove the bot's own message."""
    channel = visible(ws, args)
    message = ws.message(channel.id, a.text(args, "ts"))
    if message.user != BOT_USER_ID:
        raise ApiError("cant_delete_message")
    ws.delete(message)
    return {"channel": channel.id, "ts": message.ts}


def post_ephemeral(ws: Workspace, args: Args) -> JSON:
    """chat.postEphemeral: a message only `user` sees."""
    channel = joined(ws, args)
    user = ws.user(a.text(args, "user"))
    if user.id not in channel.members:
        raise ApiError("user_not_in_channel")
    text, blocks, _ = content(args)
    note = ws.post_ephemeral(channel, user.id, text or "", blocks, a.text(args, "thread_ts"))
    return {"message_ts": note.ts}


def get_permalink(ws: Workspace, args: Args) -> JSON:
    """chat.getPermalink: the archive URL of a message."""
    channel = visible(ws, args)
    return {"channel": channel.id, "permalink": ws.permalink(channel.id, a.text(args, "message_ts") or "")}


METHODS = {
    "chat.postMessage": post_message,
    "chat.update": update,
    "chat.delete": delete,
    "chat.postEphemeral": post_ephemeral,
    "chat.getPermalink": get_permalink,
}
