"""The heat provisioner's bookkeeping, against an in-memory Heat.

``FakeHeat`` answers the few heatclient calls the provisioner makes, the
way Heat does (status strings, 404s); the real engine runs the same code in
test_heat_bays.py. Here: status translation, one list call per pass, lost
actions, vanished stacks, and outputs becoming addresses and nodes.
"""

import types
from unittest import mock

import fixtures
from heatclient import exc as heat_exc

from magnum.common import context as magnum_context
from magnum.drivers import heat
from magnum.drivers.heat import clients as heat_clients
from magnum.objects import bay as bay_obj
from magnum.objects import bay_tls
from magnum.tests import base
from magnum.tests.unit import utils


class FakeStacks:

    def __init__(self):
        self.stacks = {}
        self.calls = []
        self.got_with = []

    def _stack(self, ident):
        # NOTE: as Heat's API: an id, a name, or both ("name/id", which
        # must agree).
        name, _, stack_id = ident.rpartition('/')
        for stack in self.stacks.values():
            if name and (stack.stack_name, stack.id) == (name, stack_id):
                return stack
            if not name and ident in (stack.id, stack.stack_name):
                return stack
        raise heat_exc.HTTPNotFound()

    def list(self, **kwargs):
        self.calls.append(('list', kwargs))
        return iter(list(self.stacks.values()))

    def get(self, ident, **kwargs):
        self.calls.append(('get', ident))
        self.got_with.append(kwargs)
        return self._stack(ident)

    def create(self, **kwargs):
        self.calls.append(('create', kwargs['stack_name']))
        self.created_with = kwargs
        stack_id = 'stack-%d' % (len(self.stacks) + 1)
        self.stacks[stack_id] = types.SimpleNamespace(
            id=stack_id, stack_name=kwargs['stack_name'],
            stack_status='CREATE_IN_PROGRESS',
            stack_status_reason='Stack CREATE started', outputs=[])
        return {'stack': {'id': stack_id}}

    def update(self, ident, **kwargs):
        self.calls.append(('update', ident))
        stack = self._stack(ident)
        stack.stack_status = 'UPDATE_IN_PROGRESS'

    def delete(self, ident):
        self.calls.append(('delete', ident))
        self._stack(ident).stack_status = 'DELETE_IN_PROGRESS'


class FakeEvents:
    """Events by stack id, newest first, as Heat lists them."""

    def __init__(self):
        self.events = {}

    def list(self, stack_id, **kwargs):
        return list(self.events.get(stack_id, []))


