"""A real Heat (engine and API) for the functional tests, on free ports.

Heat runs from its own virtualenv (``tools/heat.sh`` builds it once under
``~/.cache/magnum-tests/heat-venv``: ``pip install openstack-heat``) against
a real Keystone (``keystone.Keystone``), RabbitMQ and a fresh PostgreSQL
database::

    with processes.running(keystone.Keystone()) as ks:
        with processes.running(heat.Heat(ks)) as orchestration:
            ...  # 'orchestration' is in ks's catalog; orchestration.url

Set-up writes ``heat.conf`` in a temporary directory, runs ``heat-manage
db_sync``, starts ``heat-engine`` (two workers, one a core) and the Heat API
(``heat.wsgi.api`` under gunicorn, with the ``api-paste.ini`` installed in
the virtualenv as ``[paste_deploy] api_paste_config``), registers a
``heat`` service user (also Heat's trustee: stacks are created with the
``trusts`` deferred-auth method, as in production) and the ``orchestration``
service in the catalog, and a domain for the users Heat makes for the
agents of servers and software deployments (``stack_user_domain_id``, as
Heat's install guide has it), and waits until a stack list answers through
the engine.

Every fixture gets a RabbitMQ of its own (``own_servers.RabbitMQ``, a
private broker on a free port) unless given a ``transport_url``: queues are
named by topic whatever the ``control_exchange``, so two Heats on one
broker (test runs side by side) would take each other's messages.

Nothing here replaces Heat itself. What a test does not run is replaced
by the tests' Heat environment (``heat_env/``): its ``resource_registry``
maps those resource types to provider templates built of Heat's own
``OS::Heat::TestResource``, ``OS::Heat::RandomString`` and
``OS::Heat::None``, so the real engine parses, validates, orders, creates,
updates and deletes Magnum's shipped templates. ``ENVIRONMENT`` stands in
for Nova, Neutron, Cinder and Octavia; ``ON_NEUTRON``, for a session that
runs Glance, Nova's API and neutron-server (``cloud.py``), only for what
cannot run here: Nova's servers (a Nova API without compute cannot boot
one), Cinder's volumes and Octavia's load balancers (whose stand-in takes
a real port on the VIP subnet). Heat looks those services up in their own
region (``cloud.REGION``, Heat's ``region_name_for_shared_services``).
"""

import email
import os
import subprocess
import sys
import tempfile
import uuid

import fixtures
import requests

from magnum.tests.functional import cloud
from magnum.tests.functional import db_servers
from magnum.tests.functional import keystone
from magnum.tests.functional import own_servers
from magnum.tests.functional import processes

SCRIPT = os.path.join(keystone.REPO, 'tools', 'heat.sh')
ENVIRONMENT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               'heat_env')
ENVIRONMENT = os.path.join(ENVIRONMENT_DIR, 'environment.yaml')
# The environment for a session's real neutron-server (cloud.Neutron):
# stand-ins for Nova's servers, Cinder and Octavia only.
ON_NEUTRON = os.path.join(ENVIRONMENT_DIR, 'on_neutron.yaml')
START_TIMEOUT = 90
# RPC threads of each of the engine's two workers, by engine. NOTE: Heat
# 27 runs native threads. Its convergence engine (the default) checks each
# resource in an RPC thread and a nested stack's resource holds its thread
# until the nested stack is done, so the pool must outnumber the resources
# in progress at every level at once, or parents hold every thread while
# their children wait for one; the default 64 a worker holds a dozen bays
# at once. The legacy engine runs each stack's create in a thread of its
# own and built a dozen bays with 16, but then left every stack update of
# the Heat bay tests UPDATE_IN_PROGRESS (not understood yet; not used by
# the suite). A thousand (as the fault test once had) ran the load average
# to 80 on two cores.
ENGINE_THREADS = {True: 64, False: 16}

_APP_MODULE = '''\
"""gunicorn's entry to Heat's API: it parses sys.argv for its config."""
import sys

sys.argv = [sys.argv[0], '--config-file', %r]

from heat.wsgi.api import application  # noqa: E402
'''


