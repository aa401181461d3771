"""magnum.db on the SQLite test database: scoping, lookup and pages (the
helpers of api.py, through baymodels and bays), bay locks, heartbeats.

The servers' own behaviour under concurrency is pinned in
magnum/tests/functional/test_migrations.py.
"""

import datetime

from oslo_utils import fixture as utils_fixture
from oslo_utils import uuidutils
import sqlalchemy as sa

from magnum.common import context as magnum_context
from magnum.common import exception
from magnum.db import api as db_api
from magnum.db import baymodels as db_baymodels
from magnum.db import bays as db_bays
from magnum.db import services as db_services
from magnum.tests import base

NOW = datetime.datetime(2026, 11, 25, 12, 0, 0)


def _context(project, admin=False, all_projects=False):
    return magnum_context.RequestContext(
        project_id=project, user_id='user-of-%s' % project, is_admin=admin,
        roles=['admin'] if admin else ['member'], all_projects=all_projects)


class DbTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.a = _context('project-a')
        self.b = _context('project-b')
        self.admin = _context('project-admin', admin=True, all_projects=True)

    def baymodel(self, context, **values):
        return db_baymodels.create_baymodel(
            context, dict({'coe': 'kubernetes'}, **values))

    def bay(self, context, baymodel=None, **values):
        if baymodel is None:
            baymodel = self.baymodel(context)
        return db_bays.create_bay(context, dict(
            {'baymodel_id': baymodel.uuid, 'provisioner': 'static',
             'status': 'CREATE_COMPLETE'}, **values))

    def reload(self, bay):
        return db_bays.get_bay_by_uuid_unscoped(bay.uuid)


class TestScoping(DbTestCase):

    def test_baymodel_of_another_project_is_not_found(self):
        private = self.baymodel(self.b, name='secret')
        for ident in (private.uuid, 'secret'):
            self.assertRaises(exception.BayModelNotFound,
                              db_baymodels.get_baymodel, self.a, ident)

    def test_public_baymodel_of_another_project_is_visible(self):
        shared = self.baymodel(self.b, name='shared', public=True)
        self.assertEqual(shared.id, db_baymodels.get_baymodel(self.a,
                                                              shared.uuid).id)
        self.assertEqual(shared.id, db_baymodels.get_baymodel(self.a,
                                                              'shared').id)

    def test_baymodel_list_holds_own_and_public_ones_only(self):
        mine = self.baymodel(self.a)
        shared = self.baymodel(self.b, public=True)
        self.baymodel(self.b)
        self.assertEqual([mine.id, shared.id],
                         [r.id for r in db_baymodels.list_baymodels(self.a)])

    def test_bay_of_another_project_is_not_found(self):
        theirs = self.bay(self.b, name='theirs')
        for ident in (theirs.uuid, 'theirs'):
            self.assertRaises(exception.BayNotFound,
                              db_bays.get_bay, self.a, ident)

    def test_bay_list_holds_own_project_only(self):
        mine = self.bay(self.a)
        self.bay(self.b)
        self.assertEqual([mine.id], [r.id for r in db_bays.list_bays(self.a)])

    def test_bays_of_a_public_baymodel_stay_private(self):
        shared = self.baymodel(self.b, public=True)
        self.bay(self.b, shared)
        self.assertEqual([], db_bays.list_bays(self.a))

    def test_admin_with_all_projects_sees_every_project(self):
        bay_a, bay_b = self.bay(self.a), self.bay(self.b)
        self.assertEqual({bay_a.id, bay_b.id},
                         {r.id for r in db_bays.list_bays(self.admin)})
        self.assertEqual(2, len(db_baymodels.list_baymodels(self.admin)))
        self.assertEqual(bay_b.id,
                         db_bays.get_bay(self.admin, bay_b.uuid).id)

    def test_admin_without_all_projects_lists_own_project_only(self):
        admin = _context('project-a', admin=True)
        mine = self.bay(self.a)
        self.bay(self.b)
        self.assertEqual([mine.id], [r.id for r in db_bays.list_bays(admin)])

    def test_admin_gets_another_projects_bay_by_uuid_but_not_by_name(self):
        admin = _context('project-a', admin=True)
        theirs = self.bay(self.b, name='theirs')
        self.assertEqual(theirs.id, db_bays.get_bay(admin, theirs.uuid).id)
        self.assertRaises(exception.BayNotFound,
                          db_bays.get_bay, admin, 'theirs')

    def test_non_admin_all_projects_flag_is_ignored(self):
        nosy = _context('project-a', all_projects=True)
        self.bay(self.b)
        self.assertEqual([], db_bays.list_bays(nosy))

    def test_unscoped_getters_cross_projects(self):
        baymodel = self.baymodel(self.b)
        bay = self.bay(self.b, baymodel)
        self.assertEqual(
            baymodel.id,
            db_baymodels.get_baymodel_by_uuid_unscoped(baymodel.uuid).id)
        self.assertEqual(bay.id, db_bays.get_bay_by_uuid_unscoped(bay.uuid).id)
        missing = uuidutils.generate_uuid()
        self.assertRaises(exception.BayModelNotFound,
                          db_baymodels.get_baymodel_by_uuid_unscoped, missing)
        self.assertRaises(exception.BayNotFound,
                          db_bays.get_bay_by_uuid_unscoped, missing)

    def test_count_of_bays_using_a_baymodel_crosses_projects(self):
        shared = self.baymodel(self.a, public=True)
        self.bay(self.a, shared)
        self.bay(self.b, shared)
        self.assertEqual(2, db_bays.count_bays_using(shared.uuid))


