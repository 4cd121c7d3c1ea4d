"""usergroups.* Web API methods: the members of a user group (the bot resolves approver groups with it)."""

from __future__ import annotations

from . import args as a
from .args import Args
from .errors import ApiError
from .records import JSON
from .workspace import Workspace


def usergroups_users_list(ws: Workspace, args: Args) -> JSON:
    """usergroups.users.list: the user ids of a group's members."""
    group = ws.usergroups.get(a.required(args, "usergroup"))
    if group is None:
        raise ApiError("no_such_subteam")
    return {"users": list(group[1])}


def usergroups_list(ws: Workspace, args: Args) -> JSON:
    """usergroups.list: every group (with its members when `include_users`)."""
    with_users = a.text(args, "include_users") in ("true", "1")
    groups = [
        {"id": gid, "handle": handle, "name": handle, **({"users": list(members)} if with_users else {})}
        for gid, (handle, members) in ws.usergroups.items()
    ]
    return {"usergroups": groups}


METHODS = {
    "usergroups.users.list": usergroups_users_list,
    "usergroups.list": usergroups_list,
}
