"""API silences of a unit of work."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.db.tables import SilenceRow
from bot.services.uow import SilenceRecord

if TYPE_CHECKING:
    from bot.db.uow import Tx


def to_silence(row: SilenceRow) -> SilenceRecord:
    """Map a silence row."""
    return SilenceRecord(
        id=row.id, matchers=dict(row.matchers or {}), starts_at=row.starts_at, ends_at=row.ends_at,
        comment=row.comment, created_by=row.created_by, created_at=row.created_at, expired_at=row.expired_at,
    )  # fmt: skip


class SilenceRepository:
    """API silences of one unit of work."""

    def __init__(self, tx: Tx) -> None:
        self._session = tx.session

    async def add(self, silence: SilenceRecord) -> None:
        """Store a new silence."""
        row = SilenceRow(
            id=silence.id, matchers=dict(silence.matchers), starts_at=silence.starts_at, ends_at=silence.ends_at,
            comment=silence.comment, created_by=silence.created_by, created_at=silence.created_at,
            expired_at=silence.expired_at,
        )  # fmt: skip
        self._session.add(row)

    async def get(self, silence_id: str) -> SilenceRecord | None:
        """One silence by id."""
        row = await self._session.get(SilenceRow, silence_id)
        return None if row is None else to_silence(row)

    async def newest(self, *, now: datetime, include_expired: bool) -> list[SilenceRecord]:
        """Newest first; without the expired ones unless asked."""
        q = select(SilenceRow).order_by(SilenceRow.created_at.desc())
        if not include_expired:
            q = q.where(SilenceRow.expired_at.is_(None), SilenceRow.ends_at > now)
        return [to_silence(r) for r in (await self._session.execute(q)).scalars()]

    async def expire(self, silence_id: str, at: datetime) -> None:
        """End a silence at `at` (a silence already ended keeps its time)."""
        row = await self._session.get(SilenceRow, silence_id)
        if row is not None and row.expired_at is None:
            row.expired_at = at
