"""The install guide, followed literally, gives a working Magnum.

doc/source/install/index.rst marks what an operator copies with an RST
comment line right before the code block: ``.. install-guide: file PATH``
for the blocks that make the file PATH (in order), ``.. install-guide:
commands NAME`` for commands (``marked_blocks`` reads them). This module
builds a deployment from those blocks alone:

- ``/etc/magnum/magnum.conf`` and ``/etc/magnum/kubeconfig`` are the
  guide's blocks with its placeholders replaced by this test's servers
  (``GuideDeployment.values``); a placeholder left over fails the test, so
  the guide and the test cannot drift. ``/etc/magnum/`` becomes a
  temporary directory and ``/opt/magnum/bin/`` this virtualenv's bin. The
  one line added that the guide does not have is a topic of its own on the
  machine's shared RabbitMQ (marked as such in the file);
- the encryption key comes from the guide's own command; the database is
  a fresh one on the machine's PostgreSQL, owned by a fresh role with a
  password (the guide's ``createuser``/``createdb``); memcached runs on a
  free port; Keystone is the session's;
- the schema is made with the guide's ``magnum-db-manage`` command, and
  magnum-api and magnum-conductor run the ``ExecStart`` of the systemd
  units in etc/systemd (which must be the guide's command lines), with the
  units' ``Environment`` and, for ``Type=notify``, a ``NOTIFY_SOCKET`` that
  must hear ``READY=1``;
- Magnum is registered in Keystone as the guide's ``openstack`` commands
  say (read, not run: the session's Keystone is shared, see
  ``register_in_keystone``);
- then the guide's checks: ``magnum-status upgrade check`` exits 0, the
  health check answers ``OK``, and ``openstack coe service list`` (the real
  python-openstackclient) shows the conductor up.

Also what a new user would trip over: a warning in the services' logs (the
in-process token cache's, when memcached is left out), a secret in a log or
in magnum-status's output, tokens not cached in memcached, an option the
code does not know, a kubeconfig Magnum cannot read, links that do not go
back through the TLS proxy.

memcached (Debian's ``memcached``, which tools/install.sh installs) and
python-memcached (keystonemiddleware's memcached client, in
requirements.txt) must be installed: without them the test skips, or fails
when ``CI`` is set.
"""

import configparser
import contextlib
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import textwrap
import uuid

import kombu
from oslo_config import cfg
from oslo_config import fixture as config_fixture
import pytest
import requests
import sqlalchemy as sa
from sqlalchemy import pool

from magnum import conf  # noqa: F401  (registers [kubernetes] kubeconfig)
from magnum.tests.functional import db_servers
from magnum.tests.functional import keystone as keystone_mod
from magnum.tests.functional import magnumclient
from magnum.tests.functional import processes

pytestmark = [pytest.mark.postgresql, pytest.mark.rabbitmq,
              pytest.mark.keystone, pytest.mark.cli]

REPO = keystone_mod.REPO
GUIDE = os.path.join(REPO, 'doc', 'source', 'install', 'index.rst')
UNITS = os.path.join(REPO, 'etc', 'systemd')
GENERATOR = os.path.join(REPO, 'etc', 'magnum',
                         'magnum-config-generator.conf')

CONF_FILE = '/etc/magnum/magnum.conf'
KUBECONFIG = '/etc/magnum/kubeconfig'
ETC = '/etc/magnum/'
BIN = '/opt/magnum/bin/'
# What the guide must mark, by kind.
FILES = {CONF_FILE, KUBECONFIG}
COMMANDS = {'key', 'keystone', 'schema', 'services', 'checks'}

_MARK = re.compile(r'^\.\. install-guide: (file|commands) (\S+)\s*$')
# The guide's placeholders: CAPITALS_WITH_UNDERSCORES, names ending in
# "-host", names under example.com.
_PLACEHOLDER = re.compile(
    r'\b[A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9]\b|\b[a-z0-9-]+-host\b'
    r'|\b[a-z0-9.-]*example\.com\b')