class TestLookup(DbTestCase):

    def test_bay_is_found_by_name_and_by_uuid(self):
        bay = self.bay(self.a, name='web')
        self.assertEqual(bay.id, db_bays.get_bay(self.a, 'web').id)
        self.assertEqual(bay.id, db_bays.get_bay(self.a, bay.uuid).id)

    def test_name_shared_by_two_bays_of_a_project_is_ambiguous(self):
        baymodel = self.baymodel(self.a)
        self.bay(self.a, baymodel, name='web')
        self.bay(self.a, baymodel, name='web')
        error = self.assertRaises(exception.AmbiguousName,
                                  db_bays.get_bay, self.a, 'web')
        self.assertEqual(409, error.code)

    def test_name_shared_by_two_baymodels_of_a_project_is_ambiguous(self):
        self.baymodel(self.a, name='k8s')
        self.baymodel(self.a, name='k8s')
        self.assertRaises(exception.AmbiguousName,
                          db_baymodels.get_baymodel, self.a, 'k8s')

    def test_name_used_in_another_project_is_not_ambiguous(self):
        mine = self.bay(self.a, name='web')
        self.bay(self.b, name='web')
        self.assertEqual(mine.id, db_bays.get_bay(self.a, 'web').id)

    def test_own_and_public_baymodel_of_one_name_are_ambiguous(self):
        self.baymodel(self.a, name='k8s')
        self.baymodel(self.b, name='k8s', public=True)
        self.assertRaises(exception.AmbiguousName,
                          db_baymodels.get_baymodel, self.a, 'k8s')

    def test_duplicate_names_still_resolve_by_uuid(self):
        baymodel = self.baymodel(self.a)
        first = self.bay(self.a, baymodel, name='web')
        self.bay(self.a, baymodel, name='web')
        self.assertEqual(first.id, db_bays.get_bay(self.a, first.uuid).id)

    def test_unknown_name_is_not_found(self):
        self.assertRaises(exception.BayNotFound,
                          db_bays.get_bay, self.a, 'nothing')
        self.assertRaises(exception.BayModelNotFound,
                          db_baymodels.get_baymodel, self.a, 'nothing')


