"""Real python-magnumclient releases, each in its own virtualenv.

The clients are the judge of the API (API.md), so the functional tests run
their real ``magnum`` command line. Each release lives in a virtualenv under
``~/.cache/magnum-tests/magnumclient-<version>`` (``MAGNUM_TEST_CACHE``
moves the root), built with ``python3 -m venv`` and ``pip install
python-magnumclient==<version> six`` the first time and reused afterwards.
A lock file keeps two test processes from building the same one at once; a
marker file written last tells a finished virtualenv from a half-built one.

``ClientVenv(version).cli(endpoint)`` gives a ``CLI`` that runs ``magnum``
in token mode, no Keystone::

    magnum --os-token T --os-endpoint-override http://127.0.0.1:PORT/v1 ...

``ClientVenv(version).keystone_cli(auth_url, user, password, project)``
gives a ``KeystoneCLI`` with Keystone v3 password auth and the endpoint
from the catalog (the 2.x releases know no token mode), the password in
``OS_PASSWORD``, never in an argv. ``parse_table`` / ``parse_properties``
read the tables a CLI prints.
"""

import fcntl
import os
import shutil
import subprocess
import sys

import pytest

CACHE = os.environ.get(
    'MAGNUM_TEST_CACHE',
    os.path.join(os.path.expanduser('~'), '.cache', 'magnum-tests'))
# Seconds pip may take to build a virtualenv, and a CLI call to finish.
BUILD_TIMEOUT = 600
RUN_TIMEOUT = 60
_COMPLETE = '.complete'


class ClientUnavailable(pytest.skip.Exception):
    """The client cannot be installed here (skips, unless CI is set)."""


def _python():
    # NOTE: the base interpreter, not this venv's: a venv made from inside
    # another venv would otherwise inherit nothing but still be tied to it.
    return getattr(sys, '_base_executable', None) or shutil.which(
        'python3') or sys.executable


class ClientVenv:
    """A python-magnumclient release installed in its own virtualenv."""

    def __init__(self, version='3.7.0', extra=('six',)):
        self.version = version
        self.requirements = ['python-magnumclient==%s' % version] + list(
            extra)
        self.path = os.path.join(CACHE, 'magnumclient-%s' % version)
        self.magnum = os.path.join(self.path, 'bin', 'magnum')
        self.python = os.path.join(self.path, 'bin', 'python')

    def ready(self):
        return os.path.exists(os.path.join(self.path, _COMPLETE))

    def ensure(self):
        """Build the virtualenv unless a finished one is there; return self.

        A failed build skips the test (fails it under CI) with pip's output.
        """
        if self.ready():
            return self
        os.makedirs(CACHE, exist_ok=True)
        with open(self.path + '.lock', 'w') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not self.ready():
                self._build()
        return self

    def _build(self):
        shutil.rmtree(self.path, ignore_errors=True)
        steps = [
            [_python(), '-m', 'venv', self.path],
            [self.python, '-m', 'pip', 'install', '-q',
             '--disable-pip-version-check'] + self.requirements,
        ]
        for argv in steps:
            try:
                result = subprocess.run(
                    argv, stdin=subprocess.DEVNULL, capture_output=True,
                    text=True, timeout=BUILD_TIMEOUT, env=_environment())
            except subprocess.TimeoutExpired as e:
                self._unavailable('%s timed out: %s' % (argv[:4], e))
            if result.returncode:
                shutil.rmtree(self.path, ignore_errors=True)
                self._unavailable('%s failed (%d):\n%s%s' % (
                    ' '.join(argv), result.returncode, result.stdout[-3000:],
                    result.stderr[-3000:]))
        with open(os.path.join(self.path, _COMPLETE), 'w') as marker:
            marker.write(' '.join(self.requirements) + '\n')

    def _unavailable(self, reason):
        reason = 'python-magnumclient %s: %s' % (self.version, reason)
        if os.environ.get('CI'):
            pytest.fail(reason, pytrace=False)
        raise ClientUnavailable(reason)

    def cli(self, endpoint, token='magnum-functional-test'):
        return CLI(self.magnum, endpoint, token)

    def keystone_cli(self, auth_url, username, password, project,
                     domain='Default'):
        """A ``CLI`` with Keystone password auth, the endpoint found in
        the catalog (see ``KeystoneCLI``).
        """
        return KeystoneCLI(self.magnum, auth_url, username, password,
                           project, domain)


def _environment():
    # NOTE: the clients read OS_AUTH_URL, OS_TOKEN, OS_CLOUD... from the
    # environment; none of the caller's may reach them.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith('OS_')}
    env['PYTHONUNBUFFERED'] = '1'
    return env


class Result:
    """What a CLI call did: its command line, exit code and output."""

    def __init__(self, argv, returncode, stdout, stderr):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def output(self):
        return self.stdout + self.stderr

    def __str__(self):
        return '$ %s\n(exit %s)\n--- stdout:\n%s\n--- stderr:\n%s' % (
            ' '.join(self.argv), self.returncode, self.stdout, self.stderr)