# keystonemiddleware's words when [keystone_authtoken] memcached_servers
# is not set.
IN_PROCESS_CACHE = 'in-process token cache is deprecated'
OSC_RELEASE = '4.11.0'
# Seconds magnum-status and the guide's other commands may take.
COMMAND_TIMEOUT = 60


# -- reading the guide ---------------------------------------------------

def marked_blocks(text):
    """``[(kind, name, block)]``: the guide's marked code blocks, in
    order, each dedented, ending in one newline.

    A mark must be followed (blank lines apart) by a ``code-block``
    directive; its options and the blank line after them are skipped.
    """
    lines = text.splitlines()
    found = []
    i = 0
    while i < len(lines):
        match = _MARK.match(lines[i])
        i += 1
        if not match:
            continue
        while i < len(lines) and not lines[i].strip():
            i += 1
        if i == len(lines) or not lines[i].startswith('.. code-block::'):
            raise AssertionError('%s line %d: "%s" is not followed by a '
                                 'code-block' % (GUIDE, i, match.group(0)))
        i += 1
        while i < len(lines) and (not lines[i].strip()
                                  or lines[i].strip().startswith(':')):
            i += 1
        body = []
        while i < len(lines) and (not lines[i].strip()
                                  or lines[i].startswith(' ')):
            body.append(lines[i])
            i += 1
        block = textwrap.dedent('\n'.join(body)).strip('\n')
        assert block, '%s: "%s" marks an empty block' % (GUIDE,
                                                         match.group(0))
        found.append((match.group(1), match.group(2), block + '\n'))
    return found


class Guide:
    """The guide's marked files and commands."""

    def __init__(self, path=GUIDE):
        with open(path) as f:
            blocks = marked_blocks(f.read())
        self.files, self.commands = {}, {}
        for kind, name, block in blocks:
            into = self.files if kind == 'file' else self.commands
            into[name] = into.get(name, '') + ('\n' if name in into
                                               else '') + block
        assert set(self.files) == FILES, (
            'the guide marks the files %s; the test builds %s'
            % (sorted(self.files), sorted(FILES)))
        assert set(self.commands) == COMMANDS, (
            'the guide marks the commands %s; the test runs %s'
            % (sorted(self.commands), sorted(COMMANDS)))

    def command_lines(self, name):
        """The argv of each command of block ``name``; ``for VAR in
        WORDS; do`` ... ``done`` loops are expanded, comments dropped."""
        text = self.commands[name].replace('\\\n', ' ')
        argvs, loop, body = [], None, []
        for line in text.splitlines():
            words = shlex.split(line, comments=True)
            if not words:
                continue
            match = re.match(r'^for (\w+) in (.+); do$', ' '.join(words))
            if match:
                loop, body = (match.group(1), match.group(2).split()), []
            elif words == ['done']:
                variable, values = loop
                for value in values:
                    for argv in body:
                        argvs.append([word.replace('$' + variable, value)
                                      for word in argv])
                loop = None
            elif loop is not None:
                body.append(words)
            else:
                argvs.append(words)
        assert loop is None, 'block %s: a loop without "done"' % name
        return argvs


def fill(text, values, what):
    """``text`` with each of ``values``' keys replaced by its value; no
    placeholder may be left."""
    for placeholder in sorted(values, key=len, reverse=True):
        text = text.replace(placeholder, values[placeholder])
    left = sorted(set(_PLACEHOLDER.findall(text)))
    assert not left, (
        '%s: the guide has placeholders the test has no value for: %s '
        '(add them to GuideDeployment.values)' % (what, ', '.join(left)))
    return text