class TestPagination(DbTestCase):

    NAMES = [None, 'b', None, 'a', 'b', None, 'c', 'a']

    def setUp(self):
        super().setUp()
        self.rows = [self.baymodel(self.a, name=name) for name in self.NAMES]
        self.baymodel(self.b, name='other')  # never in project A's pages

    def walk(self, limit, **query):
        """Every page in turn, each starting after the last row seen."""
        rows, marker = [], None
        for _ in range(len(self.rows) + 2):
            page = db_baymodels.list_baymodels(self.a, limit=limit,
                                               marker=marker, **query)
            self.assertLessEqual(len(page), limit)
            rows.extend(page)
            if len(page) < limit:
                return rows
            marker = page[-1].uuid
        self.fail('the pages never ended')

    def test_limit_caps_the_page(self):
        self.assertEqual(3, len(db_baymodels.list_baymodels(self.a, limit=3)))

    def test_default_order_is_by_id(self):
        self.assertEqual([r.id for r in self.rows],
                         [r.id for r in db_baymodels.list_baymodels(self.a)])

    def test_pages_by_id_return_every_row_once_in_both_directions(self):
        ids = [r.id for r in self.rows]
        self.assertEqual(ids, [r.id for r in self.walk(3)])
        self.assertEqual(ids[::-1],
                         [r.id for r in self.walk(3, sort_dir='desc')])

    def test_sorting_by_name_puts_nulls_first_ascending_last_descending(self):
        ascending = [r.name for r in db_baymodels.list_baymodels(
            self.a, sort_key='name')]
        descending = [r.name for r in db_baymodels.list_baymodels(
            self.a, sort_key='name', sort_dir='desc')]
        expected = [None, None, None, 'a', 'a', 'b', 'b', 'c']
        self.assertEqual(expected, ascending)
        self.assertEqual(expected[::-1], descending)

    def test_equal_names_are_ordered_by_id(self):
        rows = db_baymodels.list_baymodels(self.a, sort_key='name')
        a_ids = [r.id for r in rows if r.name == 'a']
        self.assertEqual(sorted(a_ids), a_ids)
        rows = db_baymodels.list_baymodels(self.a, sort_key='name',
                                           sort_dir='desc')
        a_ids = [r.id for r in rows if r.name == 'a']
        self.assertEqual(sorted(a_ids, reverse=True), a_ids)

    def test_pages_by_name_after_non_null_markers_return_every_row_once(self):
        # Pages of 4 ascending end on 'a', then 'c'; pages of 5 descending
        # end on 'a', and the NULLs make the last page.
        for limit, sort_dir in ((4, 'asc'), (5, 'desc')):
            everything = db_baymodels.list_baymodels(self.a, sort_key='name',
                                                     sort_dir=sort_dir)
            self.assertEqual(
                [r.id for r in everything],
                [r.id for r in self.walk(limit, sort_key='name',
                                         sort_dir=sort_dir)])

    def test_pages_by_name_across_nulls_return_every_row_once(self):
        for sort_dir in ('asc', 'desc'):
            everything = db_baymodels.list_baymodels(self.a, sort_key='name',
                                                     sort_dir=sort_dir)
            for limit in (1, 2, 3):
                walked = self.walk(limit, sort_key='name', sort_dir=sort_dir)
                self.assertEqual([r.id for r in everything],
                                 [r.id for r in walked])

    def test_unknown_marker_is_an_invalid_parameter(self):
        error = self.assertRaises(
            exception.InvalidParameterValue, db_baymodels.list_baymodels,
            self.a, marker=uuidutils.generate_uuid())
        self.assertEqual(400, error.code)

    def test_marker_the_caller_cannot_see_is_an_invalid_parameter(self):
        theirs = self.bay(self.b)
        self.assertRaises(exception.InvalidParameterValue,
                          db_bays.list_bays, self.a, marker=theirs.uuid)

    def test_bay_pages_return_every_bay_once(self):
        baymodel = self.rows[0]
        bays = [self.bay(self.a, baymodel, name='bay%d' % i)
                for i in range(5)]
        walked, marker = [], None
        while True:
            page = db_bays.list_bays(self.a, limit=2, marker=marker,
                                     sort_key='name', sort_dir='desc')
            walked.extend(page)
            if len(page) < 2:
                break
            marker = page[-1].uuid
        self.assertEqual([b.id for b in reversed(bays)],
                         [b.id for b in walked])


