"""A real Glance, Nova API and neutron-server for the functional tests.

Each runs from its own virtualenv (``tools/glance.sh``, ``tools/nova.sh``,
``tools/neutron.sh`` build them once under ``~/.cache/magnum-tests``:
``pip install glance``, ``nova``, ``neutron``, with gunicorn and the
database drivers) behind a real Keystone (``keystone.Keystone``), on free
ports, API only::

    with processes.running(keystone.Keystone()) as ks:
        with cloud.cloud(ks) as services:     # the three at once
            image = services.glance.create_image(
                'fedora-coreos', {'os_distro': 'fedora-coreos'})
            flavor = services.nova.create_flavor('m1.small', 2048, 1, 20)
            public, _ = services.neutron.create_external_network('public')

or one alone: ``processes.running(cloud.Nova(ks))``. Each registers a
service user of its own (``keystone.service_user``: glance, nova, neutron)
and puts itself in ks's catalog, in region ``REGION``: ``image``
(``http://127.0.0.1:PORT``), ``compute`` (``http://127.0.0.1:PORT/v2.1``)
and ``network`` (``http://127.0.0.1:PORT``). ``.url`` is that URL;
``api(method, path, token=None, json=...)`` calls it with a token (the
admin's by default) and
raises ``APIError`` on an error status; ``rss()`` is the resident memory of
its processes and ``start_time`` the seconds its set-up took. Clean-up
stops the processes by PID (``processes.stop_all``: SIGTERM, SIGKILL
``STOP_GRACE`` seconds later) and drops the databases.

What is real: the services' own code, configured as their install guides
have it (keystonemiddleware validating every token with the service user,
the default policies, so the admin and project members see what they would
in a cloud), their own database schemas (made by their own migrations) on
the test servers, and their REST APIs under gunicorn:

- **Glance**: the image API v2 (``glance.wsgi.api``; its
  ``glance-api-paste.ini`` flavor ``keystone``) on PostgreSQL
  (``glance-manage db_sync``), one ``file`` store (``enabled_backends``)
  and the staging and tasks stores in the temporary directory. Images take
  properties (``os_distro``...); one made without data stays ``queued``.
- **Nova**: the compute API alone (``nova.wsgi.osapi_compute``, threads,
  no eventlet), its API database and its cell database on PostgreSQL
  (``nova-manage api_db sync`` and ``db sync --local_cell``; no cell is
  mapped, which the API only logs). Flavors and keypairs live in the API
  database and work in full; anything that needs a cell, the scheduler,
  placement or a compute host (servers) does not.
- **Neutron**: neutron-server's API (``neutron.wsgi.api``) with ML2
  (type drivers ``flat`` and ``vxlan``, VXLAN project networks, a flat
  physical network named ``external`` for provider networks, no mechanism
  driver) and the ``router`` service plugin, on MariaDB, the database
  Neutron is tested on (``neutron-db-manage upgrade heads``). Networks,
  subnets, routers with an external gateway and interfaces, security
  groups and rules, ports and floating IPs are all made and kept as in a
  cloud.

What is not: no agent, no compute, conductor or scheduler, no placement,
no hypervisor, no data path. Ports stay ``DOWN`` and unbound; routers and
floating IPs exist in the database only (neutron logs "No active L3
agents"). Neutron casts to the agents (which nobody hears) on the
session's RabbitMQ (``processes.RABBIT_URL``, or ``transport_url``), on an
exchange of its own; Nova's API gets the same transport and sends nothing
for flavors and keypairs. Neither API process consumes a queue, so runs
side by side cannot take each other's messages (unlike Heat's engine,
which gets a broker of its own). Notifications are off (``noop``).

The WSGI apps parse ``sys.argv`` (Nova, Neutron) or find their config
through environment variables (``OS_GLANCE_CONFIG_DIR``,
``OS_NOVA_CONFIG_FILES``, ``OS_NEUTRON_CONFIG_FILES``), so gunicorn loads
Glance's module as it is and tiny modules in the work directory that clear
``sys.argv`` for the other two.

Schemas: the first set-up on a virtualenv (its ``pip freeze``) migrates its
fresh database with the service's own tool and dumps it
(``pg_dump``/``mysqldump``) to ``~/.cache/magnum-tests/schemas``; later
set-ups load that dump into their fresh database (``psql``/``mysql``):
~3 s instead of ~25 s of Neutron's ~130 migrations, ~1 s instead of ~10 s
of Glance's.
``MAGNUM_TEST_SCHEMA_CACHE=0`` always migrates. A database passed in
(``database_url``) is always migrated, never loaded.

``cloud(ks)`` sets the three up side by side, each in a thread that lives
as long as its service (the processes die with the thread that started
them), and yields a ``Cloud`` (``.glance``, ``.nova``, ``.neutron``,
``summary()``: start times and memory). ``MAGNUM_TEST_KEEP_LOGS=1`` keeps
the work directories (configs and logs).
"""

