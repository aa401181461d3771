"""How an action ends: a failed change asked with rollback writes back
what it changed (ROLLED_BACK); node groups end with their bay's outcome;
a resize's servers to remove reach the provisioner from the action; a
refused start writes nothing."""

import threading

import fixtures

from magnum.common import exception
from magnum.db import actions as db_actions
from magnum.db import bays as db_bays
from magnum.db import baymodels as db_baymodels
from magnum.db import nodegroups as db_nodegroups
from magnum.drivers import base as drivers
from magnum.lifecycle import actions as lifecycle_actions
from magnum.objects import bay as bay_obj
from magnum.objects import nodegroup as nodegroup_obj
from magnum.tests.unit.conductor import test_bay_handler
from magnum.tests.unit import utils

FAILED = drivers.BayState(status=bay_obj.UPDATE_FAILED,
                          status_reason='no capacity')


class TestActionEnds(test_bay_handler.HandlerTestCase):

    def setUp(self):
        super().setUp()
        self.settle()

    def group(self, **values):
        defaults = {'name': 'extra', 'cluster_id': self.bay.uuid,
                    'project_id': self.bay.project_id, 'role': 'worker',
                    'is_default': False, 'node_count': 1,
                    'min_node_count': 0}
        return db_nodegroups.create_nodegroup(self.context,
                                              dict(defaults, **values))

    def act(self, kind, answer=None, **kwargs):
        """Start an action as the API does and deliver it; (bay row,
        action row)."""
        if answer is not None:
            verb = drivers.VERBS[kind]
            self.provisioner.answers[verb] = answer
        action = utils.start(self.context, self.bay, kind, **kwargs)
        action = self.deliver(action)
        return self.reload(), action

    def test_failed_resize_with_rollback_restores_the_count(self):
        worker = db_nodegroups.get_nodegroup(self.bay.uuid, 'default-worker')
        row, action = self.act(
            'resize', FAILED, params={'nodegroup': worker.uuid,
                                      'node_count': 5},
            changes={'node_count': 5}, rollback=True,
            restore={'bay': {'node_count': 1}})
        self.assertEqual('UPDATE_FAILED', row.status)
        self.assertEqual(1, row.node_count)
        self.assertIn('no capacity', row.status_reason)
        self.assertIn('rolled back: node_count=1', row.status_reason)
        self.assertEqual('ROLLED_BACK', action.status)
        self.assertEqual(row.status_reason, action.status_reason)

    def test_failed_resize_without_rollback_keeps_the_count(self):
        worker = db_nodegroups.get_nodegroup(self.bay.uuid, 'default-worker')
        row, action = self.act('resize', FAILED,
                               params={'nodegroup': worker.uuid,
                                       'node_count': 5},
                               changes={'node_count': 5},
                               restore={'bay': {'node_count': 1}})
        self.assertEqual(5, row.node_count)
        self.assertEqual('no capacity', row.status_reason)
        self.assertEqual('FAILED', action.status)

    def test_success_keeps_the_change(self):
        worker = db_nodegroups.get_nodegroup(self.bay.uuid, 'default-worker')
        row, action = self.act('resize', params={'nodegroup': worker.uuid,
                                                 'node_count': 5},
                               changes={'node_count': 5}, rollback=True,
                               restore={'bay': {'node_count': 1}})
        self.assertEqual('UPDATE_COMPLETE', row.status)
        self.assertEqual(5, row.node_count)
        self.assertEqual('COMPLETE', action.status)

    def test_failed_upgrade_restores_the_template(self):
        old = self.bay.baymodel_id
        other = db_baymodels.create_baymodel(self.context, {
            'coe': 'docker', 'labels': {'provisioner': 'fake'}})
        row, action = self.act(
            'upgrade', FAILED, params={'cluster_template': other.uuid},
            changes={'baymodel_id': other.uuid, 'coe_version': 'v2'},
            rollback=True,
            restore={'bay': {'baymodel_id': old, 'coe_version': None}})
        self.assertEqual(old, row.baymodel_id)
        self.assertIsNone(row.coe_version)
        self.assertEqual('ROLLED_BACK', action.status)

    def test_nodegroup_rollback_and_status(self):
        group = self.group(node_count=2)
        self.act('resize', FAILED,
                 params={'nodegroup': group.uuid, 'node_count': 4},
                 nodegroups=[('update', group.uuid, {
                     'node_count': 4, 'status': 'UPDATE_IN_PROGRESS'})],
                 rollback=True, restore={'nodegroup': {
                     'uuid': group.uuid, 'node_count': 2}})
        row = db_nodegroups.get_nodegroup(self.bay.uuid, 'extra')
        self.assertEqual(2, row.node_count)
        self.assertEqual('UPDATE_FAILED', row.status)

    def test_new_nodegroup_becomes_create_complete(self):
        group = self.group(status='CREATE_IN_PROGRESS')
        _, action = self.act('nodegroup_create',
                             params={'nodegroup': group.uuid})
        row = db_nodegroups.get_nodegroup(self.bay.uuid, 'extra')
        self.assertEqual('CREATE_COMPLETE', row.status)
        self.assertEqual('COMPLETE', action.status)

    def test_failed_group_upgrade_restores_its_image(self):
        group = self.group(image_id='old')
        row, _ = self.act(
            'upgrade', FAILED, params={'nodegroup': group.uuid},
            nodegroups=[('update', group.uuid, {
                'image_id': 'new', 'status': 'UPDATE_IN_PROGRESS'})],
            rollback=True, restore={'nodegroup': {'uuid': group.uuid,
                                                  'image_id': 'old'}})
        self.assertIn('image_id=old', row.status_reason)
        self.assertEqual('old', db_nodegroups.get_nodegroup(
            self.bay.uuid, 'extra').image_id)

    def test_servers_to_remove_reach_the_provisioner_from_the_action(self):
        group = self.group(node_count=2)
        seen = []

        def resize(context, bay, baymodel, nodegroup, node_count,
                   nodes_to_remove=None, rollback=False):
            seen.append((nodegroup.name, node_count, nodes_to_remove,
                         rollback))
            return drivers.BayState()

        self.provisioner.resize = resize
        action = utils.start(
            self.context, self.bay, 'resize',
            params={'nodegroup': group.uuid, 'node_count': 1,
                    'nodes_to_remove': ['s1']},
            nodegroups=[('update', group.uuid, {
                'node_count': 1, 'status': 'UPDATE_IN_PROGRESS'})])
        self.assertEqual('IN_PROGRESS', self.deliver(action).status)
        self.assertEqual([('extra', 1, ['s1'], False)], seen)
        # The reconciler hears the end: addresses by group, the outcome.
        self.provisioner.answers['poll'] = drivers.BayState(
            status=bay_obj.UPDATE_COMPLETE,
            nodegroup_addresses={'extra': ['172.24.4.9'],
                                 'default-worker': ['172.24.4.8']})
        self.handler.reconcile_bays()
        row = db_nodegroups.get_nodegroup(self.bay.uuid, group.uuid)
        self.assertEqual(['172.24.4.9'], row.node_addresses)
        self.assertEqual('UPDATE_COMPLETE', row.status)
        self.assertEqual('COMPLETE', db_actions.get(action.uuid).status)

    def test_failed_group_create_with_rollback_removes_the_group(self):
        group = self.group(status='CREATE_IN_PROGRESS')
        row, action = self.act('nodegroup_create', FAILED,
                               params={'nodegroup': group.uuid},
                               rollback=True)
        self.assertEqual('UPDATE_FAILED', row.status)
        self.assertIn('nodegroup extra=removed', row.status_reason)
        self.assertEqual(['default-master', 'default-worker'], sorted(
            g.name for g in db_nodegroups.all_nodegroups(self.bay.uuid)))
        self.assertEqual('ROLLED_BACK', action.status)

    def test_a_node_groups_status_is_typed(self):
        group = nodegroup_obj.NodeGroup.get(self.context, self.bay.uuid,
                                            'default-worker')
        self.assertEqual(('default-worker', 'CREATE_IN_PROGRESS'),
                         (group.name, group.status))
        self.assertRaises(ValueError, setattr, group, 'status', 'GROWING')
        group.status = None   # an extra group's, before any action
        self.assertEqual(
            ['default-master', 'default-worker'],
            [g.name for g in nodegroup_obj.NodeGroup.list_of(
                self.context, self.bay.uuid)])

    def test_a_refused_start_writes_nothing(self):
        """A busy bay refuses the whole change: no action, no row."""
        group = self.group()
        utils.start(self.context, self.bay, 'update')
        before = db_nodegroups.get_nodegroup(self.bay.uuid, group.uuid)
        self.assertRaises(
            exception.BayInProgress, utils.start, self.context, self.bay,
            'resize', params={'nodegroup': group.uuid, 'node_count': 9},
            nodegroups=[('update', group.uuid, {'node_count': 9})])
        self.assertEqual(before, db_nodegroups.get_nodegroup(
            self.bay.uuid, group.uuid))
        self.assertEqual(['update', 'create'], [
            a.kind for a in db_actions.list_of(self.bay.uuid)])


