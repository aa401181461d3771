import datetime
import errno
import os
import ssl
from unittest import mock

from alembic import script as alembic_script
import fixtures
from oslo_config import cfg
from oslo_db import exception as db_exc
from oslo_policy import _cache_handler
import sqlalchemy as sa

from magnum.cmd import status
from magnum.db import api as db_api
from magnum.db import migration
from magnum.db import services as db_services
from magnum.objects import magnum_service
from magnum.tests import base

Code = status.Code


class StatusTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.use_fake_rpc()
        self.tmp = self.useFixture(fixtures.TempDir()).path
        self.checks = status.Checks()

    def read_config(self, text):
        """Parse a configuration file as magnum-status would."""
        path = os.path.join(self.tmp, 'magnum.conf')
        with open(path, 'w') as f:
            f.write(text)
        cfg.CONF(['--config-file', path], project='magnum',
                 default_config_files=[])

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    def assertResult(self, code, result, *words):
        self.assertEqual(code, result.code, result.details)
        for word in words:
            self.assertIn(word, result.details)


class TestDatabase(StatusTestCase):

    def setUp(self):
        super().setUp()
        scripts = alembic_script.ScriptDirectory.from_config(
            migration._config())
        self.head = scripts.get_current_head()
        self.previous = scripts.get_revision(self.head).down_revision

    def version_is(self, revision):
        self.useFixture(fixtures.MockPatchObject(
            migration, 'version', return_value=revision))

    def test_database_at_the_newest_revision_passes(self):
        self.assertResult(Code.SUCCESS, self.checks._database(), self.head)

    def test_database_behind_names_both_revisions_and_the_command(self):
        self.version_is(self.previous)
        self.assertResult(Code.FAILURE, self.checks._database(),
                          self.previous, self.head,
                          'magnum-db-manage upgrade')

    def test_empty_database_is_a_failure(self):
        self.version_is(None)
        self.assertResult(Code.FAILURE, self.checks._database(),
                          'no schema', 'magnum-db-manage upgrade')

    def test_revision_newer_than_the_code_is_a_failure(self):
        self.version_is('9999')
        self.assertResult(Code.FAILURE, self.checks._database(),
                          '9999', 'does not know')

    def test_unreachable_database_names_the_problem_not_the_password(self):
        self.conf.config(group='database', connection=(
            'mysql+pymysql://magnum:s3cret@db-host/magnum'))
        error = db_exc.DBConnectionError(sa.exc.OperationalError(
            'SELECT 1', {}, Exception(
                "Can't connect to MySQL server on 'db-host' "
                "(mysql://magnum:s3cret@db-host)")))
        self.useFixture(fixtures.MockPatchObject(
            migration, 'version', side_effect=error))
        result = self.checks._database()
        self.assertResult(Code.FAILURE, result,
                          "Can't connect", 'magnum:***@db-host')
        self.assertNotIn('s3cret', result.details)

    def test_database_that_does_not_open_is_a_failure(self):
        # A directory where the SQLite file should be: a real engine of
        # its own, whose connection fails at once.
        self.conf.config(group='database', max_retries=0,
                         connection='sqlite:///%s' % self.tmp)
        # NOTE: the shared engine comes back with the next test's Database.
        db_api._FACADE = None
        self.addCleanup(db_api.reset)
        self.assertResult(Code.FAILURE, self.checks._database(),
                          'Cannot read the database', 'unable to open')

    def test_missing_sqlite_file_is_a_failure_and_not_created(self):
        path = os.path.join(self.tmp, 'magnum.sqlite')
        self.conf.config(group='database', connection='sqlite:///' + path)
        self.assertResult(Code.FAILURE, self.checks._database(),
                          path, 'magnum-db-manage upgrade')
        self.assertResult(Code.FAILURE, self.checks._conductors(), path)
        self.assertFalse(os.path.exists(path))

    def test_connection_that_is_not_a_url_is_a_failure(self):
        self.conf.config(group='database', connection='not a url')
        self.assertResult(Code.FAILURE, self.checks._database(),
                          '[database] connection')


