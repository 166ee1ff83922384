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
