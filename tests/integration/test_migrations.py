"""The schema the migrations build is the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shopmail.extensions import db
from shopmail.models.types import schema_filter


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        include = schema_filter(connection.dialect.name)
        context = MigrationContext.configure(connection, opts={"include_object": include})
        differences = compare_metadata(context, db.metadata)
    assert differences == []
