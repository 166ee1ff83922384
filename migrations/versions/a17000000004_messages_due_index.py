"""messages: a partial index of the due rows for the send loop's claim; the order and mailing
indexes hold only rows that have an order or a mailing, the Message-ID index only rows that
have one; the created_at and sent_at indexes, which no query used, are gone (PostgreSQL wrote
every index again on each state change of a row)

Revision ID: a17000000004
Revises: a17000000003
Create Date: 2026-12-04 02:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a17000000004"
down_revision = "a17000000003"
branch_labels = None
depends_on = None


def _partial(where: str) -> dict:
    return {"postgresql_where": sa.text(where), "sqlite_where": sa.text(where)}


def upgrade():
    op.create_index(
        "ix_messages_due",
        "messages",
        ["store_id", "id"],
        **_partial("state IN ('queued', 'retrying')"),
    )
    op.drop_index("ix_messages_order_kind", table_name="messages")
    op.create_index(
        "ix_messages_order_kind",
        "messages",
        ["order_id", "kind"],
        **_partial("order_id IS NOT NULL"),
    )
    op.drop_index("ix_messages_mailing_id", table_name="messages")
    op.create_index(
        "ix_messages_mailing_id", "messages", ["mailing_id"], **_partial("mailing_id IS NOT NULL")
    )
    op.drop_index("ix_messages_message_id", table_name="messages")
    op.create_index(
        "ix_messages_message_id", "messages", ["message_id"], **_partial("message_id <> ''")
    )
    op.drop_index("ix_messages_created_at", table_name="messages")
    op.drop_index("ix_messages_sent_at", table_name="messages")


def downgrade():
    op.drop_index("ix_messages_message_id", table_name="messages")
    op.create_index("ix_messages_message_id", "messages", ["message_id"])
    op.create_index("ix_messages_sent_at", "messages", ["sent_at"])
    op.create_index("ix_messages_created_at", "messages", ["created_at"])
    op.drop_index("ix_messages_mailing_id", table_name="messages")
    op.create_index("ix_messages_mailing_id", "messages", ["mailing_id"])
    op.drop_index("ix_messages_order_kind", table_name="messages")
    op.create_index("ix_messages_order_kind", "messages", ["order_id", "kind"])
    op.drop_index("ix_messages_due", table_name="messages")
