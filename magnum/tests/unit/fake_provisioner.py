"""A provisioner for unit tests: answers what the test tells it to."""

from magnum.drivers import base
from magnum.objects import bay as bay_obj


class FakeProvisioner(base.Provisioner):
    """Records its calls; each action answers the state set for it."""

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

    def _answer(self, action, bay):
        self.calls.append((action, bay.uuid))
        answer = self.answers[action]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def create(self, context, bay, baymodel):
        return self._answer('create', bay)

    def update(self, context, bay, baymodel):
        return self._answer('update', bay)

    def delete(self, context, bay, baymodel):
        return self._answer('delete', bay)

    def poll(self, context, bays):
        return {bay.uuid: self._answer('poll', bay) for bay, _ in bays}
