"""Idempotency keys: what a key is, how a repeat is told from another
request, and one bay for two creates racing with one key."""

import datetime

from oslo_utils import timeutils
import sqlalchemy as sa

from magnum.common import context as magnum_context
from magnum.common import exception
from magnum.db import api as db_api
from magnum.db import idempotency as db_idempotency
from magnum.lifecycle import actions
from magnum.lifecycle import idempotency
from magnum.objects import bay as bay_obj
from magnum.tests import base
from magnum.tests.unit import utils


class TestKeys(base.TestCase):

    def test_no_header_or_no_window_is_no_key(self):
        self.assertIsNone(idempotency.parse(None, '/v1/clusters', b'{}'))
        self.conf.config(idempotency_window=0, group='api')
        self.assertIsNone(idempotency.parse('k1', '/v1/clusters', b'{}'))

    def test_a_bad_key_is_400_naming_the_header(self):
        for value in ('', 'a b', 'x' * 256, 'caf\u00e9'):
            error = self.assertRaises(exception.InvalidParameterValue,
                                      idempotency.parse, value,
                                      '/v1/clusters', b'{}')
            self.assertIn('Idempotency-Key', str(error))
            self.assertEqual(400, error.code)

    def test_the_same_json_in_another_spelling_is_the_same_request(self):
        one = idempotency.parse('k1', '/v1/clusters', b'{"a": 1, "b": 2}')
        two = idempotency.parse('k1', '/v1/clusters', b'{"b":2,"a":1}')
        self.assertEqual(one.digest, two.digest)
        for path, body in (('/v1/bays', b'{"a": 1, "b": 2}'),
                           ('/v1/clusters', b'{"a": 1, "b": 3}'),
                           ('/v1/clusters', b'not json')):
            self.assertNotEqual(
                one.digest, idempotency.parse('k1', path, body).digest)


class TestOneBayAKey(base.TestCase):

    def setUp(self):
        super().setUp()
        self.baymodel = utils.baymodel(self.context)
        self.key = idempotency.parse('k1', '/v1/clusters', b'{"n": 1}')

    def create(self, key, name='b1'):
        bay = bay_obj.Bay(self.context, name=name, provisioner='fake',
                          baymodel_id=self.baymodel.uuid, node_count=1,
                          master_count=1, status='CREATE_IN_PROGRESS')
        actions.create(self.context, bay, key)
        return bay

    def test_a_repeat_finds_the_first_bay(self):
        self.assertIsNone(idempotency.earlier_bay(self.context, self.key))
        bay = self.create(self.key)
        self.assertEqual(bay.uuid,
                         idempotency.earlier_bay(self.context, self.key))
        other = idempotency.parse('k1', '/v1/clusters', b'{"n": 2}')
        error = self.assertRaises(exception.IdempotencyKeyReused,
                                  idempotency.earlier_bay, self.context,
                                  other)
        self.assertIn('k1', str(error))
        self.assertEqual(409, error.code)
        # Another project's key of the same name is its own.
        theirs = self.context.to_dict()
        theirs['project_id'] = 'project-b'
        self.assertIsNone(idempotency.earlier_bay(
            magnum_context.RequestContext.from_dict(theirs), self.key))

    def test_the_loser_of_a_race_writes_nothing(self):
        """The key was recorded by a create that committed first: the
        second insert, bay and action too, is rolled back."""
        self.create(self.key)
        error = self.assertRaises(exception.IdempotencyKeyTaken, self.create,
                                  self.key, name='b2')
        self.assertEqual(409, error.code)
        with db_api.reader() as session:
            names = session.execute(sa.select(db_api.BAY.c.name)).scalars()
            self.assertEqual(['b1'], list(names))
            self.assertEqual(1, session.execute(sa.select(
                sa.func.count()).select_from(db_api.ACTION)).scalar())

    def test_after_the_window_the_key_makes_a_new_bay(self):
        self.conf.config(idempotency_window=60, group='api')
        first = self.create(self.key)
        with db_api.writer() as session:
            session.execute(sa.update(db_idempotency.KEY).values(
                created_at=timeutils.utcnow() - datetime.timedelta(
                    seconds=61)))
        self.assertIsNone(idempotency.earlier_bay(self.context, self.key))
        second = self.create(self.key, name='b2')
        self.assertNotEqual(first.uuid, second.uuid)
        self.assertEqual(second.uuid,
                         idempotency.earlier_bay(self.context, self.key))
