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

``osc_venv(version)`` is a release with python-openstackclient beside it;
its ``osc(endpoint)`` runs ``openstack coe ...`` without Keystone
(``--os-auth-type none --os-endpoint``) and ``keystone_osc(...)`` with
Keystone password auth, the endpoint found in the catalog under
``container-infra`` (``OSC`` / ``KeystoneOSC``). ``coe_tour`` and
``coe_ca_tour`` are the cluster era's tours that every OSC release and
both ways of authenticating run.
"""

import atexit
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

from cryptography import exceptions as crypto_exceptions
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import serialization
import pytest

from magnum.common import x509
from magnum.tests.functional import processes

CACHE = os.environ.get(
    'MAGNUM_TEST_CACHE',
    os.path.join(os.path.expanduser('~'), '.cache', 'magnum-tests'))
# Seconds pip may take to build a virtualenv, and a CLI call to finish.
BUILD_TIMEOUT = 600
RUN_TIMEOUT = 60
# Seconds a CLI fork server may take to import its client.
START_TIMEOUT = 120
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
                    text=True, timeout=BUILD_TIMEOUT, env=environment())
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

    def osc(self, endpoint):
        """``openstack coe`` without Keystone (see ``OSC``)."""
        return OSC(self, endpoint)

    def keystone_osc(self, auth_url, username, password, project,
                     domain='Default'):
        """``openstack coe`` with Keystone password auth (``KeystoneOSC``).
        """
        return KeystoneOSC(self, auth_url, username, password, project,
                           domain)


OSC_RELEASES = ('4.11.0', '5.0.0')


def osc_venv(version):
    """A release with python-openstackclient (``openstack coe``), built."""
    return ClientVenv(version, extra=('six', 'python-openstackclient')
                      ).ensure()


def environment():
    """The caller's environment for a client: no ``OS_*`` variable."""
    # NOTE: the clients read OS_AUTH_URL, OS_TOKEN, OS_CLOUD... from the
    # environment; none of the caller's may reach them.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith('OS_')}
    env['PYTHONUNBUFFERED'] = '1'
    # NOTE: ``coe cluster config`` reads os.environ['SHELL'] to choose
    # between ``export`` and ``setenv``, and fails with KeyError 'SHELL'
    # where it is unset (CI runs with no login shell).
    env.setdefault('SHELL', '/bin/sh')
    return env


class _ForkServer:
    """One ``cli_forkserver.py`` of a console script: runs a command in a
    fork of an interpreter that has imported the client already (see that
    module), with the argv, environment and working directory a subprocess
    would have had, and its output in files.
    """

    _SCRIPT = os.path.join(os.path.dirname(__file__), 'cli_forkserver.py')

    def __init__(self, script):
        self.directory = tempfile.mkdtemp(prefix='magnum-cli-')
        python = os.path.join(os.path.dirname(script), 'python')
        self.process = subprocess.Popen(
            [python, '-I', self._SCRIPT, script,
             os.path.join(self.directory, 'learned')],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env=environment())

    def _answer(self, timeout=None):
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else None
        if ready and not line:
            raise EOFError('the CLI fork server ended')
        return json.loads(line) if line else None

    def run(self, argv, env):
        """(returncode, stdout, stderr, finished in time)"""
        out = os.path.join(self.directory, 'stdout')
        err = os.path.join(self.directory, 'stderr')
        self.process.stdin.write(json.dumps({
            'argv': argv, 'env': env, 'cwd': os.getcwd(),
            'stdout': out, 'stderr': err}) + '\n')
        self.process.stdin.flush()
        # NOTE: a new server answers once it has imported the client.
        started = self._answer(START_TIMEOUT)
        if started is None:
            raise OSError('the CLI fork server did not start in %ds'
                          % START_TIMEOUT)
        pid = started['pid']
        answer = self._answer(RUN_TIMEOUT)
        in_time = answer is not None
        if not in_time:
            os.kill(pid, signal.SIGKILL)
            answer = self._answer()
        with open(out, errors='replace') as stdout, \
                open(err, errors='replace') as stderr:
            return (answer['returncode'], stdout.read(), stderr.read(),
                    in_time)

    def stop(self):
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


