"""A failed resize or upgrade asked with rollback writes the old values
back; node groups end their action with the bay's outcome."""

from magnum.db import api as db_api
from magnum.db import cluster_api
from magnum.drivers import base as drivers
from magnum.objects import bay as bay_obj
from magnum.tests.unit.conductor import test_bay_handler


class TestRollback(test_bay_handler.HandlerTestCase):

    def update(self, rollback, **values):
        db_api.update_bay(self.bay.uuid, dict(
            values, status='UPDATE_IN_PROGRESS', rollback=rollback))
        self.handler.bay_update(self.context, self.bay)
        return self.reload()

    def test_failed_resize_with_rollback_restores_the_count(self):
        self.provisioner.answers['update'] = drivers.BayState(
            status=bay_obj.UPDATE_FAILED, status_reason='no capacity')
        row = self.update({'node_count': '1'}, node_count=5)
        self.assertEqual('UPDATE_FAILED', row.status)
        self.assertEqual(1, row.node_count)
        self.assertIn('no capacity', row.status_reason)
        self.assertIn('rolled back', row.status_reason)
        self.assertIsNone(row.rollback)

    def test_failed_resize_without_rollback_keeps_the_count(self):
        self.provisioner.answers['update'] = drivers.BayState(
            status=bay_obj.UPDATE_FAILED, status_reason='no capacity')
        row = self.update(None, node_count=5)
        self.assertEqual(5, row.node_count)
        self.assertEqual('no capacity', row.status_reason)

    def test_success_forgets_the_rollback(self):
        row = self.update({'node_count': '1'}, node_count=5)
        self.assertEqual('UPDATE_COMPLETE', row.status)
        self.assertEqual(5, row.node_count)
        self.assertIsNone(row.rollback)

    def test_failed_upgrade_restores_the_template(self):
        old = self.bay.baymodel_id
        other = db_api.create_baymodel(self.context, {
            'coe': 'docker', 'labels': {'provisioner': 'fake'}})
        self.provisioner.answers['update'] = drivers.BayState(
            status=bay_obj.UPDATE_FAILED, status_reason='boom')
        row = self.update({'baymodel_id': old, 'coe_version': None},
                          baymodel_id=other.uuid, coe_version='v2')
        self.assertEqual(old, row.baymodel_id)
        self.assertIsNone(row.coe_version)

    def test_nodegroup_rollback_and_status(self):
        group = cluster_api.create_nodegroup(self.context, {
            'name': 'extra', 'cluster_id': self.bay.uuid,
            'project_id': self.bay.project_id, 'role': 'worker',
            'is_default': False, 'node_count': 4, 'min_node_count': 0,
            'status': 'UPDATE_IN_PROGRESS'})
        self.provisioner.answers['update'] = drivers.BayState(
            status=bay_obj.UPDATE_FAILED, status_reason='boom')
        self.update({'nodegroup': group.uuid, 'nodegroup_count': '2'})
        row = cluster_api.get_nodegroup(self.bay.uuid, 'extra')
        self.assertEqual(2, row.node_count)
        self.assertEqual('UPDATE_FAILED', row.status)

    def test_new_nodegroup_becomes_create_complete(self):
        cluster_api.create_nodegroup(self.context, {
            'name': 'extra', 'cluster_id': self.bay.uuid,
            'project_id': self.bay.project_id, 'role': 'worker',
            'is_default': False, 'node_count': 1, 'min_node_count': 0,
            'status': 'CREATE_IN_PROGRESS'})
        self.update(None)
        row = cluster_api.get_nodegroup(self.bay.uuid, 'extra')
        self.assertEqual('CREATE_COMPLETE', row.status)

    def test_failed_group_upgrade_restores_its_image(self):
        group = cluster_api.create_nodegroup(self.context, {
            'name': 'extra', 'cluster_id': self.bay.uuid,
            'project_id': self.bay.project_id, 'role': 'worker',
            'is_default': False, 'node_count': 1, 'min_node_count': 0,
            'image_id': 'new', 'status': 'UPDATE_IN_PROGRESS'})
        self.provisioner.answers['update'] = drivers.BayState(
            status=bay_obj.UPDATE_FAILED, status_reason='boom')
        row = self.update({'nodegroup': group.uuid,
                           'nodegroup_image': 'old'})
        self.assertIn('image_id=old', row.status_reason)
        self.assertEqual('old', cluster_api.get_nodegroup(
            self.bay.uuid, 'extra').image_id)

    def test_servers_to_remove_are_forgotten_when_the_update_ends(self):
        group = cluster_api.create_nodegroup(self.context, {
            'name': 'extra', 'cluster_id': self.bay.uuid,
            'project_id': self.bay.project_id, 'role': 'worker',
            'is_default': False, 'node_count': 1, 'min_node_count': 0,
            'nodes_to_remove': ['s1'], 'status': 'UPDATE_IN_PROGRESS'})
        self.provisioner.answers['update'] = drivers.BayState(
            status=bay_obj.UPDATE_IN_PROGRESS)
        self.update(None)
        self.assertEqual(['s1'], cluster_api.get_nodegroup(
            self.bay.uuid, 'extra').nodes_to_remove)
        self.provisioner.answers['update'] = drivers.BayState(
            status=bay_obj.UPDATE_COMPLETE,
            nodegroup_addresses={'extra': ['172.24.4.9'],
                                 'default-worker': ['172.24.4.8']})
        self.update(None)
        row = cluster_api.get_nodegroup(self.bay.uuid, group.uuid)
        self.assertIsNone(row.nodes_to_remove)
        self.assertEqual(['172.24.4.9'], row.node_addresses)
        self.assertEqual('UPDATE_COMPLETE', row.status)

    def test_failed_group_create_with_rollback_removes_the_group(self):
        cluster_api.create_nodegroup(self.context, {
            'name': 'extra', 'cluster_id': self.bay.uuid,
            'project_id': self.bay.project_id, 'role': 'worker',
            'is_default': False, 'node_count': 1, 'min_node_count': 0,
            'status': 'CREATE_IN_PROGRESS'})
        self.provisioner.answers['update'] = drivers.BayState(
            status=bay_obj.UPDATE_FAILED, status_reason='boom')
        row = self.update({})
        self.assertEqual('UPDATE_FAILED', row.status)
        self.assertIn('nodegroup extra=removed', row.status_reason)
        self.assertEqual(['default-master', 'default-worker'], sorted(
            g.name for g in cluster_api.all_nodegroups(self.bay.uuid)))