def unit(name):
    """A systemd unit of etc/systemd, parsed (keys keep their case)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    with open(os.path.join(UNITS, name)) as f:
        parser.read_file(f)
    return parser


def local_path(word, etc_dir):
    """A word of a command line with the guide's paths made this test's."""
    if word.startswith(BIN):
        return processes.script(word[len(BIN):])
    if word.startswith(ETC):
        return os.path.join(etc_dir, word[len(ETC):])
    return word


# -- the servers the guide assumes ----------------------------------------

def _unavailable(reason):
    if os.environ.get('CI'):
        pytest.fail('%s (CI is set, so this is a failure, not a skip)'
                    % reason, pytrace=False)
    pytest.skip(reason)


def check_memcached():
    """memcached and keystonemiddleware's client of it are installed."""
    binary = shutil.which('memcached')
    if binary is None:
        _unavailable('memcached is not installed (apt-get install '
                     'memcached)')
    try:
        import memcache  # noqa: F401  (python-memcached)
    except ImportError:
        _unavailable('python-memcached is not installed in %s: '
                     'keystonemiddleware needs it for memcached_servers'
                     % processes.BIN_DIR)
    return binary


def memcached_stats(port):
    """memcached's ``stats`` as a dict (raises OSError while it starts)."""
    with socket.create_connection(('127.0.0.1', port), timeout=2) as sock:
        sock.sendall(b'stats\r\n')
        data = b''
        while not data.endswith(b'END\r\n'):
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return {parts[1]: parts[2] for parts in
            (line.split() for line in data.decode().splitlines())
            if len(parts) == 3 and parts[0] == 'STAT'}


@contextlib.contextmanager
def database_with_owner():
    """A fresh PostgreSQL database owned by a fresh role with a password,
    as the guide's ``createuser --pwprompt`` and ``createdb --owner`` make
    it; ``(database, role, password)``. Both are dropped on exit.
    """
    role = 'magnum_guide_%s' % uuid.uuid4().hex[:10]
    password = uuid.uuid4().hex
    engine = sa.create_engine(
        db_servers.POSTGRES_SERVER + '/postgres', poolclass=pool.NullPool,
        isolation_level='AUTOCOMMIT', connect_args={'connect_timeout': 5})
    try:
        db_servers._check_reachable(engine, 'PostgreSQL at 127.0.0.1:5432')
        with contextlib.ExitStack() as stack:
            with engine.connect() as connection:
                connection.exec_driver_sql(
                    "CREATE ROLE %s LOGIN PASSWORD '%s'" % (role, password))

            def drop_role():
                with engine.connect() as connection:
                    connection.exec_driver_sql('DROP ROLE IF EXISTS %s'
                                               % role)
            # NOTE: registered first, so it runs after the database (whose
            # tables the role owns) is dropped.
            stack.callback(drop_role)
            database = stack.enter_context(processes.running(
                db_servers.PostgresDatabase(prefix='magnum_guide')))
            with engine.connect() as connection:
                connection.exec_driver_sql('ALTER DATABASE %s OWNER TO %s'
                                           % (database.name, role))
            yield database, role, password
    finally:
        engine.dispose()


# -- the deployment --------------------------------------------------------

