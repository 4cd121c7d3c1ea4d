"""Names the bot gives: incident references (`INC-YYYYMMDD-NNN`) and war-room channel names."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

REF_RE = re.compile(r"^INC-(\d{8})-(\d{3,})\Z")


def format_ref(day: date, number: int) -> str:
    """`INC-YYYYMMDD-NNN` (the number grows past 999 rather than wrapping)."""
    return f"INC-{day:%Y%m%d}-{number:03d}"


def is_ref(text: str) -> bool:
    """True for a well-formed incident reference."""
    return REF_RE.match(text.strip().upper()) is not None


CHANNEL_NAME_MAX = 80
_SLUG_BAD = re.compile(r"[^a-z0-9_-]+")


def slugify(text: str, max_len: int = CHANNEL_NAME_MAX) -> str:
    """Lowercase `a-z0-9-_` slug: accents folded, other runs become one dash."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    slug = _SLUG_BAD.sub("-", folded).strip("-_")
    slug = re.sub(r"-{2,}", "-", slug)
    return slug[:max_len].rstrip("-_")


def channel_name(prefix: str, day: date, title: str, suffix: int = 0) -> str:
    """`inc-YYYYMMDD-<slug>` at most 80 chars; `suffix` > 1 appends `-N` on a name clash."""
    head = f"{slugify(prefix) or 'inc'}-{day:%Y%m%d}"
    tail = f"-{suffix}" if suffix > 1 else ""
    room = CHANNEL_NAME_MAX - len(head) - len(tail) - 1
    slug = slugify(title, max_len=max(room, 0)) or "incident"
    return f"{head}-{slug}{tail}"
