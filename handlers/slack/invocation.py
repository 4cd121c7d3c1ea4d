"""One `/incident` command being carried out: who asked, where, and what they typed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.services import incidents
from bot.services.deps import Deps
from bot.services.errors import BadRequest
from handlers.slack.context import SlackContext
from handlers.slack.grammar import Parsed
from handlers.slack.ids import COMMAND


@dataclass(frozen=True, slots=True)
class Invocation:
    """A parsed command with the Slack request it came in (`body`) and the Web API client to answer with.

    `parsed.rest` is plain text already (Slack's markup read by the chat port), so it is stored as written
    and escaped exactly once on its way out.
    """

    ctx: SlackContext
    parsed: Parsed
    body: dict[str, Any]
    client: Any

    @property
    def deps(self) -> Deps:
        """The use cases' dependencies."""
        return self.ctx.deps

    @property
    def user(self) -> str:
        """Who typed the command."""
        return str(self.body.get("user_id") or "")

    @property
    def channel(self) -> str:
        """Where it was typed."""
        return str(self.body.get("channel_id") or "")

    @property
    def request_key(self) -> str | None:
        """Slack's trigger id, so that a retried delivery of the same command changes nothing twice."""
        trigger = self.body.get("trigger_id")
        return f"slack-cmd:{trigger}" if trigger else None

    async def ref(self) -> str:
        """The incident the command is about: the one given, else the war room's it was typed in."""
        if self.parsed.ref is not None:
            return self.parsed.ref
        found = await incidents.for_channel(self.deps, channel_id=self.channel)
        if found is None:
            raise BadRequest(
                f"this channel is not a war room: run it in the incident's channel or give the reference, "
                f"e.g. `{COMMAND} {self.parsed.sub} INC-20261123-001`"
            )
        return found.ref
