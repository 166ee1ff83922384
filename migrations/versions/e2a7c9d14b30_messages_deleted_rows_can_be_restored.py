"""messages: deleted rows remember when they were deleted and their state before, so staff
can restore them from the send queue for a while

Revision ID: e2a7c9d14b30
Revises: e1f2a3b4c5d6
Create Date: 2026-12-05 10:00:00

Rows deleted before this revision keep both columns empty: their state before is not known,
so they are not offered for restoring.
"""

import sqlalchemy as sa
from alembic import op

revision = "e2a7c9d14b30"
down_revision = "e1f2a3b4c5d6"
branch_labels = None
depends_on = None

# The message states at this revision (a snapshot: shopmail/core/states.py may grow).
STATES = (
    "held",
    "queued",
    "sending",
    "sent",
    "retrying",
    "failed",
    "unknown",
    "bounced",
    "deleted",
)


def upgrade():
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("deleted_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("deleted_from", sa.String(12), nullable=True))
        batch.create_check_constraint(
            op.f("ck_messages_deleted_from"),
            f"deleted_from IN ({', '.join(repr(s) for s in STATES)})",
        )


def downgrade():
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint(op.f("ck_messages_deleted_from"), type_="check")
        batch.drop_column("deleted_from")
        batch.drop_column("deleted_at")
