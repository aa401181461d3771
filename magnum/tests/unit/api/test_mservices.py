import datetime

from unittest import mock

from oslo_db import exception as db_exc
import sqlalchemy as sa

from magnum.conductor import hash_ring
from magnum.db import api as db_api
from magnum.db import services as db_services
from magnum.tests.unit.api import base


def _id(host):
    return [s.id for s in db_services.list_services() if s.host == host][0]


class TestDisable(base.APITestCase):

    def setUp(self):
        super().setUp()
        db_services.report_service('c1', 'magnum-conductor')
        db_services.report_service('c2', 'magnum-conductor')
        self.path = '/v1/mservices/%d' % _id('c1')

    def disable(self, reason='kernel upgrade', **kwargs):
        ops = [{'op': 'replace', 'path': '/disabled', 'value': True}]
        if reason is not None:
            ops.append({'op': 'add', 'path': '/disabled_reason',
                        'value': reason})
        return self.patch(self.path, ops, as_admin=True, **kwargs)

    def test_disabled_conductor_leaves_the_ring(self):
        response = self.disable()
        self.assertEqual(200, response.status_int, response.text)
        body = response.json
        self.assertEqual(
            ('c1', True, 'kernel upgrade', 'up'),
            (body['host'], body['disabled'], body['disabled_reason'],
             body['state']))
        self.assertEqual(('c2',), hash_ring.Membership.read().ring.hosts)
        listed = {s['host']: s for s in self.get(
            '/v1/mservices', as_admin=True).json['mservices']}
        self.assertTrue(listed['c1']['disabled'])
        self.assertFalse(listed['c2']['disabled'])

    def test_enabling_again_clears_the_reason(self):
        self.disable()
        response = self.patch(self.path, [
            {'op': 'replace', 'path': '/disabled', 'value': False}],
            as_admin=True)
        self.assertEqual(200, response.status_int, response.text)
        self.assertEqual((False, None), (response.json['disabled'],
                                         response.json['disabled_reason']))
        self.assertEqual(('c1', 'c2'), hash_ring.Membership.read().ring.hosts)

    def test_show_one(self):
        response = self.get(self.path, as_admin=True)
        self.assertEqual(200, response.status_int)
        self.assertEqual(('c1', 'up'), (response.json['host'],
                                        response.json['state']))

    def test_member_may_not_disable(self):
        response = self.patch(self.path, [
            {'op': 'replace', 'path': '/disabled', 'value': True}])
        self.assertEqual(403, response.status_int)
        self.assertFalse(db_services.get_service(_id('c1')).disabled)

    def test_unknown_service_is_404(self):
        for ident in ('999', 'c1'):
            response = self.patch('/v1/mservices/%s' % ident, [
                {'op': 'replace', 'path': '/disabled', 'value': True}],
                as_admin=True)
            self.assertEqual(404, response.status_int, ident)
            self.assertIn(ident, self.fault(response))

    def test_bad_patches_are_400_naming_the_field_and_change_nothing(self):
        cases = [
            ([{'op': 'replace', 'path': '/disabled', 'value': 'yes'}],
             'disabled'),
            ([{'op': 'replace', 'path': '/disabled', 'value': 1}],
             'disabled'),
            ([{'op': 'remove', 'path': '/disabled'}], 'disabled'),
            ([{'op': 'add', 'path': '/disabled_reason', 'value': 5}],
             'disabled_reason'),
            ([{'op': 'add', 'path': '/disabled_reason', 'value': 'x' * 256}],
             'disabled_reason'),
            ([{'op': 'replace', 'path': '/host', 'value': 'elsewhere'}],
             '/host'),
            ([{'op': 'replace', 'path': '/report_count', 'value': 0}],
             '/report_count'),
        ]
        for ops, field in cases:
            response = self.patch(self.path, ops, as_admin=True)
            self.assertEqual(400, response.status_int, ops)
            self.assertIn(field, self.fault(response), ops)
        row = db_services.get_service(_id('c1'))
        self.assertEqual((False, None, 'c1'),
                         (row.disabled, row.disabled_reason, row.host))


class TestState(base.APITestCase):

    def test_a_conductor_that_stopped_cleanly_is_down_at_once(self):
        db_services.report_service('c1', 'magnum-conductor')
        db_services.leave_service('c1', 'magnum-conductor')
        states = {s['host']: s['state'] for s in self.get(
            '/v1/mservices', as_admin=True).json['mservices']}
        self.assertEqual({'c1': 'down'}, states)

    def test_state_follows_service_down_time(self):
        self.conf.config(service_down_time=30, group='conductor')
        db_services.report_service('c1', 'magnum-conductor')
        with db_api.writer() as session:
            session.execute(sa.update(db_api.SERVICE).values(
                last_seen_up=datetime.datetime.utcnow()
                - datetime.timedelta(seconds=31)))
        states = {s['host']: s['state'] for s in self.get(
            '/v1/mservices', as_admin=True).json['mservices']}
        self.assertEqual({'c1': 'down'}, states)


class TestDatabaseDown(base.APITestCase):
    """A database that is down or restarting is a 503, never a 500."""

    def test_refused_connection_is_503(self):
        error = sa.exc.OperationalError(
            'SELECT 1', {}, Exception('connection refused'))
        with mock.patch.object(db_api, 'reader', side_effect=error):
            response = self.get('/v1/baymodels')
        self.assertEqual(503, response.status_int)
        self.assertIn('database is unreachable', self.fault(response))

    def test_busy_database_is_503_that_says_busy(self):
        # A SQLite write that waited out its retries (magnum/db/sqlite.py).
        error = db_exc.DBDeadlock(sa.exc.OperationalError(
            'BEGIN IMMEDIATE', {}, Exception('database is locked')))
        with mock.patch.object(db_api, 'writer', side_effect=error):
            response = self.post('/v1/baymodels', {'coe': 'kubernetes'})
        self.assertEqual(503, response.status_int)
        self.assertEqual('The database is busy; try again shortly.',
                         self.fault(response))
