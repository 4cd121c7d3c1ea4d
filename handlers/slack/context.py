"""What the Slack listeners need from the core (given by the composition root)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.ports import ChatRoom
from bot.services.deps import Deps


@dataclass(slots=True)
class SlackContext:
    """Use-case dependencies plus the chat port: it reads messages for pins, reads what users typed
    (`chat.plain`) and writes every reply (`chat.render`: redacted, data escaped)."""

    deps: Deps
    chat: ChatRoom
    ack_deadline: float = 2.0