class TestUpdateBay(DbTestCase):

    def setUp(self):
        super().setUp()
        self.time = self.useFixture(utils_fixture.TimeFixture(NOW))
        self.target = self.bay(self.a, node_count=1)

    def assertUnchanged(self):
        row = self.reload(self.target)
        self.assertEqual(1, row.node_count)
        self.assertEqual(self.target.status, row.status)

    def test_update_writes_the_values_and_updated_at(self):
        self.time.advance_time_seconds(5)
        row = db_bays.update_bay(self.target.uuid, {'node_count': 3})
        self.assertEqual(3, row.node_count)
        self.assertEqual(NOW + datetime.timedelta(seconds=5), row.updated_at)
        self.assertEqual(3, self.reload(self.target).node_count)

    def test_update_in_an_expected_status_succeeds(self):
        row = db_bays.update_bay(self.target.uuid, {'node_count': 2},
                                 expected_statuses=['CREATE_COMPLETE'],
                                 unlocked=True)
        self.assertEqual(2, row.node_count)

    def test_update_in_an_unexpected_status_is_bay_in_progress(self):
        error = self.assertRaises(
            exception.BayInProgress, db_bays.update_bay, self.target.uuid,
            {'node_count': 2}, expected_statuses=['UPDATE_FAILED'])
        self.assertIn('CREATE_COMPLETE', str(error))
        self.assertUnchanged()

    def test_unlocked_update_of_a_reserved_bay_is_bay_locked(self):
        db_bays.reserve_bay(self.target.uuid, 'conductor-1')
        error = self.assertRaises(
            exception.BayLocked, db_bays.update_bay, self.target.uuid,
            {'node_count': 2}, unlocked=True)
        self.assertIn('conductor-1', str(error))
        self.assertEqual(409, error.code)
        self.assertUnchanged()

    def test_update_by_a_holder_that_lost_it_is_not_reserved(self):
        db_bays.reserve_bay(self.target.uuid, 'conductor-1')
        self.assertRaises(exception.BayNotReserved, db_bays.update_bay,
                          self.target.uuid, {'node_count': 2},
                          holder='conductor-2')
        self.assertUnchanged()

    def test_update_by_the_holder_succeeds(self):
        db_bays.reserve_bay(self.target.uuid, 'conductor-1')
        row = db_bays.update_bay(self.target.uuid, {'node_count': 2},
                                 holder='conductor-1')
        self.assertEqual(2, row.node_count)
        self.assertEqual('conductor-1', row.reservation)

    def test_update_by_the_holder_in_an_unexpected_status_is_in_progress(self):
        db_bays.reserve_bay(self.target.uuid, 'conductor-1')
        self.assertRaises(exception.BayInProgress, db_bays.update_bay,
                          self.target.uuid, {'node_count': 2},
                          expected_statuses=['UPDATE_FAILED'],
                          holder='conductor-1')
        self.assertUnchanged()

    def test_lock_is_reported_before_an_unexpected_status(self):
        db_bays.reserve_bay(self.target.uuid, 'conductor-1')
        self.assertRaises(exception.BayLocked, db_bays.update_bay,
                          self.target.uuid, {'node_count': 2},
                          expected_statuses=['UPDATE_FAILED'], unlocked=True)

    def test_update_by_a_holder_of_an_unreserved_bay_is_refused(self):
        # NOTE: the caller lost its reservation (cleared by a restart).
        self.assertRaises(exception.BayNotReserved, db_bays.update_bay,
                          self.target.uuid, {'node_count': 2},
                          holder='conductor-1')
        self.assertUnchanged()

    def test_update_of_a_missing_bay_is_bay_not_found(self):
        missing = uuidutils.generate_uuid()
        for conditions in ({}, {'expected_statuses': ['CREATE_COMPLETE']},
                           {'unlocked': True}, {'holder': 'conductor-1'}):
            self.assertRaises(exception.BayNotFound, db_bays.update_bay,
                              missing, {'node_count': 2}, **conditions)


