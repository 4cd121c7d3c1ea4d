"""Chat messages into the timeline: 📌 reactions and pins."""

from __future__ import annotations

from bot.domain.ports import ChatRoom
from bot.services import incidents
from bot.services.deps import Deps
from bot.services.incidents import Outcome


async def pin_message(
    deps: Deps,
    *,
    chat: ChatRoom,
    channel_id: str,
    ts: str,
    actor: str,
    via: str,
    text: str | None = None,
    author: str | None = None,
) -> Outcome | None:
    """Record a war-room message in the timeline once; fetch its text when the event did not carry it."""
    incident = await incidents.for_channel(deps, channel_id=channel_id)
    if incident is None:
        return None
    if text is None:
        msg = await chat.get_message(channel_id, ts)
        if msg is None:
            return None
        text, author = msg.text, msg.user
    return await incidents.record_pin(
        deps, channel_id=channel_id, ts=ts, actor=actor, text=text, author=author, via=via
    )
