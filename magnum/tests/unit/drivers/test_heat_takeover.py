"""What the heat provisioner tells a conductor taking over a bay: the
stack of a bay that never recorded it is adopted by name, and a create that
never reached Heat is redone (never a second stack).
"""

import types

import fixtures

from magnum.common import context as magnum_context
from magnum.drivers import heat
from magnum.drivers.heat import definition
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
                heat, name, lambda *a: self.heat))
        self.provisioner = heat.HeatProvisioner()
        self.model = utils.baymodel(
            self.context, coe='docker', image_id='img', flavor_id='m1',
            external_network_id='public', cluster_distro='fedora',
            labels={'provisioner': 'heat'})
        self.admin = magnum_context.make_admin_context()

    def _bay(self, name):
        return utils.bay(self.context, self.model, provisioner='heat',
                         name=name)

    def _created(self, bay):
        state = self.provisioner.create(self.context, bay, self.model)
        bay.stack_id = state.stack_id
        return self.heat.stacks.stacks[state.stack_id]

    def test_unrecorded_stack_is_adopted_by_name(self):
        """The conductor died between Heat's create and recording it."""
        bay = self._bay(name='died-mid-create')
        stack = self._created(bay)
        bay.stack_id = None
        states = self.provisioner.poll(self.admin, [(bay, self.model)])
        self.assertEqual(stack.id, states[bay.uuid].stack_id)
        self.assertFalse(states[bay.uuid].redo)
        self.assertEqual(definition.stack_name(bay), stack.stack_name)

    def test_create_that_never_reached_heat_is_redone(self):
        bay = self._bay(name='lost-cast')
        states = self.provisioner.poll(self.admin, [(bay, self.model)])
        self.assertTrue(states[bay.uuid].redo)
        self.assertIsNone(states[bay.uuid].stack_id)
        # Redone: one stack; done again (a late message): still one.
        self._created(bay)
        self.provisioner.create(self.context, bay, self.model)
        self.assertEqual(1, [c[0] for c in self.heat.stacks.calls].count(
            'create'))
