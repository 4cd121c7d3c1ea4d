"""Silences (maintenance windows): which alerts one covers, and when it is in force.

The same rules hold for silences from the rules file and from the API: every matcher must equal the alert's
label (a missing label is ""), inside [starts_at, ends_at).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime


def covers(matchers: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """True when every matcher equals the label's value."""
    return all(labels.get(k, "") == v for k, v in matchers.items())


def in_force(starts_at: datetime, ends_at: datetime, now: datetime) -> bool:
    """True while `now` is inside [starts_at, ends_at)."""
    return starts_at <= now < ends_at