class CLI:
    """The ``magnum`` command line of one client, in token mode."""

    def __init__(self, magnum, endpoint, token):
        self.magnum = magnum
        self.endpoint = endpoint
        self.token = token

    def _argv(self, args):
        return [self.magnum, '--os-token', self.token,
                '--os-endpoint-override', self.endpoint] + list(args)

    def _environment(self):
        return _environment()

    def run(self, *args):
        argv = self._argv(args)
        try:
            done = subprocess.run(argv, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True,
                                  timeout=RUN_TIMEOUT,
                                  env=self._environment())
        except subprocess.TimeoutExpired as e:
            raise AssertionError('%s did not finish in %ds:\n%s\n%s' % (
                ' '.join(argv), RUN_TIMEOUT, e.stdout, e.stderr))
        return Result(argv, done.returncode, done.stdout, done.stderr)

    def ok(self, *args):
        """Run a command that must succeed (exit 0, no ERROR)."""
        result = self.run(*args)
        assert result.returncode == 0 and 'ERROR' not in result.output, (
            str(result))
        return result


class KeystoneCLI(CLI):
    """The ``magnum`` command line with Keystone (v3) password auth::

        magnum --os-auth-url K/v3 --os-username U --os-tenant-name P \\
            --os-user-domain-name Default --os-project-domain-name Default

    The endpoint comes from Keystone's catalog (``--bypass-url`` is not
    given). The password goes in ``OS_PASSWORD`` (2.1.0 reads
    ``--os-password`` from it), never in the argv, so no ``Result`` or
    assertion message shows it.
    """

    def __init__(self, magnum, auth_url, username, password, project,
                 domain='Default'):
        super().__init__(magnum, None, None)
        self.auth_url = auth_url
        self.username = username
        self._password = password
        self.project = project
        self.domain = domain

    def _argv(self, args):
        return [self.magnum, '--os-auth-url', self.auth_url,
                '--os-username', self.username,
                '--os-tenant-name', self.project,
                '--os-user-domain-name', self.domain,
                '--os-project-domain-name', self.domain] + list(args)

    def _environment(self):
        env = _environment()
        env['OS_PASSWORD'] = self._password
        return env


def parse_table(text):
    """The rows of the (one) prettytable in ``text``, as dicts."""
    lines = [line.strip() for line in text.splitlines()]
    rows = [line for line in lines if line.startswith('|')]
    if not rows:
        return []
    cells = [[cell.strip() for cell in row.strip('|').split('|')]
             for row in rows]
    header, body = cells[0], cells[1:]
    return [dict(zip(header, row)) for row in body]


def parse_properties(text):
    """A ``Property | Value`` table (the *-show commands) as a dict."""
    return {row['Property']: row['Value'] for row in parse_table(text)
            if 'Property' in row}


# -- the BayModel half of the bay-era tour, the same for every release ------

TOUR_SOCKET = 'unix:///nonexistent.sock'
# Every release's baymodel-create requires these (and --coe).
TOUR_REQUIRED = ['--image-id', 'fedora-atomic', '--keypair-id', 'default',
                 '--external-network-id', 'public']


def baymodel_tour(cli, name, *extra):
    """baymodel-create, -list, -show and -update; the new BayModel's uuid.

    The BayModel points the static provisioner at a socket that does not
    exist, so its bays fail with the endpoint's error.
    """
    result = cli.ok('baymodel-create', '--name', name, '--coe', 'docker',
                    *TOUR_REQUIRED, '--labels', 'docker_url=%s' % TOUR_SOCKET,
                    '--dns-nameserver', '8.8.8.8',
                    '--docker-volume-size', '3',
                    '--http-proxy', 'http://proxy.example:3128',
                    '--tls-disabled', *extra)
    created = parse_properties(result.stdout)
    assert created['name'] == name, str(result)
    assert created['coe'] == 'docker'
    assert created['dns_nameserver'] == '8.8.8.8'
    assert created['docker_volume_size'] == '3'
    assert created['image_id'] == 'fedora-atomic'
    assert created['keypair_id'] == 'default'
    assert created['external_network_id'] == 'public'
    assert created['tls_disabled'] == 'True'
    assert TOUR_SOCKET in created['labels']
    uuid = created['uuid']

    rows = parse_table(cli.ok('baymodel-list').stdout)
    assert {'uuid': uuid, 'name': name} in rows

    shown = parse_properties(cli.ok('baymodel-show', name).stdout)
    assert shown['uuid'] == uuid
    assert shown['http_proxy'] == 'http://proxy.example:3128'
    assert shown['keypair_id'] == 'default'

    # The CLI sends every patch value as a string.
    result = cli.ok('baymodel-update', name, 'replace',
                    'dns_nameserver=1.1.1.1', 'docker_volume_size=5')
    updated = parse_properties(result.stdout)
    assert updated['dns_nameserver'] == '1.1.1.1', str(result)
    assert updated['docker_volume_size'] == '5'
    assert updated['uuid'] == uuid
    return uuid
