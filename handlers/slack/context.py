"""What the Slack listeners need from the core (given by the composition root)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.domain.ports import ChatRoom
from bot.services.deps import Deps


@dataclass(slots=True)
class SlackContext:
    """Use-case dependencies plus the chat port (to read messages for pins)."""

    deps: Deps
    chat: ChatRoom
    ack_deadline: float = 2.0
    redact: Callable[[str], str] = field(default=lambda text: text)
