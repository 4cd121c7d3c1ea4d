"""Redaction on the way to the tracker and the broadcast channel: port decorators, like RedactingChatRoom for
chat. Everything a ticket or a notice carries is redacted before the adapter renders it (escaping can split a
pattern apart); the adapters redact what they send once more as a last line."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.outbound import Attachment, Broadcaster, Link, Notice, TicketDraft, TicketTracker
from bot.domain.text import Text
from bot.redact import Redactor


def redacted_file(attachment: Attachment, redact: Redactor) -> Attachment:
    """A text file with its content and name redacted; other files with their name redacted only."""
    data = attachment.data
    if attachment.is_text:
        data = redact(data.decode("utf-8", errors="replace")).encode()
    return Attachment(redact(attachment.filename), data, attachment.content_type)


class RedactingTracker:
    """A TicketTracker decorator: ticket drafts, comments, links and text attachments are redacted first."""

    def __init__(self, inner: TicketTracker, redactor: Redactor) -> None:
        self.inner = inner
        self.redact = redactor

    async def find(self, label: str) -> str | None:
        """Delegates (a label is made of an incident reference)."""
        return await self.inner.find(label)

    async def create(self, ticket: TicketDraft) -> str:
        """Redacted draft."""
        return await self.inner.create(self.redact.view(ticket))

    async def update(self, key: str, ticket: TicketDraft) -> None:
        """Redacted draft."""
        await self.inner.update(key, self.redact.view(ticket))

    async def comment(self, key: str, body: Text | str, links: Sequence[Link] = ()) -> str:
        """Redacted text and links."""
        return await self.inner.comment(key, self.redact.text(body), [self.redact.view(x) for x in links])

    async def transition(self, key: str, names: Sequence[str]) -> str | None:
        """Delegates (the names come from the rules file)."""
        return await self.inner.transition(key, names)

    async def attach(self, key: str, attachment: Attachment) -> None:
        """Redacted file (text files: their content too)."""
        await self.inner.attach(key, redacted_file(attachment, self.redact))


class RedactingBroadcaster:
    """A Broadcaster decorator: notices, the headline and text files are redacted first."""

    def __init__(self, inner: Broadcaster, redactor: Redactor) -> None:
        self.inner = inner
        self.redact = redactor

    async def broadcast(
        self,
        notices: Sequence[Notice],
        *,
        headline: Text | str = "",
        ping: bool = False,
        files: Sequence[Attachment] = (),
    ) -> None:
        """Redacted notices, headline and files."""
        await self.inner.broadcast(
            [self.redact.view(n) for n in notices],
            headline=self.redact.text(headline),
            ping=ping,
            files=[redacted_file(f, self.redact) for f in files],
        )
