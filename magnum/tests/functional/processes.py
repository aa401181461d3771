"""Magnum's real console scripts, run as separate processes on free ports.

``MagnumServices`` is a production-shaped deployment: it writes a
configuration file, runs ``magnum-db-manage upgrade`` on the database it is
given, then starts ``magnum-api`` and ``magnum-conductor`` on RabbitMQ::

    with db_servers.PostgresDatabase() as db:
        with processes.MagnumServices(db.url) as magnum:
            requests.get(magnum.endpoint + '/bays')

``MagnumAll`` is the all-in-one a newcomer runs first: ``magnum-all`` with
no configuration file at all, in a fresh home directory (so its SQLite
database under ``~/.magnum`` is new); only its port comes from the
environment (``OS_API__PORT``, which oslo.config reads), never a fixed one.

Both wait, within bounds, until ``GET /`` answers and their conductor is
``up`` in ``/v1/mservices``; a process that exits or a wait that runs out
raises ``ServiceFailed`` with the tails of the logs. On clean-up every
process gets SIGTERM, then SIGKILL (its whole process group, gunicorn's
workers included) after a grace period. Each process also gets SIGTERM from
the kernel if the test process dies, so nothing outlives a killed run.

``running(fixture)`` turns either fixture into a context manager for
module-scoped pytest fixtures, raising the set-up error itself rather than
fixtures' ``MultipleExceptions``; ``deployment(kind)`` is the whole of it
for ``postgresql``, ``mysql`` (with a fresh database from ``db_servers``)
or ``all``. ``Client`` is a small HTTP client that asserts every answer
carries ``X-OpenStack-Request-Id``; ``faultstring(response)`` reads an
error the way the clients do.

``MAGNUM_TEST_TRANSPORT_URL`` points the services at another broker;
``MAGNUM_TEST_KEEP_LOGS=1`` keeps each deployment's work directory
(configuration and logs) instead of deleting it. Without RabbitMQ the
fixtures skip, or fail when ``CI`` is set, as ``db_servers`` does.
"""

import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from urllib import parse
import uuid

import fixtures
import kombu
import pytest
import requests

from magnum.tests.functional import db_servers
from magnum.tests import openapi_check

RABBIT_URL = os.environ.get('MAGNUM_TEST_TRANSPORT_URL',
                            'rabbit://guest:guest@127.0.0.1:5672/')
BIN_DIR = os.path.dirname(sys.executable)

# Seconds: how long a service may take to come up, and to stop on SIGTERM.
START_TIMEOUT = 60
STOP_GRACE = 10
_PR_SET_PDEATHSIG = 1


# gunicorn's words when another process holds the port.
_PORT_TAKEN = 'Connection in use'
_PORT_ATTEMPTS = 3


class ServiceFailed(Exception):
    """A service did not start (or stopped); the message has its logs."""


class _PortTaken(Exception):
    pass


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def script(name):
    """The path of one of the venv's console scripts (next to python)."""
    path = os.path.join(BIN_DIR, name)
    if not os.access(path, os.X_OK):
        raise ServiceFailed('%s is not installed in %s; install the package '
                            '(tools/install.sh)' % (name, BIN_DIR))
    return path


def check_rabbitmq(url=RABBIT_URL):
    """Skip (or fail, under CI) when the broker does not accept connections."""
    parsed = parse.urlparse(url)
    address = (parsed.hostname or '127.0.0.1', parsed.port or 5672)
    try:
        socket.create_connection(address, timeout=5).close()
    except OSError as e:
        reason = 'RabbitMQ at %s:%d is not reachable: %s' % (address + (e,))
        if os.environ.get('CI'):
            pytest.fail('%s (CI is set, so this is a failure, not a skip; '
                        'tools/services.sh starts the servers)' % reason,
                        pytrace=False)
        raise db_servers.ServerUnavailable(reason)


def _child_environment(extra):
    # NOTE: oslo.config reads OS_<GROUP>__<OPTION> variables; one left in the
    # caller's environment would quietly change every service started here.
    env = {key: value for key, value in os.environ.items()
           if not (key.startswith('OS_') and '__' in key)}
    env['PYTHONUNBUFFERED'] = '1'
    env.update(extra or {})
    return env


