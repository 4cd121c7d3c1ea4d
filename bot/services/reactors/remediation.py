"""The remediation reactor: proposes actions when a hypothesis is confirmed (and, through the diagnosis
reactor's hook, after each diagnosis for the leading one), runs by policy what human control no longer holds
back once it is released, and keeps one approval card per action in the war room: posted once, updated at every
step, with the execution's (and the rollback's) redacted output in its thread, once."""

from __future__ import annotations

import functools

from bot.domain.approval_cards import approval_card, approval_marker, output_marker
from bot.domain.events import Event, EventKind
from bot.domain.incident import Incident
from bot.domain.ports import ChatError, ChatRoom
from bot.domain.remediation import RemediationAction
from bot.domain.text import Text
from bot.plugins import GiveUp, RetryLater
from bot.services import remediation
from bot.services.deps import Deps
from bot.services.reactors.posting import chat_failure, post_once

ACTION_KINDS = frozenset(
    k.value
    for k in (
        EventKind.REMEDIATION_PROPOSED, EventKind.REMEDIATION_APPROVED, EventKind.REMEDIATION_REJECTED,
        EventKind.REMEDIATION_EXPIRED, EventKind.REMEDIATION_SUPERSEDED, EventKind.REMEDIATION_STARTED,
        EventKind.REMEDIATION_EXECUTED, EventKind.REMEDIATION_VERIFIED, EventKind.REMEDIATION_ROLLED_BACK,
    )
)  # fmt: skip
OUTPUT_OF = {EventKind.REMEDIATION_EXECUTED.value: "run", EventKind.REMEDIATION_ROLLED_BACK.value: "rollback"}


class RemediationReactor:
    """Proposes remediation actions and keeps their approval cards in the war room."""

    name = "remediation"
    kinds = frozenset({*ACTION_KINDS, EventKind.HYPOTHESIS_CONFIRMED.value, *remediation.RELEASE_KINDS})

    def __init__(self, deps: Deps, chat: ChatRoom) -> None:
        self.deps = deps
        self.chat = chat

    async def handle(self, event: Event, *, attempt: int) -> None:
        """Propose (a confirmed hypothesis), run what was held back (released), or show an action's step."""
        if event.incident_id is None:
            raise GiveUp(f"event {event.id} has no incident")
        if event.kind == EventKind.HYPOTHESIS_CONFIRMED.value:
            await remediation.propose(self.deps, incident_id=event.incident_id, requested_by=event.actor)
        elif event.kind in remediation.RELEASE_KINDS:
            await remediation.run_released(self.deps, incident_id=event.incident_id)
        else:
            try:
                await self.show(event, attempt)
            except ChatError as exc:
                raise chat_failure(exc) from exc

    async def show(self, event: Event, attempt: int) -> None:
        """Post or update the action's card; after a run or a rollback, its output in the card's thread."""
        action_id = str(event.payload.get("action") or "")
        async with self.deps.store.read() as uow:
            incident = await uow.incidents.get_by_id(event.incident_id or 0, roles=False)
            action = await uow.actions.get(action_id)
            ts = await uow.chat_post(approval_marker(action_id))
        if incident is None or action is None:
            raise GiveUp(f"action {action_id} of event {event.id} is gone")
        if incident.channel_id is None:
            raise RetryLater("war room not open yet")
        card = approval_card(action, ref=incident.ref)
        if ts is None:
            post = functools.partial(self.chat.post_card, incident.channel_id, card)
            ts = await post_once(self.deps, self.chat, card.marker, incident.channel_id, post,
                                 since=action.proposed_at, attempt=attempt)  # fmt: skip
        else:
            await self.chat.update_card(incident.channel_id, ts, card)
        what = OUTPUT_OF.get(event.kind)
        if what is not None:
            await self._output(incident, action, ts, what, attempt)

    async def _output(
        self, incident: Incident, action: RemediationAction, card_ts: str, what: str, attempt: int
    ) -> None:
        """The (redacted) output in the card's thread, once."""
        output = action.output if what == "run" else action.rollback_output
        head = "Output" if what == "run" else "Rollback output"
        body = output.strip() or "(no output)"
        text = Text.of(f"{head} of {action.id}:\n", "```\n" + body.replace("```", "'''") + "\n```")
        channel = incident.channel_id
        assert channel is not None
        post = functools.partial(self.chat.post_text, channel, text, marker=output_marker(action.id, what),
                                 thread_ts=card_ts)  # fmt: skip
        await post_once(self.deps, self.chat, output_marker(action.id, what), channel, post,
                        since=action.proposed_at, attempt=attempt)  # fmt: skip