class _ForkServers:
    """Idle fork servers by console script; a caller takes one (a new
    one when all are busy: concurrent callers each get their own) and
    gives it back. MAGNUM_TEST_CLI_FORK=0 runs every command as a plain
    subprocess instead."""

    def __init__(self):
        self._idle = {}
        self._all = []
        self._lock = threading.Lock()
        atexit.register(self.stop)

    def enabled(self):
        return os.environ.get('MAGNUM_TEST_CLI_FORK', '1') != '0'

    def run(self, argv, env):
        script = argv[0]
        with self._lock:
            idle = self._idle.setdefault(script, [])
            server = idle.pop() if idle else None
        if server is None:
            server = _ForkServer(script)
            with self._lock:
                self._all.append(server)
        try:
            returncode, stdout, stderr, in_time = server.run(argv, env)
        except (EOFError, OSError, ValueError):
            server.stop()
            raise
        with self._lock:
            idle.append(server)
        return returncode, stdout, stderr, in_time

    def stop(self):
        with self._lock:
            servers, self._all, self._idle = self._all, [], {}
        for server in servers:
            server.stop()


_FORK_SERVERS = _ForkServers()


def run(argv, env):
    """A ``Result``: console script ``argv[0]`` of a client virtualenv run
    with ``argv`` and ``env`` (see ``environment``), in a fork server
    unless MAGNUM_TEST_CLI_FORK=0; an AssertionError after RUN_TIMEOUT.
    """
    if _FORK_SERVERS.enabled():
        returncode, stdout, stderr, in_time = _FORK_SERVERS.run(argv, env)
        if not in_time:
            raise AssertionError('%s did not finish in %ds:\n%s\n%s' % (
                ' '.join(argv), RUN_TIMEOUT, stdout, stderr))
        return Result(argv, returncode, stdout, stderr)
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True,
                              timeout=RUN_TIMEOUT, env=env)
    except subprocess.TimeoutExpired as e:
        raise AssertionError('%s did not finish in %ds:\n%s\n%s' % (
            ' '.join(argv), RUN_TIMEOUT, e.stdout, e.stderr))
    return Result(argv, done.returncode, done.stdout, done.stderr)


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
        return environment()

    def run(self, *args):
        return run(self._argv(args), self._environment())

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
        env = environment()
        env['OS_PASSWORD'] = self._password
        return env


class OSC(CLI):
    """``openstack coe ...`` of one client release, no Keystone::

        openstack --os-auth-type none --os-endpoint http://HOST:PORT/v1 coe ...
    """

    def __init__(self, venv, endpoint):
        super().__init__(os.path.join(venv.path, 'bin', 'openstack'),
                         endpoint, None)
        self.version = venv.version
        # Global options (``--debug``) go before ``coe``.
        self.options = []

    def _argv(self, args):
        return [self.magnum, '--os-auth-type', 'none', '--os-endpoint',
                self.endpoint] + self.options + ['coe'] + list(args)

    def ok(self, *args):
        """Run a command that must exit 0."""
        result = self.run(*args)
        assert result.returncode == 0, str(result)
        return result

    def json(self, *args):
        result = self.ok(*(args + ('-f', 'json')))
        # NOTE: some commands print a sentence before the JSON.
        text = result.stdout
        start = min([i for i in (text.find('{'), text.find('[')) if i >= 0],
                    default=0)
        try:
            return json.loads(text[start:])
        except ValueError:
            raise AssertionError('not JSON:\n%s' % result)


class KeystoneOSC(OSC):
    """``openstack coe ...`` with Keystone v3 password auth::

        openstack --os-auth-type password --os-auth-url K/v3 \\
            --os-username U --os-project-name P \\
            --os-user-domain-name Default --os-project-domain-name Default \\
            --os-region-name RegionOne coe ...

    magnum's endpoint comes from the token's catalog (service type
    ``container-infra``; no ``--os-endpoint``). The password goes in
    ``OS_PASSWORD``, never in the argv.
    """

    def __init__(self, venv, auth_url, username, password, project,
                 domain='Default', region='RegionOne'):
        super().__init__(venv, None)
        self.auth_url = auth_url
        self.username = username
        self._password = password
        self.project = project
        self.domain = domain
        self.region = region

    def _argv(self, args):
        return [self.magnum, '--os-auth-type', 'password',
                '--os-identity-api-version', '3',
                '--os-auth-url', self.auth_url,
                '--os-username', self.username,
                '--os-project-name', self.project,
                '--os-user-domain-name', self.domain,
                '--os-project-domain-name', self.domain,
                '--os-region-name', self.region] + self.options + [
                    'coe'] + list(args)

    def _environment(self):
        env = environment()
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


