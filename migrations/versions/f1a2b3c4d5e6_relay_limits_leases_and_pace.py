"""relay limits on stores; relay session leases, pace log and throttle state

Revision ID: f1a2b3c4d5e6
Revises: d81901ad5a04
Create Date: 2026-12-03 10:00:00
"""

import sqlalchemy as sa
from alembic import op

import shopmail.models.types

revision = "f1a2b3c4d5e6"
down_revision = "d81901ad5a04"
branch_labels = None
depends_on = None

UTC = shopmail.models.types.UTCDateTime


def upgrade():
    with op.batch_alter_table("stores") as batch_op:
        for name, default in (
            ("smtp_sessions", 4),
            ("smtp_per_minute", 0),
            ("smtp_per_hour", 0),
            ("smtp_per_session", 1000),
        ):
            batch_op.add_column(
                sa.Column(name, sa.Integer(), nullable=False, server_default=str(default))
            )
    op.create_table(
        "relay_states",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("paused_until", UTC(), nullable=True),
        sa.Column("slowed_until", UTC(), nullable=True),
        sa.Column("slow_per_minute", sa.Integer(), nullable=True),
        sa.Column("throttles", sa.Integer(), nullable=False),
        sa.Column("throttled_at", UTC(), nullable=True),
        sa.Column("throttle_reply", sa.Text(), nullable=False),
    )
    op.create_table(
        "relay_sessions",
        sa.Column("relay_key", sa.String(40), primary_key=True),
        sa.Column("slot", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("holder", sa.String(80), nullable=True),
        sa.Column("expires_at", UTC(), nullable=True),
    )
    op.create_table(
        "relay_sends",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("relay_key", sa.String(40), nullable=False),
        sa.Column("at", UTC(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_index("ix_relay_sends_key_at", "relay_sends", ["relay_key", "at"])


def downgrade():
    op.drop_index("ix_relay_sends_key_at", table_name="relay_sends")
    op.drop_table("relay_sends")
    op.drop_table("relay_sessions")
    op.drop_table("relay_states")
    with op.batch_alter_table("stores") as batch_op:
        for name in ("smtp_per_session", "smtp_per_hour", "smtp_per_minute", "smtp_sessions"):
            batch_op.drop_column(name)
