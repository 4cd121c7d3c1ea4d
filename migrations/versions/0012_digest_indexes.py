"""digest indexes: incidents.acknowledged_at and resolved_at (MTTA / MTTR per day, incidents open at a time),
timeline_events (kind, at) (SLA breaches per day), timers (kind, due_at) (overdue action items), alerts.resolved_at (alerts seen in a day: the firing ones by
their active_key, the others by when they resolved; last_seen_at, moved by every repeat, stays unindexed)

Revision ID: 0012_digest_indexes
Revises: 0011_remediation
Create Date: 2026-12-02 17:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012_digest_indexes"
down_revision: str | None = "0011_remediation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    op.create_index(op.f("ix_incidents_acknowledged_at"), "incidents", ["acknowledged_at"], unique=False)
    op.create_index(op.f("ix_incidents_resolved_at"), "incidents", ["resolved_at"], unique=False)
    op.create_index("ix_timeline_events_kind_at", "timeline_events", ["kind", "at"], unique=False)
    op.create_index("ix_timers_kind_due", "timers", ["kind", "due_at"], unique=False)
    op.create_index(op.f("ix_alerts_resolved_at"), "alerts", ["resolved_at"], unique=False)


def downgrade() -> None:
    """Revert."""
    op.drop_index(op.f("ix_alerts_resolved_at"), table_name="alerts")
    op.drop_index("ix_timers_kind_due", table_name="timers")
    op.drop_index("ix_timeline_events_kind_at", table_name="timeline_events")
    op.drop_index(op.f("ix_incidents_resolved_at"), table_name="incidents")
    op.drop_index(op.f("ix_incidents_acknowledged_at"), table_name="incidents")
