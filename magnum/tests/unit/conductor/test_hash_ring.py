import datetime

import fixtures
from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from magnum.conductor import hash_ring
from magnum.db import api as db_api
from magnum.db import services as db_services
from magnum.tests import base

UUIDS = [uuidutils.generate_uuid() for _ in range(600)]


def _age(host, seconds=None, **values):
    if seconds is not None:
        values['last_seen_up'] = timeutils.utcnow() - datetime.timedelta(
            seconds=seconds)
    with db_api.writer() as session:
        session.execute(sa.update(db_api.SERVICE).where(
            db_api.SERVICE.c.host == host).values(**values))


class _Clock:
    """A monotonic clock that moves only when the test moves it."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now


class TestRing(base.TestCase):

    def test_every_bay_has_one_owner_among_the_hosts(self):
        ring = hash_ring.Ring(['c1', 'c2', 'c3'])
        owners = [ring.owner(u) for u in UUIDS]
        self.assertEqual({'c1', 'c2', 'c3'}, set(owners))
        for host in ('c1', 'c2', 'c3'):
            # An even spread: each within a quarter of its fair third.
            self.assertLess(abs(owners.count(host) - 200), 50, host)

    def test_owner_does_not_depend_on_the_order_of_hosts(self):
        a = hash_ring.Ring(['c1', 'c2', 'c3'])
        b = hash_ring.Ring(['c3', 'c1', 'c2', 'c1'])
        self.assertEqual([a.owner(u) for u in UUIDS],
                         [b.owner(u) for u in UUIDS])

    def test_a_joining_conductor_takes_bays_only_for_itself(self):
        two = hash_ring.Ring(['c1', 'c2'])
        three = hash_ring.Ring(['c1', 'c2', 'c3'])
        moved = [u for u in UUIDS if two.owner(u) != three.owner(u)]
        self.assertTrue(all(three.owner(u) == 'c3' for u in moved))
        self.assertLess(abs(len(moved) - 200), 60)

    def test_no_conductor_no_owner(self):
        ring = hash_ring.Ring([])
        self.assertIsNone(ring.owner(UUIDS[0]))
        self.assertFalse(ring.owns('c1', UUIDS[0]))


class TestMembership(base.TestCase):

    def setUp(self):
        super().setUp()
        self.conf.config(service_down_time=60, group='conductor')
        for host in ('live', 'stale', 'left', 'disabled'):
            db_services.report_service(host, 'magnum-conductor')
        db_services.report_service('api-host', 'magnum-api')
        _age('stale', seconds=61)
        db_services.leave_service('left', 'magnum-conductor')
        _age('disabled', disabled=True)

    def test_only_live_enabled_conductors_are_on_the_ring(self):
        members = hash_ring.Membership.read()
        self.assertEqual(('live',), members.ring.hosts)
        self.assertEqual(['left', 'stale'], sorted(members.down))
        self.assertEqual(['disabled'], members.disabled)

    def test_a_heartbeat_brings_a_conductor_that_left_back(self):
        db_services.report_service('left', 'magnum-conductor')
        self.assertEqual(('left', 'live'),
                         hash_ring.Membership.read().ring.hosts)

    def test_cache_reads_the_heartbeats_again_after_max_age(self):
        # NOTE: the cache's clock is the test's (the module's ``time`` only,
        # not the process's): max_age passes without waiting for it.
        clock = _Clock()
        self.useFixture(fixtures.MockPatchObject(hash_ring, 'time', clock))
        cache = hash_ring.RingCache(max_age=60)
        self.assertEqual(('live',), cache.get().hosts)
        db_services.report_service('new', 'magnum-conductor')
        clock.now += 59
        self.assertEqual(('live',), cache.get().hosts)
        clock.now += 1
        self.assertEqual(('live', 'new'), cache.get().hosts)

    def test_cache_with_no_age_reads_every_time(self):
        cache = hash_ring.RingCache(max_age=0)
        cache.get()
        db_services.report_service('new', 'magnum-conductor')
        self.assertIn('new', cache.get())