def _die_with_parent():
    """Runs in the child: SIGTERM it when the test process dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: clean-up still stops it in the normal case


class Process:
    """One console script in its own process group, output to a log file."""

    def __init__(self, name, argv, log_path, env=None, cwd=None):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.env = env
        self.cwd = cwd
        self.popen = None

    def start(self):
        with open(self.log_path, 'ab') as log:
            self.popen = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, env=_child_environment(self.env),
                cwd=self.cwd, start_new_session=True,
                preexec_fn=_die_with_parent)
        return self

    @property
    def pid(self):
        return self.popen.pid if self.popen else None

    def exited(self):
        """The exit status without reaping the process, or None."""
        if self.popen is None:
            return None
        if self.popen.returncode is not None:
            return self.popen.returncode
        # NOTE: WNOWAIT leaves the exited process a zombie, which keeps its
        # pid (and so its process group id) from being reused until stop()
        # has signalled the group's leftovers.
        try:
            info = os.waitid(os.P_PID, self.popen.pid,
                             os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return self.popen.poll()
        if info is None:
            return None
        return info.si_status

    def terminate(self):
        if self.popen is not None and self.exited() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.popen.pid, signal.SIGTERM)

    def finish(self, deadline):
        """Wait until ``deadline``, then SIGKILL the whole group; reap."""
        if self.popen is None or self.popen.returncode is not None:
            return
        while self.exited() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        # The leader is exited-but-unreaped or still running: either way its
        # pid is the group's id and cannot have been reused.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()

    def stop(self, grace=STOP_GRACE):
        self.terminate()
        self.finish(time.monotonic() + grace)

    def tail(self, lines=40):
        try:
            with open(self.log_path, 'rb') as log:
                text = log.read().decode('utf-8', 'replace')
        except OSError as e:
            return '(no log: %s)' % e
        return '\n'.join(text.splitlines()[-lines:])

    def describe(self, lines=40):
        status = self.exited()
        state = 'running' if status is None else 'exited with %s' % status
        return '--- %s (pid %s, %s), %s:\n%s' % (
            self.name, self.pid, state, self.log_path, self.tail(lines))


def stop_all(processes, grace=STOP_GRACE):
    """SIGTERM every process at once, then SIGKILL what remains."""
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        process.finish(deadline)


def wait_for(check, what, processes, timeout=START_TIMEOUT, interval=0.2):
    """Call ``check`` until it returns a true value; raise with the logs.

    ``check`` may raise requests' connection errors while a server starts.
    """
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        for process in processes:
            if process.exited() is not None:
                raise ServiceFailed('%s exited while waiting for %s\n%s' % (
                    process.name, what, logs_of(processes)))
        try:
            result = check()
            if result:
                return result
        except (requests.RequestException, ValueError, KeyError) as e:
            last_error = e
        if time.monotonic() >= deadline:
            raise ServiceFailed(
                'timed out after %ds waiting for %s (last error: %s)\n%s'
                % (timeout, what, last_error, logs_of(processes)))
        time.sleep(interval)


def wait_all(running, timeout, what):
    """Wait for every command of ``running`` ([(name, Popen, log path)],
    started side by side) within ``timeout`` seconds in all; kill one that
    outlives it. Raises ServiceFailed with the end of the log of each that
    failed, named ``<what> <name>``."""
    deadline = time.monotonic() + timeout
    failures = []
    for name, popen, log_path in running:
        try:
            status = popen.wait(max(0, deadline - time.monotonic()))
            failure = status and 'exit status %d' % status
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()
            failure = 'no end after %ds' % timeout
        if failure:
            with open(log_path, 'rb') as log:
                output = log.read().decode('utf-8', 'replace')
            failures.append('%s %s failed (%s):\n%s' % (
                what, name, failure, output[-4000:]))
    if failures:
        raise ServiceFailed('\n'.join(failures))


def logs_of(processes, lines=40):
    return '\n'.join(process.describe(lines) for process in processes)


def _api_answers(url):
    response = requests.get(url + '/', timeout=1)
    return response.status_code == 200 and 'versions' in response.json()


def _conductors_up(endpoint, hosts, headers=None):
    response = requests.get(endpoint + '/mservices', headers=headers,
                            timeout=5)
    if response.status_code != 200:
        return False
    up = {row['host'] for row in response.json()['mservices']
          if row['binary'] == 'magnum-conductor' and row['state'] == 'up'}
    if hosts is None:
        return bool(up)
    return set(hosts) <= up


def _write_config(path, sections):
    with open(path, 'w') as f:
        for section, options in sections.items():
            f.write('[%s]\n' % section)
            for name, value in options.items():
                f.write('%s = %s\n' % (name, value))
            f.write('\n')


class _Services(fixtures.Fixture):
    """What both deployments share: a work dir, processes, clean-up."""

    def _setUp(self):
        self.processes = []
        if os.environ.get('MAGNUM_TEST_KEEP_LOGS'):
            self.work_dir = tempfile.mkdtemp(prefix='magnum-functional-')
            sys.stderr.write('magnum functional logs in %s\n' % self.work_dir)
        else:
            self.work_dir = self.useFixture(fixtures.TempDir()).path
        # NOTE: registered before anything starts, so a failure half-way
        # through set-up still stops what did start.
        self.addCleanup(lambda: stop_all(self.processes))

    def _start(self, name, argv, env=None):
        process = Process(name, argv,
                          os.path.join(self.work_dir, '%s.log' % name),
                          env=env, cwd=self.work_dir).start()
        self.processes.append(process)
        return process

    @property
    def endpoint(self):
        """The v1 endpoint, as clients are given it."""
        return self.url + '/v1'

    def logs(self, lines=40):
        """The tails of every process's log, for assertion messages."""
        return logs_of(self.processes, lines)

    def _start_api(self, name, start):
        """Start the API with ``start(port)`` on a free port until it
        answers ``GET /``; again on another port if another process took
        this one between our check and gunicorn's bind.
        """
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            self.port = free_port()
            self.url = 'http://127.0.0.1:%d' % self.port
            process = start(self.port)

            def answers():
                if _PORT_TAKEN in process.tail(20):
                    raise _PortTaken()
                return _api_answers(self.url)

            try:
                wait_for(answers, 'GET %s/' % self.url, self.processes)
                return process
            except (_PortTaken, ServiceFailed):
                # NOTE: gunicorn may have given up on the port (and exited)
                # before a poll saw why.
                if _PORT_TAKEN not in process.tail(20):
                    raise
                if attempt == _PORT_ATTEMPTS:
                    raise ServiceFailed('%s found no free port in %d tries\n%s'
                                        % (name, attempt, self.logs()))
                # NOTE: gunicorn handles no signal until it gives up on the
                # port (5 s); it has served nothing, so no grace.
                process.stop(grace=0)
                self.processes.remove(process)
                os.rename(process.log_path, '%s.%d' % (process.log_path,
                                                       attempt))

    def _auth_headers(self):
        """Headers that let the fixture read /v1/mservices (none: noauth)."""
        return {}

    def _wait_until_up(self, hosts):
        wait_for(lambda: _conductors_up(self.endpoint, hosts,
                                        self._auth_headers()),
                 'the conductor(s) %s up in %s/mservices'
                 % (', '.join(hosts or ['(any)']), self.endpoint),
                 self.processes)