# -- the cluster era's tours with ``openstack coe``, every OSC release -------

# A Kubernetes endpoint that refuses connections: plain http, so a static
# provisioner with [static] certificate_dir does not wait for it to serve
# the bay's certificates; the cluster fails to create, and a failed cluster
# can still be resized, upgraded and deleted.
TOUR_KUBE_URL = 'http://127.0.0.1:1'


def _wait(api, magnum, uuid, statuses):
    return processes.wait_for_bay(api, magnum, uuid, statuses)


def coe_tour(osc, api, magnum, admin=None, project='default', seen=None):
    """cluster template create/list/show/delete, cluster create/list/show/
    resize/upgrade/delete, nodegroup list/create/show/update/delete,
    quotas create/show/update/list/delete (as ``admin``, an OSC; ``osc``
    when not given), stats list of ``project`` (the caller's project id)
    and credential rotate, with ``osc`` (an ``OSC`` or ``KeystoneOSC``).

    ``api`` is an HTTP client of the same caller (``processes.Client``),
    to wait for the asynchronous steps; ``seen(uuid)`` is called once the
    cluster exists, to look at it with another client.
    """
    admin = admin or osc
    template = processes.unique_name('ct')
    cluster = processes.unique_name('cl')
    created = osc.json('cluster', 'template', 'create', template,
                       '--coe', 'kubernetes', '--image', 'fedora',
                       '--external-network', 'public', '--keypair', 'kp',
                       '--labels', 'kube_api_url=%s,kube_tag=v1.20'
                       % TOUR_KUBE_URL)
    assert created['name'] == template and created['coe'] == 'kubernetes'
    listed = osc.json('cluster', 'template', 'list')
    assert template in [row['name'] for row in listed]
    shown = osc.json('cluster', 'template', 'show', template)
    assert shown['uuid'] == created['uuid'] and shown['keypair_id'] == 'kp'
    assert shown['labels']['kube_tag'] == 'v1.20'
    upgrade_to = processes.unique_name('ct2')
    osc.ok('cluster', 'template', 'create', upgrade_to, '--coe',
           'kubernetes', '--image', 'fedora', '--external-network', 'public',
           '--labels', 'kube_api_url=%s,kube_tag=v1.21' % TOUR_KUBE_URL)

    result = osc.ok('cluster', 'create', cluster, '--cluster-template',
                    template, '--node-count', '2', '--master-count', '1')
    assert 'accepted' in result.stdout, str(result)
    rows = osc.json('cluster', 'list')
    mine = [row for row in rows if row['name'] == cluster]
    assert len(mine) == 1, rows
    assert mine[0]['keypair'] == 'kp'
    uuid = mine[0]['uuid']
    _wait(api, magnum, uuid, ('CREATE_FAILED', 'CREATE_COMPLETE'))
    shown = osc.json('cluster', 'show', cluster)
    assert shown['cluster_template_id'] == created['uuid']
    assert shown['labels']['kube_tag'] == 'v1.20'
    if seen:
        seen(uuid)

    osc.ok('cluster', 'resize', cluster, '3')
    done = _wait(api, magnum, uuid, ('UPDATE_FAILED', 'UPDATE_COMPLETE'))
    assert done['node_count'] == 3
    osc.ok('cluster', 'upgrade', cluster, upgrade_to)
    _wait(api, magnum, uuid, ('UPDATE_FAILED', 'UPDATE_COMPLETE'))
    shown = osc.json('cluster', 'show', cluster)
    assert shown['coe_version'] == 'v1.21'

    groups = osc.json('nodegroup', 'list', cluster)
    assert {g['name'] for g in groups} == {'default-master',
                                          'default-worker'}
    registration = () if osc.version.startswith('4.') else (
        '--node-labels', 'tier=web,example.com/role=gpu',
        '--node-taints', 'gpu=true:NoSchedule,spot:NoExecute')
    osc.ok('nodegroup', 'create', cluster, 'extra', '--node-count', '1',
           *registration)
    _wait(api, magnum, uuid, ('UPDATE_FAILED', 'UPDATE_COMPLETE'))
    shown = osc.json('nodegroup', 'show', cluster, 'extra')
    assert shown['node_count'] == 1 and shown['role'] == 'worker'
    if osc.version.startswith('4.'):
        osc.ok('nodegroup', 'update', cluster, 'extra', 'replace',
               'max_node_count=4')
    else:  # 5.0.0 has options instead of a patch, and API 1.14
        assert shown['node_labels'] == {'tier': 'web',
                                        'example.com/role': 'gpu'}
        assert shown['node_taints'] == [
            {'key': 'gpu', 'value': 'true', 'effect': 'NoSchedule'},
            {'key': 'spot', 'value': '', 'effect': 'NoExecute'}]
        osc.ok('nodegroup', 'update', cluster, 'extra', '--max-nodes', '4',
               '--node-labels', 'tier=db')
        _wait(api, magnum, uuid, ('UPDATE_FAILED', 'UPDATE_COMPLETE'))
        refused = osc.run('nodegroup', 'create', cluster, 'bad',
                          '--node-labels', 'kubernetes.io/role=x')
        assert refused.returncode != 0, str(refused)
        assert 'node_labels.kubernetes.io/role' in refused.stderr, str(
            refused)
        assert '(HTTP 400)' in refused.stderr, str(refused)
    shown = osc.json('nodegroup', 'show', cluster, 'extra')
    assert shown['max_node_count'] == 4
    if not osc.version.startswith('4.'):
        assert shown['node_labels'] == {'tier': 'db'}
    osc.ok('nodegroup', 'delete', cluster, 'extra')
    _wait(api, magnum, uuid, ('UPDATE_FAILED', 'UPDATE_COMPLETE'))
    # NOTE: checks through the API where a client call would only repeat
    # one made above (each costs a second of the client's imports).
    groups = api.get('/v1/clusters/%s/nodegroups' % uuid, headers={
        'OpenStack-API-Version': 'container-infra latest'})
    assert groups.status_code == 200, groups.text
    assert 'extra' not in [g['name'] for g in groups.json()['nodegroups']]

    if not osc.version.startswith('4.'):
        # 5.0.0's ``update`` commands: labels by key, recorded on the
        # cluster; the template the cluster left may change.
        osc.ok('cluster', 'update', cluster, '--label', 'tier=web',
               '--label', 'example.com/zone=a', '--no-label', 'kube_tag')
        labels = osc.json('cluster', 'show', cluster)['labels']
        assert labels['tier'] == 'web' and 'kube_tag' not in labels, labels
        assert labels['example.com/zone'] == 'a', labels
        osc.ok('cluster', 'template', 'update', template, '--label',
               'extra=1', '--no-label', 'kube_tag', '--network-driver',
               'calico')
        shown = osc.json('cluster', 'template', 'show', template)
        assert shown['labels'].get('extra') == '1', shown['labels']
        assert 'kube_tag' not in shown['labels']
        assert shown['network_driver'] == 'calico'
        refused = osc.run('cluster', 'template', 'update', template,
                          '--network-driver', 'weave')
        assert refused.returncode != 0, str(refused)
        assert 'network_driver' in refused.stderr, str(refused)

    other = processes.unique_name('proj')
    admin.ok('quotas', 'create', '--project-id', other, '--resource',
             'Cluster', '--hard-limit', '3')
    # NOTE: the quotas and stats commands print plain text (no -f json).
    shown = admin.ok('quotas', 'show', '--project-id', other,
                     '--resource', 'Cluster')
    assert "'hard_limit': 3" in shown.stdout or '| 3 ' in shown.stdout, (
        str(shown))
    admin.ok('quotas', 'update', '--project-id', other, '--resource',
             'Cluster', '--hard-limit', '4')
    listed = admin.ok('quotas', 'list', '--all-tenants')
    assert other in listed.stdout, str(listed)
    admin.ok('quotas', 'delete', '--project-id', other, '--resource',
             'Cluster')
    assert other not in admin.ok('quotas', 'list', '--all-tenants').stdout
    stats = osc.ok('stats', 'list', project)
    assert 'clusters' in stats.stdout, str(stats)

    result = osc.ok('credential', 'rotate', cluster)
    # NOTE: the command prints a failure and exits 0 all the same.
    assert 'accepted' in result.stdout, str(result)
    _wait(api, magnum, uuid, ('UPDATE_FAILED', 'UPDATE_COMPLETE'))

    osc.ok('cluster', 'delete', cluster)
    _wait(api, magnum, uuid, (None,))
    for name in (template, upgrade_to):
        osc.ok('cluster', 'template', 'delete', name)
        assert api.get('/v1/clustertemplates/%s' % name).status_code == 404
    return uuid


