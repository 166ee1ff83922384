"""messages: index by Message-ID (random since this revision; bounces are matched by it)

Revision ID: d9e0f1a2b3c4
Revises: c7e8f9a0b1c2
Create Date: 2026-12-03 11:40:00
"""

from alembic import op

revision = "d9e0f1a2b3c4"
down_revision = "c7e8f9a0b1c2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_messages_message_id", "messages", ["message_id"])


def downgrade():
    op.drop_index("ix_messages_message_id", table_name="messages")
