"""A real Keystone for the functional tests, on a free port.

Keystone runs from its own virtualenv (``tools/keystone.sh`` builds it once
under ``~/.cache/magnum-tests/keystone-venv`` and reuses it; Keystone pins
its own oslo.* and SQLAlchemy, so it never shares the project's .venv)::

    with processes.running(keystone.Keystone()) as ks:
        project = ks.create_project('demo')
        ks.create_user('alice', 'secret', project, ['member'])
        token = ks.token_for('alice', 'secret', 'demo')
        with processes.running(keystone.MagnumServices(ks, db.url)) as m:
            ...  # magnum-api with auth_strategy = keystone

``magnum_auth_config(ks)`` is the ``extra`` configuration that
``MagnumServices`` adds (``[keystone_authtoken]`` with a ``magnum`` service
user); ``keystone.MagnumServices`` also waits for the conductors with a
token, as ``/v1/mservices`` wants one once Keystone guards the API.

Set-up writes ``keystone.conf`` in a temporary directory (fernet and
credential key repositories beside it, ``[token] provider = fernet``), runs
``keystone-manage db_sync``, ``fernet_setup`` and ``credential_setup``
(keystone-manage reads ``--config-file`` only; it ignores
``OS_KEYSTONE_CONFIG_FILES``), starts gunicorn on 127.0.0.1 with
``--no-control-socket`` (otherwise every gunicorn on the machine shares one
control socket in the home directory) and, while it starts, runs
``keystone-manage bootstrap`` with its port in the catalog (a port another
process took first costs a retry and a second bootstrap, which updates the
endpoints); then waits until ``GET /v3`` answers. Each keystone-manage costs
~1.7 s of imports, so the three first steps run side by side; the admin
password reaches bootstrap as ``OS_BOOTSTRAP_PASSWORD``, never in an argv.

The WSGI app reads ``OS_KEYSTONE_CONFIG_FILES`` and parses ``sys.argv``
(gunicorn's own arguments, which it rejects), so gunicorn loads a tiny
module that clears ``sys.argv`` before importing ``keystone.wsgi.api``.

The database is SQLite in the temporary directory by default (the fastest
start), or a URL given as ``database_url`` (e.g. a
``db_servers.PostgresDatabase().url``; the virtualenv has psycopg2-binary).
Users, projects and role assignments are made through Keystone's API with
the bootstrap admin's token, as an operator would.

Attributes once set up: ``url`` (``http://127.0.0.1:PORT/v3``),
``admin_token`` (valid for an hour; ``admin_session.get_token()`` renews),
``admin_session`` (keystoneauth1, raises on errors),
``work_dir``, ``process``. Clean-up stops gunicorn's whole process group.
``MAGNUM_TEST_KEEP_LOGS=1`` keeps the work directory.
"""

import contextlib
import os
import subprocess
import sys
import tempfile
import uuid

import fixtures
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session
import pytest
import requests

from magnum.tests.functional import db_servers
from magnum.tests.functional import processes

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
SCRIPT = os.path.join(REPO, 'tools', 'keystone.sh')
# Seconds: building the virtualenv (cold: ~20 s), one keystone-manage step,
# and Keystone answering GET /v3.
BUILD_TIMEOUT = 900
MANAGE_TIMEOUT = 120
START_TIMEOUT = 60

DOMAIN = 'Default'
REGION = 'RegionOne'

_APP_MODULE = '''\
"""gunicorn's entry to Keystone: the app must not see gunicorn's argv."""
import sys

sys.argv = sys.argv[:1]

from keystone.wsgi.api import application  # noqa: E402
'''


class KeystoneUnavailable(pytest.skip.Exception):
    """Keystone (or Heat) cannot be installed here (skips, unless CI is
    set)."""


def venv(script=SCRIPT, what='Keystone'):
    """Build a service's virtualenv with ``script`` (tools/keystone.sh,
    tools/heat.sh) unless a finished one is there; its path.
    """
    try:
        result = subprocess.run(
            [script], stdin=subprocess.DEVNULL, capture_output=True,
            text=True, timeout=BUILD_TIMEOUT,
            env=processes._child_environment(None))
    except subprocess.TimeoutExpired as e:
        _unavailable(what, '%s timed out: %s' % (script, e))
    if result.returncode:
        _unavailable(what, '%s failed (%d):\n%s' % (
            script, result.returncode, result.stderr[-4000:]))
    return result.stdout.strip().splitlines()[-1]


