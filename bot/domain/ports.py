"""The interfaces the core needs from the outside world (implemented in integrations/)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.domain.cards import Button, Card
from bot.domain.hypothesis_cards import Chart
from bot.domain.metrics import Series
from bot.domain.paging import Page
from bot.domain.runbook import Query
from bot.domain.text import Text


class Clock(Protocol):
    """Source of the current time (injected so tests control it)."""

    def now(self) -> datetime:
        """Current aware UTC time."""
        ...


class ChatError(Exception):
    """A chat platform call failed; `retry_after` (seconds) when the platform said when to retry."""

    def __init__(self, message: str, *, code: str = "error", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """Transient errors (rate limits, 5xx, network) are worth retrying."""
        return self.code in {"ratelimited", "server_error", "connection_error", "timeout"}


class ChatRefused(ChatError):
    """The platform refused the call for good (bad credentials, a missing scope, content it will never take):
    retrying cannot help. The adapter decides which of its platform's errors these are."""


class NameTaken(ChatError):
    """The channel name is already in use."""


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    """A chat channel."""

    id: str
    name: str
    creator: str | None = None


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """A chat message as the core needs it."""

    ts: str
    user: str | None
    text: str  # plain text: the platform's markup already read (entities decoded, mentions as @name)
    block_ids: tuple[str, ...] = field(default_factory=tuple)
    permalink: str | None = None


class ChatRoom(Protocol):
    """War rooms on a chat platform (Slack)."""

    async def bot_user_id(self) -> str:
        """The bot's own user id."""
        ...

    async def create_channel(self, name: str) -> ChannelInfo:
        """Create a public channel; raise NameTaken when the name is in use."""
        ...

    async def find_channel(self, name: str) -> ChannelInfo | None:
        """The channel with this name, if any."""
        ...

    async def ensure_channel(self, name: str) -> ChannelInfo:
        """Join the channel with this name, creating it when absent."""
        ...

    async def set_topic(self, channel_id: str, topic: Text | str) -> None:
        """Set the channel topic (a `str` is all data)."""
        ...

    async def invite(self, channel_id: str, user_ids: list[str]) -> None:
        """Invite users; users already in the channel are not an error."""
        ...

    async def post_card(self, channel_id: str, card: Card) -> str:
        """Post a card (any card type: triage, hypothesis, approval, status...); return its message ts."""
        ...

    async def update_card(self, channel_id: str, ts: str, card: Card) -> None:
        """Replace a card in place with its current state."""
        ...

    async def post_text(
        self,
        channel_id: str,
        text: Text | str,
        *,
        marker: str | None = None,
        buttons: tuple[Button, ...] = (),
        thread_ts: str | None = None,
    ) -> str:
        """Post a short message (with optional buttons); `marker` is an id the core can find again in history;
        `thread_ts`: as a reply in that message's thread.

        A `str` is all data: every character is shown as written, nothing in it mentions or links.
        """
        ...

    async def pin(self, channel_id: str, ts: str) -> None:
        """Pin a message (already pinned is not an error)."""
        ...

    async def recent_messages(self, channel_id: str, limit: int = 50) -> list[ChatMessage]:
        """The newest messages of a channel, newest first."""
        ...

    async def get_message(self, channel_id: str, ts: str) -> ChatMessage | None:
        """One message by ts, if it exists."""
        ...

    def render(self, text: Text | str) -> str:
        """The platform's markup for a text: data escaped, only the bot's own mentions and links live."""
        ...

    def plain(self, markup: str) -> str:
        """Plain text of something written in the platform's markup (what a user typed, a message)."""
        ...

    async def find_marked(self, channel_id: str, marker: str, *, since: datetime) -> str | None:
        """The ts of the message carrying `marker` posted since `since` (however many came after it)."""
        ...

    async def delete_message(self, channel_id: str, ts: str) -> None:
        """Delete one of the bot's own messages (a message already gone is not an error)."""
        ...

    async def upload_image(
        self, channel_id: str, *, thread_ts: str, filename: str, content: bytes, title: str, alt_text: str
    ) -> str:
        """Share an image in a message's thread; return the file's id."""
        ...

    async def upload_file(
        self, channel_id: str, *, filename: str, content: bytes, title: str, thread_ts: str | None = None
    ) -> str:
        """Share a UTF-8 text file (a post-mortem in Markdown) in a channel, or in a message's thread; return the
        file's id."""
        ...


class GroupDirectory(Protocol):
    """The members of the chat platform's user groups (who is in the approvers group)."""

    async def group_members(self, group_id: str) -> list[str]:
        """The user ids of the group's members; ChatError when the platform cannot say."""
        ...


class ChartRenderer(Protocol):
    """Draws a chart view model as an image (the PNG of a hypothesis card)."""

    def render(self, chart: Chart) -> bytes:
        """The chart as PNG bytes (CPU-bound: callers run it in a worker thread)."""
        ...


class QueryError(Exception):
    """A metrics or logs query failed (bad query, store down, timeout); the diagnosis treats it as no evidence."""


class MetricsSource(Protocol):
    """A metrics store the diagnostics read (Prometheus, CloudWatch metrics). `time_limit` (seconds) bounds the
    store's work and the client's wait; the caller also gives up at its own timeout."""

    def supports(self, kind: str) -> bool:
        """Whether it answers queries of this kind (`promql`, `cloudwatch_metric`)."""
        ...

    async def query(self, query: Query, *, at: datetime, time_limit: float) -> list[Series]:
        """The value(s) of a rendered query at a time (CloudWatch: the datapoints of its window before `at`)."""
        ...

    async def query_range(
        self, query: Query, *, start: datetime, end: datetime, step: float, time_limit: float
    ) -> list[Series]:
        """The series of a rendered query between two times, one point per `step` seconds."""
        ...


class LogSource(Protocol):
    """A log store the diagnostics search (CloudWatch Logs)."""

    def supports(self, kind: str) -> bool:
        """Whether it answers queries of this kind (`cloudwatch_logs`)."""
        ...

    async def count(self, query: Query, *, start: datetime, end: datetime, time_limit: float) -> int:
        """How many log events match a rendered filter between two times."""
        ...


class PagerError(Exception):
    """A page could not be sent now (rate limited, the pager down, the network); `retry_after` (seconds) when
    the pager said when to try again."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PagerRefused(PagerError):
    """The pager refused the event for good (invalid event, unknown service): retrying cannot help. The adapter
    decides which of its vendor's answers these are."""


class Pager(Protocol):
    """A paging service (PagerDuty Events API v2): trigger, acknowledge and resolve an incident's alert."""

    def serves(self, service: str) -> bool:
        """Whether this pager can reach the paging service named `service` (`oncall`, or a configured name)."""
        ...

    async def send(self, page: Page) -> None:
        """Send one event; PagerError to retry later, PagerRefused when it can never succeed."""
        ...
