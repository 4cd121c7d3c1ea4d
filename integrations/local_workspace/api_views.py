"""views.* Web API methods."""

from __future__ import annotations

from . import args as a
from .args import Args
from .blockkit import parse_view
from .errors import ApiError
from .records import JSON
from .workspace import Workspace


def views_open(ws: Workspace, args: Args) -> JSON:
    """views.open: open a modal; needs a fresh trigger_id the emulator issued."""
    payload = parse_view(a.structured(args, "view", "invalid_arguments"))
    trigger = ws.use_trigger(a.text(args, "trigger_id"))
    return {"view": ws.open_view(trigger.user, payload).to_dict()}


def views_push(ws: Workspace, args: Args) -> JSON:
    """views.push: push a modal on top of the user's open one."""
    payload = parse_view(a.structured(args, "view", "invalid_arguments"))
    trigger = ws.use_trigger(a.text(args, "trigger_id"))
    current = [v for v in ws.views.values() if v.user == trigger.user and v.is_open]
    return {"view": ws.open_view(trigger.user, payload, previous=current[-1] if current else None).to_dict()}


def views_update(ws: Workspace, args: Args) -> JSON:
    """views.update: replace an open view by view_id or external_id (hash guards against races)."""
    view_id, external_id = a.text(args, "view_id"), a.text(args, "external_id")
    if not view_id and not external_id:
        raise ApiError("invalid_arguments", "[ERROR] view_id or external_id is required")
    view = ws.view(view_id, external_id)
    if not view.is_open:
        raise ApiError("not_found")
    expected = a.text(args, "hash")
    if expected is not None and expected != view.hash:
        raise ApiError("hash_conflict")
    payload = parse_view(a.structured(args, "view", "invalid_arguments"))
    return {"view": ws.replace_view(view, payload).to_dict()}


METHODS = {"views.open": views_open, "views.push": views_push, "views.update": views_update}
