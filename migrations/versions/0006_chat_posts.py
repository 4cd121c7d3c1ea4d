"""chat_posts: the ts of every message the bot posted once, by marker (exactly once across processes)

Revision ID: 0006_chat_posts
Revises: 0005_processes
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_chat_posts"
down_revision: str | None = "0005_processes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "chat_posts",
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_chat_posts")),
    )


def downgrade() -> None:
    """Revert."""
    op.drop_table("chat_posts")
