"""Events API: 📌 reactions and pins put messages into the timeline; retries are no-ops."""

from __future__ import annotations

import logging
from typing import Any

from bot.services import inbound, pins
from handlers.slack.context import SlackContext

log = logging.getLogger("warroom.slack")
PIN_REACTIONS = {"pushpin", "round_pushpin"}


def register(app: Any, ctx: SlackContext) -> None:
    """Register reaction and pin listeners."""

    async def once(body: dict[str, Any]) -> bool:
        event_id = body.get("event_id")
        return True if not event_id else await inbound.first_time(ctx.deps, key=f"slack-event:{event_id}")

    async def on_reaction(body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("reaction") not in PIN_REACTIONS:
            return
        item = event.get("item") or {}
        if item.get("type") != "message" or not await once(body):
            return
        await pins.pin_message(
            ctx.deps,
            chat=ctx.chat,
            channel_id=str(item.get("channel")),
            ts=str(item.get("ts")),
            actor=str(event.get("user") or ""),
            via="reaction",
        )

    async def on_pin(body: dict[str, Any], event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        msg = item.get("message") or {}
        ts = msg.get("ts") or item.get("ts")
        channel = event.get("channel_id") or item.get("channel")
        if not ts or not channel or not await once(body):
            return
        await pins.pin_message(
            ctx.deps,
            chat=ctx.chat,
            channel_id=str(channel),
            ts=str(ts),
            actor=str(event.get("user") or ""),
            via="pin",
            text=ctx.chat.plain(str(msg["text"])) if msg.get("text") is not None else None,
            author=msg.get("user") if msg else None,
        )

    async def ignore(ack: Any) -> None:
        await ack()

    app.event("reaction_added")(on_reaction)
    app.event("pin_added")(on_pin)
    for name in ("reaction_removed", "pin_removed", "message", "app_mention", "member_joined_channel"):
        app.event(name)(ignore)
