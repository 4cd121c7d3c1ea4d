"""The hash chain of the event log (pure): what `warroom audit verify` recomputes."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def event_hash(
    *,
    prev_hash: str,
    chain: str,
    seq: int,
    at: datetime,
    actor: str,
    kind: str,
    text: str,
    payload: dict[str, Any],
) -> str:
    """SHA-256 over a canonical JSON of the entry and its predecessor's hash."""
    body = json.dumps(
        {
            "prev": prev_hash,
            "chain": chain,
            "seq": seq,
            "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": actor,
            "kind": kind,
            "text": text,
            "payload": payload,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()
