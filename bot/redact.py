"""Secret and PII redaction for everything that leaves the bot: chat, logs, errors."""

from __future__ import annotations

import dataclasses
import html
import logging
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from bot.domain.cards import Button, Card
from bot.domain.ports import ChannelInfo, ChatMessage, ChatRoom
from bot.domain.text import Text, as_text
from bot.redact_patterns import PATTERNS as PATTERNS
from bot.redact_patterns import IpMode, scrub

LOG_TEXT_MAX = 16 * 1024
"""Log messages and tracebacks longer than this keep their head and tail only, cut before redaction."""

C = TypeVar("C", bound=Card)
V = TypeVar("V")
_KEY_END = re.compile(r"-----END [A-Z ]*PRIVATE KEY-----")
_LAST_WORD = re.compile(r"\S+\Z")
_FIRST_WORD = re.compile(r"\A\S+")


def _forms(secret: str) -> set[str]:
    """A secret as written and as it reads once escaped for markup (`&` `<` `>` as entities)."""
    return {secret, html.escape(secret, quote=False)} if secret and len(secret) >= 4 else set()


class Redactor:
    """Replaces known secret values and secret-looking or personal data with placeholders."""

    def __init__(self, secrets: Iterable[str] = (), *, ips: IpMode = "public") -> None:
        self.secrets = sorted({f for s in secrets for f in _forms(s)}, key=len, reverse=True)
        self.ips: IpMode = ips

    def add_secret(self, value: str) -> None:
        """Also redact this exact value (and its escaped form) from now on."""
        new = _forms(value) - set(self.secrets)
        if new:
            self.secrets = sorted([*self.secrets, *new], key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """The text with secrets and PII replaced."""
        if not text:
            return text
        for s in self.secrets:
            if s in text:
                text = text.replace(s, "[redacted]")
        return scrub(text, ips=self.ips)

    def text(self, text: Text | str) -> Text:
        """The text with every data part redacted (mentions and links are the bot's own)."""
        return as_text(text).map_data(self)

    def clip(self, text: str, limit: int = LOG_TEXT_MAX) -> str:
        """Redacted `text`, cut to about `limit` characters first (head and tail kept) so that the work is bounded.

        A cut never leaves part of a secret behind: the partial words at both cuts are dropped, and so are
        a known secret's first or last characters and the inside of a private key cut off from its BEGIN line.
        """
        if len(text) <= limit:
            return self(text)
        keep = limit * 3 // 4
        head = _LAST_WORD.sub("", text[:keep])
        tail = _FIRST_WORD.sub("", text[len(text) - (limit - keep) :])
        for s in self.secrets:
            head = next((head[:-k] for k in range(len(s) - 1, 3, -1) if head.endswith(s[:k])), head)
            tail = next((tail[k:] for k in range(len(s) - 1, 3, -1) if tail.startswith(s[-k:])), tail)
        end = _KEY_END.search(tail)
        if end is not None and "-----BEGIN" not in tail[: end.start()]:
            tail = tail[end.end() :]
        cut = len(text) - len(head) - len(tail)
        return f"{self(head)} ...[{cut} characters not logged]... {self(tail)}"

    def card(self, card: C) -> C:
        """The card with every text in it redacted, whatever its type: each `str` field, the strings in its
        tuples and nested view models, the data of its Texts (ids pass unchanged: nothing in them matches)."""
        return _redacted(card, self)  # type: ignore[no-any-return]

    def view(self, view: V) -> V:
        """Any view model (a dataclass: a ticket draft, a notice) redacted like a card: every text in it, except
        the fields its `identifiers` name."""
        return _redacted(view, self)  # type: ignore[no-any-return]

    def json(self, value: Any) -> Any:
        """A JSON-like value with every string in it redacted, keys and values, however deep (the payload of an
        HTTP API such as PagerDuty's Events API, just before it is sent)."""
        return _redacted(value, self)


def redact_json(value: Any, redact: Callable[[str], str]) -> Any:
    """A JSON-like value with every string in it passed through `redact`, keys and values, however deep (for an
    adapter handed a plain redacting function rather than a Redactor)."""
    return _redacted(value, redact)


def _redacted(value: Any, redact: Callable[[str], str]) -> Any:
    if type(value) is str:  # not a StrEnum (a severity, a status): those are the bot's own words
        return redact(value)
    if isinstance(value, Text):
        return value.map_data(redact)
    if isinstance(value, tuple | list):
        return type(value)(_redacted(v, redact) for v in value)
    if isinstance(value, dict):
        return {_redacted(k, redact): _redacted(v, redact) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        ids: frozenset[str] = getattr(value, "identifiers", frozenset())
        changes = {
            f.name: _redacted(getattr(value, f.name), redact) for f in dataclasses.fields(value) if f.name not in ids
        }
        return dataclasses.replace(value, **changes)
    return value


class RedactingChatRoom:
    """A ChatRoom decorator: every text that goes to chat passes the redactor first (before the platform
    escapes it; the platform client redacts every outgoing string once more as a last line)."""

    def __init__(self, inner: ChatRoom, redactor: Redactor) -> None:
        self.inner = inner
        self.redact = redactor

    async def bot_user_id(self) -> str:
        """Delegates."""
        return await self.inner.bot_user_id()

    async def create_channel(self, name: str) -> ChannelInfo:
        """Delegates (the war-room reactor makes names from redacted titles and checks them)."""
        return await self.inner.create_channel(name)

    async def find_channel(self, name: str) -> ChannelInfo | None:
        """Delegates."""
        return await self.inner.find_channel(name)

    async def ensure_channel(self, name: str) -> ChannelInfo:
        """Delegates."""
        return await self.inner.ensure_channel(name)

    async def set_topic(self, channel_id: str, topic: Text | str) -> None:
        """Redacted topic."""
        await self.inner.set_topic(channel_id, self.redact.text(topic))

    async def invite(self, channel_id: str, user_ids: list[str]) -> None:
        """Delegates."""
        await self.inner.invite(channel_id, user_ids)

    async def post_card(self, channel_id: str, card: Card) -> str:
        """Redacted card."""
        return await self.inner.post_card(channel_id, self.redact.card(card))

    async def update_card(self, channel_id: str, ts: str, card: Card) -> None:
        """Redacted card."""
        await self.inner.update_card(channel_id, ts, self.redact.card(card))

    async def post_text(
        self,
        channel_id: str,
        text: Text | str,
        *,
        marker: str | None = None,
        buttons: tuple[Button, ...] = (),
        thread_ts: str | None = None,
    ) -> str:
        """Redacted text."""
        return await self.inner.post_text(
            channel_id, self.redact.text(text), marker=marker, buttons=buttons, thread_ts=thread_ts
        )

    async def pin(self, channel_id: str, ts: str) -> None:
        """Delegates."""
        await self.inner.pin(channel_id, ts)

    async def recent_messages(self, channel_id: str, limit: int = 50) -> list[ChatMessage]:
        """Delegates."""
        return await self.inner.recent_messages(channel_id, limit)

    async def get_message(self, channel_id: str, ts: str) -> ChatMessage | None:
        """Delegates."""
        return await self.inner.get_message(channel_id, ts)

    def render(self, text: Text | str) -> str:
        """The platform's markup of the redacted text (replies go out this way too)."""
        return self.inner.render(self.redact.text(text))

    def plain(self, markup: str) -> str:
        """Delegates (inbound text is stored as written; it is redacted on its way out)."""
        return self.inner.plain(markup)

    async def find_marked(self, channel_id: str, marker: str, *, since: datetime) -> str | None:
        """Delegates."""
        return await self.inner.find_marked(channel_id, marker, since=since)

    async def delete_message(self, channel_id: str, ts: str) -> None:
        """Delegates."""
        await self.inner.delete_message(channel_id, ts)

    async def upload_image(
        self, channel_id: str, *, thread_ts: str, filename: str, content: bytes, title: str, alt_text: str
    ) -> str:
        """Redacted title and alt text (the image is drawn from redacted text already)."""
        return await self.inner.upload_image(
            channel_id, thread_ts=thread_ts, filename=filename, content=content, title=self.redact(title),
            alt_text=self.redact(alt_text),
        )  # fmt: skip

    async def upload_file(
        self, channel_id: str, *, filename: str, content: bytes, title: str, thread_ts: str | None = None
    ) -> str:
        """Redacted content (a text file), file name and title."""
        text = self.redact(content.decode("utf-8", errors="replace")).encode()
        return await self.inner.upload_file(
            channel_id, filename=self.redact(filename), content=text, title=self.redact(title), thread_ts=thread_ts
        )


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the formatted message (and drops the raw args)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        try:
            msg = record.getMessage()
        except Exception:
            msg = str(record.msg)
        record.msg = self.redactor.clip(msg)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redactor.clip(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def install_log_redaction(redactor: Redactor) -> RedactingFilter:
    """Redact every log record when it is created (all loggers, all handlers), and filter root handlers too."""
    f = RedactingFilter(redactor)
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_warroom_redacting", False):
        previous = previous._warroom_inner  # type: ignore[attr-defined]

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            msg = record.getMessage()
        except Exception:
            msg = str(record.msg)
        record.msg = redactor.clip(msg)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redactor.clip(logging.Formatter().formatException(record.exc_info))
        return record

    factory._warroom_redacting = True  # type: ignore[attr-defined]
    factory._warroom_inner = previous  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
    for h in logging.getLogger().handlers:
        h.addFilter(f)
    return f
