"""review queue index: partial (only alerts waiting for review)

Revision ID: 0003_review_queue_index
Revises: 0002_alerts
Create Date: 2026-11-23 18:20:00

The full (review, last_seen_at) index was rewritten on every repeat of every alert, because a repeat moves
last_seen_at. The partial index holds only the rows the review queue reads.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_review_queue_index"
down_revision: str | None = "0002_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_review")
    op.create_index(
        "ix_alerts_review_queue",
        "alerts",
        ["last_seen_at", "id"],
        unique=False,
        sqlite_where=sa.text("review = 1 AND incident_id IS NULL"),
        postgresql_where=sa.text("review = true AND incident_id IS NULL"),
    )


def downgrade() -> None:
    """Revert."""
    op.drop_index("ix_alerts_review_queue", table_name="alerts")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index("ix_alerts_review", ["review", "last_seen_at"], unique=False)
