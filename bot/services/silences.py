"""Silences (maintenance windows) managed through the API; matching alerts are stored, not declared."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from bot.domain.alert import AlertError, check_labels
from bot.domain.times import iso
from bot.services.alerts import SILENCES_VERSION
from bot.services.deps import Deps
from bot.services.errors import BadRequest, IncidentNotFound
from bot.services.uow import SilenceRecord

MAX_SILENCE = timedelta(days=30)
ID = re.compile(r"^[0-9a-f-]{36}\Z")


def silence_json(row: SilenceRecord, now: datetime) -> dict[str, Any]:
    """A silence as the API shows it."""
    if row.expired_at is not None or row.ends_at <= now:
        state = "expired"
    elif row.starts_at > now:
        state = "pending"
    else:
        state = "active"
    return {
        "id": row.id,
        "matchers": dict(row.matchers or {}),
        "starts_at": iso(row.starts_at),
        "ends_at": iso(row.expired_at or row.ends_at),
        "comment": row.comment,
        "created_by": row.created_by,
        "created_at": iso(row.created_at),
        "state": state,
    }


async def create(
    deps: Deps,
    *,
    matchers: dict[str, str],
    ends_at: datetime,
    starts_at: datetime | None = None,
    comment: str = "",
    created_by: str = "api",
) -> dict[str, Any]:
    """Create a silence; refuses empty matchers, windows that end before they start, or last over 30 days."""
    now = deps.clock.now()
    if not matchers:
        raise BadRequest("a silence needs at least one matcher (an empty one would mute every alert)")
    try:
        check_labels(matchers)
    except AlertError as exc:
        raise BadRequest(f"matchers: {exc.detail}") from None
    start = starts_at or now
    if start.tzinfo is None or ends_at.tzinfo is None:
        raise BadRequest("starts_at and ends_at need a time zone (e.g. 2026-11-23T10:00:00Z)")
    if ends_at <= start:
        raise BadRequest("ends_at must be after starts_at")
    if ends_at <= now:
        raise BadRequest("ends_at is in the past")
    if ends_at - start > MAX_SILENCE:
        raise BadRequest("a silence may last at most 30 days")
    row = SilenceRecord(
        id=str(uuid.uuid4()),
        matchers=dict(matchers),
        starts_at=start,
        ends_at=ends_at,
        comment=comment.strip()[:1000],
        created_by=created_by[:100],
        created_at=now,
    )
    async with deps.store.transaction() as uow:
        await uow.silences.add(row)
    SILENCES_VERSION[0] += 1
    return silence_json(row, now)


async def list_silences(deps: Deps, *, include_expired: bool = False) -> list[dict[str, Any]]:
    """Silences, newest first."""
    now = deps.clock.now()
    async with deps.store.read() as uow:
        return [silence_json(r, now) for r in await uow.silences.newest(now=now, include_expired=include_expired)]


async def expire(deps: Deps, *, silence_id: str) -> dict[str, Any]:
    """End a silence now."""
    now = deps.clock.now()
    if not ID.match(silence_id):
        raise IncidentNotFound(f"no silence {silence_id[:40]!r}")
    async with deps.store.transaction() as uow:
        row = await uow.silences.get(silence_id)
        if row is None:
            raise IncidentNotFound(f"no silence {silence_id}")
        if row.expired_at is None:
            await uow.silences.expire(silence_id, now)
            row.expired_at = now
        return silence_json(row, now)
