"""The schema the migrations build is the schema the models describe."""

import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import CheckConstraint, insert, inspect
from sqlalchemy.exc import IntegrityError

from shopmail.core.states import MessageKind, MessageState
from shopmail.extensions import db
from shopmail.models import Broadcast, Message, RecordMailing
from shopmail.models.types import schema_filter


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        include = schema_filter(connection.dialect.name)
        context = MigrationContext.configure(connection, opts={"include_object": include})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def _quoted(sql: str) -> set[str]:
    return set(re.findall(r"'([^']*)'", sql))


def test_the_migrated_database_checks_the_same_values_as_the_models(app):
    # compare_metadata does not compare CHECK constraints: read them back from the database.
    inspector = inspect(db.engine)
    for table in db.metadata.sorted_tables:
        modelled = {
            c.name: _quoted(str(c.sqltext))
            for c in table.constraints
            if isinstance(c, CheckConstraint)
        }
        migrated = {
            c["name"]: _quoted(c["sqltext"]) for c in inspector.get_check_constraints(table.name)
        }
        assert migrated == modelled, table.name


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (Message, {"dedupe_key": "x", "kind": MessageKind.TEST, "to_addr": "a@example.jp"}),
        (Message, {"dedupe_key": "y", "state": MessageState.QUEUED, "to_addr": "a@example.jp"}),
        (Broadcast, {}),
        (RecordMailing, {"record_type": "order"}),
    ],
)
def test_the_database_refuses_a_state_or_kind_it_does_not_know(app, model, values):
    column = "state" if "state" not in values else "kind"
    with pytest.raises(IntegrityError):
        db.session.execute(insert(model).values(**values, **{column: "shipped"}))
    db.session.rollback()


def test_tokens_made_before_the_scopes_get_every_scope(tmp_path):
    from pathlib import Path

    from flask_migrate import upgrade
    from sqlalchemy import text

    from shopmail import create_app

    migrations = str(Path(__file__).parents[2] / "migrations")
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/a.db"})
    with other.app_context():
        upgrade(directory=migrations, revision="f1a2b3c4d5e6")
        with db.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO api_tokens (name, token_hash, created_at) VALUES (:n, :h, :t)"),
                {"n": "受注システム", "h": "0" * 64, "t": "2026-01-01 00:00:00"},
            )
        upgrade(directory=migrations, revision="a9b8c7d6e5f4")
        with db.engine.connect() as conn:
            scopes = conn.execute(text("SELECT scopes FROM api_tokens")).scalar_one()
        db.engine.dispose()
    assert scopes == "records members broadcasts read"