class TestReservations(DbTestCase):

    def setUp(self):
        super().setUp()
        self.target = self.bay(self.a)

    def test_reserve_records_the_holder(self):
        row = db_bays.reserve_bay(self.target.uuid, 'conductor-1')
        self.assertEqual('conductor-1', row.reservation)
        self.assertEqual('conductor-1', self.reload(self.target).reservation)

    def test_reserving_a_reserved_bay_is_locked_naming_the_holder(self):
        db_bays.reserve_bay(self.target.uuid, 'conductor-1')
        error = self.assertRaises(exception.BayLocked, db_bays.reserve_bay,
                                  self.target.uuid, 'conductor-2')
        self.assertEqual('conductor-1', error.kwargs['host'])
        self.assertEqual('conductor-1', self.reload(self.target).reservation)

    def test_reservation_is_not_reentrant(self):
        db_bays.reserve_bay(self.target.uuid, 'conductor-1')
        self.assertRaises(exception.BayLocked, db_bays.reserve_bay,
                          self.target.uuid, 'conductor-1')

    def test_reserving_a_missing_bay_is_bay_not_found(self):
        self.assertRaises(exception.BayNotFound, db_bays.reserve_bay,
                          uuidutils.generate_uuid(), 'conductor-1')

    def test_release_frees_the_bay_for_the_next_holder(self):
        db_bays.reserve_bay(self.target.uuid, 'conductor-1')
        db_bays.release_bay(self.target.uuid, 'conductor-1')
        self.assertIsNone(self.reload(self.target).reservation)
        row = db_bays.reserve_bay(self.target.uuid, 'conductor-2')
        self.assertEqual('conductor-2', row.reservation)

    def test_release_by_another_host_changes_nothing(self):
        db_bays.reserve_bay(self.target.uuid, 'conductor-1')
        db_bays.release_bay(self.target.uuid, 'conductor-2')
        self.assertEqual('conductor-1', self.reload(self.target).reservation)

    def test_release_of_a_free_or_missing_bay_is_a_no_op(self):
        db_bays.release_bay(self.target.uuid, 'conductor-1')
        db_bays.release_bay(uuidutils.generate_uuid(), 'conductor-1')
        self.assertIsNone(self.reload(self.target).reservation)

    def test_clear_drops_only_the_hosts_reservations_and_counts_them(self):
        baymodel = self.baymodel(self.a)
        mine = [self.target, self.bay(self.a, baymodel)]
        other = self.bay(self.b)
        for bay in mine:
            db_bays.reserve_bay(bay.uuid, 'conductor-1')
        db_bays.reserve_bay(other.uuid, 'conductor-2')

        self.assertEqual(2, db_bays.clear_reservations('conductor-1'))
        for bay in mine:
            self.assertIsNone(self.reload(bay).reservation)
        self.assertEqual('conductor-2', self.reload(other).reservation)
        self.assertEqual(0, db_bays.clear_reservations('conductor-1'))

    def test_status_list_skips_reserved_bays_unless_asked(self):
        other = self.bay(self.a, status='CREATE_IN_PROGRESS')
        locked = self.bay(self.b, status='CREATE_IN_PROGRESS')
        db_bays.reserve_bay(locked.uuid, 'conductor-1')
        self.assertEqual(
            [other.id],
            [r.id for r in db_bays.list_bays_by_status(
                ['CREATE_IN_PROGRESS'])])
        self.assertEqual(
            [other.id, locked.id],
            [r.id for r in db_bays.list_bays_by_status(['CREATE_IN_PROGRESS'],
                                                       unlocked_only=False)])


