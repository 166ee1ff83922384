"""scheduled broadcasts (send at)

Revision ID: a17000000001
Revises: e2a7c9d14b30
Create Date: 2026-12-03 14:30:00

The `scheduled` broadcast state, the time it is to start (`send_at`, UTC) and the reason a
scheduled start was refused (`schedule_refusal`). The allowed values are written out here, not
imported: a migration is a snapshot of the schema at its revision (see d81901ad5a04).
"""

import sqlalchemy as sa
from alembic import op

import shopmail.models.types

revision = "a17000000001"
down_revision = "e2a7c9d14b30"
branch_labels = None
depends_on = None

UTC = shopmail.models.types.UTCDateTime
STATES_BEFORE = ("draft", "sending", "paused", "cancelled", "done")
STATES = ("draft", "scheduled", "sending", "paused", "cancelled", "done")


def _condition(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade():
    # SQLite cannot change a constraint: batch mode copies the table; PostgreSQL alters it.
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_constraint(op.f("ck_broadcasts_state"), type_="check")
        batch.create_check_constraint(op.f("ck_broadcasts_state"), _condition("state", STATES))
        batch.add_column(sa.Column("send_at", UTC(), nullable=True))
        batch.add_column(
            sa.Column("schedule_refusal", sa.Text(), nullable=False, server_default="")
        )


def downgrade():
    op.execute("UPDATE broadcasts SET state = 'draft' WHERE state = 'scheduled'")
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("schedule_refusal")
        batch.drop_column("send_at")
        batch.drop_constraint(op.f("ck_broadcasts_state"), type_="check")
        batch.create_check_constraint(
            op.f("ck_broadcasts_state"), _condition("state", STATES_BEFORE)
        )