class GuideDeployment(processes._Services):
    """magnum-api and magnum-conductor as the guide and the units say.

    Attributes once set up: ``url``, ``endpoint``, ``etc_dir`` (the
    guide's /etc/magnum), ``config_file``, ``kubeconfig``, ``host`` (the
    conductor's), ``secrets`` (name: value, that no log may show),
    ``values`` (the placeholders' values), ``api``, ``conductor``,
    ``memcached_port``, ``ready`` (what magnum-api told NOTIFY_SOCKET).
    """

    def __init__(self, guide, keystone, database, role, db_password,
                 memcached_binary):
        super().__init__()
        self.guide = guide
        self.keystone = keystone
        self.database = database
        self.role = role
        self.db_password = db_password
        self.memcached_binary = memcached_binary

    def _setUp(self):
        self.run = uuid.uuid4().hex[:10]
        self.host = 'conductor-guide-%s' % self.run
        self.topic = 'magnum-conductor-guide-%s' % self.run
        # NOTE: before super() registers stopping the processes, so it
        # runs after they stopped.
        self.addCleanup(self._delete_queues)
        super()._setUp()
        self.etc_dir = os.path.join(self.work_dir, 'etc', 'magnum')
        os.makedirs(self.etc_dir)
        self.config_file = local_path(CONF_FILE, self.etc_dir)
        self.kubeconfig = local_path(KUBECONFIG, self.etc_dir)

        self.memcached_port = processes.free_port()
        memcached = self._start('memcached', [
            self.memcached_binary, '-l', '127.0.0.1', '-p',
            str(self.memcached_port), '-U', '0', '-m', '16',
            '-u', 'nobody'])

        def answers():
            try:
                return memcached_stats(self.memcached_port)
            except OSError:
                return None
        processes.wait_for(answers, 'memcached on port %d'
                           % self.memcached_port, [memcached])

        service_user, service_password = self.keystone.service_user(
            'magnum')
        assert service_user == 'magnum'
        self.secrets = {
            'the database password': self.db_password,
            'the service password': service_password,
            'the encryption key': self._guide_key(),
            'the token cache key': uuid.uuid4().hex,
            'the kubeconfig token': uuid.uuid4().hex,
        }
        keystone_root = self.keystone.url.rsplit('/v3', 1)[0]
        self.values = {
            'rabbit://magnum:RABBIT_PASS@rabbit-host:5672/':
                processes.RABBIT_URL,
            'magnum:DB_PASS@db-host/magnum': '%s:%s@127.0.0.1:5432/%s' % (
                self.role, self.db_password, self.database.name),
            'http://keystone-host:5000': keystone_root,
            'memcached-host:11211': '127.0.0.1:%d' % self.memcached_port,
            'MAGNUM_PASS': service_password,
            'ENCRYPTION_KEY': self.secrets['the encryption key'],
            'MEMCACHE_SECRET_KEY': self.secrets['the token cache key'],
            'conductor-1': self.host,
            'bay-api-host': '127.0.0.2',
            # Sizes and addresses of this machine, not the guide's site.
            'host = 0.0.0.0': 'host = 127.0.0.1',
            'workers = 4': 'workers = 1',
            ETC: self.etc_dir + '/',
        }
        self._write_kubeconfig()

        self.conductor = self._start_unit('magnum-conductor.service')
        self.notify_socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(self.notify_socket.close)
        self.notify_path = os.path.join(self.work_dir, 'notify.sock')
        self.notify_socket.bind(self.notify_path)
        self.api = self._start_api(
            'magnum-api',
            lambda port: self._start_unit('magnum-api.service', port))
        self.ready = self._notified()
        self._wait_until_up([self.host])

    # -- files ----------------------------------------------------------

    def _port_values(self, port):
        return dict(self.values, **{
            'port = 9511': 'port = %d' % port,
            '127.0.0.1:9511': '127.0.0.1:%d' % port,
            # NOTE: the guide's endpoint is the TLS proxy's; there is no
            # proxy here (test_links_go_back_through_the_proxy plays one).
            'https://magnum.example.com:9511': 'http://127.0.0.1:%d' % port,
        })

    def _write_config(self, port):
        text = fill(self.guide.files[CONF_FILE], self._port_values(port),
                    CONF_FILE)
        # NOTE: never the guide's fixed port, which another test may hold.
        assert 'port = %d\n' % port in text, '[api] port is not 9511'
        text += textwrap.dedent('''
            # Added by test_install_guide.py, not in the guide: a topic of
            # this deployment's own on the machine's shared RabbitMQ.
            [conductor]
            topic = %s
            ''') % self.topic
        with open(self.config_file, 'w') as f:
            f.write(text)

    def _write_kubeconfig(self):
        text = fill(self.guide.files[KUBECONFIG], self.values, KUBECONFIG)
        with open(self.kubeconfig, 'w') as f:
            f.write(text)
        # NOTE: the files the guide's kubeconfig names, as an operator
        # would put them there: a token (with the newline editors leave)
        # and the bay's CA certificate (any file: it is only read to
        # check a server).
        with open(os.path.join(self.etc_dir, 'bay-one.token'), 'w') as f:
            f.write(self.secrets['the kubeconfig token'] + '\n')
        with open(os.path.join(self.etc_dir, 'bay-one-ca.crt'), 'w') as f:
            f.write('-----BEGIN CERTIFICATE-----\n')

    # -- commands -------------------------------------------------------

    def _guide_key(self):
        [argv] = self.guide.command_lines('key')
        result = subprocess.run(argv, capture_output=True, text=True,
                                timeout=COMMAND_TIMEOUT, check=True)
        return result.stdout.strip()

    def local_argv(self, argv):
        return [local_path(word, self.etc_dir) for word in argv]

    def run_command(self, argv, name):
        """A command of the guide, its output in ``<name>.log``; the
        ``CompletedProcess``."""
        log_path = os.path.join(self.work_dir, '%s.log' % name)
        result = subprocess.run(
            self.local_argv(argv), stdin=subprocess.DEVNULL,
            capture_output=True, text=True, cwd=self.work_dir,
            env=processes._child_environment(None), timeout=COMMAND_TIMEOUT)
        with open(log_path, 'w') as log:
            log.write(result.stdout + result.stderr)
        return result

    def _start_unit(self, name, port=None):
        """Start a unit's ExecStart, with its Environment (and a
        NOTIFY_SOCKET for ``Type=notify``), after writing the configuration
        with the API on ``port``; the first time, make the schema first
        (the guide's order)."""
        service = unit(name)['Service']
        env = dict(item.split('=', 1) for item in
                   shlex.split(service.get('Environment', '')))
        if service['Type'] == 'notify':
            env['NOTIFY_SOCKET'] = self.notify_path
        if port is None:
            # NOTE: the conductor starts first; the API's port is not
            # known yet, and the conductor never reads it.
            port = processes.free_port()
        self._write_config(port)
        if not getattr(self, '_schema_made', False):
            self._make_schema()
        argv = self.local_argv(shlex.split(service['ExecStart']))
        return self._start(name.split('.')[0], argv, env=env)

    def _make_schema(self):
        [argv] = self.guide.command_lines('schema')
        result = self.run_command(argv, 'magnum-db-manage')
        if result.returncode:
            raise processes.ServiceFailed(
                '%s failed (%d):\n%s' % (' '.join(argv), result.returncode,
                                         (result.stdout + result.stderr)[
                                             -4000:]))
        self._schema_made = True

    def _notified(self):
        self.notify_socket.settimeout(processes.START_TIMEOUT)
        try:
            return self.notify_socket.recv(4096).decode()
        except socket.timeout:
            return None

    def _auth_headers(self):
        return {'X-Auth-Token': self.keystone.admin_session.get_token()}

    def _delete_queues(self):
        """The topic's and the conductor's queues: the RPC ones and its
        pool of Heat's notifications (the guide's [heat] credentials turn
        it on)."""
        names = [self.topic, '%s.%s' % (self.topic, self.host),
                 'magnum-conductor-%s' % self.host]
        url = processes.RABBIT_URL.replace('rabbit://', 'amqp://', 1)
        try:
            with kombu.Connection(url, connect_timeout=5) as connection:
                channel = connection.channel()
                for name in names:
                    channel.queue_delete(name)
        except Exception as e:  # the broker's hygiene, not the test's
            sys.stderr.write('could not delete the queues %s: %s\n'
                             % (names, e))

    def all_logs(self):
        """Every log of the work directory: ``{file name: text}``."""
        logs = {}
        for name in sorted(os.listdir(self.work_dir)):
            if name.endswith('.log') or '.log.' in name:
                with open(os.path.join(self.work_dir, name),
                          errors='replace') as f:
                    logs[name] = f.read()
        return logs