import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import fixtures
import requests
from sqlalchemy.engine import url as sa_url

from magnum.tests.functional import db_servers
from magnum.tests.functional import keystone
from magnum.tests.functional import processes

TOOLS = os.path.join(keystone.REPO, 'tools')
SCHEMA_CACHE = os.path.join(
    os.environ.get('MAGNUM_TEST_CACHE',
                   os.path.expanduser('~/.cache/magnum-tests')), 'schemas')
# Seconds: a service's API answering once its processes start; one
# migration (or schema load) step.
START_TIMEOUT = 120
MANAGE_TIMEOUT = 300
# Seconds between SIGTERM and SIGKILL on clean-up. NOTE: gunicorn's
# workers took 2-6 s to exit here (their atexit handlers and thread
# pools); nothing of a test's service is worth keeping, and its databases
# are dropped next.
STOP_GRACE = 2
# The catalog region of these services. NOTE: not keystone.REGION, where
# test_horizon.py puts its stand-in of the same three (cloud_standin.py)
# in the same session's Keystone; a Magnum that checks against these names
# the region ([cloud_checks] region_name).
REGION = 'RegionCloud'
# The physical network of Neutron's flat (provider) networks.
PHYSICAL_NETWORK = 'external'

_NOVA_APP_MODULE = '''\
"""gunicorn's entry to Nova's compute API: it parses sys.argv (gunicorn's
own arguments, which it rejects)."""
import sys

sys.argv = sys.argv[:1]

from nova.wsgi.osapi_compute import application  # noqa: E402
'''

_NEUTRON_APP_MODULE = '''\
"""gunicorn's entry to neutron-server's API: it parses sys.argv
(gunicorn's own arguments, which it rejects)."""
import sys

sys.argv = sys.argv[:1]

from neutron.wsgi.api import application  # noqa: E402
'''


class APIError(Exception):
    """A service answered an API call with an error."""


