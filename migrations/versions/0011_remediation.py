"""remediation: the remediation actions of incidents (proposed, decided, run at most once, verified, rolled back)

Revision ID: 0011_remediation
Revises: 0010_freeze_audit_heads
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_remediation"
down_revision: str | None = "0010_freeze_audit_heads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "remediation_actions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("runbook", sa.String(length=80), nullable=False),
        sa.Column("step", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=250), nullable=False),
        sa.Column("risk", sa.String(length=8), nullable=False),
        sa.Column("executor", sa.String(length=40), nullable=False),
        sa.Column("argv", sa.JSON(), nullable=False),
        sa.Column("argv_values", sa.JSON(), nullable=False),
        sa.Column("rollback", sa.JSON(), nullable=True),
        sa.Column("verify", sa.JSON(), nullable=True),
        sa.Column("hypothesis", sa.String(length=40), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("impact", sa.Text(), nullable=False),
        sa.Column("blast_radius", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("output", sa.Text(), nullable=False),
        sa.Column("rollback_output", sa.Text(), nullable=False),
        sa.Column("refusal", sa.Text(), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_remediation_actions_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remediation_actions")),
    )
    op.create_index(
        op.f("ix_remediation_actions_incident_id"), "remediation_actions", ["incident_id"], unique=False
    )
    op.create_index(op.f("ix_remediation_actions_status"), "remediation_actions", ["status"], unique=False)


def downgrade() -> None:
    """Revert."""
    op.drop_index(op.f("ix_remediation_actions_status"), table_name="remediation_actions")
    op.drop_index(op.f("ix_remediation_actions_incident_id"), table_name="remediation_actions")
    op.drop_table("remediation_actions")
