"""Notices -> Discord message parts (content and embed dicts), data escaped and kept within Discord's limits.

Data is escaped with discord.py's own helpers (markdown, and mentions: `@everyone` in an alert shows as text);
the only live markup is the bot's own: bold, masked links it chose, the role mention. Discord refuses a message
over any limit, so `fit` cuts instead, with "…": content 2000, 10 embeds, title 256, description 4096, 25
fields, field name 256 and value 1024, footer 2048, and 6000 characters over all embeds of the message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from discord.utils import escape_markdown, escape_mentions

from bot.domain.incident import Severity
from bot.domain.outbound import Link, Notice
from bot.domain.text import ChannelLink, Icon, Mention, Strong, Text, as_text, visible

CONTENT_MAX = 2000
EMBEDS_MAX = 10
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
TOTAL_MAX = 6000
ELLIPSIS = "…"
COLOURS = {
    Severity.SEV0: 0x8B0000, Severity.SEV1: 0xE01E1E, Severity.SEV2: 0xF28C28, Severity.SEV3: 0xF2C744,
    Severity.SEV4: 0x9E9E9E,
}  # fmt: skip
RESOLVED_COLOUR = 0x2EB67D
NEUTRAL_COLOUR = 0x5865F2
ICONS = {
    Icon.ALERT: "🚨", Icon.ACKNOWLEDGED: "👀", Icon.STATUS: "🔄", Icon.PERSON: "👤", Icon.NOTE: "📝",
    Icon.UPDATE: "📣", Icon.PIN: "📌", Icon.DONE: "✅", Icon.ALL_CLEAR: "✅", Icon.EVENT: "•",
    Icon.INFO: "\u2139\ufe0f", Icon.WARNING: "⚠️", Icon.ERROR: "❌", Icon.LOCK: "🔒", Icon.WORKING: "⏳",
    Icon.NOT_YET: "⏸️",
}  # fmt: skip
_URL = re.compile(r"^https?://[^\s<>()\[\]]+\Z")


def escape(data: str) -> str:
    """Data as Discord shows it literally: no markdown, no mention, no invisible characters."""
    return escape_mentions(escape_markdown(visible(data)))


def render(text: Text | str) -> str:
    """A neutral text in Discord markdown: data escaped, `Strong` bold, icons as emoji, a chat platform's user
    and channel ids as plain text (they are not Discord's)."""
    out: list[str] = []
    for part in as_text(text):
        if isinstance(part, str):
            out.append(escape(part))
        elif isinstance(part, Strong):
            bold = escape(part.text).strip()
            out.append(f"**{bold}**" if bold else "")
        elif isinstance(part, Icon):
            out.append(ICONS.get(part, ""))
        elif isinstance(part, Mention):
            out.append(escape("@" + part.user_id))
        elif isinstance(part, ChannelLink):
            out.append(escape("#" + part.channel_id))
    return "".join(out)


def link(item: Link) -> str:
    """A masked link for an http(s) URL (the label escaped, brackets kept out of it); else the label as text."""
    label = escape(item.label).replace("[", "(").replace("]", ")") or "link"
    return f"[{label}]({item.url})" if _URL.match(item.url) else label


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, ending with "…" when cut (never leaving a dangling escape)."""
    if len(text) <= limit:
        return text
    head = text[: max(limit - 1, 0)]
    return head[:-1] + ELLIPSIS if head.endswith("\\") else head + ELLIPSIS


def embed(notice: Notice) -> dict[str, Any]:
    """One notice as an embed dict (before `fit`)."""
    colour = RESOLVED_COLOUR if notice.resolved else COLOURS.get(notice.severity, NEUTRAL_COLOUR)  # type: ignore[arg-type]
    data: dict[str, Any] = {"type": "rich", "title": escape(notice.title) or ELLIPSIS, "color": colour}
    description = render(notice.body)
    if description:
        data["description"] = description
    fields = [{"name": escape(f.name) or ELLIPSIS, "value": render(f.value) or "—", "inline": f.inline}
              for f in notice.fields]  # fmt: skip
    if notice.links:
        fields.append({"name": "Links", "value": " · ".join(link(x) for x in notice.links), "inline": False})
    if fields:
        data["fields"] = fields
    if notice.url and _URL.match(notice.url):
        data["url"] = notice.url
    if notice.at is not None:
        data["timestamp"] = notice.at.isoformat()
    if notice.footer:
        data["footer"] = {"text": escape(notice.footer)}
    if notice.image:
        data["image"] = {"url": f"attachment://{notice.image}"}
    return data


def fit(content: str, embeds: Sequence[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Content and embeds within every Discord limit: each piece cut to its own limit, at most 10 embeds (the
    content says how many more there were), then the longest texts cut until all embeds hold 6000 characters."""
    kept = [_fit_one(e) for e in embeds[:EMBEDS_MAX]]
    if len(embeds) > EMBEDS_MAX:
        content = f"{content} (+{len(embeds) - EMBEDS_MAX} more not shown)".strip()
    excess = sum(_size(e) for e in kept) - TOTAL_MAX
    while excess > 0:
        owner, key, text = max(_texts(kept), key=lambda t: len(t[2]))
        shorter = cut(text, max(len(text) - excess, 1))
        if len(shorter) >= len(text):  # nothing left to cut
            break
        owner[key] = shorter
        excess = sum(_size(e) for e in kept) - TOTAL_MAX
    return cut(content, CONTENT_MAX), kept


def _fit_one(e: dict[str, Any]) -> dict[str, Any]:
    e = dict(e)
    e["title"] = cut(e.get("title", ""), TITLE_MAX)
    if "description" in e:
        e["description"] = cut(e["description"], DESCRIPTION_MAX)
    if "fields" in e:
        fields = [dict(f, name=cut(f["name"], FIELD_NAME_MAX), value=cut(f["value"], FIELD_VALUE_MAX))
                  for f in e["fields"][:FIELDS_MAX]]  # fmt: skip
        if len(e["fields"]) > FIELDS_MAX:
            fields[-1] = dict(fields[-1], value=cut(f"{fields[-1]['value']} (+{len(e['fields']) - FIELDS_MAX} more)",
                                                    FIELD_VALUE_MAX))  # fmt: skip
        e["fields"] = fields
    if "footer" in e:
        e["footer"] = {"text": cut(e["footer"]["text"], FOOTER_MAX)}
    return e


def _texts(embeds: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str, str]]:
    """Every counted text of the embeds as (the dict holding it, its key, the text)."""
    out: list[tuple[dict[str, Any], str, str]] = []
    for e in embeds:
        out += [(e, k, e[k]) for k in ("title", "description") if k in e]
        for f in e.get("fields", []):
            out += [(f, "name", f["name"]), (f, "value", f["value"])]
        if "footer" in e:
            out.append((e["footer"], "text", e["footer"]["text"]))
    return out


def _size(e: dict[str, Any]) -> int:
    """Characters Discord counts toward the 6000 of a message."""
    return sum(len(t) for _, _, t in _texts([e]))
