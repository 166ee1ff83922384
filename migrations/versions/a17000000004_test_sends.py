"""test sends

Revision ID: a17000000004
Revises: a17000000003
Create Date: 2026-12-03 14:30:00
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "a17000000004"
down_revision = "a17000000003"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