def _unavailable(what, reason):
    reason = '%s: %s' % (what, reason)
    if os.environ.get('CI'):
        pytest.fail(reason, pytrace=False)
    raise KeystoneUnavailable(reason)


def _secret():
    return uuid.uuid4().hex


class Keystone(fixtures.Fixture):
    """Keystone (identity API v3) under gunicorn on a free port."""

    def __init__(self, database_url=None, workers=2, work_dir=None,
                 port=None):
        """``work_dir`` (made if missing) keeps Keystone's database, keys
        and admin password from one start to the next, and ``port`` is the
        only port it binds (``tools/all-in-one.sh --keystone``); by
        default a temporary directory and a free port.
        """
        super().__init__()
        self.database_url = database_url
        self.workers = workers
        self.kept_dir = work_dir
        self.fixed_port = port
        self.processes = []

    def _setUp(self):
        self.venv = venv()
        self.bin_dir = os.path.join(self.venv, 'bin')
        if self.kept_dir:
            self.work_dir = self.kept_dir
            os.makedirs(self.work_dir, mode=0o700, exist_ok=True)
        elif os.environ.get('MAGNUM_TEST_KEEP_LOGS'):
            self.work_dir = tempfile.mkdtemp(prefix='magnum-keystone-')
            sys.stderr.write('keystone logs in %s\n' % self.work_dir)
        else:
            self.work_dir = self.useFixture(fixtures.TempDir()).path
        # NOTE: registered before anything starts, so a failure half-way
        # through set-up still stops what did start.
        self.addCleanup(lambda: processes.stop_all(self.processes))
        self.admin_password = self._admin_password()
        self.config_file = os.path.join(self.work_dir, 'keystone.conf')
        self._write_config()
        with open(os.path.join(self.work_dir, 'keystone_app.py'), 'w') as f:
            f.write(_APP_MODULE)
        owner = ['--keystone-user', str(os.getuid()),
                 '--keystone-group', str(os.getgid())]
        # NOTE: each keystone-manage costs ~1.7 s of imports; the three
        # first steps are independent (the database, two key repositories)
        # and bootstrap only needs the database, so they overlap. A kept
        # directory's key repositories are not made again.
        steps = [['db_sync']]
        for repository, step in (('fernet-keys', 'fernet_setup'),
                                 ('credential-keys', 'credential_setup')):
            if not os.path.isdir(os.path.join(self.work_dir, repository)):
                steps.append([step] + owner)
        self._manage(*steps)
        self.process = self._start_gunicorn()
        self.admin_session = ks_session.Session(auth=v3.Password(
            auth_url=self.url, username='admin',
            password=self.admin_password, user_domain_name=DOMAIN,
            project_name='admin', project_domain_name=DOMAIN))
        self.admin_token = self.admin_session.get_token()
        self.addCleanup(self.admin_session.session.close)
        self._service_users = {}

    # -- set-up ---------------------------------------------------------------

    def _admin_password(self):
        """A new one, or a kept directory's own (a file only its owner
        reads)."""
        if not self.kept_dir:
            return _secret()
        path = os.path.join(self.work_dir, 'admin-password')
        if not os.path.exists(path):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, 'w') as f:
                f.write(_secret())
        with open(path) as f:
            return f.read().strip()

    def _write_config(self):
        database = self.database_url or 'sqlite:///%s' % os.path.join(
            self.work_dir, 'keystone.db')
        processes._write_config(self.config_file, {
            'DEFAULT': {'use_stderr': 'true'},
            'database': {'connection': database},
            'token': {'provider': 'fernet'},
            'fernet_tokens': {
                'key_repository': os.path.join(self.work_dir, 'fernet-keys')},
            'credential': {
                'key_repository': os.path.join(self.work_dir,
                                               'credential-keys')},
            # NOTE: bcrypt's fewest rounds: each password check (every
            # token issued, every user made) costs milliseconds, not the
            # ~0.2 s of the default 12 rounds.
            'identity': {'password_hash_rounds': '4'},
        })

    def _environment(self):
        return {'OS_KEYSTONE_CONFIG_FILES': self.config_file,
                'OS_KEYSTONE_CONFIG_DIR': ''}

    def _bootstrap_argv(self):
        return ['bootstrap',
                '--bootstrap-username', 'admin',
                '--bootstrap-project-name', 'admin',
                '--bootstrap-role-name', 'admin',
                '--bootstrap-service-name', 'keystone',
                '--bootstrap-region-id', REGION,
                '--bootstrap-admin-url', self.url,
                '--bootstrap-internal-url', self.url,
                '--bootstrap-public-url', self.url]

    def _manage(self, *steps):
        """Run ``keystone-manage`` once per step (an argv list), all at
        once; raise with the logs of those that failed.
        """
        running = []
        for args in steps:
            argv = [os.path.join(self.bin_dir, 'keystone-manage'),
                    '--config-file', self.config_file] + list(args)
            log_path = os.path.join(self.work_dir,
                                    'keystone-manage-%s.log' % args[0])
            with open(log_path, 'ab') as log:
                popen = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, cwd=self.work_dir,
                    env=processes._child_environment(dict(
                        self._environment(),
                        OS_BOOTSTRAP_PASSWORD=self.admin_password)),
                    start_new_session=True,
                    preexec_fn=processes._die_with_parent)
            running.append((args[0], popen, log_path))
        # NOTE: the password is in no argv, and so in no log.
        processes.wait_all(running, MANAGE_TIMEOUT, 'keystone-manage')

    def _start_gunicorn(self):
        for attempt in range(1, processes._PORT_ATTEMPTS + 1):
            if self.fixed_port and attempt > 1:
                raise processes.ServiceFailed(
                    'keystone: port %d is taken' % self.fixed_port)
            self.port = self.fixed_port or processes.free_port()
            self.url = 'http://127.0.0.1:%d/v3' % self.port
            log_path = os.path.join(self.work_dir, 'keystone.log')
            process = processes.Process('keystone', [
                os.path.join(self.bin_dir, 'gunicorn'),
                '--no-control-socket',
                '--bind', '127.0.0.1:%d' % self.port,
                '--workers', str(self.workers),
                '--timeout', '60',
                '--chdir', self.work_dir,
                '--pythonpath', self.work_dir,
                'keystone_app:application',
            ], log_path, env=self._environment(), cwd=self.work_dir).start()
            self.processes.append(process)

            def answers(process=process):
                if processes._PORT_TAKEN in process.tail(20):
                    raise processes._PortTaken()
                response = requests.get(self.url, timeout=2)
                return (response.status_code == 200 and response.json()[
                    'version']['id'].startswith('v3'))

            try:
                # NOTE: bootstrap (with this port in the catalog; again,
                # updating it, after a retry) while gunicorn starts.
                self._manage(self._bootstrap_argv())
                processes.wait_for(answers, 'GET %s' % self.url,
                                   self.processes, timeout=START_TIMEOUT)
                return process
            except (processes._PortTaken, processes.ServiceFailed):
                # NOTE: gunicorn gives up on a taken port after 5 s, which
                # a bootstrap on a busy machine can outlast: it has then
                # exited by the time the wait begins.
                if processes._PORT_TAKEN not in process.tail(20):
                    raise
                process.stop(grace=0)
                self.processes.remove(process)
                os.rename(log_path, '%s.%d' % (log_path, attempt))
        raise processes.ServiceFailed('keystone found no free port in %d '
                                      'tries' % processes._PORT_ATTEMPTS)

    def logs(self, lines=40):
        return processes.logs_of(self.processes, lines)

    # -- the identity API, as the admin ---------------------------------------

    def _api(self, method, path, **kwargs):
        response = self.admin_session.request(self.url + path, method,
                                              **kwargs)
        return response.json() if response.content else None

    def create_project(self, name, domain_id='default'):
        """A new project; its id."""
        return self._api('POST', '/projects', json={'project': {
            'name': name, 'domain_id': domain_id}})['project']['id']

    def project_id(self, name):
        projects = self._api('GET', '/projects', params={'name': name})
        return projects['projects'][0]['id']

    def role_id(self, name):
        """The id of role ``name``, created when it does not exist."""
        roles = self._api('GET', '/roles', params={'name': name})['roles']
        if roles:
            return roles[0]['id']
        return self._api('POST', '/roles',
                         json={'role': {'name': name}})['role']['id']

    def create_user(self, name, password, project=None, roles=(),
                    domain_id='default'):
        """A new user with ``roles`` (names) on ``project`` (an id); its id.
        """
        user_id = self._api('POST', '/users', json={'user': {
            'name': name, 'password': password, 'domain_id': domain_id,
            'default_project_id': project}})['user']['id']
        for role in roles:
            self._api('PUT', '/projects/%s/users/%s/roles/%s' % (
                project, user_id, self.role_id(role)))
        return user_id

    def ensure_project(self, name):
        """Project ``name`` (made when missing); its id."""
        found = self._api('GET', '/projects', params={'name': name})
        return (found['projects'][0]['id'] if found['projects']
                else self.create_project(name))

    def ensure_user(self, name, password, project, roles=()):
        """User ``name`` with ``password`` (set anew when the user is
        there) and ``roles`` on ``project`` (an id); its id.
        """
        found = self._api('GET', '/users', params={'name': name})['users']
        if not found:
            return self.create_user(name, password, project, roles)
        user_id = found[0]['id']
        self._api('PATCH', '/users/%s' % user_id, json={'user': {
            'password': password, 'default_project_id': project}})
        for role in roles:
            self._api('PUT', '/projects/%s/users/%s/roles/%s' % (
                project, user_id, self.role_id(role)))
        return user_id

    def token_for(self, user, password, project):
        """A project-scoped token of ``user`` (names, domain Default)."""
        response = requests.post(self.url + '/auth/tokens', timeout=30, json={
            'auth': {
                'identity': {'methods': ['password'], 'password': {'user': {
                    'name': user, 'password': password,
                    'domain': {'name': DOMAIN}}}},
                'scope': {'project': {'name': project,
                                      'domain': {'name': DOMAIN}}}}})
        if response.status_code != 201:
            # NOTE: the answer, never the password.
            raise AssertionError('no token for %s in %s: %s %s' % (
                user, project, response.status_code, response.text[:500]))
        return response.headers['X-Subject-Token']

    def service_user(self, name='magnum', project='service'):
        """A service user ``name`` (roles admin and service on
        ``project``, made when missing, its password new); ``(name,
        password)``. Once per fixture and name.
        """
        if name not in self._service_users:
            password = _secret()
            self.ensure_user(name, password, self.ensure_project(project),
                             ['admin', 'service'])
            self._service_users[name] = (name, password)
        return self._service_users[name]

    def register_magnum(self, endpoint_url, name='magnum',
                        types=('container-infra', 'container')):
        """Put magnum in the catalog under each type in ``types`` (newer
        clients look for ``container-infra``, the 2.x clients for
        ``container``), at ``endpoint_url`` (``http://127.0.0.1:PORT/v1``).
        """
        for service_type in types:
            self.register_service(name, service_type, endpoint_url)

    def _ensure_region(self, region):
        """Region ``region`` in the catalog (REGION is bootstrap's)."""
        response = self.admin_session.request(
            self.url + '/regions/%s' % region, 'GET', raise_exc=False)
        if response.status_code == 404:
            self._api('POST', '/regions', json={'region': {'id': region}})

    def register_service(self, name, service_type, endpoint_url,
                         region=REGION):
        """A catalog service with a public, internal and admin endpoint
        ``endpoint_url`` in ``region`` (made if need be).

        Idempotent: a service or endpoint already there is reused (an
        endpoint with another URL is updated), never doubled.
        """
        services = self._api('GET', '/services', params={
            'type': service_type})['services']
        mine = [s for s in services if s.get('name') == name]
        if mine:
            service_id = mine[0]['id']
        else:
            service_id = self._api('POST', '/services', json={
                'service': {'type': service_type, 'name': name,
                            'enabled': True}})['service']['id']
        if region != REGION:
            self._ensure_region(region)
        endpoints = self._api('GET', '/endpoints', params={
            'service_id': service_id})['endpoints']
        for interface in ('public', 'internal', 'admin'):
            found = [e for e in endpoints
                     if e['interface'] == interface
                     and e.get('region_id') == region]
            if not found:
                self._api('POST', '/endpoints', json={'endpoint': {
                    'service_id': service_id, 'interface': interface,
                    'region_id': region, 'url': endpoint_url,
                    'enabled': True}})
            elif found[0]['url'] != endpoint_url:
                self._api('PATCH', '/endpoints/%s' % found[0]['id'],
                          json={'endpoint': {'url': endpoint_url}})


