"""A RabbitMQ broker and a PostgreSQL cluster of the test's own, on free
ports, that the test may stop and start again.

The fault tests restart the broker and the database under running Magnum
processes. The machine's shared servers (``tools/services.sh``) serve every
other test running meanwhile, so those are never touched: each fixture here
runs a private server from the machine's packages, in a temporary
directory::

    with processes.running(own_servers.RabbitMQ()) as broker:
        broker.transport_url     # rabbit://guest:guest@127.0.0.1:<port>/
        broker.stop(); broker.start()

    with processes.running(own_servers.PostgresCluster()) as cluster:
        url = cluster.create_database('magnum')
        cluster.stop(); cluster.start()

``RabbitMQ`` runs ``rabbitmq-server`` as its own Erlang node (a unique node
name, its own Mnesia directory, cookie and listener; ``epmd`` is shared,
which is how Erlang nodes find each other). ``PostgresCluster`` runs
``initdb`` and ``pg_ctl`` as the ``postgres`` user when the tests run as
root (PostgreSQL refuses root), with ``fsync=off``: throw-away data.
Both stop on clean-up, whatever the test left them in.
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

import fixtures

from magnum.tests.functional import db_servers
from magnum.tests.functional import processes

RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server'
START_TIMEOUT = 60


def _listening(port):
    try:
        socket.create_connection(('127.0.0.1', port), timeout=1).close()
        return True
    except OSError:
        return False


def _wait(predicate, what, timeout, log_path=None):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            tail = ''
            if log_path and os.path.exists(log_path):
                with open(log_path, 'rb') as f:
                    tail = f.read()[-3000:].decode('utf-8', 'replace')
            raise processes.ServiceFailed('%s within %ds\n%s'
                                          % (what, timeout, tail))
        time.sleep(0.1)


class RabbitMQ(fixtures.Fixture):
    """A private RabbitMQ node; ``transport_url`` for Magnum's config."""

    def setUp(self):
        if not os.access(RABBITMQ_SERVER, os.X_OK):
            raise db_servers.ServerUnavailable(
                'rabbitmq-server is not installed (%s)' % RABBITMQ_SERVER)
        super().setUp()

    def _setUp(self):
        self.work_dir = tempfile.mkdtemp(prefix='magnum-rabbit-')
        self.addCleanup(shutil.rmtree, self.work_dir, True)
        self.port = processes.free_port()
        self.dist_port = processes.free_port()
        self.node = 'magnumtest%d@localhost' % self.port
        self.transport_url = 'rabbit://guest:guest@127.0.0.1:%d/' % self.port
        with open(os.path.join(self.work_dir, 'rabbitmq.conf'), 'w') as f:
            f.write('listeners.tcp.local = 127.0.0.1:%d\n' % self.port)
            f.write('loopback_users = none\n')
        with open(os.path.join(self.work_dir, 'rabbitmq-env.conf'), 'w') as f:
            f.write('NODENAME=%s\n' % self.node)
        with open(os.path.join(self.work_dir, 'enabled_plugins'), 'w') as f:
            f.write('[].\n')
        self.process = None
        self.addCleanup(self.stop)
        self.start()

    def _environment(self):
        path = self.work_dir
        return {
            'HOME': path,
            'RABBITMQ_CONF_ENV_FILE': os.path.join(path, 'rabbitmq-env.conf'),
            'RABBITMQ_NODENAME': self.node,
            'RABBITMQ_CONFIG_FILE': os.path.join(path, 'rabbitmq.conf'),
            'RABBITMQ_MNESIA_BASE': os.path.join(path, 'mnesia'),
            'RABBITMQ_LOG_BASE': os.path.join(path, 'log'),
            'RABBITMQ_ENABLED_PLUGINS_FILE': os.path.join(
                path, 'enabled_plugins'),
            'RABBITMQ_DIST_PORT': str(self.dist_port),
            'ERL_EPMD_ADDRESS': '127.0.0.1',
            'ERL_FLAGS': '-kernel inet_dist_use_interface {127,0,0,1}',
        }

    def start(self):
        self.process = processes.Process(
            'rabbitmq', [RABBITMQ_SERVER],
            os.path.join(self.work_dir, 'rabbitmq.log'),
            env=self._environment(), cwd=self.work_dir).start()
        _wait(lambda: _listening(self.port), 'RabbitMQ did not listen on %d'
              % self.port, START_TIMEOUT, self.process.log_path)

    def stop(self):
        """Stop the node (SIGTERM: a clean broker shutdown, as a restart)."""
        if self.process is not None:
            self.process.stop(grace=30)
            self.process = None
        _wait(lambda: not _listening(self.port), 'RabbitMQ still listens '
              'on %d' % self.port, 30)

    def restart(self):
        self.stop()
        self.start()


def _pg_bin(name):
    found = sorted(glob.glob('/usr/lib/postgresql/*/bin/%s' % name))
    if not found:
        raise db_servers.ServerUnavailable('PostgreSQL %s is not installed'
                                           % name)
    return found[-1]


class PostgresCluster(fixtures.Fixture):
    """A private PostgreSQL cluster (``initdb``) on a free port."""

    def setUp(self):
        self.initdb = _pg_bin('initdb')
        self.pg_ctl = _pg_bin('pg_ctl')
        super().setUp()

    def _setUp(self):
        self.work_dir = tempfile.mkdtemp(prefix='magnum-pg-')
        self.addCleanup(shutil.rmtree, self.work_dir, True)
        self.data = os.path.join(self.work_dir, 'data')
        self.log_path = os.path.join(self.work_dir, 'postgresql.log')
        self.user = None
        if os.geteuid() == 0:
            # NOTE: PostgreSQL refuses to run as root.
            self.user = 'postgres'
            owner = pwd.getpwnam(self.user)
            os.chown(self.work_dir, owner.pw_uid, owner.pw_gid)
        self._run([self.initdb, '-D', self.data, '-U', 'postgres',
                   '--auth=trust', '-E', 'UTF8', '--no-sync'])
        self.port = processes.free_port()
        self.server = 'postgresql+psycopg2://postgres@127.0.0.1:%d' % (
            self.port)
        self.running = False
        self.addCleanup(self.stop, 'immediate')
        self.start()

    def _run(self, argv):
        if self.user:
            argv = ['runuser', '-u', self.user, '--'] + argv
        result = subprocess.run(argv, stdin=subprocess.DEVNULL,
                                capture_output=True, timeout=START_TIMEOUT)
        if result.returncode:
            raise processes.ServiceFailed('%s failed (%d): %s' % (
                argv, result.returncode,
                (result.stdout + result.stderr).decode()[-3000:]))

    def start(self):
        self._run([self.pg_ctl, '-D', self.data, '-l', self.log_path,
                   '-w', '-t', str(START_TIMEOUT), '-o',
                   '-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off '
                   '-c max_connections=600' % (self.port, self.work_dir),
                   'start'])
        self.running = True

    def stop(self, mode='fast'):
        """``fast`` ends every session, as a restart of the server does."""
        if self.running:
            self._run([self.pg_ctl, '-D', self.data, '-m', mode, '-w',
                       'stop'])
            self.running = False

    def create_database(self, name):
        """A new database; returns its SQLAlchemy URL."""
        import sqlalchemy as sa
        engine = sa.create_engine(self.server + '/postgres',
                                  isolation_level='AUTOCOMMIT')
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql('CREATE DATABASE %s' % name)
        finally:
            engine.dispose()
        return '%s/%s' % (self.server, name)
