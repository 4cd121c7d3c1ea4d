"""app-manifest.yml follows Slack's manifest rules and grants every scope the code needs."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from handlers.slack.commands import COMMANDS
from handlers.slack.ids import COMMAND, SHORTCUT_DECLARE
from handlers.slack.scopes import EVENT_SCOPES, INBOUND_SCOPES
from integrations.slack_rooms.rooms import REQUIRED_SCOPES

MANIFEST = Path(__file__).resolve().parents[2] / "app-manifest.yml"
# Bot scopes Slack knows (a subset of https://api.slack.com/scopes that this app could plausibly use).
KNOWN_BOT_SCOPES = {
    "app_mentions:read",
    "bookmarks:read",
    "bookmarks:write",
    "calls:read",
    "calls:write",
    "channels:history",
    "channels:join",
    "channels:manage",
    "channels:read",
    "chat:write",
    "chat:write.customize",
    "chat:write.public",
    "commands",
    "dnd:read",
    "emoji:read",
    "files:read",
    "files:write",
    "groups:history",
    "groups:read",
    "groups:write",
    "im:history",
    "im:read",
    "im:write",
    "links:read",
    "links:write",
    "metadata.message:read",
    "mpim:history",
    "mpim:read",
    "mpim:write",
    "pins:read",
    "pins:write",
    "reactions:read",
    "reactions:write",
    "reminders:read",
    "reminders:write",
    "team:read",
    "usergroups:read",
    "usergroups:write",
    "users.profile:read",
    "users:read",
    "users:read.email",
    "users:write",
    "workflow.steps:execute",
}
KNOWN_EVENTS = {
    "app_mention",
    "channel_created",
    "member_joined_channel",
    "message.channels",
    "message.groups",
    "pin_added",
    "pin_removed",
    "reaction_added",
    "reaction_removed",
    "app_home_opened",
}


def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text())


def test_display_information_rules():
    m = manifest()
    name = m["display_information"]["name"]
    assert 1 <= len(name) <= 35
    assert len(m["display_information"].get("description", "")) <= 140
    assert len(m["display_information"].get("long_description", "")) <= 4000
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", m["display_information"]["background_color"])
    assert 1 <= len(m["features"]["bot_user"]["display_name"]) <= 80


def test_slash_commands_follow_slack_rules():
    cmds = manifest()["features"]["slash_commands"]
    assert [c["command"] for c in cmds] == [COMMAND]
    for c in cmds:
        assert re.fullmatch(r"/[a-z0-9_-]{1,31}", c["command"])
        assert len(c["description"]) <= 2000
        assert len(c.get("usage_hint", "")) <= 1000
        assert c["url"].startswith("https://") and c["url"].endswith("/slack/events")
    hint = cmds[0]["usage_hint"]
    for sub in COMMANDS.available:
        assert sub in hint, f"usage hint does not mention {sub}"


def test_scopes_known_and_sufficient():
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    assert scopes <= KNOWN_BOT_SCOPES, scopes - KNOWN_BOT_SCOPES
    needed = set(REQUIRED_SCOPES.values()) | set(EVENT_SCOPES.values()) | set(INBOUND_SCOPES)
    assert needed <= scopes, f"missing scopes: {needed - scopes}"


def test_events_interactivity_and_shortcuts():
    m = manifest()
    events = set(m["settings"]["event_subscriptions"]["bot_events"])
    assert events <= KNOWN_EVENTS
    assert set(EVENT_SCOPES) <= events, "the code listens for events the manifest does not subscribe to"
    assert m["settings"]["interactivity"]["is_enabled"] is True
    assert m["settings"]["interactivity"]["request_url"].endswith("/slack/events")
    assert m["settings"]["event_subscriptions"]["request_url"].endswith("/slack/events")
    shortcuts = m["features"]["shortcuts"]
    assert [s["callback_id"] for s in shortcuts] == [SHORTCUT_DECLARE]
    for s in shortcuts:
        assert s["type"] in {"global", "message"}
        assert 1 <= len(s["name"]) <= 24 and len(s["description"]) <= 150
        assert re.fullmatch(r"[a-z0-9_.-]{1,255}", s["callback_id"])
