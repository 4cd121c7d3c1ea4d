"""auth.test, users.*, pins.* and reactions.* Web API methods."""

from __future__ import annotations

import re

from . import args as a
from .api_conversations import joined, visible
from .args import Args
from .errors import ApiError
from .pagination import paginate
from .records import BOT_ID, BOT_NAME, BOT_USER_ID, JSON, TEAM_ID, TEAM_NAME
from .workspace import Workspace

EMOJI_NAME = re.compile(r"^[a-z0-9_+'-]+(::skin-tone-[2-6])?\Z")


def auth_test(ws: Workspace, args: Args) -> JSON:
    """auth.test: who the token belongs to."""
    return {
        "url": f"{ws.base_url}/",
        "team": TEAM_NAME,
        "user": BOT_NAME,
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "is_enterprise_install": False,
    }


def users_info(ws: Workspace, args: Args) -> JSON:
    """users.info: one user."""
    return {"user": ws.user(a.text(args, "user")).to_dict()}


def users_list(ws: Workspace, args: Args) -> JSON:
    """users.list: every member, paginated."""
    users = list(ws.users.values())
    page, cursor = paginate(users, a.text(args, "cursor"), a.integer(args, "limit", 0), "user")
    return {
        "members": [u.to_dict() for u in page],
        "cache_ts": int(ws.clock()),
        "response_metadata": {"next_cursor": cursor},
    }


def pins_add(ws: Workspace, args: Args) -> JSON:
    """pins.add: pin a message in a channel the bot is in."""
    channel = joined(ws, args)
    timestamp = a.text(args, "timestamp")
    if timestamp is None:
        raise ApiError("no_item_specified")
    ws.pin_message(ws.message(channel.id, timestamp), BOT_USER_ID)
    return {}


def pins_list(ws: Workspace, args: Args) -> JSON:
    """pins.list: the channel's pinned messages."""
    channel = visible(ws, args)
    items = [
        {
            "type": "message",
            "created": m.pin.pinned_at if m.pin else 0,
            "created_by": m.pin.pinned_by if m.pin else "",
            "channel": channel.id,
            "message": {**m.to_dict(), "permalink": ws.permalink(channel.id, m.ts)},
        }
        for m in ws.pins(channel.id)
    ]
    return {"items": items}


def reactions_add(ws: Workspace, args: Args) -> JSON:
    """reactions.add: the bot reacts to a message."""
    channel = visible(ws, args)
    name = (a.text(args, "name") or "").strip(":")
    if not EMOJI_NAME.match(name):
        raise ApiError("invalid_name")
    ws.add_reaction(ws.message(channel.id, a.text(args, "timestamp")), BOT_USER_ID, name)
    return {}


METHODS = {
    "auth.test": auth_test,
    "users.info": users_info,
    "users.list": users_list,
    "pins.add": pins_add,
    "pins.list": pins_list,
    "reactions.add": reactions_add,
}
