"""Slack ids: commands, callback ids and action ids (stable contracts, kebab-case)."""

from __future__ import annotations

from bot.domain.cards import ActionId

COMMAND = "/incident"
CALLBACK_DECLARE = "incident-declare"
CALLBACK_UPDATE = "incident-update"
BLOCK_UPDATE = "update"
SHORTCUT_DECLARE = "incident-declare-shortcut"
BLOCK_TITLE = "title"
BLOCK_SEVERITY = "severity"
BLOCK_DESCRIPTION = "description"

__all__ = [
    "BLOCK_DESCRIPTION",
    "BLOCK_SEVERITY",
    "BLOCK_TITLE",
    "BLOCK_UPDATE",
    "CALLBACK_DECLARE",
    "CALLBACK_UPDATE",
    "COMMAND",
    "SHORTCUT_DECLARE",
    "ActionId",
]