class TestEncryptionKey(StatusTestCase):

    def test_keystone_with_a_key_passes(self):
        self.conf.config(auth_strategy='keystone')
        self.assertResult(Code.SUCCESS, self.checks._encryption_key())

    def test_keystone_without_a_key_fails_with_the_fix(self):
        self.conf.config(auth_strategy='keystone')
        self.conf.config(group='certificates', encryption_key=None)
        self.assertResult(Code.FAILURE, self.checks._encryption_key(),
                          'encryption_key is not set', 'openssl rand')

    def test_a_short_key_fails(self):
        self.conf.config(group='certificates', encryption_key='short')
        self.assertResult(Code.FAILURE, self.checks._encryption_key(),
                          'fewer than 32 characters')

    def test_noauth_without_a_key_passes_and_makes_no_key_file(self):
        self.conf.config(auth_strategy='noauth', state_path=self.tmp)
        self.conf.config(group='certificates', encryption_key=None)
        self.assertResult(Code.SUCCESS, self.checks._encryption_key(),
                          'noauth')
        self.assertEqual([], os.listdir(self.tmp))

    def test_a_configuration_file_means_keystone(self):
        # What magnum-status does once upgradecheck.main parsed the
        # command line: the services' default for a deployment.
        self.read_config('[certificates]\nencryption_key =\n')
        status._settle()
        self.assertResult(Code.FAILURE, self.checks._encryption_key(),
                          'auth_strategy keystone')


class TestPolicyFile(StatusTestCase):

    def use_policy(self, text):
        path = self.write('policy.yaml', text)
        self.read_config('[oslo_policy]\npolicy_file = %s\n' % path)
        return path

    def test_no_policy_file_means_the_built_in_rules(self):
        self.assertResult(Code.SUCCESS, self.checks._policy_file(),
                          'built-in rules')

    def test_a_policy_file_that_loads_passes(self):
        path = self.use_policy('"baymodel:get_all": "role:admin"\n')
        self.assertResult(Code.SUCCESS, self.checks._policy_file(),
                          path, '1 rules')

    def test_a_named_policy_file_that_is_missing_is_a_warning(self):
        missing = os.path.join(self.tmp, 'nowhere.yaml')
        self.read_config('[oslo_policy]\npolicy_file = %s\n' % missing)
        self.assertResult(Code.WARNING, self.checks._policy_file(),
                          missing, 'built-in rules apply')

    def test_a_policy_file_that_does_not_parse_fails(self):
        path = self.use_policy('"baymodel:get_all": [unclosed\n')
        self.assertResult(Code.FAILURE, self.checks._policy_file(),
                          path, 'does not load')

    def test_a_policy_file_that_is_not_a_mapping_fails(self):
        self.use_policy('- a list\n')
        self.assertResult(Code.FAILURE, self.checks._policy_file(),
                          'does not load')

    def test_an_unreadable_policy_file_fails(self):
        path = self.use_policy('"baymodel:get_all": "role:admin"\n')
        # NOTE: root reads a file of mode 000; refuse at open() instead.
        self.useFixture(fixtures.MockPatchObject(
            _cache_handler, 'open', create=True, side_effect=PermissionError(
                errno.EACCES, 'Permission denied')))
        self.assertResult(Code.FAILURE, self.checks._policy_file(),
                          path, 'does not load', 'readable')

    def test_a_directory_as_the_policy_file_fails(self):
        path = os.path.join(self.tmp, 'policy.yaml')
        os.mkdir(path)
        self.read_config('[oslo_policy]\npolicy_file = %s\n' % path)
        self.assertResult(Code.FAILURE, self.checks._policy_file(),
                          path, 'not a file')

    def test_a_rule_naming_an_undefined_rule_is_a_warning(self):
        path = self.use_policy('"baymodel:get_all": "rule:nosuch"\n')
        self.assertResult(Code.WARNING, self.checks._policy_file(),
                          path, 'not defined')