class MagnumServices(_Services):
    """magnum-api and magnum-conductor(s) on RabbitMQ and a database.

    Attributes once set up: ``url`` (``http://127.0.0.1:<port>``),
    ``endpoint`` (``url + '/v1'``), ``config_file``, ``topic`` (unique, so
    other runs never share the queue), ``conductor_hosts``, ``work_dir``
    (configuration and logs), ``api`` and ``conductors`` (``Process``).
    """

    def __init__(self, database_url, transport_url=RABBIT_URL, conductors=1,
                 periodic_interval=1, service_down_time=10, extra=None):
        super().__init__()
        self.database_url = database_url
        self.transport_url = transport_url
        self.conductor_count = conductors
        self.periodic_interval = periodic_interval
        self.service_down_time = service_down_time
        self.extra = extra or {}

    def setUp(self):
        # NOTE: before Fixture.setUp, which would turn a skip into an error.
        if self.transport_url.startswith('rabbit:'):
            check_rabbitmq(self.transport_url)
        super().setUp()

    def _setUp(self):
        self.run = run = uuid.uuid4().hex[:10]
        self.topic = 'magnum-conductor-test-%s' % run
        self.conductor_hosts = ['conductor-%s-%d' % (run, n)
                                for n in range(self.conductor_count)]
        # NOTE: before super() registers stopping the processes, so it runs
        # after they stopped.
        self.addCleanup(self._delete_queues)
        super()._setUp()
        self.config_file = os.path.join(self.work_dir, 'magnum.conf')
        self._write_config(port=free_port())
        self._upgrade()

        self.conductors = []
        for host in self.conductor_hosts:
            self.conductors.append(self._start_conductor(host))

        def start_api(port):
            self._write_config(port)
            return self._start('magnum-api', [
                script('magnum-api'), '--config-file', self.config_file])

        self.api = self._start_api('magnum-api', start_api)
        self._wait_until_up(self.conductor_hosts)

    def _start_conductor(self, host):
        # Each conductor's own host name, in a second file that wins.
        own = os.path.join(self.work_dir, '%s.conf' % host)
        _write_config(own, {'DEFAULT': {'host': host}})
        return self._start(host, [
            script('magnum-conductor'), '--config-file', self.config_file,
            '--config-file', own])

    def next_conductor_host(self):
        """The host name ``add_conductor`` gives the next conductor."""
        return 'conductor-%s-%d' % (self.run, len(self.conductor_hosts))

    def add_conductor(self):
        """Start one more conductor; returns its ``Process`` once it is up
        in ``/v1/mservices`` (its host is ``process.name``).
        """
        host = self.next_conductor_host()
        self.conductor_hosts.append(host)
        process = self._start_conductor(host)
        self.conductors.append(process)
        self._wait_until_up([host])
        return process

    def kill_conductor(self, process):
        """``kill -9`` a conductor (its whole process group), no clean-up
        of its own: it leaves its reservations and heartbeat row behind.
        """
        os.killpg(process.pid, signal.SIGKILL)
        process.popen.wait()
        self.processes.remove(process)
        self.conductors.remove(process)

    def _delete_queues(self):
        """The topic's queues outlive the conductors (they are not
        auto-delete); a unique topic a run would pile them up in the broker.
        """
        if not self.transport_url.startswith('rabbit:'):
            return
        names = [self.topic] + ['%s.%s' % (self.topic, host)
                                for host in self.conductor_hosts]
        # NOTE: and each conductor's pool of Heat's notifications
        # (magnum/drivers/heat/notifications.py), when they are heard on
        # this broker.
        names += ['magnum-conductor-%s' % host
                  for host in self.conductor_hosts]
        url = self.transport_url.replace('rabbit://', 'amqp://', 1)
        try:
            with kombu.Connection(url, connect_timeout=5) as connection:
                channel = connection.channel()
                for name in names:
                    channel.queue_delete(name)
        except Exception as e:  # the broker's hygiene, not the test's
            sys.stderr.write('could not delete the queues %s: %s\n'
                             % (names, e))

    def _write_config(self, port):
        sections = {
            'DEFAULT': {'host': 'api-%s' % self.run,
                        'transport_url': self.transport_url,
                        'auth_strategy': 'noauth'},
            'conductor': {'topic': self.topic,
                          'periodic_interval': self.periodic_interval,
                          'service_down_time': self.service_down_time},
            'database': {'connection': self.database_url},
            'api': {'host': '127.0.0.1', 'port': port},
            # NOTE: conductors in keystone mode refuse to start without it
            # (magnum/common/keystore.py); one random key a run.
            'certificates': {'encryption_key': 'functional-test-key-%s-%s'
                             % (self.run, self.run)},
        }
        for section, options in self.extra.items():
            sections.setdefault(section, {}).update(options)
        _write_config(self.config_file, sections)

    def _upgrade(self):
        log_path = os.path.join(self.work_dir, 'magnum-db-manage.log')
        with open(log_path, 'wb') as log:
            try:
                result = subprocess.run(
                    [script('magnum-db-manage'), '--config-file',
                     self.config_file, 'upgrade'],
                    stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, env=_child_environment(None),
                    cwd=self.work_dir, timeout=START_TIMEOUT)
                failure = result.returncode and 'exit status %d' % (
                    result.returncode)
            except subprocess.TimeoutExpired:
                failure = 'no end after %ds' % START_TIMEOUT
        if failure:
            with open(log_path, 'rb') as log:
                output = log.read().decode('utf-8', 'replace')
            raise ServiceFailed('magnum-db-manage upgrade failed (%s):\n%s'
                                % (failure, output[-4000:]))