class Heat(fixtures.Fixture):
    """heat-engine and heat-api on RabbitMQ and PostgreSQL."""

    def __init__(self, ks, transport_url=None, database_url=None,
                 convergence=True, threads=None):
        super().__init__()
        self.keystone = ks
        self.transport_url = transport_url
        self.database_url = database_url
        self.convergence = convergence
        self.threads = threads or ENGINE_THREADS[convergence]
        self.processes = []

    def _setUp(self):
        self.venv = keystone.venv(SCRIPT, 'Heat')
        self.bin_dir = os.path.join(self.venv, 'bin')
        if self.transport_url is None:
            # NOTE: oslo.messaging names RabbitMQ queues by topic whatever
            # the control_exchange, so two Heats on one broker (tests run
            # side by side) would take each other's messages.
            self.transport_url = self.useFixture(
                own_servers.RabbitMQ()).transport_url
        processes.check_rabbitmq(self.transport_url)
        if os.environ.get('MAGNUM_TEST_KEEP_LOGS'):
            self.work_dir = tempfile.mkdtemp(prefix='magnum-heat-')
            sys.stderr.write('heat logs in %s\n' % self.work_dir)
        else:
            self.work_dir = self.useFixture(fixtures.TempDir()).path
        self.addCleanup(lambda: processes.stop_all(self.processes))
        if self.database_url is None:
            self.database_url = self.useFixture(
                db_servers.PostgresDatabase(prefix='heat_test')).url
        self.username, self.password = self.keystone.service_user('heat')
        self._stack_user_domain()
        self.control_exchange = 'heat-%s' % uuid.uuid4().hex[:12]
        self.config_file = os.path.join(self.work_dir, 'heat.conf')
        self.policy_file = os.path.join(self.work_dir, 'policy.yaml')
        self.port = processes.free_port()
        self.url = 'http://127.0.0.1:%d/v1' % self.port
        self._write_config()
        with open(os.path.join(self.work_dir, 'heat_app.py'), 'w') as f:
            f.write(_APP_MODULE % self.config_file)
        self._run(['heat-manage', '--config-file', self.config_file,
                   'db_sync'], 'heat-manage')
        self._start('heat-engine', [
            os.path.join(self.bin_dir, 'heat-engine'),
            '--config-file', self.config_file])
        self._start('heat-api', [
            os.path.join(self.bin_dir, 'gunicorn'),
            '--no-control-socket',
            '--bind', '127.0.0.1:%d' % self.port,
            '--workers', '1', '--threads', '8', '--timeout', '120',
            '--chdir', self.work_dir, '--pythonpath', self.work_dir,
            'heat_app:application'])
        self.keystone.register_service(
            'heat', 'orchestration', self.url + '/%(project_id)s')
        processes.wait_for(self._engine_answers, 'heat stack-list',
                           self.processes, timeout=START_TIMEOUT)

    def _stack_user_domain(self):
        """Heat's domain for the users it makes for servers and software
        deployments (their agents' credentials), with its admin, as
        Heat's install guide sets it up; ``heat_stack_user`` is the role
        Heat gives those users."""
        ks = self.keystone
        name = 'heat-%s' % uuid.uuid4().hex[:8]
        self.stack_user_domain_id = ks._api('POST', '/domains', json={
            'domain': {'name': name}})['domain']['id']
        self.stack_domain_admin = 'heat_domain_admin'
        self.stack_domain_admin_password = uuid.uuid4().hex
        user_id = ks._api('POST', '/users', json={'user': {
            'name': self.stack_domain_admin,
            'password': self.stack_domain_admin_password,
            'domain_id': self.stack_user_domain_id}})['user']['id']
        ks._api('PUT', '/domains/%s/users/%s/roles/%s' % (
            self.stack_user_domain_id, user_id, ks.role_id('admin')))
        ks.role_id('heat_stack_user')

    def _write_config(self):
        ks = self.keystone
        auth = {
            'auth_type': 'password',
            'auth_url': ks.url,
            'username': self.username,
            'password': self.password,
            'user_domain_name': keystone.DOMAIN,
        }
        processes._write_config(self.config_file, {
            'DEFAULT': {
                'use_stderr': 'true',
                'transport_url': self.transport_url,
                'control_exchange': self.control_exchange,
                'host': 'heat-%d' % self.port,
                # NOTE: a worker a core; threads: see ENGINE_THREADS.
                'num_engine_workers': '2',
                'executor_thread_pool_size': str(self.threads),
                'convergence_engine': str(self.convergence).lower(),
                'max_stacks_per_tenant': '1000',
                'region_name_for_services': keystone.REGION,
                # NOTE: Glance, Nova and Neutron, where a session runs them
                # (cloud.py), are in a region of their own; Heat's option
                # for services another region shares. Stacks of the stand-in
                # environment never call them.
                'region_name_for_shared_services': cloud.REGION,
                'shared_services_types': 'image,compute,network',
                'deferred_auth_method': 'trusts',
                'periodic_interval': '5',
                'stack_user_domain_id': self.stack_user_domain_id,
                'stack_domain_admin': self.stack_domain_admin,
                'stack_domain_admin_password':
                    self.stack_domain_admin_password,
            },
            # NOTE: oslo.db's pool grows to 55 connections a process
            # (max_overflow 50), and the engine's threads take that many
            # at once while it builds bays: a suite's three Heats (six
            # engine workers and their APIs) with the other services ran
            # the machine's PostgreSQL out of its 100 connections ("too
            # many clients already", a Heat bay of the fault test failed).
            # Ten a process, waited for up to two minutes.
            'database': {'connection': self.database_url,
                         'max_pool_size': '5', 'max_overflow': '5',
                         'pool_timeout': '120'},
            'keystone_authtoken': dict(
                auth, www_authenticate_uri=ks.url,
                project_name='service',
                project_domain_name=keystone.DOMAIN,
                region_name=keystone.REGION, interface='public'),
            'trustee': auth,
            'clients_keystone': {'auth_uri': ks.url.rsplit('/v3', 1)[0]},
            'ec2authtoken': {'auth_uri': ks.url},
            'clients': {'endpoint_type': 'publicURL'},
            'paste_deploy': {'api_paste_config': os.path.join(
                self.venv, 'etc', 'heat', 'api-paste.ini')},
            # NOTE: as the install guide has operators set it: Heat's
            # notifications of stack changes, on its transport and
            # control_exchange, which Magnum's conductors listen for
            # (provisioner_config's notification options).
            'oslo_messaging_notifications': {'driver': 'messagingv2'},
            'oslo_policy': {'policy_file': self.policy_file},
        })
        # NOTE: Heat denies listing every project's stacks by default; the
        # install guide has operators allow it to admins, for Magnum's
        # reconciler.
        with open(self.policy_file, 'w') as f:
            f.write('"stacks:global_index": "role:admin"\n')

    def _run(self, argv, name):
        log_path = os.path.join(self.work_dir, name + '.log')
        with open(log_path, 'ab') as log:
            result = subprocess.run(
                [os.path.join(self.bin_dir, argv[0])] + argv[1:],
                stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, cwd=self.work_dir,
                env=processes._child_environment(None),
                timeout=processes.START_TIMEOUT * 2)
        if result.returncode:
            with open(log_path, 'rb') as log:
                output = log.read().decode('utf-8', 'replace')
            raise processes.ServiceFailed('%s failed (%d):\n%s' % (
                name, result.returncode, output[-4000:]))

    def _start(self, name, argv):
        process = processes.Process(
            name, argv, os.path.join(self.work_dir, name + '.log'),
            cwd=self.work_dir).start()
        self.processes.append(process)
        return process

    def _engine_answers(self):
        token = self.keystone.admin_session.get_token()
        project = self.keystone.project_id('admin')
        response = requests.get('%s/%s/stacks' % (self.url, project),
                                headers={'X-Auth-Token': token}, timeout=10)
        return response.status_code == 200

    def logs(self, lines=40):
        return processes.logs_of(self.processes, lines)