def _rss(pgid):
    """The resident memory (bytes) of every process in group ``pgid``."""
    total = 0
    page = os.sysconf('SC_PAGESIZE')
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                fields = f.read().rsplit(')', 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            with open('/proc/%s/statm' % entry) as f:
                total += int(f.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    return total


def _database_client(url, dump):
    """``(argv, env)`` of the command-line client that dumps (``dump``) or
    loads the database of ``url``; None when it is not installed."""
    parsed = sa_url.make_url(url)
    backend = parsed.get_backend_name()
    host = parsed.host or '127.0.0.1'
    if backend == 'postgresql':
        argv = ['pg_dump', '--no-owner', '--no-privileges'] if dump else [
            'psql', '-q', '-X', '-v', 'ON_ERROR_STOP=1']
        argv += ['-h', host, '-p', str(parsed.port or 5432),
                 '-U', parsed.username or 'postgres', '-d', parsed.database]
        env = {'PGPASSWORD': parsed.password} if parsed.password else {}
    elif backend == 'mysql':
        argv = ['mysqldump', '--single-transaction', '--skip-comments',
                '--skip-dump-date'] if dump else ['mysql']
        argv += ['-h', host, '-P', str(parsed.port or 3306),
                 '-u', parsed.username or 'root', parsed.database]
        env = {'MYSQL_PWD': parsed.password} if parsed.password else {}
    else:
        return None
    if shutil.which(argv[0]) is None:
        return None
    return argv, env


class _Service(fixtures.Fixture):
    """What the three services share: a virtualenv, a work directory,
    processes stopped by PID on clean-up, a service user, the schema
    cache, API calls."""

    name = None            # the service user's, the processes' and logs'
    script = None          # tools/NAME.sh
    what = None            # for messages

    def __init__(self, ks):
        super().__init__()
        self.keystone = ks
        self.processes = []
        self.start_time = None
        self._made = set()     # URLs of the databases made here

    def _setUp(self):
        started = time.monotonic()
        self.venv = keystone.venv(self.script, self.what)
        self.bin_dir = os.path.join(self.venv, 'bin')
        if os.environ.get('MAGNUM_TEST_KEEP_LOGS'):
            self.work_dir = tempfile.mkdtemp(prefix='magnum-%s-' % self.name)
            sys.stderr.write('%s logs in %s\n' % (self.name, self.work_dir))
        else:
            self.work_dir = self.useFixture(fixtures.TempDir()).path
        # NOTE: registered before anything starts, so a failure half-way
        # through set-up still stops what did start.
        self.addCleanup(lambda: processes.stop_all(self.processes,
                                                   grace=STOP_GRACE))
        self.username, self.password = self.keystone.service_user(self.name)
        self.port = processes.free_port()
        self._start_service()
        self.start_time = time.monotonic() - started

    def _start_service(self):
        raise NotImplementedError

    def _database(self, url, server, prefix):
        """``url``, or a fresh database on ``server`` (a ``db_servers``
        class) named after ``prefix``."""
        if url is not None:
            return url
        url = self.useFixture(server(prefix=prefix)).url
        self._made.add(url)
        return url

    def _authtoken(self):
        ks = self.keystone
        return {
            'www_authenticate_uri': ks.url,
            'auth_url': ks.url,
            'auth_type': 'password',
            'username': self.username,
            'password': self.password,
            'project_name': 'service',
            'user_domain_name': keystone.DOMAIN,
            'project_domain_name': keystone.DOMAIN,
            'region_name': keystone.REGION,
            # NOTE: the catalog has one URL for every interface.
            'interface': 'public',
        }

    # -- processes ------------------------------------------------------------

    def _spawn(self, name, argv, env=None, stdin=None, stdout=None):
        """Start a one-off command (``argv[0]`` a console script of the
        virtualenv, or a program on PATH); for ``_wait_all``."""
        program = os.path.join(self.bin_dir, argv[0])
        if not os.path.exists(program):
            program = argv[0]
        log_path = os.path.join(self.work_dir, name + '.log')
        with open(log_path, 'ab') as log, contextlib.ExitStack() as files:
            popen = subprocess.Popen(
                [program] + list(argv[1:]),
                stdin=(files.enter_context(open(stdin, 'rb')) if stdin
                       else subprocess.DEVNULL),
                stdout=(files.enter_context(open(stdout, 'wb')) if stdout
                        else log),
                stderr=log if stdout else subprocess.STDOUT,
                cwd=self.work_dir, env=processes._child_environment(env),
                start_new_session=True, preexec_fn=processes._die_with_parent)
        return name, popen, log_path

    def _wait_all(self, running):
        """Wait for every ``_spawn``; raise with the logs of those that
        failed."""
        processes.wait_all(running, MANAGE_TIMEOUT, '%s:' % self.what)

    def _schema_path(self, label, url):
        """Where the dump of database ``label`` (at ``url``) is cached for
        this virtualenv; None when it is not to be used."""
        if (url not in self._made
                or os.environ.get('MAGNUM_TEST_SCHEMA_CACHE') == '0'
                or _database_client(url, dump=True) is None
                or _database_client(url, dump=False) is None):
            return None
        with open(os.path.join(self.venv, '.complete'), 'rb') as f:
            key = hashlib.sha256(f.read()).hexdigest()[:16]
        return os.path.join(SCHEMA_CACHE, '%s-%s-%s-%s.sql' % (
            self.name, label, sa_url.make_url(url).get_backend_name(), key))

    def _migrate(self, *databases):
        """Bring each of ``databases`` (``(label, url, argv)``: ``argv``
        migrates it) to the virtualenv's schema: a cached dump loaded, or
        ``argv`` run (all at once) and its result dumped for next time."""
        loads, migrations, dumps = [], [], []
        for label, url, argv in databases:
            path = self._schema_path(label, url)
            if path and os.path.exists(path):
                client, env = _database_client(url, dump=False)
                loads.append(self._spawn('load-' + label, client, env=env,
                                         stdin=path))
            else:
                migrations.append(self._spawn('migrate-' + label, argv))
                if path:
                    dumps.append((label, url, path))
        self._wait_all(loads + migrations)
        if not dumps:
            return
        os.makedirs(SCHEMA_CACHE, exist_ok=True)
        running = []
        for label, url, path in dumps:
            client, env = _database_client(url, dump=True)
            running.append(self._spawn('dump-' + label, client, env=env,
                                       stdout='%s.%d' % (path, os.getpid())))
        self._wait_all(running)
        for label, url, path in dumps:
            # NOTE: whole or not at all, whoever else dumps at once.
            os.replace('%s.%d' % (path, os.getpid()), path)

    def _gunicorn(self, app, env=None, threads=8):
        process = processes.Process(self.name, [
            os.path.join(self.bin_dir, 'gunicorn'),
            '--no-control-socket',
            '--bind', '127.0.0.1:%d' % self.port,
            '--workers', '1', '--threads', str(threads),
            '--timeout', '120',
            '--chdir', self.work_dir, '--pythonpath', self.work_dir,
            app], os.path.join(self.work_dir, self.name + '.log'),
            env=env, cwd=self.work_dir).start()
        self.processes.append(process)
        return process

    def _wait(self, path):
        """Until ``GET path`` answers the admin 200."""
        def answers():
            response = requests.get(self.url + path, timeout=10, headers={
                'X-Auth-Token': self.keystone.admin_session.get_token()})
            return response.status_code == 200
        processes.wait_for(answers, 'GET %s%s' % (self.url, path),
                           self.processes, timeout=START_TIMEOUT)

    def rss(self):
        """The resident memory of the service's processes, in bytes."""
        return sum(_rss(process.pid) for process in self.processes
                   if process.exited() is None)

    def logs(self, lines=40):
        return processes.logs_of(self.processes, lines)

    # -- the API --------------------------------------------------------------

    def api(self, method, path, token=None, expect=None, **kwargs):
        """``method`` ``path`` (under ``url``) with ``token`` (the admin's
        by default); the JSON answer (its text when it is not JSON, None
        when empty). Raises ``APIError`` on an error status (or, given
        ``expect``, on a status not in it)."""
        headers = dict(kwargs.pop('headers', None) or {})
        headers['X-Auth-Token'] = (token or
                                   self.keystone.admin_session.get_token())
        response = requests.request(method, self.url + path,
                                    headers=headers, timeout=60, **kwargs)
        if (response.status_code >= 400 if expect is None
                else response.status_code not in expect):
            # NOTE: the answer, never the token.
            raise APIError('%s %s%s: %d %s' % (
                method, self.url, path, response.status_code,
                response.text[:2000]))
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return response.text


class Glance(_Service):
    """glance-api (image API v2) under gunicorn, PostgreSQL, file store."""

    name = 'glance'
    script = os.path.join(TOOLS, 'glance.sh')
    what = 'Glance'

    def __init__(self, ks, database_url=None):
        super().__init__(ks)
        self.database_url = database_url

    def _start_service(self):
        self.database_url = self._database(
            self.database_url, db_servers.PostgresDatabase, 'glance_test')
        self.url = 'http://127.0.0.1:%d' % self.port
        self.config_file = os.path.join(self.work_dir, 'glance-api.conf')
        stores = {}
        for store in ('images', 'os_glance_staging_store',
                      'os_glance_tasks_store'):
            path = os.path.join(self.work_dir, store)
            os.mkdir(path)
            stores[store] = {'filesystem_store_datadir': path}
        processes._write_config(self.config_file, dict({
            'DEFAULT': {
                'use_stderr': 'true',
                'enabled_backends': 'images:file',
                'image_cache_dir': os.path.join(self.work_dir, 'cache'),
            },
            'glance_store': {'default_backend': 'images'},
            'database': {'connection': self.database_url},
            'keystone_authtoken': self._authtoken(),
            'paste_deploy': {
                'flavor': 'keystone',
                'config_file': os.path.join(
                    self.venv, 'etc', 'glance', 'glance-api-paste.ini')},
            'oslo_concurrency': {
                'lock_path': os.path.join(self.work_dir, 'locks')},
        }, **stores))
        # NOTE: the app loads without its database (it reads no table
        # until a request comes), so gunicorn starts while it is made.
        self._gunicorn('glance.wsgi.api:application',
                       env={'OS_GLANCE_CONFIG_DIR': self.work_dir})
        self._migrate(('main', self.database_url, [
            'glance-manage', '--config-file', self.config_file, 'db_sync']))
        self._wait('/v2/images')
        self.keystone.register_service('glance', 'image', self.url,
                                       region=REGION)

    def create_image(self, name, properties=None, visibility='public',
                     owner=None, token=None):
        """An image with no data (``queued``) named ``name`` with extra
        ``properties`` (e.g. ``{'os_distro': 'fedora-coreos'}``), made by
        the admin (or the user of ``token``), of project ``owner`` (an id;
        the maker's by default); its id.
        """
        body = dict(properties or {}, name=name, visibility=visibility,
                    disk_format='qcow2', container_format='bare')
        if owner:
            body['owner'] = owner
        return self.api('POST', '/v2/images', token=token, json=body)['id']


class Nova(_Service):
    """Nova's compute API (osapi_compute) alone, under gunicorn."""

    name = 'nova'
    script = os.path.join(TOOLS, 'nova.sh')
    what = 'Nova'

    def __init__(self, ks, api_database_url=None, database_url=None,
                 transport_url=None, server=db_servers.PostgresDatabase):
        """``server``: the ``db_servers`` class of the databases made
        when no URL is given (``MySQLDatabase`` works too)."""
        super().__init__(ks)
        self.api_database_url = api_database_url
        self.database_url = database_url
        self.transport_url = transport_url or processes.RABBIT_URL
        self.server = server

    def _start_service(self):
        api_database = self.api_database_url = self._database(
            self.api_database_url, self.server, 'nova_api_test')
        database = self.database_url = self._database(
            self.database_url, self.server, 'nova_test')
        self.url = 'http://127.0.0.1:%d/v2.1' % self.port
        self.config_file = os.path.join(self.work_dir, 'nova.conf')
        processes._write_config(self.config_file, {
            'DEFAULT': {
                'use_stderr': 'true',
                'host': 'nova-%d' % self.port,
                'transport_url': self.transport_url,
                'control_exchange': 'nova-%s' % uuid.uuid4().hex[:12],
                'state_path': self.work_dir,
            },
            'api': {'auth_strategy': 'keystone'},
            'api_database': {'connection': api_database},
            'database': {'connection': database},
            'keystone_authtoken': self._authtoken(),
            'oslo_messaging_notifications': {'driver': 'noop'},
            'oslo_concurrency': {
                'lock_path': os.path.join(self.work_dir, 'locks')},
        })
        with open(os.path.join(self.work_dir, 'nova_app.py'), 'w') as f:
            f.write(_NOVA_APP_MODULE)
        # NOTE: the API database holds flavors and keypairs; the cell
        # database the API's own service record. No cell is mapped.
        manage = ['nova-manage', '--config-file', self.config_file]
        self._migrate(('api', api_database, manage + ['api_db', 'sync']),
                      ('main', database,
                       manage + ['db', 'sync', '--local_cell']))
        self._gunicorn('nova_app:application', env={
            'OS_NOVA_CONFIG_FILES': ';'.join([
                os.path.join(self.venv, 'etc', 'nova', 'api-paste.ini'),
                self.config_file])})
        self._wait('/flavors')
        self.keystone.register_service('nova', 'compute', self.url,
                                       region=REGION)

    def create_flavor(self, name, ram, vcpus, disk, is_public=True):
        """A flavor (made by the admin); its id."""
        return self.api('POST', '/flavors', json={'flavor': {
            'name': name, 'ram': ram, 'vcpus': vcpus, 'disk': disk,
            'os-flavor-access:is_public': is_public}})['flavor']['id']

    def create_keypair(self, token, name, public_key):
        """Keypair ``name`` of the user of ``token``; Nova's answer."""
        return self.api('POST', '/os-keypairs', token=token, json={
            'keypair': {'name': name, 'public_key': public_key}})['keypair']


class Neutron(_Service):
    """neutron-server's API (ML2, the router plugin) under gunicorn."""

    name = 'neutron'
    script = os.path.join(TOOLS, 'neutron.sh')
    what = 'Neutron'

    def __init__(self, ks, database_url=None, transport_url=None):
        super().__init__(ks)
        self.database_url = database_url
        self.transport_url = transport_url or processes.RABBIT_URL

    def _start_service(self):
        processes.check_rabbitmq(self.transport_url)
        # NOTE: Neutron's migrations fail on PostgreSQL.
        self.database_url = self._database(
            self.database_url, db_servers.MySQLDatabase, 'neutron_test')
        self.url = 'http://127.0.0.1:%d' % self.port
        self.config_file = os.path.join(self.work_dir, 'neutron.conf')
        self.ml2_file = os.path.join(self.work_dir, 'ml2_conf.ini')
        processes._write_config(self.config_file, {
            'DEFAULT': {
                'use_stderr': 'true',
                'host': 'neutron-%d' % self.port,
                'core_plugin': 'ml2',
                'service_plugins': 'router',
                'auth_strategy': 'keystone',
                'transport_url': self.transport_url,
                'control_exchange': 'neutron-%s' % uuid.uuid4().hex[:12],
                'state_path': self.work_dir,
                'notify_nova_on_port_status_changes': 'false',
                'notify_nova_on_port_data_changes': 'false',
                'dhcp_agent_notification': 'false',
            },
            'database': {'connection': self.database_url},
            'keystone_authtoken': self._authtoken(),
            'oslo_messaging_notifications': {'driver': 'noop'},
            'oslo_concurrency': {
                'lock_path': os.path.join(self.work_dir, 'locks')},
        })
        processes._write_config(self.ml2_file, {
            'ml2': {
                'type_drivers': 'flat,vxlan',
                'project_network_types': 'vxlan',
                'mechanism_drivers': '',
                'extension_drivers': 'port_security',
            },
            'ml2_type_flat': {'flat_networks': PHYSICAL_NETWORK},
            'ml2_type_vxlan': {'vni_ranges': '1:1000'},
        })
        # NOTE: found beside the config files (oslo.service's deprecated
        # [DEFAULT] api_paste_config names it otherwise).
        shutil.copy(os.path.join(self.venv, 'etc', 'neutron',
                                 'api-paste.ini'), self.work_dir)
        with open(os.path.join(self.work_dir, 'neutron_app.py'), 'w') as f:
            f.write(_NEUTRON_APP_MODULE)
        self._migrate(('main', self.database_url, [
            'neutron-db-manage', '--config-file', self.config_file,
            '--config-file', self.ml2_file, 'upgrade', 'heads']))
        self._gunicorn('neutron_app:application', env={
            'OS_NEUTRON_CONFIG_FILES': ';'.join([self.config_file,
                                                 self.ml2_file])})
        self._wait('/v2.0/networks')
        self.keystone.register_service('neutron', 'network', self.url,
                                       region=REGION)

    def create_external_network(self, name, cidr='172.24.4.0/24'):
        """An external network (``router:external``, made by the admin)
        with a subnet of ``cidr``; ``(network id, subnet id)``.

        NOTE: of the project network type (VXLAN), not a flat provider
        network: ML2 has one flat network a physical network, and a
        session's tests make several external networks."""
        network = self.api('POST', '/v2.0/networks', json={'network': {
            'name': name, 'router:external': True}})['network']
        subnet = self.api('POST', '/v2.0/subnets', json={'subnet': {
            'name': name, 'network_id': network['id'], 'ip_version': 4,
            'cidr': cidr, 'enable_dhcp': False}})['subnet']
        return network['id'], subnet['id']

    def create_network(self, token, name, cidr='10.0.0.0/24'):
        """A network of the project of ``token`` (a tenant network: VXLAN)
        with a subnet of ``cidr``; ``(network id, subnet id)``."""
        network = self.api('POST', '/v2.0/networks', token=token, json={
            'network': {'name': name}})['network']
        subnet = self.api('POST', '/v2.0/subnets', token=token, json={
            'subnet': {'name': name, 'network_id': network['id'],
                       'ip_version': 4, 'cidr': cidr}})['subnet']
        return network['id'], subnet['id']

    def create_router(self, token, name, external_network, subnet=None):
        """A router of the project of ``token`` with its gateway on
        ``external_network`` (an id) and, given ``subnet``, an interface
        on it; its id."""
        router = self.api('POST', '/v2.0/routers', token=token, json={
            'router': {'name': name, 'external_gateway_info': {
                'network_id': external_network}}})['router']
        if subnet:
            self.api('PUT', '/v2.0/routers/%s/add_router_interface'
                     % router['id'], token=token, json={'subnet_id': subnet})
        return router['id']


class Cloud:
    """The three services, started together: ``glance``, ``nova``,
    ``neutron``; ``start_times`` (seconds, by name) and ``summary()``."""

    def __init__(self, glance, nova, neutron):
        self.glance = glance
        self.nova = nova
        self.neutron = neutron
        self.services = {'glance': glance, 'nova': nova, 'neutron': neutron}
        self.start_time = None

    @property
    def start_times(self):
        return {name: service.start_time
                for name, service in self.services.items()}

    def summary(self):
        """One line: each service's start time and resident memory."""
        return 'cloud up in %.1f s: %s' % (self.start_time, ', '.join(
            '%s %.1f s %d MiB' % (name, service.start_time,
                                  service.rss() >> 20)
            for name, service in self.services.items()))


@contextlib.contextmanager
def cloud(ks, transport_url=None):
    """Glance, Nova's API and neutron-server behind ``ks``, started side by
    side, registered in its catalog; stopped on exit.

    Each service is set up, and later cleaned up, by a thread of its own
    that lives as long as the service: the processes die with the thread
    that started them (``processes._die_with_parent``: PR_SET_PDEATHSIG
    follows the forking thread, not the process).
    """
    # NOTE: made here, one after the other: each service's set-up would
    # otherwise race the others to make the 'service' project and role.
    for name in ('glance', 'nova', 'neutron'):
        ks.service_user(name)
    trio = Cloud(Glance(ks), Nova(ks, transport_url=transport_url),
                 Neutron(ks, transport_url=transport_url))
    started = time.monotonic()
    keepers = [_Keeper(service) for service in trio.services.values()]
    for keeper in keepers:
        keeper.start()
    try:
        for keeper in keepers:
            keeper.ready.wait()
        trio.start_time = time.monotonic() - started
        for keeper in keepers:
            if keeper.error is not None:
                raise keeper.error
        yield trio
    finally:
        for keeper in keepers:
            keeper.stop.set()
        for keeper in keepers:
            keeper.join()
        for keeper in keepers:
            if keeper.cleanup_error is not None:
                raise keeper.cleanup_error


class _Keeper(threading.Thread):
    """Sets ``fixture`` up, keeps it until ``stop`` is set, cleans it up.
    """

    def __init__(self, fixture):
        super().__init__(name='cloud-%s' % fixture.name, daemon=True)
        self.fixture = fixture
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.error = self.cleanup_error = None

    def run(self):
        try:
            self.fixture.setUp()
        except fixtures.MultipleExceptions as e:
            # NOTE: fixtures has cleaned the failed set-up up.
            self.error = e.args[0][1].with_traceback(e.args[0][2])
        except BaseException as e:
            self.error = e
        self.ready.set()
        if self.error is not None:
            return
        self.stop.wait()
        try:
            self.fixture.cleanUp()
        except BaseException as e:
            self.cleanup_error = e
