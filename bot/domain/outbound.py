"""What leaves the bot for people outside the war room: tickets (a tracker such as Jira) and notices (a
broadcast channel such as a Discord webhook). View models say what is shown; each adapter renders them in its
platform's markup and escapes the data. The ports are here too, next to what they carry.

Discord errors reuse the chat errors of `bot.domain.ports` (`ChatError`, `ChatRefused`): a broadcast channel
is a chat platform. A tracker has its own: available or not, refused for good, or not tried (deferred).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Protocol

from bot.domain.incident import Severity, Status
from bot.domain.text import Text


@dataclass(frozen=True, slots=True)
class Link:
    """A link shown with its label (the war room, the runbook)."""

    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file that goes with a ticket or a notice (a post-mortem in Markdown, a chart as PNG)."""

    filename: str
    data: bytes
    content_type: str = "application/octet-stream"

    @property
    def is_text(self) -> bool:
        """Text files are redacted like any text on their way out; images pass as they are."""
        return self.content_type.startswith("text/") or self.content_type in {"application/json"}


@dataclass(frozen=True, slots=True)
class TicketDraft:
    """The ticket of an incident as the core sees it; the adapter maps it onto the tracker's fields
    (summary, description, labels, priority from severity, the configured extra fields)."""

    identifiers: ClassVar[frozenset[str]] = frozenset({"ref", "label"})

    ref: str
    label: str
    title: str
    severity: Severity
    status: Status
    services: tuple[str, ...]
    description: Text
    links: tuple[Link, ...]
    declared_at: datetime


def ticket_label(ref: str) -> str:
    """The label that finds an incident's ticket again (searched before creating, so retries create one)."""
    return f"warroom-{ref}"


@dataclass(frozen=True, slots=True)
class NoticeField:
    """A named value of a notice (services, commander, links)."""

    name: str
    value: Text
    inline: bool = True


@dataclass(frozen=True, slots=True)
class Notice:
    """One block of a broadcast message (on Discord an embed): coloured by severity (green once `resolved`), with
    fields, links and a link on its title. `image` names an attachment of the same message that the notice
    shows (a chart)."""

    identifiers: ClassVar[frozenset[str]] = frozenset()

    title: str
    body: Text = field(default_factory=Text)
    fields: tuple[NoticeField, ...] = ()
    severity: Severity | None = None
    url: str | None = None
    at: datetime | None = None
    footer: str | None = None
    image: str | None = None
    links: tuple[Link, ...] = ()
    resolved: bool = False


class TrackerError(Exception):
    """A tracker call failed; `retry_after` (seconds) when it is known when to try again."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TrackerUnavailable(TrackerError):
    """The tracker did not answer or answered it cannot now (network, timeout, 5xx, 429): try again later."""


class TrackerRefused(TrackerError):
    """The tracker refused the call for good (bad credentials, a field it does not know): retrying cannot help."""


class TrackerDeferred(TrackerError):
    """The call was not made (the circuit breaker is open, or the create rate is used up): try again after
    `retry_after`, which is not a failed attempt."""


class TicketTracker(Protocol):
    """Tickets of incidents in an issue tracker (Jira)."""

    async def find(self, label: str) -> str | None:
        """The key of the ticket carrying this label, if there is one."""
        ...

    async def create(self, ticket: TicketDraft) -> str:
        """File a ticket (carrying `ticket.label`); its key."""
        ...

    async def update(self, key: str, ticket: TicketDraft) -> None:
        """Bring the ticket's summary, priority and severity up to date (not its description: people edit it)."""
        ...

    async def comment(self, key: str, body: Text | str, links: Sequence[Link] = ()) -> str:
        """Add a comment (with links after the text); its id."""
        ...

    async def transition(self, key: str, names: Sequence[str]) -> str | None:
        """Move the ticket by the first available transition whose name or target status is one of `names`
        (case-insensitive, in the order given); the status reached, or None when none is available."""
        ...

    async def attach(self, key: str, attachment: Attachment) -> None:
        """Attach a file to the ticket (the post-mortem)."""
        ...


class Broadcaster(Protocol):
    """A channel where incidents are told to people outside the war room (a Discord webhook)."""

    async def broadcast(
        self,
        notices: Sequence[Notice],
        *,
        headline: Text | str = "",
        ping: bool = False,
        files: Sequence[Attachment] = (),
    ) -> None:
        """Post one message: a headline, the notices (the adapter keeps within its platform's limits, cutting
        rather than failing), files. `ping` mentions the configured on-call role; nothing else in the message
        notifies anyone. Raises ChatError (ChatRefused when retrying cannot help)."""
        ...