class TestHeatProvisioner(base.TestCase):

    def setUp(self):
        super().setUp()
        self.heat = types.SimpleNamespace(stacks=FakeStacks(),
                                          events=FakeEvents())
        for name in ('service_client', 'user_client'):
            self.useFixture(fixtures.MockPatchObject(
                heat_clients, name, lambda *a: self.heat))
        self.provisioner = heat.HeatProvisioner()
        self.model = utils.baymodel(
            self.context, coe='kubernetes', image_id='img',
            flavor_id='m1', external_network_id='public',
            cluster_distro='fedora', labels={'provisioner': 'heat'})
        self.admin = magnum_context.make_admin_context()

    def _bay(self, **values):
        return utils.bay(self.context, self.model, provisioner='heat',
                         name=values.pop('name', 'b'), **values)

    def poll(self, *bays, status='IN_PROGRESS', changed=False, **params):
        """Poll for the bays' current actions (each action's uuid is its
        bay's, so answers are read by bay); ``status`` PENDING: no
        conductor has handed them over yet."""
        items = []
        for bay in bays:
            action = types.SimpleNamespace(
                uuid=bay.uuid, bay_uuid=bay.uuid, kind='update',
                status=status, params=params,
                param=lambda name, default=None, p=params: p.get(
                    name, default))
            items.append((bay, self.model, action))
        if changed:
            return self.provisioner.poll_changed(self.admin, items)
        return self.provisioner.poll(self.admin, items)

    def _created(self, bay):
        state = self.provisioner.create(self.context, bay, self.model)
        bay.stack_id = state.stack_id
        return self.heat.stacks.stacks[state.stack_id]

    def test_create_is_tagged_and_timed_and_never_doubled(self):
        bay = self._bay(bay_create_timeout=7)
        stack = self._created(bay)
        self.assertEqual(1, self.heat.stacks.calls.count(
            ('create', stack.stack_name)))
        # Redone with the stack id known, or only by name: adopted.
        self.provisioner.create(self.context, bay, self.model)
        bay.stack_id = None
        state = self.provisioner.create(self.context, bay, self.model)
        self.assertEqual(stack.id, state.stack_id)
        self.assertEqual(1, [c[0] for c in self.heat.stacks.calls].count(
            'create'))

    def test_the_nodes_get_the_bays_certificates_as_parameters(self):
        bay = self._bay()
        bundle = bay_tls.ensure(bay, self.model, endpoint_tls=True)
        self._created(bay)
        parameters = self.heat.stacks.created_with['parameters']
        self.assertEqual(bundle.ca_cert, parameters['ca_cert'])
        self.assertEqual(bundle.server_cert, parameters['server_cert'])
        self.assertEqual(bundle.server_key, parameters['server_key'])
        self.assertIn('PRIVATE KEY', parameters['server_key'])
        # kubeadm on the masters signs the cluster's certificates with it.
        self.assertEqual(bundle.ca_key, parameters['ca_key'])
        docker = utils.baymodel(
            self.context, coe='docker', image_id='img', flavor_id='m1',
            external_network_id='public', cluster_distro='fedora',
            labels={'provisioner': 'heat'})
        bay = utils.bay(self.context, docker, provisioner='heat', name='d')
        bay_tls.ensure(bay, docker, endpoint_tls=True)
        self.provisioner.create(self.context, bay, docker)
        parameters = self.heat.stacks.created_with['parameters']
        self.assertIn('server_key', parameters)
        self.assertNotIn('ca_key', parameters)

    def test_a_bay_whose_nodes_serve_no_certificates_passes_none(self):
        for endpoint_tls in (None, False):
            bay = self._bay(name='plain-%s' % endpoint_tls)
            if endpoint_tls is not None:
                bay_tls.ensure(bay, self.model, endpoint_tls=endpoint_tls)
            self._created(bay)
            parameters = self.heat.stacks.created_with['parameters']
            self.assertFalse({'ca_cert', 'server_cert', 'server_key'}
                             & set(parameters))

    def test_one_list_call_answers_for_every_bay(self):
        bays = [self._bay(name='b%d' % i) for i in range(20)]
        for bay in bays:
            self._created(bay)
        self.heat.stacks.calls.clear()
        states = self.poll(*bays)
        self.assertEqual({}, states)  # all still in progress
        self.assertEqual(['list'],
                         [c[0] for c in self.heat.stacks.calls])
        self.assertEqual({'global_tenant': True, 'tags': 'magnum'},
                         self.heat.stacks.calls[0][1])

    def test_a_bay_heat_told_of_is_read_with_a_get_of_its_stack(self):
        bay = self._bay(status=bay_obj.UPDATE_IN_PROGRESS)
        stack = self._created(bay)
        self.heat.stacks.calls.clear()
        self.heat.stacks.got_with.clear()
        self.assertEqual({}, self.poll(bay, changed=True))
        # NOTE: by name and id, which Heat answers without a redirect.
        self.assertEqual([('get', '%s/%s' % (stack.stack_name, stack.id))],
                         self.heat.stacks.calls)
        # NOTE: Heat resolves outputs by loading every nested stack.
        self.assertEqual([{'resolve_outputs': False}],
                         self.heat.stacks.got_with)
        stack.stack_status = 'UPDATE_COMPLETE'
        stack.outputs = [{'output_key': 'api_ip',
                          'output_value': '172.24.4.5'}]
        self.heat.stacks.calls.clear()
        state = self.poll(bay, changed=True)[bay.uuid]
        self.assertEqual(bay_obj.UPDATE_COMPLETE, state.status)
        self.assertEqual('https://172.24.4.5:6443', state.api_address)
        self.assertEqual(['get', 'get'],
                         [c[0] for c in self.heat.stacks.calls])
        # A bay renamed since its stack was made: by id, after a 404.
        bay.name = 'renamed'
        stack.stack_status = 'UPDATE_IN_PROGRESS'
        bay.status = bay_obj.UPDATE_IN_PROGRESS
        self.heat.stacks.calls.clear()
        self.assertEqual({}, self.poll(bay, changed=True))
        self.assertEqual([('get', 'renamed-%s/%s' % (bay.uuid, stack.id)),
                          ('get', stack.id)], self.heat.stacks.calls)
        # The reconcile pass lists, one bay or many.
        self.heat.stacks.calls.clear()
        bay.status = bay_obj.UPDATE_IN_PROGRESS
        stack.stack_status = 'UPDATE_IN_PROGRESS'
        self.poll(bay)
        self.assertEqual(['list'], [c[0] for c in self.heat.stacks.calls])

    def test_a_state_heat_told_of_is_waited_for_a_moment(self):
        """Heat sends a stack's notification just before it writes the
        stack's state: a read at once may find the operation still in
        progress, and is made again until the state told of shows."""
        bay = self._bay(status=bay_obj.UPDATE_IN_PROGRESS)
        stack = self._created(bay)
        stack.stack_status = 'UPDATE_IN_PROGRESS'
        stack.outputs = [{'output_key': 'api_ip',
                          'output_value': '172.24.4.5'}]
        self.provisioner._notifications._tell(bay.uuid, stack.id,
                                              'UPDATE_COMPLETE')
        get = self.heat.stacks.get
        reads = []

        def written_after_two_reads(ident, **kwargs):
            reads.append(ident)
            if len(reads) == 3:
                stack.stack_status = 'UPDATE_COMPLETE'
            return get(ident, **kwargs)

        self.heat.stacks.get = written_after_two_reads
        state = self.poll(bay, changed=True)[bay.uuid]
        self.assertEqual(bay_obj.UPDATE_COMPLETE, state.status)
        # Two reads in progress, the third complete, then the outputs.
        self.assertEqual(4, len(reads))
        # Told of another stack, or of a state long ago: no waiting.
        stack.stack_status = 'UPDATE_IN_PROGRESS'
        self.provisioner._notifications._tell(bay.uuid, 'another-stack',
                                              'UPDATE_COMPLETE')
        reads.clear()
        self.assertEqual({}, self.poll(bay, changed=True))
        self.assertEqual(1, len(reads))

    def test_a_stack_gone_is_gone_to_the_get_as_to_the_list(self):
        bay = self._bay(status=bay_obj.DELETE_IN_PROGRESS)
        self._created(bay)
        self.heat.stacks.stacks.clear()
        state = self.poll(bay, changed=True)[bay.uuid]
        self.assertEqual(bay_obj.DELETE_COMPLETE, state.status)

    def test_a_bay_without_its_stack_id_is_adopted_through_the_list(self):
        bay = self._bay(status=bay_obj.CREATE_IN_PROGRESS)
        stack = self._created(bay)
        bay.stack_id = None
        self.heat.stacks.calls.clear()
        state = self.poll(bay, changed=True)[bay.uuid]
        self.assertEqual(stack.id, state.stack_id)
        self.assertEqual(['list'], [c[0] for c in self.heat.stacks.calls])

    def test_heat_reason_is_the_bay_reason_word_for_word(self):
        bay = self._bay()
        stack = self._created(bay)
        stack.stack_status = 'CREATE_FAILED'
        stack.stack_status_reason = 'Resource CREATE failed: Boom: x'
        state = self.poll(bay)[
            bay.uuid]
        self.assertEqual(bay_obj.CREATE_FAILED, state.status)
        self.assertEqual('Resource CREATE failed: Boom: x',
                         state.status_reason)

    def test_complete_brings_addresses_and_nodes(self):
        bay = self._bay()
        stack = self._created(bay)
        stack.stack_status = 'CREATE_COMPLETE'
        server = {'id': 's1', 'name': 'b-master-0', 'role': 'master',
                  'image': 'img', 'private_ip': '10.0.0.5',
                  'public_ip': '172.24.4.5'}
        stack.outputs = [
            {'output_key': 'api_ip', 'output_value': '172.24.4.5'},
            {'output_key': 'master_addresses',
             'output_value': ['172.24.4.5']},
            # A server Heat knows no address of yet says None.
            {'output_key': 'node_addresses', 'output_value': [None]},
            {'output_key': 'master_servers', 'output_value': [server]},
            {'output_key': 'node_servers', 'output_value': []}]
        state = self.poll(bay)[
            bay.uuid]
        self.assertEqual('https://172.24.4.5:6443', state.api_address)
        self.assertEqual(['172.24.4.5'], state.master_addresses)
        self.assertEqual([], state.node_addresses)
        self.assertEqual([{'server_id': 's1', 'name': 'b-master-0',
                           'type': 'master', 'image_id': 'img',
                           'nodegroup': 'default-master',
                           'addresses': ['10.0.0.5', '172.24.4.5']}],
                         state.nodes)

    def test_outputs_that_cannot_be_read_are_no_news_for_that_bay_only(self):
        bays = [self._bay(name='b%d' % i) for i in range(12)]
        for bay in bays:
            self._created(bay).stack_status = 'CREATE_COMPLETE'
        get = self.heat.stacks.get

        def get_or_fail(ident, **kwargs):
            if ident.endswith(bays[3].stack_id):
                raise heat_exc.HTTPServiceUnavailable()
            return get(ident, **kwargs)

        self.heat.stacks.get = get_or_fail
        states = self.poll(*bays)
        self.assertEqual({b.uuid for b in bays} - {bays[3].uuid},
                         set(states))
        self.assertTrue(all(s.status == 'CREATE_COMPLETE'
                            for s in states.values()))

    def test_an_update_heat_never_saw_is_redone(self):
        bay = self._bay()
        stack = self._created(bay)
        stack.stack_status = 'CREATE_COMPLETE'
        bay.status = bay_obj.UPDATE_IN_PROGRESS
        state = self.poll(bay)[
            bay.uuid]
        self.assertTrue(state.redo)
        # Heat busy with an earlier action: wait for it.
        stack.stack_status = 'CREATE_IN_PROGRESS'
        self.assertEqual({}, self.poll(bay))

    def test_an_update_no_conductor_sent_yet_is_not_the_last_ones_end(self):
        """The API wrote UPDATE_IN_PROGRESS; its message is not yet with a
        conductor, and the stack still shows the update before it."""
        bay = self._bay()
        stack = self._created(bay)
        bay.status = bay_obj.UPDATE_IN_PROGRESS
        for earlier in ('UPDATE_COMPLETE', 'UPDATE_FAILED',
                        'ROLLBACK_COMPLETE'):
            stack.stack_status = earlier
            state = self.poll(bay, status='PENDING')[bay.uuid]
            self.assertTrue(state.redo, earlier)
            self.assertIsNone(state.status, earlier)
        stack.stack_status = 'UPDATE_IN_PROGRESS'
        self.assertEqual({}, self.poll(bay, status='PENDING'))
        # Handed over by a conductor: the stack's outcome is the update's.
        stack.stack_status = 'UPDATE_COMPLETE'
        state = self.poll(bay)[bay.uuid]
        self.assertEqual(bay_obj.UPDATE_COMPLETE, state.status)

    def test_stack_gone_ends_a_delete_and_fails_anything_else(self):
        bay = self._bay()
        self._created(bay)
        self.heat.stacks.stacks.clear()
        bay.status = bay_obj.DELETE_IN_PROGRESS
        state = self.poll(bay)[
            bay.uuid]
        self.assertEqual(bay_obj.DELETE_COMPLETE, state.status)
        bay.status = bay_obj.UPDATE_IN_PROGRESS
        state = self.poll(bay)[
            bay.uuid]
        self.assertEqual(bay_obj.UPDATE_FAILED, state.status)
        self.assertIn('gone from Heat', state.status_reason)

    def test_delete_of_a_missing_stack_is_complete(self):
        bay = self._bay()
        state = self.provisioner.delete(self.context, bay, self.model)
        self.assertEqual(bay_obj.DELETE_COMPLETE, state.status)

    def test_heat_refusal_is_its_own_message(self):
        def refuse(**kwargs):
            e = heat_exc.HTTPBadRequest()
            e.error = {'error': {'message': 'Property X is bad'}}
            raise e
        self.heat.stacks.create = refuse
        state = self.provisioner.create(self.context, self._bay(),
                                        self.model)
        self.assertEqual(bay_obj.CREATE_FAILED, state.status)
        self.assertEqual('Property X is bad', state.status_reason)

    def test_heats_own_trouble_at_create_is_tried_again(self):
        """A 5xx from heat-api (its engine did not answer in time) is no
        verdict on the bay: the create is driven again, and a stack Heat
        made all the same is adopted by name."""
        calls = []

        def overloaded(**kwargs):
            calls.append(kwargs['stack_name'])
            e = heat_exc.HTTPInternalServerError()
            e.error = {'error': {'message': 'Internal Error'}}
            raise e
        self.heat.stacks.create = overloaded
        bay = self._bay()
        state = self.provisioner.create(self.context, bay, self.model)
        self.assertIsNone(state.status)
        self.assertTrue(state.redo)
        self.assertIn('Internal Error', state.status_reason)
        self.assertEqual(1, len(calls))

    def test_an_update_sends_the_whole_desired_state(self):
        bay = self._bay(node_count=1)
        stack = self._created(bay)
        stack.stack_status = 'CREATE_COMPLETE'
        calls = []
        self.heat.stacks.update = lambda ident, **kw: calls.append(kw)
        bay.node_count = 3
        self.provisioner.update(self.context, bay, self.model)
        sent = calls[0]
        self.assertTrue(sent['existing'])
        self.assertEqual('magnum', sent['tags'])
        self.assertEqual(3, sent['parameters']['node_count'])
        self.assertEqual('img', sent['parameters']['image'])
        self.assertIn('cluster', sent['template']['resources'])
        self.assertTrue(sent['disable_rollback'])  # no ?rollback=True
        self.provisioner.update(self.context, bay, self.model,
                                rollback=True)
        self.assertFalse(calls[1]['disable_rollback'])

    def test_updates_carry_the_current_certificates(self):
        """An update (a redo too) sends what the database holds, so after
        a rotation the servers get the new certificates; the rotation's
        own update never asks Heat to roll back to the old ones."""
        bay = self._bay(node_count=1)
        bay_tls.ensure(bay, self.model, endpoint_tls=True)
        stack = self._created(bay)
        stack.stack_status = 'CREATE_COMPLETE'
        calls = []
        self.heat.stacks.update = lambda ident, **kw: calls.append(kw)
        bundle = bay_tls.rotate(bay, self.model)
        self.assertTrue(self.provisioner.rotates_by_update)
        state = self.provisioner.rotate_ca(
            self.context, bay, self.model, bundle)
        self.assertIsNone(state.status)
        sent = calls[0]
        self.assertTrue(sent['disable_rollback'])
        for name in ('ca_cert', 'server_cert', 'server_key', 'ca_key'):
            self.assertEqual(getattr(bundle, name), sent['parameters'][name])
        self.provisioner.update(self.context, bay, self.model,
                                rollback=True)
        self.assertEqual(bundle.server_key,
                         calls[1]['parameters']['server_key'])
        self.assertFalse(calls[1]['disable_rollback'])

    def test_an_update_that_asked_for_rollback_waits_for_it(self):
        # Heat marks the failed update UPDATE_FAILED before it starts the
        # rollback: not the outcome yet, unless Heat never starts it.
        bay = self._bay()
        stack = self._created(bay)
        bay.status = bay_obj.UPDATE_IN_PROGRESS
        stack.stack_status = 'UPDATE_FAILED'
        stack.stack_status_reason = 'Resource CREATE failed: no capacity'
        clock = [1000.0]
        with mock.patch.object(heat.time, 'monotonic',
                               side_effect=lambda: clock[0]):
            self.assertEqual({}, self.poll(bay, rollback=True))
            clock[0] += heat.ROLLBACK_START_GRACE - 1
            self.assertEqual({}, self.poll(bay, rollback=True))
            clock[0] += 1
            state = self.poll(bay, rollback=True)[bay.uuid]
        self.assertEqual(bay_obj.UPDATE_FAILED, state.status)
        # Without ?rollback=True, UPDATE_FAILED is the outcome at once.
        state = self.poll(bay)[bay.uuid]
        self.assertEqual(bay_obj.UPDATE_FAILED, state.status)

    def test_a_rollback_heat_did_fails_the_update(self):
        bay = self._bay()
        stack = self._created(bay)
        bay.status = bay_obj.UPDATE_IN_PROGRESS
        stack.stack_status = 'ROLLBACK_IN_PROGRESS'
        self.assertEqual({}, self.poll(bay, rollback=True))
        stack.stack_status = 'ROLLBACK_COMPLETE'
        stack.stack_status_reason = 'Stack ROLLBACK completed successfully'
        state = self.poll(bay, rollback=True)[bay.uuid]
        self.assertEqual(bay_obj.UPDATE_FAILED, state.status)
        self.assertEqual('Stack ROLLBACK completed successfully',
                         state.status_reason)
        # With the failure in the stack's events: Heat's reason for it.
        self.heat.events.events[stack.id] = [
            types.SimpleNamespace(
                resource_name=stack.stack_name,
                resource_status='ROLLBACK_COMPLETE',
                resource_status_reason='Stack ROLLBACK completed'),
            types.SimpleNamespace(
                resource_name='node-0', resource_status='CREATE_FAILED',
                resource_status_reason='a resource of its own'),
            types.SimpleNamespace(
                resource_name=stack.stack_name,
                resource_status='UPDATE_FAILED',
                resource_status_reason='Resource CREATE failed: no '
                                       'capacity')]
        state = self.poll(bay, rollback=True)[bay.uuid]
        self.assertEqual('Resource CREATE failed: no capacity',
                         state.status_reason)
        # A rollback of an earlier update: this one never reached Heat.
        state = self.poll(bay)[
            bay.uuid]
        self.assertTrue(state.redo)

    def test_a_create_that_lost_the_race_adopts_the_winner(self):
        bay = self._bay()
        real_create = self.heat.stacks.create

        def raced(**kwargs):
            real_create(**kwargs)  # the other conductor's create landed
            raise heat_exc.HTTPConflict()
        self.heat.stacks.create = raced
        state = self.provisioner.create(self.context, bay, self.model)
        self.assertEqual(['stack-1'], list(self.heat.stacks.stacks))
        self.assertEqual('stack-1', state.stack_id)
        self.assertIsNone(state.status)

    def test_an_update_renders_the_node_groups_and_servers_to_remove(self):
        import json

        from magnum.db import nodegroups as db_nodegroups
        bay = self._bay()
        stack = self._created(bay)
        stack.stack_status = 'CREATE_COMPLETE'
        group = db_nodegroups.create_nodegroup(self.context, {
            'name': 'gpu', 'cluster_id': bay.uuid,
            'project_id': bay.project_id, 'role': 'worker',
            'is_default': False, 'node_count': 3, 'min_node_count': 0,
            'flavor_id': 'g1', 'image_id': 'img', 'docker_volume_size': 7,
            'status': 'UPDATE_IN_PROGRESS'})
        calls = []
        self.heat.stacks.update = lambda ident, **kw: calls.append(kw)
        self.provisioner.resize(self.context, bay, self.model, group, 3,
                                ['s-9'])
        cluster = json.loads(calls[0]['files'][heat._CLUSTER_URL])
        gpu = cluster['resources']['nodegroup-gpu']['properties']
        self.assertEqual(3, gpu['count'])
        self.assertEqual('g1', gpu['resource_def']['properties']['flavor'])
        self.assertEqual([{'resource_list': ['s-9']}],
                         gpu['removal_policies'])
        self.assertNotIn('removal_policies',
                         cluster['resources']['nodes']['properties'])

    def test_outputs_of_extra_groups_become_their_nodes(self):
        bay = self._bay()
        stack = self._created(bay)
        stack.stack_status = 'CREATE_COMPLETE'
        server = {'id': 's7', 'name': 'b-gpu-0', 'role': 'node',
                  'image': 'img', 'private_ip': '10.0.0.7',
                  'public_ip': '172.24.4.7'}
        stack.outputs = [
            {'output_key': 'master_servers', 'output_value': []},
            {'output_key': 'node_servers', 'output_value': []},
            {'output_key': 'nodegroup_servers',
             'output_value': {'gpu': [server]}}]
        state = self.poll(bay)[
            bay.uuid]
        self.assertEqual([('s7', 'gpu', ['10.0.0.7', '172.24.4.7'])],
                         [(n['server_id'], n['nodegroup'], n['addresses'])
                          for n in state.nodes])
        self.assertEqual({'default-master': [], 'default-worker': [],
                          'gpu': ['172.24.4.7']}, state.nodegroup_addresses)
