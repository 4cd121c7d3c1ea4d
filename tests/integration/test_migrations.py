"""Migrations: `alembic upgrade head` on fresh SQLite and PostgreSQL databases, and no drift."""

from __future__ import annotations

import asyncio
import json

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from bot.clock import ManualClock
from bot.db.base import Base
from bot.db.engine import sync_url
from bot.db.migrate import alembic_config, head_revision, upgrade
from bot.db.store import Store
from bot.domain.alert import active_key, fingerprint
from bot.services.deps import Deps
from bot.services.stats import database_ready

TABLES = {
    "incidents",
    "incident_roles",
    "ref_counters",
    "timeline_events",
    "deliveries",
    "timers",
    "inbound_seen",
    "processes",
    "chat_posts",
}


def _check(url: str) -> None:
    upgrade(url)
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) >= TABLES
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
            assert diff == [], f"models and migrations drifted: {diff}"
    finally:
        engine.dispose()
    upgrade(url)  # a second run is a no-op


def test_sqlite_upgrade_head_and_no_drift(tmp_path):
    _check(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_postgres_upgrade_head_and_no_drift(pg_url):
    _check(pg_url)


async def test_readyz_check_follows_migrations(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'r.db'}"
    store = Store.from_url(url)
    deps = Deps(store=store, clock=ManualClock())
    ok, detail = await database_ready(deps)
    assert not ok
    await asyncio.to_thread(upgrade, url)
    ok, detail = await database_ready(deps)
    assert ok and head_revision() in detail
    await store.dispose()


def _rekey_case(url: str) -> None:
    """0004 rewrites firing rows' keys to the runtime's form and back on downgrade; resolved rows stay NULL."""
    upgrade(url, "0003_review_queue_index")
    am_labels = {"alertname": "HighErrorRate", "service": "checkout-api", "pod": "a"}
    gen_labels = {"alertname": "QueueDeep", "job": "worker"}
    rows = [
        ("alertmanager", "00000000000000aa", am_labels, "alertmanager:00000000000000aa"),
        ("generic", fingerprint(gen_labels), gen_labels, f"generic:{fingerprint(gen_labels)}"),
        ("generic", "my-own-id", gen_labels, "generic:my-own-id"),
        ("cloudwatch", "00000000000000cc", {"alertname": "cpu"}, "cloudwatch:00000000000000cc"),
        ("alertmanager", "00000000000000dd", am_labels, None),  # resolved
    ]
    engine = create_engine(sync_url(url))
    insert = text(
        "INSERT INTO alerts (source, fingerprint, active_key, status, alertname, labels, annotations, group_key,"
        " severity, severity_reason, severity_confirmed, count, first_seen_at, last_seen_at, review)"
        " VALUES (:s, :f, :k, 'firing', 'x', :l, '{}', 'g', 'SEV3', '', true, 1, :t, :t, false)"
    )
    try:
        with engine.begin() as conn:
            for s, f, labels, key in rows:
                conn.execute(insert, {"s": s, "f": f, "k": key, "l": json.dumps(labels), "t": "2026-11-23 09:00:00"})
        upgrade(url)

        def keys() -> list[str | None]:
            with engine.connect() as conn:
                return [r[0] for r in conn.execute(text("SELECT active_key FROM alerts ORDER BY id"))]

        assert keys() == [
            active_key("alertmanager", "00000000000000aa", am_labels),
            active_key("generic", fingerprint(gen_labels), gen_labels),
            "generic:my-own-id",
            "cloudwatch:00000000000000cc",
            None,
        ]
        assert keys()[0] == "alertmanager/HighErrorRate/checkout-api|00000000000000aa"
        command.downgrade(alembic_config(url), "0003_review_queue_index")
        assert keys() == [r[3] for r in rows]
    finally:
        engine.dispose()


def test_sqlite_active_keys_are_rewritten_by_0004(tmp_path):
    _rekey_case(f"sqlite+aiosqlite:///{tmp_path / 'k.db'}")


@pytest.mark.postgres
def test_postgres_active_keys_are_rewritten_by_0004(pg_url):
    _rekey_case(pg_url)


@pytest.mark.postgres
def test_postgres_migrations_wait_for_the_lock_and_time_out_clearly(pg_url):
    import psycopg

    from bot.db.migrate import MIGRATION_LOCK, MigrationLockTimeout
    from tests.servers.postgres import pg_dsn

    with psycopg.connect(pg_dsn(pg_url), autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))  # another process is migrating
        with pytest.raises(MigrationLockTimeout, match="migration lock"):
            upgrade(pg_url, wait=0.3)
        engine = create_engine(sync_url(pg_url))
        try:
            with engine.connect() as conn:
                assert "alembic_version" not in inspect(conn).get_table_names(), "nothing ran without the lock"
        finally:
            engine.dispose()
    upgrade(pg_url)  # the lock went with the other connection
    assert head_revision() is not None


