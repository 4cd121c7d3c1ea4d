"""The incident: severity, status and its state machine, roles, references and channel names."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Severity(StrEnum):
    """SEV0 (worst) to SEV4 (informational)."""

    SEV0 = "SEV0"
    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"

    @property
    def rank(self) -> int:
        """0 for SEV0 .. 4 for SEV4: lower is worse."""
        return ord(self[3]) - 48  # the digit of "SEVn" (hot in alert storms: no enum property lookups)

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Parse `SEV2`, `sev2` or `2`; raise ValueError naming the valid values otherwise."""
        t = text.strip().upper()
        if t.isdigit():
            t = f"SEV{t}"
        try:
            return cls(t)
        except ValueError:
            valid = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {text.strip()!r}: use one of {valid}") from None

    def is_major(self) -> bool:
        """SEV0 and SEV1 page, freeze deploys and put the incident under human control."""
        return self.rank <= 1


class Status(StrEnum):
    """Lifecycle of an incident."""

    DECLARED = "declared"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        """Declared, acknowledged and mitigated incidents are open."""
        return self in (Status.DECLARED, Status.ACKNOWLEDGED, Status.MITIGATED)


# Allowed transitions. Resolved incidents may be reopened (back to acknowledged) until closed.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.DECLARED: frozenset({Status.ACKNOWLEDGED, Status.MITIGATED, Status.RESOLVED}),
    Status.ACKNOWLEDGED: frozenset({Status.MITIGATED, Status.RESOLVED}),
    Status.MITIGATED: frozenset({Status.ACKNOWLEDGED, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.ACKNOWLEDGED, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


class InvalidTransition(ValueError):
    """A status change the state machine does not allow."""


def check_transition(current: Status, target: Status) -> None:
    """Raise InvalidTransition when `current -> target` is not allowed."""
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none"
        raise InvalidTransition(
            f"an incident that is {current.value} cannot become {target.value} (allowed: {allowed})"
        )


class Role(StrEnum):
    """Incident roles."""

    COMMANDER = "commander"
    COMMS = "comms"
    SCRIBE = "scribe"
    SME = "sme"

    @classmethod
    def parse(cls, text: str) -> Role:
        """Parse a role name; raise ValueError naming the valid ones otherwise."""
        t = text.strip().lower()
        aliases = {"lead": "commander", "ic": "commander", "expert": "sme"}
        t = aliases.get(t, t)
        try:
            return cls(t)
        except ValueError:
            valid = ", ".join(r.value for r in cls)
            raise ValueError(f"unknown role {text.strip()!r}: use one of {valid}") from None


REF_RE = re.compile(r"^INC-(\d{8})-(\d{3,})$")


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


@dataclass(slots=True)
class Incident:
    """An incident as the services see it."""

    id: int
    ref: str
    title: str
    severity: Severity
    status: Status
    declared_at: datetime
    declared_by: str
    severity_reason: str = ""
    severity_confirmed: bool = True
    acknowledged_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    channel_id: str | None = None
    channel_name: str | None = None
    card_ts: str | None = None
    summary: str | None = None
    human_control: bool = False
    jira_key: str | None = None
    group_key: str | None = None
    services: list[str] = field(default_factory=list)
    alertnames: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    alert_count: int = 0
    alerts_firing: int = 0
    roles: dict[Role, list[str]] = field(default_factory=dict)

    @property
    def commander(self) -> str | None:
        """User id of the commander, if any."""
        users = self.roles.get(Role.COMMANDER) or []
        return users[0] if users else None

    @property
    def is_open(self) -> bool:
        """Not yet resolved or closed."""
        return self.status.is_open