def magnum_auth_config(keystone, name='magnum'):
    """``extra`` for ``processes.MagnumServices``: Keystone auth, with a
    service user for keystonemiddleware (it validates the users' tokens
    with its own, which needs the ``service`` or ``admin`` role).
    """
    username, password = keystone.service_user(name)
    return {
        'DEFAULT': {'auth_strategy': 'keystone'},
        'keystone_authtoken': {
            'www_authenticate_uri': keystone.url,
            'auth_url': keystone.url,
            'auth_type': 'password',
            'username': username,
            'password': password,
            'project_name': 'service',
            'user_domain_name': DOMAIN,
            'project_domain_name': DOMAIN,
            'region_name': REGION,
            # NOTE: the catalog has one URL for every interface.
            'interface': 'public',
        },
        # NOTE: the session's catalog may hold the dashboard test's
        # stand-in of Nova, Neutron and Glance (test_horizon.py) and the
        # real ones (cloud.py, in a region of their own), which the
        # made-up images and flavors of these deployments' templates are
        # not in: the checks against the cloud run where a test asks for
        # them (test_cloud_checks.py).
        'cloud_checks': {'checks': ''},
    }


class MagnumServices(processes.MagnumServices):
    """``processes.MagnumServices`` behind ``keystone``.

    The Keystone settings of ``magnum_auth_config`` come first in ``extra``
    (the caller's win).
    """

    def __init__(self, keystone, database_url, extra=None, **kwargs):
        sections = magnum_auth_config(keystone)
        for section, options in (extra or {}).items():
            sections.setdefault(section, {}).update(options)
        super().__init__(database_url, extra=sections, **kwargs)
        self.keystone = keystone

    def _auth_headers(self):
        # /v1/mservices wants a token now: the admin's.
        return {'X-Auth-Token': self.keystone.admin_session.get_token()}


