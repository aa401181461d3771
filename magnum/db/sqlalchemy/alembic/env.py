"""Alembic environment: migrates the database Magnum is configured with."""

from alembic import context

from magnum.db.sqlalchemy import models

target_metadata = models.Base.metadata


def run_migrations_online():
    connectable = context.config.attributes.get('connection')
    if connectable is None:
        from magnum.db import api as db_api
        connectable = db_api.get_engine()
        with connectable.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def _run(connection):
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == 'sqlite')
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
