"""The post-mortem reactors: on each resolve and each `/incident postmortem`, one version of the post-mortem draft,
drawn from the log as of that entry (a retry writes the same document).

- `PostmortemReactor` posts it to the war room: a message with the figures, the Markdown file in its thread.
  The message is posted once (`post_once`); the file's id is recorded under its own marker, so a retry does not
  upload it twice (a crash between the upload and the record can leave a second copy: Slack has no marker to
  search files by).
- `PostmortemTicketReactor` attaches the file to the incident's ticket once it has one (postponed until then,
  and while the tracker is away), once per version.
"""

from __future__ import annotations

from datetime import timedelta

from bot.domain.events import Event
from bot.domain.incident import Incident
from bot.domain.outbound import Attachment, TicketTracker, TrackerDeferred, TrackerRefused, TrackerUnavailable
from bot.domain.ports import ChatError, ChatRoom
from bot.domain.postmortem import PostmortemDoc, PostmortemRenderer
from bot.domain.text import Icon, Strong, Text
from bot.plugins import GiveUp, Postpone, RetryLater
from bot.services import postmortems
from bot.services.deps import Deps
from bot.services.reactors.posting import chat_failure, post_once
from bot.services.tickets import attach_to_ticket

WAIT_FOR_TICKET = timedelta(days=1)
"""How long a version waits for the incident's ticket to be filed before it gives up."""


def filename(doc: PostmortemDoc) -> str:
    """`INC-20261123-001-postmortem-v2.md`."""
    return f"{doc.ref}-postmortem-v{doc.version}.md"


def headline(doc: PostmortemDoc) -> Text:
    """The war-room message that carries the file: which version, and the four figures."""
    figures = " · ".join(f"{f.name} {f.value}" for f in doc.figures)
    return Text.of(
        Icon.NOTE, " ", Strong(f"Post-mortem draft v{doc.version} of {doc.ref}"), f": {figures}.",
        " The Markdown file is in this thread", f" and attached to {doc.jira_key}." if doc.jira_key else ".",
    )  # fmt: skip


async def _incident(deps: Deps, event: Event) -> Incident:
    async with deps.store.read() as uow:
        incident = await uow.incidents.get_by_id(event.incident_id or 0, roles=False)
    if incident is None:
        raise GiveUp(f"event {event.id} has no incident")
    return incident


async def _document(deps: Deps, renderer: PostmortemRenderer, event: Event) -> tuple[PostmortemDoc, bytes]:
    doc = await postmortems.draft(deps, incident_id=event.incident_id, upto=event)
    try:
        return doc, renderer.render(doc).encode()
    except ValueError as exc:  # the template fails on this draft: retrying cannot help
        raise GiveUp(str(exc)) from exc


class PostmortemReactor:
    """Posts each version of the post-mortem to the war room."""

    name = "postmortem"
    kinds = postmortems.VERSIONED

    def __init__(self, deps: Deps, chat: ChatRoom, renderer: PostmortemRenderer) -> None:
        self.deps = deps
        self.chat = chat
        self.renderer = renderer

    async def handle(self, event: Event, *, attempt: int) -> None:
        """The message once, then the file in its thread once."""
        incident = await _incident(self.deps, event)
        channel = incident.channel_id
        if not channel:
            raise RetryLater("war room not open yet")
        doc, content = await _document(self.deps, self.renderer, event)
        marker = f"postmortem:{event.id}"
        try:
            ts = await post_once(
                self.deps, self.chat, marker, channel,
                lambda: self.chat.post_text(channel, headline(doc), marker=marker), since=event.at, attempt=attempt,
            )  # fmt: skip
            file_marker = f"postmortem-file:{event.id}"
            async with self.deps.store.read() as uow:
                if await uow.chat_post(file_marker) is not None:
                    return
            title = f"Post-mortem draft v{doc.version}: {doc.ref} {doc.title}"[:250]
            file_id = await self.chat.upload_file(
                channel, filename=filename(doc), content=content, title=title, thread_ts=ts
            )
        except ChatError as exc:
            raise chat_failure(exc) from exc
        async with self.deps.store.transaction() as uow:
            now = self.deps.clock.now()
            await uow.record_chat_post(file_marker, channel_id=channel, ts=(file_id or ts)[:32], at=now)


class PostmortemTicketReactor:
    """Attaches each version of the post-mortem to the incident's ticket."""

    name = "postmortem-ticket"
    kinds = postmortems.VERSIONED

    def __init__(self, deps: Deps, tracker: TicketTracker, renderer: PostmortemRenderer) -> None:
        self.deps = deps
        self.tracker = tracker
        self.renderer = renderer

    async def handle(self, event: Event, *, attempt: int) -> None:
        """Attach once; wait for the ticket (the tickets reactor files it) and for the tracker."""
        marker = f"postmortem-ticket:{event.id}"
        async with self.deps.store.read() as uow:
            if await uow.chat_post(marker) is not None:
                return
        incident = await _incident(self.deps, event)
        doc, content = await _document(self.deps, self.renderer, event)
        try:
            key = await attach_to_ticket(
                self.deps, self.tracker, ref=incident.ref,
                attachment=Attachment(filename(doc), content, "text/markdown"),
            )  # fmt: skip
        except TrackerDeferred as exc:
            raise Postpone(str(exc), after=exc.retry_after or 60.0) from exc
        except TrackerUnavailable as exc:
            raise RetryLater(str(exc), after=exc.retry_after) from exc
        except TrackerRefused as exc:
            raise GiveUp(str(exc)) from exc
        if key is None:
            if self.deps.clock.now() - event.at > WAIT_FOR_TICKET:
                raise GiveUp(f"{incident.ref} has no ticket after {WAIT_FOR_TICKET}")
            raise Postpone(f"{incident.ref} has no ticket yet", after=30.0)
        async with self.deps.store.transaction() as uow:
            await uow.record_chat_post(marker, channel_id=key[:32], ts=f"v{doc.version}", at=self.deps.clock.now())
