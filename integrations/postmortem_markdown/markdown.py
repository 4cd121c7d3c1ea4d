"""Data as Markdown text (CommonMark / GitHub): whatever an alert or a person wrote stays text.

Every character that can start markup is backslash-escaped (emphasis, code, links and images, raw HTML,
entities, tables, strikethrough), and so is whatever would make a block of a line's start (a heading, a quote,
a list item, a rule). Inline text is kept on one line; block text keeps its lines. Invisible and bidi-control
characters are dropped.
"""

from __future__ import annotations

import re

from bot.domain.text import ChannelLink, Icon, Mention, Strong, Text, as_text, visible

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&!#{}$])")
_LINE_START = re.compile(r"^(\s*)(?:[-+=]|(\d+)[.)](?=\s|$))")
ICONS: dict[Icon, str] = {
    Icon.ALERT: "🚨",
    Icon.ACKNOWLEDGED: "👀",
    Icon.STATUS: "🔄",
    Icon.PERSON: "👤",
    Icon.NOTE: "📝",
    Icon.UPDATE: "📢",
    Icon.PIN: "📌",
    Icon.DONE: "✅",
    Icon.ALL_CLEAR: "🟢",
    Icon.EVENT: "🔹",
    Icon.INFO: "ℹ️",  # noqa: RUF001 - the emoji itself
    Icon.WARNING: "⚠️",
    Icon.ERROR: "❌",
    Icon.LOCK: "🔒",
    Icon.WORKING: "⏳",
    Icon.NOT_YET: "🚧",
}


def _escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


def _block_start(line: str) -> str:
    """The line with whatever would start a block at its beginning escaped."""
    m = _LINE_START.match(line)
    if m is None:
        return line
    cut = m.end(2) if m.group(2) else m.end(1)  # before the list number's `.` or `)`, else before the mark
    return f"{line[:cut]}\\{line[cut:]}"


def inline(data: object) -> str:
    """Data on one line (a list item, a table cell, a heading): newlines become spaces, markup escaped."""
    return _block_start(_escape(" ".join(visible(str(data)).split())))


def block(data: object) -> str:
    """Data that may span lines (a summary, a note): each line escaped, the lines kept."""
    lines = visible(str(data)).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(_block_start(_escape(x.rstrip())) for x in lines).strip("\n")


def render(text: Text | str) -> str:
    """A neutral text on one line: data escaped, `Strong` bold, icons as emoji, mentions as `@<user id>` (a chat
    user id is all a file knows of a person), channel links as `#<channel id>`."""
    out: list[str] = []
    for part in as_text(text):
        if isinstance(part, str):
            out.append(_escape(visible(part)))
        elif isinstance(part, Strong):
            bold = " ".join(_escape(visible(part.text)).split())
            out.append(f"**{bold}**" if bold else "")
        elif isinstance(part, Icon):
            out.append(ICONS.get(part, ""))
        elif isinstance(part, Mention):
            out.append("@" + part.user_id)
        elif isinstance(part, ChannelLink):
            out.append(_escape("#" + part.channel_id))
    return _block_start(" ".join("".join(out).split()))