def _csr_file(directory, cn):
    csr = x509.make_csr(x509.new_key(), x509.name(cn, 'tenants'))
    path = os.path.join(directory, '%s.csr' % cn)
    with open(path, 'wb') as f:
        f.write(csr.public_bytes(serialization.Encoding.PEM))
    return path


def _pem_in(result):
    text = result.stdout
    start = text.find('-----BEGIN CERTIFICATE-----')
    end = text.find('-----END CERTIFICATE-----')
    assert 0 <= start < end, str(result)
    return cx509.load_pem_x509_certificate(
        text[start:end + len('-----END CERTIFICATE-----')].encode())


def _issued_by(cert, ca):
    try:
        cert.verify_directly_issued_by(ca)
        return True
    except (crypto_exceptions.InvalidSignature, ValueError, TypeError):
        return False


def coe_ca_tour(osc, api, magnum, docker_url):
    """ca show, ca sign, ca rotate and credential rotate with ``osc`` on a
    fresh docker cluster whose static endpoint (``docker_url``, a real
    Docker Engine) answers, so that it is CREATE_COMPLETE (a CA rotates
    only on a cluster that is up; the conductors need ``[static]
    certificate_dir``). The CA the client shows and the one that signed
    its CSR are checked against the CA the API holds, before and after the
    rotation. Everything is deleted at the end.
    """
    template = processes.unique_name('ca-ct')
    cluster = processes.unique_name('ca-cl')
    osc.ok('cluster', 'template', 'create', template, '--coe', 'docker',
           '--image', 'busybox', '--external-network', 'none',
           '--labels', 'docker_url=%s' % docker_url)
    created = osc.ok('cluster', 'create', cluster, '--cluster-template',
                     template)
    # "Request to create cluster <uuid> accepted"
    uuid = created.stdout.split('cluster', 1)[1].split()[0]
    bay = _wait(api, magnum, uuid, ('CREATE_COMPLETE', 'CREATE_FAILED'))
    assert bay['status'] == 'CREATE_COMPLETE', bay

    def ca():
        response = api.get('/v1/certificates/%s' % uuid)
        assert response.status_code == 200, response.text
        return response.json()['pem']

    old_pem = ca()
    old_ca = cx509.load_pem_x509_certificate(old_pem.encode())
    shown = osc.ok('ca', 'show', cluster)
    assert _pem_in(shown) == old_ca, str(shown)

    with tempfile.TemporaryDirectory(prefix='mgcsr-') as directory:
        signed = osc.ok('ca', 'sign', cluster,
                        _csr_file(directory, 'osc-%s' % osc.version))
    cert = _pem_in(signed)
    assert _issued_by(cert, old_ca), str(signed)
    assert cert.subject.get_attributes_for_oid(
        cx509.NameOID.COMMON_NAME)[0].value == 'osc-%s' % osc.version
    assert 'PRIVATE KEY' not in shown.output + signed.output

    rotated = osc.ok('ca', 'rotate', cluster)
    assert 'accepted' in rotated.stdout, str(rotated)
    new_pem = ca()
    assert new_pem != old_pem
    new_ca = cx509.load_pem_x509_certificate(new_pem.encode())
    assert not _issued_by(cert, new_ca)
    assert _pem_in(osc.ok('ca', 'show', cluster)) == new_ca
    with tempfile.TemporaryDirectory(prefix='mgcsr-') as directory:
        again = osc.ok('ca', 'sign', cluster, _csr_file(directory, 'again'))
    assert _issued_by(_pem_in(again), new_ca), str(again)
    assert api.get('/v1/clusters/%s' % uuid).json()['status'] == (
        'CREATE_COMPLETE')

    result = osc.ok('credential', 'rotate', cluster)
    # NOTE: the command prints a failure and exits 0 all the same.
    assert 'accepted' in result.stdout, str(result)
    bay = _wait(api, magnum, uuid, ('UPDATE_COMPLETE', 'UPDATE_FAILED'))
    assert bay['status'] == 'UPDATE_COMPLETE', bay

    osc.ok('cluster', 'delete', cluster)
    _wait(api, magnum, uuid, (None,))
    osc.ok('cluster', 'template', 'delete', template)
    return uuid
