"""bounces: the `bounced` message state, refusal source and bounce details on messages,
bounce counts on members, the auto-flag setting, received bounce reports

Revision ID: c7e8f9a0b1c2
Revises: b1d2c3e4f5a6
Create Date: 2026-12-06 10:00:00

The allowed values are written out here, not imported: a migration is a snapshot of the schema
at its revision (see d81901ad5a04).
"""

import sqlalchemy as sa
from alembic import op

import shopmail.models.types

revision = "c7e8f9a0b1c2"
down_revision = "b1d2c3e4f5a6"
branch_labels = None
depends_on = None

UTC = shopmail.models.types.UTCDateTime
STATES_BEFORE = ("held", "queued", "sending", "sent", "retrying", "failed", "unknown", "deleted")
STATES = STATES_BEFORE[:7] + ("bounced", "deleted")
REFUSAL_SOURCES = ("smtp", "bounce", "address")
OUTCOMES = ("hard", "soft", "complaint", "ignored", "read")


def _condition(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade():
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint(op.f("ck_messages_state"), type_="check")
        batch.create_check_constraint(op.f("ck_messages_state"), _condition("state", STATES))
        batch.add_column(sa.Column("refused_by", sa.String(10), nullable=True))
        batch.add_column(
            sa.Column("bounce_status", sa.String(10), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("bounce_diagnostic", sa.Text(), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("soft_bounces", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("bounced_at", UTC(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_messages_refused_by"), _condition("refused_by", REFUSAL_SOURCES)
        )
    # Rows refused before this revision: a 5xx reply was the recipient's side refusing them
    # (relay outages ended with no code and stay off the refused list from now on).
    op.execute(
        "UPDATE messages SET refused_by = 'smtp' "
        "WHERE state = 'failed' AND last_code BETWEEN 500 AND 599"
    )
    with op.batch_alter_table("members") as batch:
        batch.add_column(
            sa.Column("hard_bounces", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("soft_bounces", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("desk_settings") as batch:
        batch.add_column(
            sa.Column("bounce_flag_after", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "bounce_receipts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("via", sa.String(10), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("received_at", UTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_bounce_receipts_message_id_messages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounce_receipts")),
        sa.UniqueConstraint("key", name=op.f("uq_bounce_receipts_key")),
        sa.CheckConstraint(
            _condition("outcome", OUTCOMES), name=op.f("ck_bounce_receipts_outcome")
        ),
    )
    op.create_index(
        op.f("ix_bounce_receipts_message_id"), "bounce_receipts", ["message_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_bounce_receipts_message_id"), table_name="bounce_receipts")
    op.drop_table("bounce_receipts")
    with op.batch_alter_table("desk_settings") as batch:
        batch.drop_column("bounce_flag_after")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("soft_bounces")
        batch.drop_column("hard_bounces")
    op.execute("UPDATE messages SET state = 'failed' WHERE state = 'bounced'")
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint(op.f("ck_messages_refused_by"), type_="check")
        for name in ("bounced_at", "soft_bounces", "bounce_diagnostic", "bounce_status"):
            batch.drop_column(name)
        batch.drop_column("refused_by")
        batch.drop_constraint(op.f("ck_messages_state"), type_="check")
        batch.create_check_constraint(op.f("ck_messages_state"), _condition("state", STATES_BEFORE))
