"""Slack's text formats, both ways: neutral Text -> mrkdwn, and Slack markup -> plain text.

Slack reads `<...>` as mentions (`<@U1>`, `<!channel>`), channel links and (masked) links, and `&` as the
start of an entity; it asks apps to escape exactly `&`, `<` and `>` as `&amp;`, `&lt;`, `&gt;`
(https://api.slack.com/reference/surfaces/formatting#escaping). Data is escaped once, here, when it is
rendered; nothing upstream holds escaped text. Block Kit `plain_text` objects are not parsed for markup
(no mentions, no links), so their text is only cleaned (`plain_text`), never escaped.
"""

from __future__ import annotations

import re

from bot.domain.text import ChannelLink, Icon, Mention, Strong, Text, as_text, visible

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_TOKEN = re.compile(r"<([^<>]*)>")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_UNESCAPES = {"amp": "&", "lt": "<", "gt": ">"}
_SPECIAL = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}
EMOJI: dict[Icon, str] = {
    Icon.ALERT: ":rotating_light:",
    Icon.ACKNOWLEDGED: ":eyes:",
    Icon.STATUS: ":arrows_counterclockwise:",
    Icon.PERSON: ":bust_in_silhouette:",
    Icon.NOTE: ":memo:",
    Icon.UPDATE: ":loudspeaker:",
    Icon.PIN: ":pushpin:",
    Icon.DONE: ":white_check_mark:",
    Icon.ALL_CLEAR: ":large_green_circle:",
    Icon.EVENT: ":small_blue_diamond:",
    Icon.INFO: ":information_source:",
    Icon.WARNING: ":warning:",
    Icon.ERROR: ":x:",
    Icon.LOCK: ":lock:",
    Icon.WORKING: ":hourglass_flowing_sand:",
    Icon.NOT_YET: ":construction:",
}


def escape(data: str) -> str:
    """Data for a mrkdwn field: visible characters only, `&`, `<`, `>` escaped (so no mention, link or entity)."""
    return visible(data).translate(_ESCAPES)


def plain_text(data: str) -> str:
    """Data for a Block Kit `plain_text` object, which Slack shows as is: cleaned, not escaped."""
    return visible(data)


def render(text: Text | str) -> str:
    """mrkdwn of a Text: data parts escaped; only well-formed Mention and ChannelLink parts become live;
    emphasis in `*`, icons as emoji."""
    out: list[str] = []
    for part in as_text(text):
        if isinstance(part, str):
            out.append(escape(part))
        elif isinstance(part, Mention):
            out.append(_mention(part))
        elif isinstance(part, ChannelLink):
            out.append(f"<#{part.channel_id}>" if part.valid else escape(f"#{part.channel_id}"))
        elif isinstance(part, Strong):
            out.append(bold(part.text))
        else:
            out.append(EMOJI[part])
    return "".join(out)


def _mention(part: Mention) -> str:
    """`<@U..>` for a user, `<!subteam^S..>` for a user group, the id as data when it is neither."""
    if part.is_group:
        return f"<!subteam^{part.user_id}>"
    return f"<@{part.user_id}>" if part.valid else escape(part.user_id)


def bold(data: str) -> str:
    """Data in bold: escaped, a `*` in it drawn as U+2217 so it cannot end the bold early (empty data: nothing)."""
    inner = escape(data).replace("*", "\u2217").strip()
    return f"*{inner}*" if inner else ""


def clip(markup: str, limit: int) -> str:
    """Cut mrkdwn to `limit` characters with an ellipsis, never inside an entity or a `<...>` token."""
    if len(markup) <= limit:
        return markup
    head = markup[: max(limit - 1, 0)]
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    lt = head.rfind("<")
    if lt != -1 and ">" not in head[lt:]:
        head = head[:lt]
    return head + "…"


def cut(text: str, limit: int) -> str:
    """Cut plain text (a plain_text field, a channel topic's data) to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def _token(m: re.Match[str]) -> str:
    inner = m.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return f"@{label or target[1:]}"
    if target.startswith("#"):
        return f"#{label or target[1:]}"
    if target.startswith("!"):
        name = target[1:].split("^", 1)[0]
        if name in _SPECIAL:
            return _SPECIAL[name]
        return label or f"@{name}"
    if label and label != target and not target.endswith(label):
        return f"{label} ({target})"
    return label or target


def plain(markup: str) -> str:
    """Plain text of Slack markup (command text, message text): mentions as @name, links as text, entities decoded."""
    return _ENTITY.sub(lambda m: _UNESCAPES[m.group(1)], _TOKEN.sub(_token, markup))