def register_in_keystone(guide, keystone, deployment):
    """Do what the guide's ``openstack`` commands say, through the
    fixture's idempotent helpers.

    NOTE: the commands are read, not run: the session's Keystone is shared
    by every module, whose Magnums register themselves under the name
    ``magnum`` in both types (``keystone.register_magnum``); a second
    ``openstack user create magnum`` would fail, a second ``service
    create`` would put two services of one type in the catalog. What the
    guide asks for must be what those helpers make, so that is checked.
    """
    users, roles, services, endpoints = set(), set(), {}, {}
    for argv in guide.command_lines('keystone'):
        assert argv[0] == 'openstack', argv
        options, positional = {}, []
        words = iter(argv[3:])
        for word in words:
            if word == '--password-prompt':
                continue
            if word.startswith('--'):
                options[word] = next(words)
            else:
                positional.append(word)
        verb = tuple(argv[1:3])
        if verb == ('user', 'create'):
            assert options['--domain'] == 'default', argv
            users.add(positional[0])
        elif verb == ('role', 'add'):
            roles.add((options['--user'], options['--project'],
                       positional[0]))
        elif verb == ('service', 'create'):
            services[positional[0]] = options['--name']
        elif verb == ('endpoint', 'create'):
            service_type, interface, url = positional
            assert options['--region'] == keystone_mod.REGION, argv
            endpoints.setdefault(service_type, {})[interface] = url
        else:
            raise AssertionError('the test does not know what %s does'
                                 % ' '.join(argv[:3]))
    assert users == {'magnum'}
    assert roles == {('magnum', 'service', 'admin'),
                     ('magnum', 'service', 'service')}, (
        'keystone.service_user gives magnum admin and service on the '
        'project service; the guide gives %s' % sorted(roles))
    assert set(services) == {'container-infra', 'container'}, services
    assert set(services.values()) == {'magnum'}, services
    assert set(endpoints) == set(services), endpoints
    for service_type, urls in endpoints.items():
        assert set(urls) == {'public', 'internal', 'admin'}, urls
        [url] = set(urls.values())
        keystone.register_service(
            services[service_type], service_type,
            fill(url, deployment._port_values(deployment.port), 'keystone'))


