"""Bodies of the requests Slack sends to an app: slash commands, interactions and Events API envelopes."""

from __future__ import annotations

import copy
import json
import urllib.parse
from typing import Any

from .records import APP_ID, BOT_USER_ID, JSON, TEAM_DOMAIN, TEAM_ID, Channel, Message, User, View

VERIFICATION_TOKEN = "vErIfIcAtIoNtOkEnL0CAL"  # noqa: S105 - a fixed fake, not a secret
"""The legacy verification token Slack puts in payloads (deprecated; apps should check signatures)."""


def form_body(fields: dict[str, str]) -> bytes:
    """Encode fields as application/x-www-form-urlencoded, in the given order."""
    return urllib.parse.urlencode(fields).encode("utf-8")


def payload_body(payload: JSON) -> bytes:
    """Encode an interaction the way Slack does: one form field `payload` holding compact JSON."""
    compact = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return ("payload=" + urllib.parse.quote(compact, safe="")).encode("utf-8")


def slash_command(
    user: User, channel: Channel, command: str, text: str, response_url: str, trigger_id: str
) -> dict[str, str]:
    """Return a slash command's form fields, in Slack's order."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel.id,
        "channel_name": "directmessage" if channel.is_im else channel.name,
        "user_id": user.id,
        "user_name": user.name,
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def user_ref(user: User) -> JSON:
    """Return the `user` object of an interaction payload."""
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": TEAM_ID}


def _common(kind: str, user: User, trigger_id: str) -> JSON:
    return {
        "type": kind,
        "user": user_ref(user),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
    }


def block_actions(
    user: User,
    channel: Channel,
    message: Message | None,
    message_ts: str,
    action: JSON,
    trigger_id: str,
    response_url: str,
) -> JSON:
    """Return a `block_actions` payload for a click on a message (ephemeral when `message` is None)."""
    payload = _common("block_actions", user, trigger_id)
    payload["container"] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel.id,
        "is_ephemeral": message is None,
    }
    payload["channel"] = {"id": channel.id, "name": "directmessage" if channel.is_im else channel.name}
    if message is not None:
        payload["message"] = message.to_dict()
    payload["state"] = {"values": {}}
    payload["response_url"] = response_url
    payload["actions"] = [action]
    return payload


def find_element(blocks: list[JSON], action_id: str, block_id: str | None = None) -> tuple[str, JSON] | None:
    """Find the interactive element with `action_id` (in `block_id` if given); return (block_id, element)."""
    for block in blocks:
        if block_id and block.get("block_id") != block_id:
            continue
        candidates = [*(block.get("elements") or []), block.get("accessory"), block.get("element")]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return str(block.get("block_id") or ""), element
    return None


def action(
    found: tuple[str, JSON] | None,
    action_id: str,
    action_ts: str,
    value: str | None = None,
    selected_option: JSON | None = None,
    block_id: str | None = None,
) -> JSON:
    """Return one entry of `actions`, built from the clicked element when it was found in the blocks."""
    element = copy.deepcopy(found[1]) if found else {"type": "button"}
    kind = element.get("type", "button")
    entry: JSON = {"action_id": action_id, "block_id": (found[0] if found else None) or block_id or "actions"}
    if kind == "button":
        entry["text"] = element.get("text") or {"type": "plain_text", "text": action_id, "emoji": True}
        chosen = value if value is not None else element.get("value")
        if chosen is not None:
            entry["value"] = chosen
        if element.get("style"):
            entry["style"] = element["style"]
    else:
        if selected_option is None and value is not None:
            selected_option = _option(element, value)
        entry["selected_option"] = selected_option
        if element.get("placeholder"):
            entry["placeholder"] = element["placeholder"]
    entry.update({"type": kind, "action_ts": action_ts})
    return entry


def view_submission(user: User, view: View, state_values: JSON, trigger_id: str, overrides: JSON) -> JSON:
    """Return a `view_submission` payload for `view` with the given state values."""
    payload = _common("view_submission", user, trigger_id)
    body = view.to_dict()
    body.update(overrides)
    body["state"] = {"values": state_values}
    payload["view"] = body
    payload["response_urls"] = []
    return payload


def view_state(view: View | None, values: dict[str, Any]) -> JSON:
    """Build `state.values[block_id][action_id]` from simple values keyed by action_id or block_id."""
    state: JSON = {}
    remaining = dict(values)
    for block in (view.payload.get("blocks") or []) if view else []:
        element = block.get("element")
        if block.get("type") != "input" or not isinstance(element, dict):
            continue
        block_id, action_id = str(block.get("block_id")), str(element.get("action_id"))
        for key in (action_id, block_id):
            if key in remaining:
                raw = remaining.pop(key)
                state[block_id] = copy.deepcopy(raw) if _is_nested(raw) else {action_id: _state_value(element, raw)}
                break
    for key, value in remaining.items():
        if _is_nested(value):
            state[key] = copy.deepcopy(value)
        else:
            state[key] = {key: _state_value({"type": "plain_text_input"}, value)}
    return state


def _is_nested(value: Any) -> bool:
    """True for values already shaped like `{action_id: {"type": ..., ...}}`."""
    return isinstance(value, dict) and bool(value) and all(isinstance(v, dict) and "type" in v for v in value.values())


def _state_value(element: JSON, value: Any) -> JSON:
    kind = str(element.get("type") or "plain_text_input")
    if isinstance(value, dict) and "type" in value:
        return copy.deepcopy(value)
    if kind in {"static_select", "external_select"}:
        option = value if isinstance(value, dict) else _option(element, str(value))
        return {"type": kind, "selected_option": option}
    if kind in {"users_select", "conversations_select", "channels_select"}:
        field = {"users_select": "selected_user", "conversations_select": "selected_conversation"}
        return {"type": kind, field.get(kind, "selected_channel"): value}
    if kind in {"multi_static_select", "checkboxes"}:
        options = [_option(element, str(v)) for v in (value if isinstance(value, list) else [value])]
        return {"type": kind, "selected_options": options}
    return {"type": kind, "value": value}


def _option(element: JSON, value: str) -> JSON:
    """Return the element's option whose value (or text) is `value`, or a made-up one."""
    groups = [g.get("options") or [] for g in element.get("option_groups") or []]
    for option in [*(element.get("options") or []), *(o for group in groups for o in group)]:
        if option.get("value") == value or (option.get("text") or {}).get("text") == value:
            return copy.deepcopy(option)
    return {"text": {"type": "plain_text", "text": value, "emoji": True}, "value": value}


def event_envelope(event: JSON, event_id: str, event_time: int) -> JSON:
    """Wrap an event in the Events API `event_callback` envelope."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "context_team_id": TEAM_ID,
        "context_enterprise_id": None,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-local-{event_id}",
    }
