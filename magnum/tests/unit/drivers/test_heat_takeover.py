"""What the heat provisioner tells a conductor taking over a bay: the
stack of a bay that never recorded it is adopted by name, and a create that
never reached Heat is redone (never a second stack).
"""

import types

import fixtures

from magnum.common import context as magnum_context
from magnum.drivers import heat
from magnum.drivers.heat import clients as heat_clients
from magnum.drivers.heat import definition
from magnum.objects import action as action_obj
from magnum.tests import base
from magnum.tests.unit.drivers import test_heat_provisioner
from magnum.tests.unit import utils


class TestTakeOver(base.TestCase):

    def setUp(self):
        super().setUp()
        self.heat = types.SimpleNamespace(
            stacks=test_heat_provisioner.FakeStacks())
        for name in ('service_client', 'user_client'):
            self.useFixture(fixtures.MockPatchObject(
                heat_clients, name, lambda *a: self.heat))
        self.provisioner = heat.HeatProvisioner()
        self.model = utils.baymodel(
            self.context, coe='docker', image_id='img', flavor_id='m1',
            external_network_id='public', cluster_distro='fedora',
            labels={'provisioner': 'heat'})
        self.admin = magnum_context.make_admin_context()

    def _bay(self, name):
        return utils.bay(self.context, self.model, provisioner='heat',
                         name=name)

    def poll(self, *bays):
        """Poll for the bays' create actions, as the reconciler does."""
        items = [(bay, self.model, action_obj.Action.open_of(
            self.context, bay.uuid)) for bay in bays]
        answers = self.provisioner.poll(self.admin, items)
        # NOTE: read by bay, as each bay has one action open.
        return {action.bay_uuid: answers[action.uuid]
                for _, _, action in items if action.uuid in answers}

    def _created(self, bay):
        state = self.provisioner.create(self.context, bay, self.model)
        bay.stack_id = state.stack_id
        return self.heat.stacks.stacks[state.stack_id]

    def test_unrecorded_stack_is_adopted_by_name(self):
        """The conductor died between Heat's create and recording it."""
        bay = self._bay(name='died-mid-create')
        stack = self._created(bay)
        bay.stack_id = None
        states = self.poll(bay)
        self.assertEqual(stack.id, states[bay.uuid].stack_id)
        self.assertFalse(states[bay.uuid].redo)
        self.assertEqual(definition.stack_name(bay), stack.stack_name)

    def test_create_that_never_reached_heat_is_redone(self):
        bay = self._bay(name='lost-cast')
        states = self.poll(bay)
        self.assertTrue(states[bay.uuid].redo)
        self.assertIsNone(states[bay.uuid].stack_id)
        # Redone: one stack; done again (a late message): still one.
        self._created(bay)
        self.provisioner.create(self.context, bay, self.model)
        self.assertEqual(1, [c[0] for c in self.heat.stacks.calls].count(
            'create'))

    def _second_stack(self, bay, created):
        """What a killed conductor's late create leaves: another stack of
        the same name (Heat's name check is not atomic)."""
        stack_id = 'late-%d' % len(self.heat.stacks.stacks)
        self.heat.stacks.stacks[stack_id] = types.SimpleNamespace(
            id=stack_id, stack_name=definition.stack_name(bay),
            stack_status='CREATE_IN_PROGRESS', creation_time=created,
            stack_status_reason='Stack CREATE started', outputs=[])
        return stack_id

    def test_a_second_stack_of_a_bay_is_deleted_and_its_own_kept(self):
        bay = self._bay(name='raced')
        own = self._created(bay)
        late = self._second_stack(bay, '2026-01-01T00:00:09Z')
        self.heat.stacks.calls.clear()
        states = self.poll(bay)
        self.assertEqual([('list',), ('delete', late)],
                         [c[:1] if c[0] == 'list' else c
                          for c in self.heat.stacks.calls])
        self.assertEqual('CREATE_IN_PROGRESS', own.stack_status)
        self.assertEqual({}, states)
        # Once deleting, it is left alone.
        self.heat.stacks.calls.clear()
        self.poll(bay)
        self.assertEqual(['list'], [c[0] for c in self.heat.stacks.calls])

    def test_unrecorded_bay_with_two_stacks_adopts_the_oldest(self):
        bay = self._bay(name='raced-unrecorded')
        newer = self._second_stack(bay, '2026-01-01T00:00:09Z')
        older = self._second_stack(bay, '2026-01-01T00:00:01Z')
        states = self.poll(bay)
        self.assertEqual(older, states[bay.uuid].stack_id)
        bay.stack_id = older
        self.poll(bay)
        self.assertEqual('DELETE_IN_PROGRESS',
                         self.heat.stacks.stacks[newer].stack_status)
        self.assertEqual('CREATE_IN_PROGRESS',
                         self.heat.stacks.stacks[older].stack_status)

    def test_other_bays_stacks_are_never_deleted(self):
        first, second = self._bay(name='same'), self._bay(name='same')
        self._created(first)
        self._created(second)
        self.poll(first, second)
        self.assertNotIn('delete', [c[0] for c in self.heat.stacks.calls])
