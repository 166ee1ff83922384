"""states are checked by the database: CHECK on state, kind, role, relay mode, channel

The allowed values are those of shopmail/core/states.py at this revision.

Revision ID: d81901ad5a04
Revises: 4e4b9be47898
Create Date: 2026-11-24 10:00:00

The values are written out here, not imported: a migration is a snapshot of the schema at
its revision, and the enums may grow later (with a migration of their own).
tests/integration/test_migrations.py checks that these constraints equal the models'.
"""

from alembic import op

revision = "d81901ad5a04"
down_revision = "4e4b9be47898"
branch_labels = None
depends_on = None

AUTOMATIC_KINDS = ("order_confirmation", "shipping_notice", "follow_up")
# table → {constraint suffix (the column): allowed values}
CHECKS = {
    "messages": {
        "state": (
            "held",
            "queued",
            "sending",
            "sent",
            "retrying",
            "failed",
            "unknown",
            "deleted",
        ),
        "kind": AUTOMATIC_KINDS + ("record", "broadcast", "admin_copy", "test"),
    },
    "broadcasts": {"state": ("draft", "sending", "paused", "cancelled", "done")},
    "record_mailings": {"state": ("draft", "sending", "done")},
    "users": {"role": ("admin", "staff")},
    "stores": {
        "channel": ("rakuten", "amazon", "aupay", "yahoo", "own", "b2b", "other"),
        "relay_mode": ("system", "own", "rakuten"),
    },
    "kind_settings": {"kind": AUTOMATIC_KINDS},
    "order_mail_templates": {"kind": AUTOMATIC_KINDS},
}


def _condition(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade():
    # SQLite cannot add a constraint to a table: batch mode copies the table (env.py sets
    # render_as_batch); PostgreSQL gets a plain ALTER TABLE … ADD CONSTRAINT.
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table) as batch:
            for column, values in checks.items():
                batch.create_check_constraint(
                    op.f(f"ck_{table}_{column}"), _condition(column, values)
                )


def downgrade():
    for table, checks in CHECKS.items():
        with op.batch_alter_table(table) as batch:
            for column in checks:
                batch.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
