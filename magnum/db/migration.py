"""Schema migrations with alembic, for magnum-db-manage and the services."""

import os

from alembic import command
from alembic import config as alembic_config
from alembic import migration as alembic_migration

from magnum.db import api as db_api

_INI = os.path.join(os.path.dirname(__file__), 'sqlalchemy', 'alembic.ini')


def _config(connection=None):
    config = alembic_config.Config(_INI)
    if connection is not None:
        config.attributes['connection'] = connection
    return config


def _run(operation, *args, **kwargs):
    engine = db_api.get_engine()
    with engine.begin() as connection:
        return operation(_config(connection), *args, **kwargs)


def upgrade(revision='head'):
    _run(command.upgrade, revision or 'head')


def downgrade(revision):
    _run(command.downgrade, revision)


def stamp(revision):
    _run(command.stamp, revision)


def revision(message=None, autogenerate=False):
    _run(command.revision, message=message, autogenerate=autogenerate)


def version():
    """The revision the database is at, or None for an empty one."""
    with db_api.get_engine().connect() as connection:
        return alembic_migration.MigrationContext.configure(
            connection).get_current_revision()
