"""Slack inbound adapter: Bolt listeners registered explicitly, one module per kind."""

from __future__ import annotations

from typing import Any

from handlers.slack import actions, commands, events, views
from handlers.slack.context import SlackContext


def register(app: Any, ctx: SlackContext) -> None:
    """Register every listener on a Bolt AsyncApp."""
    commands.register(app, ctx)
    actions.register(app, ctx)
    views.register(app, ctx)
    events.register(app, ctx)


__all__ = ["SlackContext", "register"]