# -- fixtures ----------------------------------------------------------------

@pytest.fixture(scope='module')
def guide():
    return Guide()


@pytest.fixture(scope='module')
def deployment(guide, keystone):
    binary = check_memcached()
    processes.check_rabbitmq()
    with database_with_owner() as (database, role, password):
        with processes.running(GuideDeployment(
                guide, keystone, database, role, password,
                binary)) as magnum:
            register_in_keystone(guide, keystone, magnum)
            yield magnum


@pytest.fixture(scope='module')
def admin(keystone, deployment):
    """An admin of a project of their own (``openstack coe service list``
    wants the admin role)."""
    person = keystone_mod.Person(keystone, deployment, 'guide-admin',
                                 ['admin'])
    yield person
    person.close()


# -- the guide's own text, and the units ----------------------------------

def test_guide_marks_every_file_and_command(guide):
    # Guide() checked the marks; every placeholder has a value.
    for option in ('encryption_key = ENCRYPTION_KEY',
                   'memcached_servers = memcached-host:11211'):
        assert re.search('^%s$' % re.escape(option), guide.files[CONF_FILE],
                         re.M), option
    for line in guide.files[CONF_FILE].splitlines():
        if not line.startswith(('#', '[')) and '=' in line:
            # NOTE: oslo.config keeps a "# ..." after a value as part of
            # the value.
            assert '#' not in line.split('=', 1)[1], line


def test_units_run_the_guides_command_lines(guide):
    commands = guide.command_lines('services')
    assert [argv[0] for argv in commands] == [
        BIN + 'magnum-api', BIN + 'magnum-conductor']
    for argv, name, kind in zip(commands, ('magnum-api', 'magnum-conductor'),
                                ('notify', 'exec')):
        parsed = unit('%s.service' % name)
        service = parsed['Service']
        assert shlex.split(service['ExecStart']) == argv, (
            name, service['ExecStart'])
        assert service['Type'] == kind
        assert service['User'] == service['Group'] == 'magnum'
        assert service['Restart'] == 'on-failure'
        assert 'PYTHONUNBUFFERED=1' in shlex.split(service['Environment'])
        assert parsed['Install']['WantedBy'] == 'multi-user.target'


