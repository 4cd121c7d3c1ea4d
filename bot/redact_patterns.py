"""What the redactor recognizes without being told: secret-looking text and personal data.

Each entry is a compiled pattern and its replacement; `scrub` applies them in order (longer and more specific
shapes first: a private key before a token inside it, a password in a URL before the email-like `user@host`
it contains). Card numbers, phone numbers and IP addresses are matched broadly and then checked (Luhn and the
card networks' prefixes, the number of digits, `ipaddress`), so that timestamps, versions, durations and
incident references are left alone.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Literal

IpMode = Literal["none", "public", "all"]
"""Which IP addresses are redacted: none, only public ones (the default: private, loopback and link-local
addresses name infrastructure, public ones may name a customer), or all."""

_NAMES_OF_KEYS = (
    r"password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|routing[_-]?key|private[_-]?key"
    r"|client[_-]?secret|credentials?"
)

PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (  # a key without its END line (a cut text) is redacted to the end
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?:.*?-----END [A-Z ]*PRIVATE KEY-----|.*)", re.S),
        "[redacted-key]",
    ),
    (re.compile(r"\bxox[abposre]-[A-Za-z0-9-]{6,}"), "[redacted-slack-token]"),
    (re.compile(r"\bxapp-[A-Za-z0-9-]{6,}"), "[redacted-slack-token]"),
    (re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"), "[redacted-aws-key]"),
    (  # an AWS secret access key is 40 characters of base64: recognizable only by its name
        re.compile(
            r"(?i)((?:aws)?_?secret_?(?:access)?_?key[\"']?\s*[=:]\s*[\"']?)[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])"
        ),
        r"\1[redacted-aws-secret]",
    ),
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"), "[redacted-token]"),
    (re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}"), "[redacted-token]"),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), "[redacted-token]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), "[redacted-jwt]"),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 [redacted]"),
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?basic)\s+[A-Za-z0-9+/=]{6,}"), r"\1 [redacted]"),
    (re.compile(r"(discord(?:app)?\.com/api/webhooks/\d+/)[A-Za-z0-9._-]+"), r"\1[redacted]"),
    (  # `password=x`, `db_password: x`, `"api_key": "x"`, `MY_API_KEY=x` (a name ending in a secret's name)
        re.compile(rf"(?i)(?<![A-Za-z0-9])((?:{_NAMES_OF_KEYS})[\"']?\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;&\"'}}]+)"),
        r"\1[redacted]",
    ),
    (re.compile(r"(?i)(://[^/\s:@]*:)[^@\s/]+@"), r"\1[redacted]@"),
    (
        re.compile(
            r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}[A-Za-z0-9])?\.[A-Za-z][A-Za-z0-9-]*\b"
        ),
        "[redacted-email]",
    ),
]

_CARD = re.compile(r"(?<!\d)(?<!\d\.)(?:\d[ -]?){12,18}\d(?!\d)(?!\.\d)")
_CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2[2-7]|3[47]|3[05689]|6[0-9])")
# Groups after the country code are separated (or parenthesized), so a run of digits splits one way only.
_PHONE_INTL = re.compile(r"(?<![\w+])\+(?:\d{7,15}|\d{1,3}(?:[ .-]\(?\d{1,5}\)?|\(\d{1,5}\)){1,6})(?!\w)(?![.-]\d)")
_PHONE_NANP = re.compile(r"(?<!\w)(?<!\d[.:-])\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?!\w)(?![.:-]\d)")
_IPV4 = re.compile(r"(?<!\w)(?<!\d\.)(?:\d{1,3}\.){3}\d{1,3}(?!\w)(?!\.\d)")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of card numbers."""
    total, alt = 0, False
    for ch in reversed(digits):
        d = int(ch)
        if alt:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
        alt = not alt
    return total % 10 == 0


def _card(m: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", m.group(0))
    if 13 <= len(digits) <= 19 and _CARD_PREFIX.match(digits) and luhn_ok(digits):
        return "[redacted-card]"
    return m.group(0)


def _phone(m: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in m.group(0))
    return "[redacted-phone]" if 8 <= digits <= 15 else m.group(0)


def _ip(mode: IpMode) -> Callable[[re.Match[str]], str]:
    def replace(m: re.Match[str]) -> str:
        try:
            ip = ipaddress.ip_address(m.group(0))
        except ValueError:
            return m.group(0)
        return "[redacted-ip]" if mode == "all" or ip.is_global else m.group(0)

    return replace


def scrub(text: str, *, ips: IpMode = "public") -> str:
    """The text with every recognized secret and personal datum replaced by a placeholder."""
    for pattern, repl in PATTERNS:
        text = pattern.sub(repl, text)
    # A number written after a `+` is an international phone number, never a card: phones first, or a card-shaped
    # run of its digits (a valid Luhn sum and a network prefix) would leave the `+` and the country code behind.
    text = _PHONE_INTL.sub(_phone, text)
    text = _CARD.sub(_card, text)
    text = _PHONE_NANP.sub("[redacted-phone]", text)
    if ips != "none":
        replace = _ip(ips)
        text = _IPV4.sub(replace, text)
        text = _IPV6.sub(replace, text)
    return text
