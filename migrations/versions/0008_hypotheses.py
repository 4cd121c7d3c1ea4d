"""hypotheses: the hypotheses of each incident (re-scored, confirmed, rejected); the incident's matched runbook
and confirmed root cause

Revision ID: 0008_hypotheses
Revises: 0007_announcer_deliveries
Create Date: 2026-12-04 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0008_hypotheses"
down_revision: str | None = "0007_announcer_deliveries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "hypotheses",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=250), nullable=False),
        sa.Column("service", sa.String(length=253), nullable=True),
        sa.Column("cause", sa.String(length=40), nullable=False),
        sa.Column("runbook", sa.String(length=80), nullable=True),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("prior", sa.Float(), nullable=False),
        sa.Column("posterior", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_hypotheses_incident_id_incidents"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hypotheses")),
    )
    op.create_index(op.f("ix_hypotheses_incident_id"), "hypotheses", ["incident_id"], unique=False)
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("runbook", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("root_cause", sa.Text(), nullable=True))
        batch.add_column(sa.Column("root_cause_hypothesis", sa.String(length=40), nullable=True))


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("root_cause_hypothesis")
        batch.drop_column("root_cause")
        batch.drop_column("runbook")
    op.drop_index(op.f("ix_hypotheses_incident_id"), table_name="hypotheses")
    op.drop_table("hypotheses")