# -- the deployment the guide gives ------------------------------------------

def test_config_has_no_option_the_code_does_not_know(deployment):
    result = subprocess.run(
        [processes.script('oslo-config-validator'), '--config-file',
         GENERATOR, '--input-file', deployment.config_file],
        capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_guides_checks_pass(guide, deployment, admin):
    status, health, services = guide.command_lines('checks')

    assert status[0] == BIN + 'magnum-status', status
    result = deployment.run_command(status, 'magnum-status')
    assert result.returncode == 0, '%s\n%s%s' % (
        ' '.join(status), result.stdout, result.stderr)

    assert health[:2] == ['curl', '-fsS'], health
    url = fill(health[2], deployment._port_values(deployment.port),
               'checks')
    response = requests.get(url, timeout=10)
    assert (response.status_code, response.text) == (200, 'OK'), (
        response.status_code, response.text)

    assert services[:2] == ['openstack', 'coe'], services
    osc = admin.keystone_osc(magnumclient.osc_venv(OSC_RELEASE))
    rows = osc.json(*services[2:])
    mine = [row for row in rows if row['host'] == deployment.host]
    assert len(mine) == 1, rows
    assert mine[0]['binary'] == 'magnum-conductor'
    assert mine[0]['state'] == 'up', rows


def test_api_told_systemd_it_is_ready(deployment):
    assert deployment.ready is not None, (
        'magnum-api (Type=notify) sent nothing to NOTIFY_SOCKET\n%s'
        % deployment.logs())
    assert 'READY=1' in deployment.ready.splitlines(), deployment.ready


def test_links_go_back_through_the_proxy(deployment):
    # What the guide's HAProxy sends (and a client's Host).
    response = requests.get(deployment.url + '/', timeout=10, headers={
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-Host': 'magnum.example.com:9511'})
    assert response.status_code == 200, response.text
    links = response.json()['default_version']['links']
    assert links == [{'href': 'https://magnum.example.com:9511/v1/',
                      'rel': 'self'}], links


def test_conductor_reads_the_guides_kubeconfig(deployment):
    from magnum.drivers import kube_auth
    fixture = config_fixture.Config(cfg.CONF)
    fixture.setUp()
    try:
        fixture.config(group='kubernetes', kubeconfig=deployment.kubeconfig)
        server = fill('https://bay-api-host:6443', deployment.values,
                      'kubeconfig')
        config = kube_auth.configuration(server)
    finally:
        fixture.cleanUp()
    assert config.host == server
    token = deployment.secrets['the kubeconfig token']
    assert list(config.api_key.values()) == ['Bearer %s' % token], (
        'the token was not read (or not alone)')
    assert config.ssl_ca_cert == os.path.join(deployment.etc_dir,
                                              'bay-one-ca.crt')


def test_tokens_are_cached_in_memcached_and_logs_are_clean(
        deployment, admin):
    # A request with a token, whatever the other tests did: the token
    # cache is made (and its warning given) at a worker's first one.
    response = admin.api.get('/v1/mservices')
    assert response.status_code == 200, response.text

    logs = deployment.all_logs()
    for name in ('magnum-api.log', 'magnum-conductor.log'):
        assert IN_PROCESS_CACHE not in logs[name], '%s:\n%s' % (
            name, logs[name][-3000:])
        warnings = [line for line in logs[name].splitlines()
                    if re.search(r' (WARNING|ERROR|CRITICAL) ', line)]
        assert not warnings, '%s:\n%s' % (name, '\n'.join(warnings))
    for name, text in logs.items():
        for what, secret in deployment.secrets.items():
            assert secret not in text, '%s is in %s' % (what, name)

    stats = memcached_stats(deployment.memcached_port)
    assert int(stats['cmd_set']) > 0, (
        'keystonemiddleware cached nothing in memcached: %s' % stats)