class TestDestroy(DbTestCase):

    def test_baymodel_in_use_is_referenced_with_the_count(self):
        baymodel = self.baymodel(self.a)
        self.bay(self.a, baymodel)
        self.bay(self.b, baymodel)
        error = self.assertRaises(exception.BayModelReferenced,
                                  db_baymodels.destroy_baymodel, self.a,
                                  baymodel.uuid)
        self.assertEqual(2, error.kwargs['count'])
        self.assertEqual(409, error.code)
        self.assertEqual(baymodel.id,
                         db_baymodels.get_baymodel(self.a, baymodel.uuid).id)

    def test_unused_baymodel_is_deleted(self):
        baymodel = self.baymodel(self.a)
        db_baymodels.destroy_baymodel(self.a, baymodel.uuid)
        self.assertRaises(exception.BayModelNotFound,
                          db_baymodels.get_baymodel, self.a, baymodel.uuid)

    def test_deleting_a_missing_baymodel_is_not_found(self):
        self.assertRaises(exception.BayModelNotFound,
                          db_baymodels.destroy_baymodel, self.a,
                          uuidutils.generate_uuid())

    def test_bay_of_a_missing_baymodel_is_refused(self):
        self.assertRaises(exception.BayModelNotFound, db_bays.create_bay,
                          self.a, {'baymodel_id': uuidutils.generate_uuid(),
                                   'provisioner': 'static',
                                   'status': 'CREATE_IN_PROGRESS'})

    def test_duplicate_uuids_already_exist(self):
        baymodel = self.baymodel(self.a)
        bay = self.bay(self.a, baymodel)
        self.assertRaises(exception.BayModelAlreadyExists, self.baymodel,
                          self.a, uuid=baymodel.uuid)
        self.assertRaises(exception.BayAlreadyExists, self.bay, self.a,
                          baymodel, uuid=bay.uuid)

    def test_bay_is_destroyed_by_its_holder_only(self):
        bay = self.bay(self.a)
        db_bays.reserve_bay(bay.uuid, 'conductor-1')
        self.assertRaises(exception.BayNotReserved, db_bays.destroy_bay,
                          bay.uuid, holder='conductor-2')
        self.assertEqual(bay.id, self.reload(bay).id)
        db_bays.destroy_bay(bay.uuid, holder='conductor-1')
        self.assertRaises(exception.BayNotFound, self.reload, bay)


class TestReportService(DbTestCase):

    def setUp(self):
        super().setUp()
        self.time = self.useFixture(utils_fixture.TimeFixture(NOW))

    def rows(self):
        return [(r.host, r.binary, r.report_count)
                for r in db_services.list_services()]

    def test_first_heartbeat_creates_the_row_with_count_one(self):
        db_services.report_service('conductor-1', 'magnum-conductor')
        [row] = db_services.list_services()
        self.assertEqual(('conductor-1', 'magnum-conductor', 1),
                         (row.host, row.binary, row.report_count))
        self.assertEqual(NOW, row.last_seen_up)
        self.assertEqual(NOW, row.created_at)
        self.assertFalse(row.disabled)
        self.assertFalse(row.forced_down)

    def test_each_heartbeat_bumps_the_count_and_last_seen_up(self):
        for _ in range(3):
            self.time.advance_time_seconds(10)
            db_services.report_service('conductor-1', 'magnum-conductor')
        [row] = db_services.list_services()
        self.assertEqual(3, row.report_count)
        self.assertEqual(NOW + datetime.timedelta(seconds=30),
                         row.last_seen_up)
        self.assertEqual(NOW + datetime.timedelta(seconds=10),
                         row.created_at)

    def test_each_host_and_binary_has_its_own_row(self):
        db_services.report_service('conductor-1', 'magnum-conductor')
        db_services.report_service('conductor-2', 'magnum-conductor')
        db_services.report_service('conductor-1', 'magnum-api')
        db_services.report_service('conductor-1', 'magnum-conductor')
        self.assertEqual([('conductor-1', 'magnum-conductor', 2),
                          ('conductor-2', 'magnum-conductor', 1),
                          ('conductor-1', 'magnum-api', 1)], self.rows())

    def test_service_pages_follow_an_id_marker(self):
        for host in ('h1', 'h2', 'h3'):
            db_services.report_service(host, 'magnum-conductor')
        first = db_services.list_services(limit=2)
        rest = db_services.list_services(limit=2, marker=first[-1].id)
        self.assertEqual(['h1', 'h2', 'h3'],
                         [r.host for r in first + rest])
        self.assertRaises(exception.InvalidParameterValue,
                          db_services.list_services, marker=12345)

    def test_heartbeat_after_a_row_vanished_creates_it_again(self):
        db_services.report_service('conductor-1', 'magnum-conductor')
        with db_api.writer() as session:
            session.execute(sa.delete(db_api.SERVICE))
        db_services.report_service('conductor-1', 'magnum-conductor')
        self.assertEqual([('conductor-1', 'magnum-conductor', 1)],
                         self.rows())
