"""worker_heartbeats: each running worker beats; a dead one's claims are taken over

Revision ID: e1f2a3b4c5d6
Revises: d9e0f1a2b3c4
Create Date: 2026-12-03 14:10:00
"""

import sqlalchemy as sa
from alembic import op

from shopmail.models.types import UTCDateTime

revision = "e1f2a3b4c5d6"
down_revision = "d9e0f1a2b3c4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "worker_heartbeats",
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("beat_at", UTCDateTime(), nullable=False),
    )


def downgrade():
    op.drop_table("worker_heartbeats")
