"""The container handler's reconciler, on the in-memory engine."""

import datetime
import threading

from oslo_utils import timeutils

from magnum.conductor.handlers import container as container_handler
from magnum.db import containers as db_containers
from magnum.objects import bay as bay_obj
from magnum.objects import container as container_obj
from magnum.tests import base
from magnum.tests.unit import fake_docker
from magnum.tests.unit import utils


class ReconcilerTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.engine = fake_docker.FakeDockerEngine()
        self.handler = container_handler.ContainerHandler(
            'test-host', engine_for=self.engine)
        self.bay = utils.bay(self.context, utils.baymodel(self.context),
                             status=bay_obj.CREATE_COMPLETE,
                             api_address='unix:///fake.sock')

    def make(self, name='c1', context=None, bay=None):
        context = context or self.context
        container = container_obj.Container(
            context, name=name, image='busybox', command='sleep 9',
            bay_uuid=(bay or self.bay).uuid, memory=None, environment=None,
            labels=None)
        return self.handler.container_create(context, container)

    def engine_state(self, container, state):
        self.engine.containers[self.row(container).container_id][
            'state'] = state

    def row(self, container):
        return db_containers.get_container_by_uuid_unscoped(container.uuid)

    def reconcile(self):
        self.engine.calls.clear()
        self.handler.reconcile_containers()


class TestReconciler(ReconcilerTestCase):

    def test_killed_behind_magnums_back_becomes_stopped(self):
        container = self.make()
        self.handler.container_action(self.context, container, 'start')
        self.engine_state(container, 'exited')
        self.reconcile()
        row = self.row(container)
        self.assertEqual('Stopped', row.status)
        self.assertIn('exited', row.status_reason)

    def test_removed_behind_magnums_back_becomes_unknown(self):
        container = self.make()
        self.engine.containers.clear()
        self.reconcile()
        row = self.row(container)
        self.assertEqual('Unknown', row.status)
        self.assertIn('removed outside Magnum', row.status_reason)

    def test_one_list_call_per_bay(self):
        other = utils.bay(self.context, utils.baymodel(self.context),
                          name='bay2', status=bay_obj.CREATE_COMPLETE,
                          api_address='unix:///fake.sock')
        for n in range(3):
            self.make('c%d' % n)
        self.make('d1', bay=other)
        self.reconcile()
        self.assertEqual(['list', 'list'], self.engine.calls)

    def test_an_action_answered_meanwhile_wins(self):
        container = self.make()
        self.handler.container_action(self.context, container, 'start')
        stale = container_obj.Container.get_by_uuid_unscoped(
            self.context, container.uuid)
        self.handler.container_action(self.context, container, 'stop')
        self.engine_state(container, 'paused')  # what the list said
        self.handler._reconcile_one(stale, (
            'project-a', 'Paused', 'Up (Paused)', stale.container_id),
            self.bay)
        self.assertEqual('Stopped', self.row(container).status)

    def test_labels_of_another_project_are_not_this_row(self):
        container = self.make()
        self.engine.containers[self.row(container).container_id][
            'labels']['magnum.project_id'] = 'project-b'
        self.reconcile()
        self.assertEqual('Unknown', self.row(container).status)

    def test_creating_row_gets_the_engines_container(self):
        container = self.make()
        container_id = self.row(container).container_id
        db_containers.update_container(container.uuid, {'status': 'Creating',
                                                        'container_id': None})
        self.engine.containers[container_id]['state'] = 'running'
        self.reconcile()
        row = self.row(container)
        self.assertEqual('Running', row.status)
        self.assertEqual(container_id, row.container_id)

    def test_stuck_creating_row_becomes_error(self):
        container = self.make()
        self.engine.containers.clear()
        old = timeutils.utcnow() - datetime.timedelta(hours=1)
        db_containers.update_container(container.uuid, {
            'status': 'Creating', 'container_id': None, 'created_at': old})
        self.reconcile()
        row = self.row(container)
        self.assertEqual('Error', row.status)
        self.assertIn('did not finish', row.status_reason)

    def test_young_creating_row_is_left_alone(self):
        container = self.make()
        self.engine.containers.clear()
        db_containers.update_container(container.uuid, {'status': 'Creating',
                                                        'container_id': None})
        self.reconcile()
        self.assertEqual('Creating', self.row(container).status)

    def test_error_rows_keep_their_reason(self):
        container = self.make()
        db_containers.update_container(container.uuid, {
            'status': 'Error', 'status_reason': 'bad command'})
        self.reconcile()
        self.assertEqual('bad command', self.row(container).status_reason)

    def test_unreachable_engine_changes_nothing(self):
        container = self.make()
        self.engine.down = True
        self.reconcile()
        self.assertEqual('Stopped', self.row(container).status)

    def test_deleted_while_pulling_leaves_nothing_on_the_engine(self):
        self.engine.pullable.add('alpine')
        self.engine.pull_gate.clear()
        container = container_obj.Container(
            self.context, name='p', image='alpine', command=None,
            bay_uuid=self.bay.uuid, memory=None, environment=None,
            labels=None)
        self.handler.container_create(self.context, container)
        self.handler.container_delete(self.context, container, force=True)
        self.engine.pull_gate.set()
        for thread in threading.enumerate():
            if thread.name.startswith('container-create-'):
                thread.join(5)
        self.assertEqual({}, self.engine.containers)
