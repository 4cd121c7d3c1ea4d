"""conversations.* Web API methods."""

from __future__ import annotations

from collections.abc import Callable

from . import args as a
from .args import Args
from .errors import ApiError
from .ids import ts_micros
from .pagination import decode_cursor, encode_cursor, paginate
from .records import BOT_USER_ID, JSON, Channel
from .workspace import Workspace

MAX_HISTORY = 999


def visible(ws: Workspace, args: Args, name: str = "channel") -> Channel:
    """Resolve a conversation the bot can see (private ones only when it is a member)."""
    channel = ws.resolve_channel(a.text(args, name))
    if channel.is_private and BOT_USER_ID not in channel.members:
        raise ApiError("channel_not_found")
    return channel


def joined(ws: Workspace, args: Args, name: str = "channel") -> Channel:
    """Resolve a conversation the bot is a member of, answering not_in_channel otherwise."""
    channel = visible(ws, args, name)
    if BOT_USER_ID not in channel.members:
        raise ApiError("not_in_channel")
    return channel


def create(ws: Workspace, args: Args) -> JSON:
    """conversations.create: a new channel with the bot as creator and member."""
    channel = ws.create_channel(a.text(args, "name") or "", BOT_USER_ID, a.flag(args, "is_private"))
    return {"channel": channel.to_dict()}


def _setter(field: str) -> Callable[[Workspace, Args], JSON]:
    def handler(ws: Workspace, args: Args) -> JSON:
        channel = joined(ws, args)
        if channel.is_archived:
            raise ApiError("is_archived")
        value = a.text(args, field) or ""
        ws.set_topic(channel, field, value)
        return {"channel": channel.to_dict(), field: value}

    handler.__doc__ = f"conversations.set{field.title()}: change the channel's {field}."
    return handler


def invite(ws: Workspace, args: Args) -> JSON:
    """conversations.invite: add users (comma-separated) to a channel the bot is in."""
    channel = joined(ws, args)
    if channel.is_archived:
        raise ApiError("is_archived")
    users = a.words(args, "users")
    if not users:
        raise ApiError("no_user")
    for user_id in users:
        if user_id == BOT_USER_ID:
            raise ApiError("cant_invite_self")
        ws.user(user_id)
    new = [user_id for user_id in dict.fromkeys(users) if user_id not in channel.members]
    if not new:
        raise ApiError("already_in_channel")
    channel.members.extend(new)
    return {"channel": channel.to_dict()}


def join(ws: Workspace, args: Args) -> JSON:
    """conversations.join: the bot joins a public channel (a warning when already in)."""
    channel = ws.resolve_channel(a.text(args, "channel"))
    if channel.is_archived:
        raise ApiError("is_archived")
    if BOT_USER_ID in channel.members:
        metadata = {"warnings": ["already_in_channel"]}
        return {"channel": channel.to_dict(), "warning": "already_in_channel", "response_metadata": metadata}
    if channel.is_private or channel.is_im:
        raise ApiError("method_not_supported_for_channel_type")
    channel.members.append(BOT_USER_ID)
    return {"channel": channel.to_dict()}


def info(ws: Workspace, args: Args) -> JSON:
    """conversations.info: the conversation object."""
    return {"channel": visible(ws, args).to_dict()}


def list_channels(ws: Workspace, args: Args) -> JSON:
    """conversations.list: channels by `types`, optionally without archived ones, paginated."""
    types = set(a.words(args, "types") or ["public_channel"])
    exclude_archived = a.flag(args, "exclude_archived")

    def wanted(channel: Channel) -> bool:
        if channel.is_archived and exclude_archived:
            return False
        if channel.is_im:
            return "im" in types
        if channel.is_private:
            return "private_channel" in types and BOT_USER_ID in channel.members
        return "public_channel" in types

    found = [c for c in ws.channels() if wanted(c)]
    page, cursor = paginate(found, a.text(args, "cursor"), min(a.integer(args, "limit", 100), 1000), "channel")
    return {"channels": [c.to_dict() for c in page], "response_metadata": {"next_cursor": cursor}}


def members(ws: Workspace, args: Args) -> JSON:
    """conversations.members: member ids, paginated."""
    channel = visible(ws, args)
    page, cursor = paginate(channel.members, a.text(args, "cursor"), a.integer(args, "limit", 100), "member")
    return {"members": page, "response_metadata": {"next_cursor": cursor}}


def _bound(args: Args, name: str, default: int) -> int:
    value = a.text(args, name)
    if value is None:
        return default
    try:
        return ts_micros(value)
    except ValueError:
        raise ApiError(f"invalid_ts_{name}") from None


def history(ws: Workspace, args: Args) -> JSON:
    """conversations.history: top-level messages newest first, between `oldest` and `latest`."""
    channel = joined(ws, args)
    latest = _bound(args, "latest", 2**62)
    oldest = _bound(args, "oldest", 0)
    inclusive = a.flag(args, "inclusive")
    cursor = a.text(args, "cursor")
    if cursor:
        try:
            latest, inclusive = ts_micros(decode_cursor(cursor, "ts")), False
        except ValueError:
            raise ApiError("invalid_cursor") from None
    limit = max(1, min(a.integer(args, "limit", 100), MAX_HISTORY))

    def inside(ts: str) -> bool:
        micros = ts_micros(ts)
        if inclusive:
            return oldest <= micros <= latest
        return oldest < micros < latest

    found = [m for m in reversed(ws.messages(channel.id)) if inside(m.ts)]
    page, has_more = found[:limit], len(found) > limit
    return {
        "messages": [m.to_dict() for m in page],
        "has_more": has_more,
        "pin_count": len(ws.pins(channel.id)),
        "response_metadata": {"next_cursor": encode_cursor("ts", page[-1].ts) if has_more else ""},
    }


def replies(ws: Workspace, args: Args) -> JSON:
    """conversations.replies: a thread's parent and replies, oldest first."""
    channel = joined(ws, args)
    try:
        thread = ws.replies(channel.id, a.required(args, "ts"))
    except ApiError:
        raise ApiError("thread_not_found") from None
    limit = max(1, min(a.integer(args, "limit", 1000), 1000))
    return {"messages": [m.to_dict() for m in thread[:limit]], "has_more": len(thread) > limit}


def archive(ws: Workspace, args: Args) -> JSON:
    """conversations.archive: archive a channel the bot is in."""
    channel = joined(ws, args)
    if channel.is_general:
        raise ApiError("cant_archive_general")
    if channel.is_archived:
        raise ApiError("already_archived")
    channel.is_archived = True
    return {}


def open_dm(ws: Workspace, args: Args) -> JSON:
    """conversations.open: the direct-message conversation with one user."""
    users = a.words(args, "users")
    if len(users) != 1:
        raise ApiError("invalid_arguments", "[ERROR] only one user is supported here")
    channel = ws.dm_channel(users[0])
    return {"channel": {"id": channel.id} if not a.flag(args, "return_im") else channel.to_dict()}


METHODS = {
    "conversations.create": create,
    "conversations.setTopic": _setter("topic"),
    "conversations.setPurpose": _setter("purpose"),
    "conversations.invite": invite,
    "conversations.join": join,
    "conversations.info": info,
    "conversations.list": list_channels,
    "conversations.members": members,
    "conversations.history": history,
    "conversations.replies": replies,
    "conversations.archive": archive,
    "conversations.open": open_dm,
}