class MagnumAll(_Services):
    """magnum-all with no configuration file, in a fresh home directory.

    Attributes once set up: ``url``, ``endpoint``, ``home`` (its state is in
    ``home/.magnum``), ``work_dir``, ``process``.
    """

    def _setUp(self):
        super()._setUp()
        self.home = os.path.join(self.work_dir, 'home')
        os.mkdir(self.home)

        def start(port):
            return self._start('magnum-all', [script('magnum-all')], env={
                'HOME': self.home,
                'OS_API__PORT': str(port),
            })

        self.process = self._start_api('magnum-all', start)
        self._wait_until_up(None)


@contextlib.contextmanager
def running(fixture):
    """Set ``fixture`` up, yield it, clean it up (for pytest fixtures).

    A set-up failure (already cleaned up by fixtures) is raised as itself.
    """
    try:
        fixture.setUp()
    except fixtures.MultipleExceptions as e:
        first = e.args[0]
        raise first[1].with_traceback(first[2])
    try:
        yield fixture
    finally:
        fixture.cleanUp()


@contextlib.contextmanager
def deployment(kind):
    """A running Magnum of one ``kind``, stopped (and its database dropped)
    on exit: ``postgresql`` or ``mysql`` (magnum-api and magnum-conductor
    on RabbitMQ), or ``all`` (magnum-all on SQLite, no configuration).
    """
    if kind == 'all':
        with running(MagnumAll()) as magnum:
            yield magnum
        return
    databases = {'postgresql': db_servers.PostgresDatabase,
                 'mysql': db_servers.MySQLDatabase}
    with running(databases[kind]()) as database:
        with running(MagnumServices(database.url)) as magnum:
            yield magnum


