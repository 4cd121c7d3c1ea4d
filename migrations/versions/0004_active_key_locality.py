"""firing alerts' active keys lead with alertname/service when the fingerprint hashes the labels

Revision ID: 0004_active_key_locality
Revises: 0003_review_queue_index
Create Date: 2026-11-23 19:10:00

Rewrites the active_key of firing rows to bot.domain.alert.active_key's current form, so repeats of
alerts that were firing before the upgrade keep finding their row. Rows whose fingerprint is not the
hash of their labels (CloudWatch alarms, generic alerts with their own fingerprint) keep `source:fp`.
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from bot.domain.alert import active_key, fingerprint

revision: str = "0004_active_key_locality"
down_revision: str | None = "0003_review_queue_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALERTS = sa.table(
    "alerts",
    sa.column("id", sa.Integer),
    sa.column("source", sa.String),
    sa.column("fingerprint", sa.String),
    sa.column("labels", sa.JSON),
    sa.column("active_key", sa.String),
)


def _labels(value: Any) -> dict[str, str]:
    data = json.loads(value) if isinstance(value, str) else value
    return {str(k): str(v) for k, v in (data or {}).items()}


def _rekey(new_form: bool) -> None:
    conn = op.get_bind()
    firing = conn.execute(
        sa.select(ALERTS.c.id, ALERTS.c.source, ALERTS.c.fingerprint, ALERTS.c.labels).where(
            ALERTS.c.active_key.is_not(None)
        )
    ).all()
    updates = []
    for rid, source, fp, raw_labels in firing:
        labels = _labels(raw_labels)
        hashed = source == "alertmanager" or (source == "generic" and fp == fingerprint(labels))
        key = active_key(source, fp, labels if new_form and hashed else None)
        updates.append({"rid": rid, "key": key})
    if updates:
        conn.execute(ALERTS.update().where(ALERTS.c.id == sa.bindparam("rid")).values(active_key=sa.bindparam("key")), updates)


def upgrade() -> None:
    """Apply."""
    _rekey(new_form=True)


def downgrade() -> None:
    """Revert."""
    _rekey(new_form=False)
