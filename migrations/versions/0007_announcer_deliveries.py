"""announcer deliveries for the announced changes still undelivered when the reactors became plugins

Revision ID: 0007_announcer_deliveries
Revises: 0006_chat_posts
Create Date: 2026-12-02 13:10:00

Before this release the war-room reactor (`slack-warroom`) also posted to #incidents: a severity change or a
resolution had one delivery, which did both. Now the announcer is a reactor of its own, and deliveries are
written for it from the append on. A change whose `slack-warroom` delivery was still pending (or in flight)
at the upgrade would be shown in its room but never announced: this writes its `announcer` delivery, pending,
in log order. Changes delivered before the upgrade were announced then and get none. Downgrade removes the
announcer deliveries that have not been delivered (the old release would dead-letter them: no such reactor).
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from bot.db.base import UTCDateTime

revision: str = "0007_announcer_deliveries"
down_revision: str | None = "0006_chat_posts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ANNOUNCED = ("incident.severity_changed", "incident.resolved")
UNDELIVERED = ("pending", "inflight")


def upgrade() -> None:
    """Apply."""
    deliveries = sa.table(
        "deliveries",
        sa.column("id", sa.Integer),
        sa.column("event_id", sa.Integer),
        sa.column("reactor", sa.String),
        sa.column("chain", sa.String),
        sa.column("status", sa.String),
        sa.column("attempts", sa.Integer),
        sa.column("due_at", UTCDateTime()),
        sa.column("created_at", UTCDateTime()),
    )
    events = sa.table("timeline_events", sa.column("id", sa.Integer), sa.column("kind", sa.String))
    theirs = deliveries.alias("theirs")
    already = sa.select(theirs.c.id).where(theirs.c.event_id == deliveries.c.event_id, theirs.c.reactor == "announcer")
    conn = op.get_bind()
    todo = conn.execute(
        sa.select(deliveries.c.event_id, deliveries.c.chain)
        .join(events, events.c.id == deliveries.c.event_id)
        .where(
            deliveries.c.reactor == "slack-warroom",
            deliveries.c.status.in_(UNDELIVERED),
            events.c.kind.in_(ANNOUNCED),
            ~already.exists(),
        )
        .order_by(deliveries.c.event_id)
    ).all()
    now = datetime.now(UTC)
    rows = [
        {"event_id": e, "reactor": "announcer", "chain": chain, "status": "pending", "attempts": 0, "due_at": now,
         "created_at": now}
        for e, chain in todo
    ]  # fmt: skip
    if rows:
        op.bulk_insert(deliveries, rows)


def downgrade() -> None:
    """Revert."""
    op.execute(
        "DELETE FROM deliveries WHERE reactor = 'announcer' AND status IN ('pending', 'inflight')"
    )
