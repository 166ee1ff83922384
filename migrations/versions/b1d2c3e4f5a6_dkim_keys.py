"""DKIM keys: a domain's selectors, the private key encrypted at rest

Revision ID: b1d2c3e4f5a6
Revises: a9b8c7d6e5f4
Create Date: 2026-12-03 11:00:00
"""

import sqlalchemy as sa
from alembic import op

import shopmail.models.types

revision = "b1d2c3e4f5a6"
down_revision = "a9b8c7d6e5f4"
branch_labels = None
depends_on = None

UTC = shopmail.models.types.UTCDateTime


def upgrade():
    op.create_table(
        "dkim_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("selector", sa.String(63), nullable=False),
        sa.Column("private_key_enc", sa.Text(), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("retired_at", UTC(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dkim_keys")),
        sa.UniqueConstraint("domain", "selector", name=op.f("uq_dkim_keys_domain_selector")),
    )


def downgrade():
    op.drop_table("dkim_keys")
