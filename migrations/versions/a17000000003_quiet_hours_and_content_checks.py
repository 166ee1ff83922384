"""quiet hours per kind and content-check settings

Revision ID: a17000000003
Revises: a17000000002
Create Date: 2026-12-03 14:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a17000000003"
down_revision = "a17000000002"
branch_labels = None
depends_on = None

QUIET = ("send_from", "send_until", "skip_saturday", "skip_sunday", "skip_holidays")


def _quiet_columns(prefix: str) -> list[sa.Column]:
    return [
        sa.Column(f"{prefix}send_from", sa.Integer(), nullable=True),
        sa.Column(f"{prefix}send_until", sa.Integer(), nullable=True),
        *(
            sa.Column(f"{prefix}{name}", sa.Boolean(), nullable=False, server_default=sa.false())
            for name in QUIET[2:]
        ),
    ]


def upgrade():
    with op.batch_alter_table("kind_settings") as batch:
        for column in _quiet_columns(""):
            batch.add_column(column)
    with op.batch_alter_table("desk_settings") as batch:
        for column in _quiet_columns("broadcast_"):
            batch.add_column(column)
        batch.add_column(
            sa.Column("mobile_line_width", sa.Integer(), nullable=False, server_default="76")
        )


def downgrade():
    with op.batch_alter_table("desk_settings") as batch:
        batch.drop_column("mobile_line_width")
        for name in reversed(QUIET):
            batch.drop_column(f"broadcast_{name}")
    with op.batch_alter_table("kind_settings") as batch:
        for name in reversed(QUIET):
            batch.drop_column(name)
