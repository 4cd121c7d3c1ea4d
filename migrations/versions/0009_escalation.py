"""escalation: pages_sent (each pager event once per transition), an index on timeline_events.kind (SLA
breaches counted for /metrics), and ix_timers_due ends with id (timer claims walk it in order)

Revision ID: 0009_escalation
Revises: 0008_hypotheses
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_escalation"
down_revision: str | None = "0008_hypotheses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "pages_sent",
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("dedup_key", sa.String(length=255), nullable=False),
        sa.Column("service", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_pages_sent")),
    )
    op.create_index(op.f("ix_timeline_events_kind"), "timeline_events", ["kind"], unique=False)
    op.drop_index("ix_timers_due", table_name="timers")
    op.create_index("ix_timers_due", "timers", ["status", "due_at", "id"], unique=False)


def downgrade() -> None:
    """Revert."""
    op.drop_index("ix_timers_due", table_name="timers")
    op.create_index("ix_timers_due", "timers", ["status", "due_at"], unique=False)
    op.drop_index(op.f("ix_timeline_events_kind"), table_name="timeline_events")
    op.drop_table("pages_sent")
