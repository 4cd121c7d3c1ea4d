"""freeze and audit heads: the deploy freeze of each incident (since when, set by its severity or by hand), and
audit_heads, the newest entry of each chain of the event log (so `warroom audit verify` sees deleted newest rows)

Revision ID: 0010_freeze_audit_heads
Revises: 0009_escalation
Create Date: 2026-12-06 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_freeze_audit_heads"
down_revision: str | None = "0009_escalation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply; open SEV0/SEV1 incidents start frozen (since their declaration), every chain gets its head."""
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("frozen_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("freeze_kind", sa.String(length=16), nullable=True))
        batch.create_index(batch.f("ix_incidents_frozen_since"), ["frozen_since"], unique=False)
    op.create_table(
        "audit_heads",
        sa.Column("chain", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_audit_heads")),
    )
    op.execute(
        "UPDATE incidents SET frozen_since = declared_at, freeze_kind = 'severity'"
        " WHERE severity IN ('SEV0', 'SEV1') AND status IN ('declared', 'acknowledged', 'mitigated')"
    )
    op.execute(
        "INSERT INTO audit_heads (chain, seq, hash) SELECT t.chain, t.seq, t.hash FROM timeline_events t"
        " WHERE t.seq = (SELECT max(u.seq) FROM timeline_events u WHERE u.chain = t.chain)"
    )


def downgrade() -> None:
    """Revert."""
    op.drop_table("audit_heads")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_index(batch.f("ix_incidents_frozen_since"))
        batch.drop_column("freeze_kind")
        batch.drop_column("frozen_since")