def unique_name(prefix):
    """A name no other test or run uses."""
    return '%s-%s' % (prefix, uuid.uuid4().hex[:8])


def wait_for_bay(api, magnum, ident, statuses, timeout=30):
    """The bay once its status is one of ``statuses`` (None: it is gone)."""
    deadline = time.monotonic() + timeout
    while True:
        response = api.get('/v1/bays/%s' % ident)
        if response.status_code == 404 and None in statuses:
            return None
        assert response.status_code == 200, response.text
        bay = response.json()
        if bay['status'] in statuses:
            return bay
        if time.monotonic() > deadline:
            raise AssertionError(
                'bay %s is still %s (%s) after %ds, not %s\n%s' % (
                    ident, bay['status'], bay.get('status_reason'), timeout,
                    statuses, magnum.logs()))
        time.sleep(0.1)


def counts(api):
    """How many BayModels and Bays the caller sees."""
    return (len(api.get('/v1/baymodels').json()['baymodels']),
            len(api.get('/v1/bays').json()['bays']))


REQUEST_ID = 'X-OpenStack-Request-Id'


class Client:
    """A small HTTP client of one Magnum; every answer must carry a
    request id and match the API's description (magnum/tests/
    openapi_check.py), errors or not (an AssertionError otherwise).
    """

    def __init__(self, magnum, headers=None):
        self.magnum = magnum
        self.session = requests.Session()
        self.session.headers.update(headers or {})
        self.responses = 0

    def request(self, method, path, **kwargs):
        url = path if '://' in path else self.magnum.url + path
        kwargs.setdefault('timeout', 30)
        response = self.session.request(method, url, **kwargs)
        self.responses += 1
        assert response.headers.get(REQUEST_ID, '').startswith('req-'), (
            '%s %s answered %s without %s: %r' % (
                method, path, response.status_code, REQUEST_ID,
                dict(response.headers)))
        if url.startswith(self.magnum.url):
            openapi_check.check(method, url[len(self.magnum.url):] or '/',
                                response.status_code, response.text)
        return response

    def get(self, path, **kwargs):
        return self.request('GET', path, **kwargs)

    def post(self, path, **kwargs):
        return self.request('POST', path, **kwargs)

    def patch(self, path, **kwargs):
        return self.request('PATCH', path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request('DELETE', path, **kwargs)

    def close(self):
        self.session.close()


def faultstring(response):
    """The human message of an error answer (what every client prints)."""
    return json.loads(response.json()['error_message'])['faultstring']