def _processes_round_trip(url: str) -> None:
    """0005 and 0006 add the processes and chat_posts tables and take them away again on downgrade."""
    upgrade(url)
    engine = create_engine(sync_url(url))
    try:
        command.downgrade(alembic_config(url), "0004_active_key_locality")
        with engine.connect() as conn:
            assert not {"processes", "chat_posts"} & set(inspect(conn).get_table_names())
        upgrade(url)
        with engine.connect() as conn:
            assert {"processes", "chat_posts"} <= set(inspect(conn).get_table_names())
            assert {c["name"] for c in inspect(conn).get_columns("processes")} == {
                "id", "instance", "host", "pid", "started_at", "heartbeat_at",
            }  # fmt: skip
    finally:
        engine.dispose()


def test_sqlite_processes_table_up_and_down(tmp_path):
    _processes_round_trip(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")


@pytest.mark.postgres
def test_postgres_processes_table_up_and_down(pg_url):
    _processes_round_trip(pg_url)


def _announcer_case(url: str) -> None:
    """0007: a severity change or resolution still undelivered to `slack-warroom` at the upgrade (which used to
    announce it too) gets an announcer delivery; delivered ones, and other kinds, get none."""
    upgrade(url, "0006_chat_posts")
    engine = create_engine(sync_url(url))
    at = "2026-11-23 09:00:00"
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO incidents (id, ref, title, severity, severity_reason, severity_confirmed, status,"
                    " declared_at, declared_by, updated_at, human_control, services, alertnames, regions,"
                    " alert_count, alerts_firing) VALUES (1, 'INC-20261123-001', 't', 'SEV2', '', true,"
                    " 'declared', :at, 'U1', :at, false, '[]', '[]', '[]', 0, 0)"
                ),
                {"at": at},
            )
            kinds = ["incident.declared", "incident.severity_changed", "incident.resolved", "incident.severity_changed",
                     "incident.note"]  # fmt: skip
            states = ["done", "done", "pending", "inflight", "pending"]
            for seq, (kind, state) in enumerate(zip(kinds, states, strict=True), start=1):
                conn.execute(
                    text(
                        "INSERT INTO timeline_events (id, incident_id, chain, seq, at, actor, kind, text, payload,"
                        " prev_hash, hash) VALUES (:id, 1, 'INC-20261123-001', :id, :at, 'U1', :k, '', '{}', 'p', :h)"
                    ),
                    {"id": seq, "at": at, "k": kind, "h": f"h{seq}"},
                )
                conn.execute(
                    text(
                        "INSERT INTO deliveries (event_id, reactor, chain, status, attempts, due_at, created_at)"
                        " VALUES (:id, 'slack-warroom', 'INC-20261123-001', :s, 0, :at, :at)"
                    ),
                    {"id": seq, "s": state, "at": at},
                )
        upgrade(url)
        upgrade(url)  # a second run adds nothing

        def announcer() -> list[tuple[int, str]]:
            with engine.connect() as conn:
                q = "SELECT event_id, status FROM deliveries WHERE reactor = 'announcer' ORDER BY id"
                return [(int(e), str(s)) for e, s in conn.execute(text(q))]

        assert announcer() == [(3, "pending"), (4, "pending")]
        command.downgrade(alembic_config(url), "0006_chat_posts")
        assert announcer() == []
    finally:
        engine.dispose()


def test_sqlite_undelivered_announcements_survive_the_reactor_split(tmp_path):
    _announcer_case(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")


@pytest.mark.postgres
def test_postgres_undelivered_announcements_survive_the_reactor_split(pg_url):
    _announcer_case(pg_url)
