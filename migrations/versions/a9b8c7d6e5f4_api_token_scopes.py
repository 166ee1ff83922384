"""API token scopes: records, members, broadcasts, read

Revision ID: a9b8c7d6e5f4
Revises: f1a2b3c4d5e6
Create Date: 2026-12-05 10:00:00

Tokens that exist already keep doing everything they could: they get every scope. The scopes
are written out here, not imported (a migration is a snapshot of its revision).
"""

import sqlalchemy as sa
from alembic import op

revision = "a9b8c7d6e5f4"
down_revision = "f1a2b3c4d5e6"
branch_labels = None
depends_on = None

ALL_SCOPES = "records members broadcasts read"


def upgrade():
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.add_column(
            sa.Column("scopes", sa.String(100), nullable=False, server_default=ALL_SCOPES)
        )


def downgrade():
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.drop_column("scopes")