class Person:
    """A user with ``roles`` in a fresh project (both named uniquely),
    behind ``keystone``: ``token`` is theirs, and with ``magnum`` ``api``
    is an HTTP client of it with that token; ``keystone_cli(venv)`` and
    ``keystone_osc(venv)`` log a client release in as them with password
    auth (the password in ``OS_PASSWORD``, never in an argv). ``close()``
    closes ``api``.
    """

    def __init__(self, keystone, magnum, who, roles):
        self.keystone = keystone
        self.project = processes.unique_name('project-%s' % who)
        self.name = processes.unique_name('user-%s' % who)
        self._password = processes.unique_name('pw')
        self.project_id = keystone.create_project(self.project)
        self.user_id = keystone.create_user(self.name, self._password,
                                            self.project_id, roles)
        self.token = keystone.token_for(self.name, self._password,
                                        self.project)
        self.api = None
        if magnum is not None:
            self.api = processes.Client(magnum, headers={
                'X-Auth-Token': self.token})

    def keystone_cli(self, venv):
        """``magnum`` of ``venv`` (a ``magnumclient.ClientVenv``)."""
        return venv.keystone_cli(self.keystone.url, self.name,
                                 self._password, self.project)

    def keystone_osc(self, venv):
        """``openstack coe`` of ``venv`` (``magnumclient.osc_venv``)."""
        return venv.keystone_osc(self.keystone.url, self.name,
                                 self._password, self.project)

    def close(self):
        if self.api is not None:
            self.api.close()


@contextlib.contextmanager
def magnum_behind(keystone, extra=None):
    """magnum-api and a conductor on PostgreSQL and RabbitMQ behind
    ``keystone``, registered in its catalog; stopped on exit.
    """
    with processes.running(db_servers.PostgresDatabase()) as database:
        with processes.running(MagnumServices(
                keystone, database.url, extra=extra)) as magnum:
            keystone.register_magnum(magnum.endpoint)
            yield magnum