def boot_parts(user_data):
    """[(file name or None, text)] of a server's boot configuration (a
    MIME message), the parts of nested messages included."""
    found = []
    for part in email.message_from_string(user_data).walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True).decode()
        if payload.startswith('Content-Type: multipart'):
            found.extend(boot_parts(payload))
        else:
            found.append((part.get_filename(), payload))
    return found


def provisioner_config(ks, environment=ENVIRONMENT, orchestration=None):
    """magnum.conf sections that make ``heat`` the default provisioner,
    with Magnum's service user in ``ks`` and the tests' Heat environment;
    with ``orchestration`` (a ``Heat``), the conductors listen for its
    notifications, on its transport and exchange."""
    username, password = ks.service_user('magnum')
    config = {
        'bay': {'default_provisioner': 'heat'},
        'conductor': {'periodic_interval': 1},
        'heat': {
            'environment_files': environment,
            'auth_type': 'password',
            'auth_url': ks.url,
            'username': username,
            'password': password,
            'project_name': 'service',
            'user_domain_name': keystone.DOMAIN,
            'project_domain_name': keystone.DOMAIN,
            'region_name': keystone.REGION,
        },
    }
    if orchestration is not None:
        config['heat'].update(notifications(orchestration))
    return config


def notifications(orchestration):
    """The [heat] options of magnum.conf that hear ``orchestration``'s
    notifications."""
    return {'notification_transport_url': orchestration.transport_url,
            'notification_exchange': orchestration.control_exchange}


def client(ks, username='admin', password=None, project='admin'):
    """A python-heatclient of ``username`` in ``project`` (names; the
    admin by default): Heat's own answer, for the tests to compare."""
    from heatclient import client as heat_client
    from keystoneauth1.identity import v3
    from keystoneauth1 import session as ks_session
    session = ks_session.Session(auth=v3.Password(
        auth_url=ks.url, username=username,
        password=password or ks.admin_password,
        user_domain_name=keystone.DOMAIN, project_name=project,
        project_domain_name=keystone.DOMAIN))
    return heat_client.Client('1', session=session)

