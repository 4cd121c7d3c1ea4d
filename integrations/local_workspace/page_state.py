"""What the page shows one user: channels, the open channel's messages, their ephemeral messages and modals,
and the Web API calls Slack refused (rate limits, Block Kit errors) so card layouts can be debugged."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from .records import BOT_USER_ID, JSON, TEAM_NAME, ApiCall, Channel, User
from .snapshots import message_snapshot
from .workspace import Workspace

MAX_PROBLEMS = 20
MAX_ARGS_CHARS = 4000
MAX_MESSAGES = 200
"""The newest top-level messages of a channel the page shows (a storm's channel stays quick to render)."""


def _user(user: User) -> JSON:
    return {"id": user.id, "name": user.name, "real_name": user.real_name, "is_bot": user.is_bot}


def _sees(channel: Channel, user_id: str) -> bool:
    """Public channels are listed for everyone; private ones and DMs for their members."""
    return not channel.is_private or user_id in channel.members


def _channel(ws: Workspace, channel: Channel, user_id: str) -> JSON:
    messages = ws.messages(channel.id, include_replies=True)
    name = channel.name
    if channel.is_im:
        other = next((m for m in channel.members if m != BOT_USER_ID), "")
        name = ws.users[other].name if other in ws.users else other
    return {
        "id": channel.id,
        "name": name,
        "is_private": channel.is_private,
        "is_im": channel.is_im,
        "is_archived": channel.is_archived,
        "is_member": user_id in channel.members,
        "topic": channel.topic.get("value", ""),
        "members": list(channel.members),
        "latest": messages[-1].ts if messages else None,
    }


def _problem(ws: Workspace, call: ApiCall) -> JSON:
    channel_ref = call.args.get("channel")
    channel = ws.channel(channel_ref) or ws.channel_by_name(channel_ref) if isinstance(channel_ref, str) else None
    args = json.dumps(_parsed(call.args), indent=2, ensure_ascii=False, default=str)
    if len(args) > MAX_ARGS_CHARS:
        args = args[:MAX_ARGS_CHARS] + "\n…"
    return {
        "method": call.method,
        "time": call.time,
        "status": call.status,
        "error": call.error,
        "messages": list(call.messages),
        "retry_after": call.retry_after,
        "channel": channel.id if channel else None,
        "args": args,
    }


def _parsed(args: dict[str, Any]) -> dict[str, Any]:
    """Arguments with JSON strings (form-encoded blocks) shown as the structures they hold."""
    shown: dict[str, Any] = {}
    for key, value in args.items():
        if isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        shown[key] = value
    return shown


def page_state(ws: Workspace, user_id: str | None, channel_id: str | None) -> JSON:
    """The page's whole picture for `user_id` (default: the first human) with `channel_id` open (if it may)."""
    with ws.lock:
        humans = [u for u in ws.users.values() if not u.is_bot]
        user = ws.users.get(user_id or "")
        if user is None or user.is_bot:
            user = humans[0]
        listed = [c for c in ws.channels() if _sees(c, user.id)]
        channel = next((c for c in listed if c.id == channel_id), None)
        failed = [c for c in ws.calls if c.status is not None and (c.status >= 400 or c.ok is False)]
        views = [v for v in ws.views.values() if v.user == user.id and v.is_open]
        notes = [e for e in ws.ephemeral if channel and e.channel == channel.id and e.user == user.id]
        shown = ws.messages(channel.id) if channel else []
        return {
            "revision": ws.feed.revision,
            "team": TEAM_NAME,
            "user": user.id,
            "users": [_user(u) for u in ws.users.values()],
            "channels": [_channel(ws, c, user.id) for c in listed],
            "channel_names": {c.id: c.name for c in ws.channels() if not c.is_im},
            "channel": channel.id if channel else None,
            "messages": [message_snapshot(ws, m) for m in shown[-MAX_MESSAGES:]],
            "older": max(0, len(shown) - MAX_MESSAGES),
            "ephemeral": [e.to_dict() for e in notes[-MAX_MESSAGES:]],
            "view": {**views[-1].to_dict(), "errors": views[-1].errors} if views else None,
            "problems": [_problem(ws, c) for c in reversed(failed[-MAX_PROBLEMS:])],
            "connected": bool(ws.events_url or ws.sockets.enabled),
            "sample_alert": ws.sample_alert is not None and bool(ws.sample_alert.url),
        }
