"""The raw SQLite statements of the ingest hot path store exactly what SQLAlchemy would have stored."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select

from bot.db.alert_rows import ALERTS, UPDATE_COLS, firing_rows, insert_rows, update_repeats
from bot.db.store import Store
from bot.db.tables import AlertRow
from tests.builders import sqlite_store

T0 = datetime(2026, 11, 23, 9, 14, 30, 512000, tzinfo=UTC)


def rows() -> list[dict[str, Any]]:
    base: dict[str, Any] = {
        "source": "alertmanager", "status": "firing", "alertname": "HighErrorRate",
        "annotations": {"summary": "5xx above 5%", "description": "line 1\nline 2 — é"},
        "group_key": "service=checkout-api,alertname=HighErrorRate", "severity": "SEV2",
        "severity_reason": 'severity label "critical"', "severity_confirmed": True, "count": 1,
        "starts_at": T0, "ends_at": None, "first_seen_at": T0 + timedelta(seconds=1),
        "last_seen_at": T0 + timedelta(seconds=1), "resolved_at": None,
        "generator_url": "http://prometheus.example/graph?g0.expr=up", "value": None, "review": False,
        "silenced_by": None, "incident_id": None,
    }  # fmt: skip
    out = []
    for i in range(3):
        labels = {"alertname": "HighErrorRate", "service": "checkout-api", "pod": f"p-{i}", "zone": "ü"}
        out.append({**base, "fingerprint": f"{i:016x}", "active_key": f"alertmanager:{i:016x}", "labels": labels})
    out[1].update(review=True, severity_confirmed=False, value="7.3", silenced_by="config:0")
    out[2].update(
        status="resolved", active_key=None, resolved_at=T0 + timedelta(minutes=5, microseconds=1),
        ends_at=datetime(2026, 11, 23, 11, 0, tzinfo=timezone(timedelta(hours=2))), starts_at=None,
    )  # fmt: skip
    return out


def stored(path: str) -> list[tuple[Any, ...]]:
    """Every alerts row as the database holds it, JSON columns decoded (their spacing may differ)."""
    with sqlite3.connect(path) as conn:
        names = [c[1] for c in conn.execute("PRAGMA table_info(alerts)")]
        out = []
        for r in conn.execute("SELECT * FROM alerts ORDER BY id"):
            out.append(
                tuple(json.loads(v) if n in ("labels", "annotations") else v for n, v in zip(names, r, strict=True))
            )
        return out


async def both(tmp_path: Path) -> tuple[Store, Store]:
    (tmp_path / "raw").mkdir()
    (tmp_path / "orm").mkdir()
    return await sqlite_store(tmp_path / "raw"), await sqlite_store(tmp_path / "orm")


async def test_inserts_match_sqlalchemys_encoding(tmp_path: Path) -> None:
    raw_store, orm_store = await both(tmp_path)
    try:
        async with raw_store.transaction() as tx:
            assert await tx.raw_sqlite() is not None
            await insert_rows(tx, rows())
        async with orm_store.transaction() as tx:
            await tx.session.execute(ALERTS.insert(), rows())  # what insert_rows does off SQLite
        assert stored(str(tmp_path / "raw" / "warroom.db")) == stored(str(tmp_path / "orm" / "warroom.db"))
        async with raw_store.read() as tx:
            back = list((await tx.session.execute(select(AlertRow).order_by(AlertRow.id))).scalars())
        assert [r.starts_at for r in back] == [T0, T0, None]
        assert back[2].resolved_at == T0 + timedelta(minutes=5, microseconds=1)
        assert back[1].review is True and back[1].severity_confirmed is False
        assert back[0].labels["zone"] == "ü" and back[0].annotations["description"].endswith("é")
    finally:
        await raw_store.dispose()
        await orm_store.dispose()


async def test_repeat_updates_and_firing_lookup_match_sqlalchemy(tmp_path: Path) -> None:
    raw_store, orm_store = await both(tmp_path)
    later = T0 + timedelta(minutes=3, microseconds=7)
    try:
        for store in (raw_store, orm_store):
            async with store.transaction() as tx:
                await tx.session.execute(ALERTS.insert(), rows())
        async with raw_store.read() as tx:
            found = await firing_rows(tx, ["alertmanager:0000000000000000", "alertmanager:0000000000000001", "x"])
        assert sorted(found) == ["alertmanager:0000000000000000", "alertmanager:0000000000000001"]
        assert found["alertmanager:0000000000000001"].review is True
        updates = [
            {"_id": found[k].id, "count": 5, "last_seen_at": later, "annotations": {"summary": "now 9%"},
             "severity": "SEV1", "silenced_by": None, "review": False}
            for k in sorted(found)
        ]  # fmt: skip
        assert set(updates[0]) == {"_id", *UPDATE_COLS}
        async with raw_store.transaction() as tx:
            await update_repeats(tx, updates)
        async with orm_store.transaction() as tx:
            stmt = ALERTS.update().where(ALERTS.c.id == bindparam("_id")).values({c: bindparam(c) for c in UPDATE_COLS})
            await tx.session.execute(stmt, updates)  # what update_repeats does off SQLite
        assert stored(str(tmp_path / "raw" / "warroom.db")) == stored(str(tmp_path / "orm" / "warroom.db"))
    finally:
        await raw_store.dispose()
        await orm_store.dispose()
