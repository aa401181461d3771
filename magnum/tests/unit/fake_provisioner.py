"""A provisioner for unit tests: answers what the test tells it to."""

from magnum.drivers import base
from magnum.objects import bay as bay_obj


class FakeProvisioner(base.Provisioner):
    """Records its calls; each verb answers the state set for it (every
    change but create and delete answers what ``update`` is set to, unless
    a test sets the verb's own answer)."""

    def __init__(self):
        self.calls = []
        self.answers = {
            'create': base.BayState(status=bay_obj.CREATE_COMPLETE,
                                    api_address='tcp://10.0.0.1:2376',
                                    node_addresses=['10.0.0.2']),
            'update': base.BayState(status=bay_obj.UPDATE_COMPLETE),
            'delete': base.BayState(status=bay_obj.DELETE_COMPLETE),
            'poll': None,
        }

    def _answer(self, verb, bay):
        self.calls.append((verb, bay.uuid))
        answer = self.answers.get(verb, self.answers['update'])
        if isinstance(answer, Exception):
            raise answer
        return answer

    def create(self, context, bay, baymodel):
        return self._answer('create', bay)

    def update(self, context, bay, baymodel, rollback=False):
        return self._answer('update', bay)

    def resize(self, context, bay, baymodel, nodegroup, node_count,
               nodes_to_remove=None, rollback=False):
        return self._answer('resize', bay)

    def upgrade(self, context, bay, baymodel, template, nodegroup=None,
                max_batch_size=None, rollback=False):
        return self._answer('upgrade', bay)

    def create_nodegroup(self, context, bay, baymodel, nodegroup,
                         rollback=False):
        return self._answer('create_nodegroup', bay)

    def update_nodegroup(self, context, bay, baymodel, nodegroup,
                         rollback=False):
        return self._answer('update_nodegroup', bay)

    def delete_nodegroup(self, context, bay, baymodel, name):
        return self._answer('delete_nodegroup', bay)

    def rotate_credential(self, context, bay, baymodel):
        return self._answer('rotate_credential', bay)

    def delete(self, context, bay, baymodel):
        return self._answer('delete', bay)

    def poll(self, context, items):
        return {action.uuid: self._answer('poll', bay)
                for bay, _, action in items}
