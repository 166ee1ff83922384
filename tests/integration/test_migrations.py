"""The schema the migrations build is the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from shopmail.extensions import db


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        dialect = connection.dialect.name

        def include(obj, name, kind, reflected, compare_to):
            # PostgreSQL-only indexes (pg_trgm) exist in the models but not on SQLite.
            return dialect == "postgresql" or not obj.info.get("postgresql_only")

        context = MigrationContext.configure(connection, opts={"include_object": include})
        differences = compare_metadata(context, db.metadata)
    assert differences == []