class TestRPCTransport(StatusTestCase):

    def use_broker(self, fails=()):
        """kombu, answering for each host in ``fails`` with an error."""
        made = []

        def connection(**kwargs):
            broker = mock.Mock()
            if kwargs['hostname'] in fails:
                broker.ensure_connection.side_effect = ConnectionRefusedError(
                    111, 'Connection refused')
            made.append(kwargs)
            return broker

        self.useFixture(fixtures.MockPatchObject(
            status.kombu, 'Connection', side_effect=connection))
        return made

    def test_fake_transport_passes(self):
        self.assertResult(Code.SUCCESS, self.checks._rpc_transport(),
                          'fake://')

    def test_rabbit_that_accepts_a_login_passes(self):
        made = self.use_broker()
        self.conf.config(transport_url='rabbit://magnum:s3cret@mq:5673/vh')
        self.assertResult(Code.SUCCESS, self.checks._rpc_transport(),
                          'mq:5673')
        self.assertEqual(
            [('mq', 5673, 'magnum', 's3cret', 'vh', False,
              status.BROKER_TIMEOUT)],
            [(c['hostname'], c['port'], c['userid'], c['password'],
              c['virtual_host'], c['ssl'], c['connect_timeout'])
             for c in made])

    def test_rabbit_unreachable_fails_naming_the_host_not_the_password(self):
        self.use_broker(fails=('mq',))
        self.conf.config(transport_url='rabbit://magnum:s3cret@mq/')
        result = self.checks._rpc_transport()
        self.assertResult(Code.FAILURE, result, 'mq:5672',
                          'Connection refused', 'transport_url')
        self.assertNotIn('s3cret', result.details)

    def test_one_of_two_hosts_down_is_a_warning(self):
        self.use_broker(fails=('mq2',))
        self.conf.config(
            transport_url='rabbit://u:p@mq1:5672,u:p@mq2:5672/')
        result = self.checks._rpc_transport()
        self.assertResult(Code.WARNING, result, 'mq2:5672')
        self.assertNotIn('mq1', result.details)

    def test_rabbit_over_tls_uses_the_ca_file(self):
        made = self.use_broker()
        self.conf.config(transport_url='rabbit://u:p@mq:5671/')
        self.checks._rpc_transport()  # loads the driver's options
        self.conf.config(group='oslo_messaging_rabbit', ssl=True,
                         ssl_ca_file='/etc/ssl/ca.pem')
        self.checks._rpc_transport()
        self.assertEqual({'ca_certs': '/etc/ssl/ca.pem',
                          'cert_reqs': ssl.CERT_REQUIRED,
                          'server_hostname': 'mq'}, made[-1]['ssl'])

    def test_a_transport_that_does_not_load_fails(self):
        self.conf.config(transport_url='nosuch://u:s3cret@mq/')
        result = self.checks._rpc_transport()
        self.assertResult(Code.FAILURE, result, 'nosuch', 'transport_url')
        self.assertNotIn('s3cret', result.details)


class TestConductors(StatusTestCase):

    def heartbeat(self, host, seconds_ago=0, disabled=False):
        db_services.report_service(host, magnum_service.CONDUCTOR)
        seen = datetime.datetime.utcnow() - datetime.timedelta(
            seconds=seconds_ago)
        with db_api.writer() as session:
            session.execute(sa.update(db_api.SERVICE).where(
                db_api.SERVICE.c.host == host).values(
                    last_seen_up=seen, disabled=disabled))

    def test_no_conductor_yet_is_a_warning(self):
        self.assertResult(Code.WARNING, self.checks._conductors(),
                          'No magnum-conductor has registered yet')

    def test_a_conductor_up_passes(self):
        self.heartbeat('c1')
        self.assertResult(Code.SUCCESS, self.checks._conductors(), 'c1')

    def test_every_conductor_down_fails_listing_them(self):
        self.conf.config(group='conductor', service_down_time=30)
        self.heartbeat('c1', seconds_ago=120)
        self.heartbeat('c2')
        db_services.leave_service('c2', magnum_service.CONDUCTOR)
        self.assertResult(Code.FAILURE, self.checks._conductors(),
                          '30 s', 'c1 (last heartbeat 120 s ago)',
                          'c2 (stopped)')

    def test_only_disabled_conductors_up_fails(self):
        self.heartbeat('c1', disabled=True)
        self.assertResult(Code.FAILURE, self.checks._conductors(),
                          'c1 (disabled)')

    def test_some_conductors_down_is_a_warning_naming_them(self):
        self.heartbeat('c1')
        self.heartbeat('c2', seconds_ago=3600)
        result = self.checks._conductors()
        self.assertResult(Code.WARNING, result, 'c2 (last heartbeat',
                          'Up: c1.', 'disable')

    def test_a_retired_conductor_is_not_reported(self):
        self.heartbeat('c1')
        self.heartbeat('c2', seconds_ago=3600, disabled=True)
        result = self.checks._conductors()
        self.assertResult(Code.SUCCESS, result, 'Up: c1.')
        self.assertNotIn('c2', result.details)

    def test_unreadable_heartbeats_fail(self):
        self.useFixture(fixtures.MockPatchObject(
            magnum_service.MagnumService, 'conductors',
            side_effect=sa.exc.OperationalError(
                'SELECT', {}, Exception('no such table: magnum_service'))))
        self.assertResult(Code.FAILURE, self.checks._conductors(),
                          'no such table')
