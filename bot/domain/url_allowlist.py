"""The http executor's allow-list: URL prefixes a remediation may call, and the check of a URL against them.

An entry is `scheme://host[:port]/path-prefix`; a host label may be `*` (exactly one DNS label, so
`http://*.shop:8080/actuator/` admits `http://checkout.shop:8080/actuator/...` and not `http://a.b.shop:8080/`).
A URL is admitted when its scheme, host and port equal an entry's and its path starts with the entry's path at a
segment boundary (`/actuator` admits `/actuator/x`, not `/actuatorx`). A URL with user info, a fragment, a
backslash, a space or control character, or a `..` segment (also percent-encoded) is never admitted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class UrlPrefix:
    """One allow-list entry, parsed."""

    scheme: str
    host: tuple[str, ...]  # labels; "*" matches one label
    port: int
    path: str

    def __str__(self) -> str:
        return f"{self.scheme}://{'.'.join(self.host)}:{self.port}{self.path}"

    def admits(self, url: SplitResult) -> bool:
        """True when the (already checked) URL falls under this prefix."""
        host = (url.hostname or "").split(".")
        if url.scheme != self.scheme or _port(url) != self.port or len(host) != len(self.host):
            return False
        if any(p != "*" and p != h for p, h in zip(self.host, host, strict=True)):
            return False
        if any(p == "*" and not _LABEL.fullmatch(h) for p, h in zip(self.host, host, strict=True)):
            return False
        path = url.path or "/"
        if self.path.endswith("/"):
            return path.startswith(self.path)
        return path == self.path or path.startswith(self.path + "/")


def _port(url: SplitResult) -> int:
    return url.port if url.port is not None else _DEFAULT_PORTS[url.scheme]


def _split(url: str) -> SplitResult:
    """The URL split; ValueError (with the reason) when it is not a plain http(s) URL."""
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 or c == "\\" for c in url):
        raise ValueError("it holds a space, a control character or a backslash")
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError("it is not an http(s) URL with a host")
    if "@" in parts.netloc:
        raise ValueError("it carries user info")
    if parts.fragment or url.endswith("#"):
        raise ValueError("it has a fragment")
    lowered = parts.path.lower().replace("%2e", ".")
    if "%2f" in lowered or any(seg in {".", ".."} for seg in lowered.split("/")):
        raise ValueError("its path has '.' or '..' segments or an encoded '/'")
    _port(parts)  # ValueError on a bad port
    return parts


def parse_prefix(entry: str) -> UrlPrefix:
    """An allow-list entry; ValueError when it is not `http(s)://host[:port]/path` (host labels or `*`)."""
    try:
        parts = _split(entry)
    except ValueError as exc:
        raise ValueError(f"{entry!r} is not an allowed URL prefix: {exc}") from None
    if parts.query:
        raise ValueError(f"{entry!r} is not an allowed URL prefix: a prefix has no query")
    host = tuple(entry.split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[0].lower().split("."))
    if not all(label == "*" or _LABEL.fullmatch(label) for label in host) or host[-1] == "*":
        raise ValueError(f"{entry!r} is not an allowed URL prefix: host labels are DNS names or '*' (not the last)")
    return UrlPrefix(scheme=parts.scheme, host=host, port=_port(parts), path=parts.path or "/")


def refusal(url: str, allowed: Sequence[UrlPrefix]) -> str | None:
    """Why this URL may not be called (a sentence), or None when an allow-list entry admits it."""
    try:
        parts = _split(url)
    except ValueError as exc:
        return f"refused: the URL {url[:200]!r} cannot be called ({exc}); nothing was sent"
    if not any(prefix.admits(parts) for prefix in allowed):
        return f"refused: the URL {url[:200]!r} is not on the http executor's allow-list; nothing was sent"
    return None
