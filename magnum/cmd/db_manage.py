"""magnum-db-manage: alembic migrations of Magnum's database."""

import sys

from oslo_config import cfg

from magnum.cmd import service
from magnum.db import migration


def _upgrade():
    migration.upgrade(cfg.CONF.command.revision)


def _downgrade():
    migration.downgrade(cfg.CONF.command.revision)


def _stamp():
    migration.stamp(cfg.CONF.command.revision)


def _version():
    print(migration.version() or 'None (empty database)')


def _revision():
    migration.revision(message=cfg.CONF.command.message,
                       autogenerate=cfg.CONF.command.autogenerate)


def _add_parsers(subparsers):
    parser = subparsers.add_parser('upgrade', help='Upgrade the schema.')
    parser.add_argument('revision', nargs='?', default='head')
    parser.set_defaults(func=_upgrade)

    parser = subparsers.add_parser('downgrade', help='Downgrade the schema.')
    parser.add_argument('revision')
    parser.set_defaults(func=_downgrade)

    parser = subparsers.add_parser('stamp', help='Mark the schema as at a '
                                                 'revision, changing nothing.')
    parser.add_argument('revision')
    parser.set_defaults(func=_stamp)

    parser = subparsers.add_parser('version', help='Print the revision.')
    parser.set_defaults(func=_version)

    parser = subparsers.add_parser('revision', help='Write a new migration.')
    parser.add_argument('-m', '--message')
    parser.add_argument('--autogenerate', action='store_true')
    parser.set_defaults(func=_revision)


def main():
    cfg.CONF.register_cli_opt(cfg.SubCommandOpt(
        'command', title='Commands', handler=_add_parsers))
    # Logs to stderr: stdout carries the answer (the version) alone.
    cfg.CONF.set_default('use_stderr', True)
    service.prepare()
    try:
        cfg.CONF.command.func()
    except Exception as e:
        print('magnum-db-manage: %s' % e, file=sys.stderr)
        return 1
    return 0
