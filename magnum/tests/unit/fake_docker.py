"""An in-memory Docker Engine with the interface of coe.docker.Engine.

For unit tests only: the functional tests run the real engine. It keeps
containers as dicts, answers with the engine's own error texts, and can be
told to be unreachable or to have no image.
"""

import itertools
import threading

from magnum.common import exception
from magnum.conductor.coe import docker as docker_coe
from magnum.objects import container as container_obj


class FakeDockerEngine:
    """One engine, shared by every bay that the handler asks about."""

    def __init__(self):
        self.containers = {}
        self.images = {'busybox:latest', 'busybox'}
        self.pullable = set()
        self.memory = 8 * 1024 ** 3
        self.down = False
        self.calls = []
        self._ids = itertools.count(1)
        self.bays = []
        # A pull waits for this, so a test sees the container Creating.
        self.pull_gate = threading.Event()
        self.pull_gate.set()

    def __call__(self, bay):
        """The handler's ``engine_for``: this engine, for ``bay``."""
        self.bays.append(bay.uuid)
        return _BayEngine(self, bay)


class _BayEngine:

    def __init__(self, engine, bay):
        self.engine = engine
        self.bay = bay

    def _check(self, what):
        self.engine.calls.append(what)
        if self.engine.down:
            raise exception.BayEndpointUnavailable(
                bay=self.bay.uuid, reason='connection refused')

    def _get(self, container_id, uuid):
        found = self.engine.containers.get(container_id)
        if found is None:
            raise exception.ContainerGone(container=uuid, bay=self.bay.uuid)
        return found

    def memory_total(self):
        self._check('info')
        return self.engine.memory

    def has_image(self, image):
        self._check('inspect_image')
        return image in self.engine.images

    def pull(self, image):
        self._check('pull')
        self.engine.pull_gate.wait(10)
        if image not in self.engine.pullable:
            raise exception.ContainerEngineRefused(
                bay=self.bay.uuid,
                reason='pull access denied for %s, repository does not '
                       'exist' % image)
        self.engine.images.add(image)

    def create(self, container):
        self._check('create')
        if container.memory and container_obj.memory_bytes(
                container.memory) < 6 * 1024 ** 2:
            raise exception.ContainerEngineRefused(
                bay=self.bay.uuid, reason='Minimum memory limit allowed is '
                                          '6MB')
        container_id = 'c%04d' % next(self.engine._ids)
        self.engine.containers[container_id] = {
            'state': 'created', 'command': container.command,
            'labels': docker_coe.labels_for(container),
            'environment': dict(container.environment or {}),
            'memory': container.memory, 'output': ''}
        return container_id

    def state(self, container_id, uuid):
        self._check('inspect')
        found = self._get(container_id, uuid)
        return docker_coe.status_of(found['state']), None

    def start(self, container_id, uuid):
        self._check('start')
        found = self._get(container_id, uuid)
        command = (found['command'] or '').split()
        if command and command[0] == 'nosuchcommand':
            raise exception.ContainerEngineRefused(
                bay=self.bay.uuid, reason='exec: "nosuchcommand": '
                'executable file not found in $PATH')
        if command[:1] == ['echo']:
            found['output'] += ' '.join(command[1:]) + '\n'
        found['state'] = 'running'

    def stop(self, container_id, uuid):
        self._check('stop')
        self._get(container_id, uuid)['state'] = 'exited'

    def reboot(self, container_id, uuid):
        self._check('restart')
        self._get(container_id, uuid)['state'] = 'running'

    def pause(self, container_id, uuid):
        self._check('pause')
        found = self._get(container_id, uuid)
        if found['state'] == 'paused':
            raise exception.ContainerEngineConflict(
                bay=self.bay.uuid,
                reason='Container %s is already paused' % container_id)
        found['state'] = 'paused'

    def unpause(self, container_id, uuid):
        self._check('unpause')
        self._get(container_id, uuid)['state'] = 'running'

    def remove(self, container_id, uuid, force=False):
        self._check('remove')
        found = self._get(container_id, uuid)
        if found['state'] in ('running', 'paused') and not force:
            raise exception.ContainerEngineConflict(
                bay=self.bay.uuid, reason='You cannot remove a running '
                'container %s. Stop the container before attempting '
                'removal or force remove' % container_id)
        del self.engine.containers[container_id]

    def logs(self, container_id, uuid):
        self._check('logs')
        return self._get(container_id, uuid)['output']

    def execute(self, container_id, uuid, command):
        self._check('exec')
        found = self._get(container_id, uuid)
        if found['state'] != 'running':
            raise exception.ContainerEngineConflict(
                bay=self.bay.uuid,
                reason='Container %s is not running' % container_id)
        return 0, 'ran: %s\n' % command

    def list_states(self):
        self._check('list')
        states = {}
        for container_id, found in self.engine.containers.items():
            labels = found['labels']
            if labels.get(docker_coe.LABEL_BAY) != self.bay.uuid:
                continue
            states[labels[docker_coe.LABEL_UUID]] = (
                labels[docker_coe.LABEL_PROJECT],
                docker_coe.status_of(found['state']), found['state'],
                container_id)
        return states
