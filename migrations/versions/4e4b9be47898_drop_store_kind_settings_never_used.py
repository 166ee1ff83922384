"""drop store_kind_settings (never used: kinds are switched for the whole desk)

Revision ID: 4e4b9be47898
Revises: b7c1e2d3f4a5
Create Date: 2026-11-23 20:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "4e4b9be47898"
down_revision = "b7c1e2d3f4a5"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table("store_kind_settings")


def downgrade():
    op.create_table(
        "store_kind_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("in_use", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_store_kind_settings_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store_kind_settings")),
        sa.UniqueConstraint("store_id", "kind", name=op.f("uq_store_kind_settings_store_id_kind")),
    )