class TestStartOnAHeldBay(test_bay_handler.HandlerTestCase):
    """A conductor holds a bay for a moment to write what its provisioner
    said (the reconciler, the watch): an action asked meanwhile waits for
    it, rather than answering 409; a bay held longer is still a 409."""

    def setUp(self):
        super().setUp()
        self.settle()

    def test_an_action_waits_for_a_bay_held_a_moment(self):
        db_bays.reserve_bay(self.bay.uuid, 'other-conductor')
        timer = threading.Timer(0.2, db_bays.release_bay,
                                (self.bay.uuid, 'other-conductor'))
        timer.start()
        self.addCleanup(timer.cancel)
        action = utils.start(self.context, self.bay, 'delete')
        self.assertEqual('PENDING', action.status)
        self.assertEqual('DELETE_IN_PROGRESS', self.reload().status)

    def test_a_bay_held_longer_is_a_409_and_nothing_is_written(self):
        self.useFixture(fixtures.MockPatchObject(
            lifecycle_actions, 'LOCKED_WAIT', 0.1))
        db_bays.reserve_bay(self.bay.uuid, 'other-conductor')
        before = self.reload().status
        self.assertRaises(exception.BayLocked, utils.start, self.context,
                          self.bay, 'delete')
        self.assertEqual(before, self.reload().status)
        self.assertEqual([], [a for a in db_actions.list_of(self.bay.uuid)
                              if a.kind == 'delete'])
