"""messages: one index of (state, store, kind, next attempt) instead of two, (state, next
attempt) and (store, kind, state): every change of a row's state wrote both again on
PostgreSQL, twice for each mail sent (claimed, then sent)

Revision ID: a17000000005
Revises: a17000000004
Create Date: 2026-12-04 20:15:00
"""

from alembic import op

revision = "a17000000005"
down_revision = "a17000000004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_messages_state_store_kind",
        "messages",
        ["state", "store_id", "kind", "next_attempt_at"],
    )
    op.drop_index("ix_messages_state_next", table_name="messages")
    op.drop_index("ix_messages_store_kind_state", table_name="messages")


def downgrade():
    op.create_index("ix_messages_store_kind_state", "messages", ["store_id", "kind", "state"])
    op.create_index("ix_messages_state_next", "messages", ["state", "next_attempt_at"])
    op.drop_index("ix_messages_state_store_kind", table_name="messages")
