"""Neutral chat text: what a message says, with the bot's own mentions kept apart from outside data.

A `Text` is a sequence of parts. A `str` part is data (typed by a user, sent by an alert, or written by
the bot): every character of it is shown as it is, never read as markup. A `Mention` or a `ChannelLink`
is a reference the bot chose itself (a user id it resolved, the war room it opened); only those become
live mentions or links. Emphasis is structure too: `Strong` is data shown in bold, an `Icon` a neutral
symbol. Each chat adapter renders a Text in its own markup (Slack mrkdwn, a Discord embed, Jira wiki
text) and escapes the data there, so a title like `<!channel> payments down` can never notify a channel
and no service writes any platform's markup.

`visible` removes the invisible and bidirectional-control characters from anything the bot displays
or uses as a name (the database keeps the raw value).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum

USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}\Z")
GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}\Z")
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}\Z")

# Letters that draw nothing (fillers), besides the format characters (category Cf), which include the
# bidi embeddings, overrides and isolates (U+202A-202E, U+2066-2069), the marks U+200E/U+200F, the
# zero-width space, joiners and word joiner (U+200B-200D, U+2060), U+FEFF and the tag characters.
INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u034f\u17b4\u17b5")
LINE_SEPARATORS = frozenset("\u2028\u2029")
_SUSPECT = re.compile(r"[^\t\n\x20-\x7e]")


def _visible_char(m: re.Match[str]) -> str:
    c = m.group()
    if c in LINE_SEPARATORS:
        return "\n"
    if c in INVISIBLE_LETTERS or unicodedata.category(c) in ("Cf", "Cc", "Cs"):
        return ""
    return c


def visible(text: str) -> str:
    """The text without invisible, bidi-control and other control characters (newlines and tabs stay)."""
    return _SUSPECT.sub(_visible_char, text)


@dataclass(frozen=True, slots=True)
class Mention:
    """A live mention of a user the bot resolved itself (a platform user id), or of a user group (a group id
    from the rules file, e.g. the on-call group of an escalation tier)."""

    user_id: str

    @property
    def valid(self) -> bool:
        """Only a well-formed user id is rendered as a mention; anything else is shown as text."""
        return USER_ID.match(self.user_id) is not None or self.is_group

    @property
    def is_group(self) -> bool:
        """A user group id (S...) rather than a user."""
        return GROUP_ID.match(self.user_id) is not None


@dataclass(frozen=True, slots=True)
class ChannelLink:
    """A link to a channel the bot knows by id (e.g. the war room it opened)."""

    channel_id: str

    @property
    def valid(self) -> bool:
        """Only a well-formed channel id is rendered as a link."""
        return CHANNEL_ID.match(self.channel_id) is not None


@dataclass(frozen=True, slots=True)
class Strong:
    """Data shown with emphasis (bold): escaped like any data, emphasised by the platform's own means."""

    text: str


class Icon(Enum):
    """A neutral symbol that leads a message; each platform draws it its own way (an emoji, a colour).

    Not a `str`: a part that is a `str` is data, and an icon is not.
    """

    ALERT = "alert"
    ACKNOWLEDGED = "acknowledged"
    STATUS = "status"
    PERSON = "person"
    NOTE = "note"
    UPDATE = "update"
    PIN = "pin"
    DONE = "done"
    ALL_CLEAR = "all_clear"
    EVENT = "event"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    LOCK = "lock"
    WORKING = "working"
    NOT_YET = "not_yet"


Part = str | Mention | ChannelLink | Strong | Icon


@dataclass(frozen=True, slots=True)
class Text:
    """Chat text as parts: `str` is data shown as typed, `Mention`/`ChannelLink` are the bot's own references."""

    parts: tuple[Part, ...] = ()

    @classmethod
    def of(cls, *parts: Part | Text | None) -> Text:
        """A Text from parts and other Texts (flattened); None parts are skipped."""
        flat: list[Part] = []
        for p in parts:
            if p is None:
                continue
            if isinstance(p, Text):
                flat.extend(p.parts)
            else:
                flat.append(p)
        return cls(tuple(flat))

    @classmethod
    def join(cls, sep: str, items: Iterable[Part | Text]) -> Text:
        """The items with `sep` between them (like `str.join`)."""
        out: list[Part | Text] = []
        for i, item in enumerate(items):
            out += [sep, item] if i else [item]
        return cls.of(*out)

    def __add__(self, other: Part | Text) -> Text:
        return Text.of(self, other)

    def __radd__(self, other: Part) -> Text:
        return Text.of(other, self)

    def __iter__(self) -> Iterator[Part]:
        return iter(self.parts)

    def map_data(self, fn: Callable[[str], str]) -> Text:
        """The same text with `fn` applied to every data part, emphasised or not (redaction, cleaning)."""
        return Text(tuple(_map_part(p, fn) for p in self.parts))

    def data(self) -> str:
        """The data parts joined (emphasised ones too), mentions, links and icons left out (for tests and logs)."""
        return "".join(p if isinstance(p, str) else p.text for p in self.parts if isinstance(p, str | Strong))


def _map_part(part: Part, fn: Callable[[str], str]) -> Part:
    if isinstance(part, str):
        return fn(part)
    if isinstance(part, Strong):
        return Strong(fn(part.text))
    return part


def as_text(text: Text | str) -> Text:
    """A Text from a Text or a plain string (which is all data)."""
    return text if isinstance(text, Text) else Text((text,))
