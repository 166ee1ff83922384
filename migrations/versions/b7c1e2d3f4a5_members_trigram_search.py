"""members: trigram indexes for free-text search (PostgreSQL only)

Revision ID: b7c1e2d3f4a5
Revises: 8ce7d433f395
Create Date: 2026-11-23 20:30:00

"""

from alembic import op

revision = "b7c1e2d3f4a5"
down_revision = "8ce7d433f395"
branch_labels = None
depends_on = None

SEARCHED = ("company", "contact_name", "email", "number")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in SEARCHED:
        op.create_index(
            f"ix_members_{column}_trgm",
            "members",
            [column],
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in SEARCHED:
        op.drop_index(f"ix_members_{column}_trgm", table_name="members")
