"""processes: a heartbeat per running process, so survivors release the claims of a dead one

Revision ID: 0005_processes
Revises: 0004_active_key_locality
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_processes"
down_revision: str | None = "0004_active_key_locality"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "processes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("instance", sa.String(length=200), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processes")),
    )
    op.create_index(op.f("ix_processes_instance"), "processes", ["instance"], unique=False)
    op.create_index(op.f("ix_processes_heartbeat_at"), "processes", ["heartbeat_at"], unique=False)


def downgrade() -> None:
    """Revert."""
    op.drop_index(op.f("ix_processes_heartbeat_at"), table_name="processes")
    op.drop_index(op.f("ix_processes_instance"), table_name="processes")
    op.drop_table("processes")
