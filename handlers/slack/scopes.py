"""Slack scopes and events the inbound side relies on (checked against app-manifest.yml)."""

from __future__ import annotations

# Event type -> bot scope needed to receive it.
EVENT_SCOPES: dict[str, str] = {"reaction_added": "reactions:read", "pin_added": "pins:read"}
# Scopes needed by the inbound features themselves.
INBOUND_SCOPES: frozenset[str] = frozenset({"commands", "chat:write"})
