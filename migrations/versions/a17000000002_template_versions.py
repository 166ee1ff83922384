"""template versions; automatic mails keep which template won and why

Every save of an automatic, record-mail or newsletter template is kept as a version
(template_versions). messages.template_choice holds the explanation decided at creation.

Revision ID: a17000000002
Revises: a17000000001
Create Date: 2026-12-03 14:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a17000000002"
down_revision = "a17000000001"
branch_labels = None
depends_on = None


# The template types at this revision (a snapshot: shopmail/models/templates.py may grow).
TEMPLATE_TYPES = ("order_mail", "record_mail", "newsletter")


def upgrade():
    op.create_table(
        "template_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_type", sa.String(20), nullable=False),
        sa.Column("template_key", sa.String(200), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.Column("baseline", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            f"template_type IN ({', '.join(repr(t) for t in TEMPLATE_TYPES)})",
            name=op.f("ck_template_versions_template_type"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_template_versions_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_template_versions")),
        sa.UniqueConstraint(
            "template_type",
            "template_key",
            "number",
            name=op.f("uq_template_versions_template_type_template_key_number"),
        ),
    )
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("template_choice", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("template_choice")
    op.drop_table("template_versions")
