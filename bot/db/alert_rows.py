"""The `alerts` statements of the ingest hot path: read the firing rows, insert new ones, count repeats.

A storm is mostly these three statements, a hundred rows at a time. On SQLite they go straight to the
driver connection with values encoded exactly as SQLAlchemy would store them (naive UTC text times,
JSON text, 0/1), which costs a tenth of SQLAlchemy's per-row bind processing. Elsewhere (PostgreSQL)
they are ordinary SQLAlchemy Core statements.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from pydantic_core import to_json
from sqlalchemy import Table, bindparam, select

from bot.db.tables import AlertRow
from bot.services.uow import FiringRow

if TYPE_CHECKING:
    from bot.db.uow import Tx

ALERTS = cast(Table, AlertRow.__table__)
CHUNK = 500  # values per IN (...) list: well under every backend's parameter limit
__all__ = ["ALERTS", "CHUNK", "FiringRow", "firing_rows", "insert_rows", "update_repeats"]

INSERT_COLS = (
    "source", "fingerprint", "active_key", "status", "alertname", "labels", "annotations", "group_key", "severity",
    "severity_reason", "severity_confirmed", "count", "starts_at", "ends_at", "first_seen_at", "last_seen_at",
    "resolved_at", "generator_url", "value", "review", "silenced_by", "incident_id",
)  # fmt: skip
UPDATE_COLS = ("count", "last_seen_at", "annotations", "severity", "silenced_by", "review")
JSON_COLS = frozenset({"labels", "annotations"})
TIME_COLS = frozenset({"starts_at", "ends_at", "first_seen_at", "last_seen_at", "resolved_at"})
# Column names below come from the constant tuples above, never from input: no injection surface.
_SQLITE_INSERT = "INSERT INTO alerts ({}) VALUES ({})".format(  # noqa: S608
    ", ".join(INSERT_COLS), ", ".join("?" * len(INSERT_COLS))
)
_SQLITE_UPDATE = "UPDATE alerts SET {} WHERE id = ?".format(", ".join(f"{c} = ?" for c in UPDATE_COLS))  # noqa: S608
_SQLITE_FIRING = "SELECT id, active_key, severity, incident_id, count, review FROM alerts WHERE active_key IN ({})"


class SqliteValues:
    """Encodes Python values as SQLAlchemy stores them on SQLite (memoizing times: a batch shares most)."""

    __slots__ = ("_times",)

    def __init__(self) -> None:
        self._times: dict[datetime, str] = {}

    def time(self, value: datetime) -> str:
        """An aware time as SQLAlchemy's SQLite DATETIME text (naive UTC, microseconds)."""
        text = self._times.get(value)
        if text is None:
            text = self._times[value] = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        return text

    def value(self, col: str, value: Any) -> Any:
        """One column's value."""
        if value is None:
            return None
        if col in JSON_COLS:
            return to_json(value).decode()
        if col in TIME_COLS:
            return self.time(value)
        if isinstance(value, bool):
            return int(value)
        return value

    def row(self, r: dict[str, Any]) -> tuple[Any, ...]:
        """An insert row's parameters in INSERT_COLS order (spelled out: this runs for every new alert)."""
        time = self.time
        starts, ends, resolved = r["starts_at"], r["ends_at"], r["resolved_at"]
        return (
            r["source"], r["fingerprint"], r["active_key"], r["status"], r["alertname"],
            to_json(r["labels"]).decode(), to_json(r["annotations"]).decode(), r["group_key"], r["severity"],
            r["severity_reason"], int(r["severity_confirmed"]), r["count"],
            None if starts is None else time(starts), None if ends is None else time(ends),
            time(r["first_seen_at"]), time(r["last_seen_at"]), None if resolved is None else time(resolved),
            r["generator_url"], r["value"], int(r["review"]), r["silenced_by"], r["incident_id"],
        )  # fmt: skip


async def firing_rows(tx: Tx, keys: list[str]) -> dict[str, FiringRow]:
    """The firing rows with these active keys, by key."""
    out: dict[str, FiringRow] = {}
    unique = list(dict.fromkeys(keys))
    raw = await tx.raw_sqlite()
    for i in range(0, len(unique), CHUNK):
        chunk = unique[i : i + CHUNK]
        if raw is not None:
            rows: Any = raw.execute(_SQLITE_FIRING.format(", ".join("?" * len(chunk))), chunk)
        else:
            q = select(
                ALERTS.c.id, ALERTS.c.active_key, ALERTS.c.severity, ALERTS.c.incident_id, ALERTS.c.count,
                ALERTS.c.review,
            ).where(ALERTS.c.active_key.in_(chunk))  # fmt: skip
            rows = await tx.session.execute(q)
        for rid, key, severity, incident_id, count, review in rows:
            out[str(key)] = FiringRow(int(rid), str(severity), incident_id, int(count), bool(review))
    return out


async def insert_rows(tx: Tx, rows: list[dict[str, Any]]) -> None:
    """Insert new alert rows (dicts with the INSERT_COLS)."""
    raw = await tx.raw_sqlite()
    if raw is not None:
        enc = SqliteValues()
        raw.executemany(_SQLITE_INSERT, [enc.row(r) for r in rows])
        return
    await tx.session.execute(ALERTS.insert(), rows)


async def update_repeats(tx: Tx, updates: list[dict[str, Any]]) -> None:
    """Count repeats of firing alerts: each dict has `_id` and the UPDATE_COLS."""
    raw = await tx.raw_sqlite()
    if raw is not None:
        enc = SqliteValues()
        raw.executemany(_SQLITE_UPDATE, [[enc.value(c, u[c]) for c in UPDATE_COLS] + [u["_id"]] for u in updates])
        return
    stmt = ALERTS.update().where(ALERTS.c.id == bindparam("_id")).values({c: bindparam(c) for c in UPDATE_COLS})
    await tx.session.execute(stmt, updates)
