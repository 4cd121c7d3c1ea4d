"""Neutral text -> Jira wiki markup (the notation of Jira's REST API v2 for descriptions and comments).

Data is escaped, so text from alerts and users stays text: `[~user]` mentions nobody, `!http://x/y.png!` loads
no image, `[label|url]` links nowhere and `{macro}` runs nothing. Only the bot's own structure (bold, the
links it chose) is markup. Invisible and bidi-control characters are dropped.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from bot.domain.outbound import Link
from bot.domain.text import ChannelLink, Icon, Mention, Strong, Text, as_text, visible

SUMMARY_MAX = 255
TEXT_MAX = 32_000  # Jira's limit for a description or a comment is 32,767 characters
_SPECIAL = re.compile(r"([*_+\-^~?{}\[\]|!#])")
ICONS = {
    Icon.ALERT: "(!)",
    Icon.WARNING: "(!)",
    Icon.ERROR: "(x)",
    Icon.ACKNOWLEDGED: "(/)",
    Icon.DONE: "(/)",
    Icon.ALL_CLEAR: "(/)",
    Icon.INFO: "(i)",
}


def escape(data: str) -> str:
    """Data as Jira wiki text: every markup character escaped, backslashes as an entity (`\\\\` would break
    the line), invisible characters dropped."""
    return _SPECIAL.sub(r"\\\1", visible(data).replace("\\", "&#92;"))


def render(text: Text | str) -> str:
    """A neutral text in wiki markup: data escaped, `Strong` bold, icons as Jira's emoticons, mentions and
    channel links as their ids (a chat user id means nothing in Jira)."""
    out: list[str] = []
    for part in as_text(text):
        if isinstance(part, str):
            out.append(escape(part))
        elif isinstance(part, Strong):
            bold = escape(part.text).strip()
            out.append(f"*{bold}*" if bold else "")
        elif isinstance(part, Icon):
            out.append(ICONS.get(part, ""))
        elif isinstance(part, Mention):
            out.append(escape("@" + part.user_id))
        elif isinstance(part, ChannelLink):
            out.append(escape("#" + part.channel_id))
    return cut("".join(out), TEXT_MAX)


def link(item: Link) -> str:
    """`[label|url]` for an http(s) URL (its `|`, `]` and spaces quoted); other schemes show as text."""
    if not re.match(r"^https?://[^\s]+\Z", item.url):
        return escape(f"{item.label}: {item.url}")
    url = quote(item.url, safe=":/?&=#%@+,;~.-_!$'()*")
    label = escape(item.label).replace("\\|", "/") or escape(url)
    return f"[{label}|{url}]"


def summary(text: str) -> str:
    """A summary field: one line of plain text (not wiki: Jira shows it as is), at most 255 characters."""
    return cut(" ".join(visible(text).split()), SUMMARY_MAX)


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, ending with an ellipsis when cut (never inside an escape)."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if head.endswith("\\"):
        head = head[:-1]
    return head + "…"
