"""The Docker COE client: containers on a bay's Docker Engine.

Docker and Swarm bays speak the same Docker Engine API at the bay's
``api_address`` (``unix://``, ``tcp://``, ``http(s)://``), through the
``docker`` SDK's low-level ``APIClient``. ``Engine(bay)`` is the only way
the conductor reaches it; it turns what the engine says into Magnum's
exceptions, with the engine's own message word for word:

* the engine does not answer: ``BayEndpointUnavailable`` (503), naming the
  bay;
* 400 (bad memory, a command that cannot run): ``ContainerEngineRefused``
  (400); 409 (not running, already paused): ``ContainerEngineConflict``
  (409); 404 of a container: ``ContainerGone`` (409); 5xx:
  ``ContainerEngineFailed`` (502).

Every container Magnum makes carries the labels ``magnum.container.uuid``,
``magnum.project_id`` and ``magnum.bay_uuid``; ``list_states`` reads a
bay's containers back in one call filtered by the bay label.
"""

import contextlib
import threading

from docker import errors as docker_errors
from oslo_config import cfg
from oslo_log import log as logging
import requests

from magnum.common import exception
from magnum.drivers import tls_clients
from magnum.objects import bay_tls
from magnum.objects import container as container_obj

LOG = logging.getLogger(__name__)
CONF = cfg.CONF

LABEL_UUID = 'magnum.container.uuid'
LABEL_PROJECT = 'magnum.project_id'
LABEL_BAY = 'magnum.bay_uuid'
RESERVED_LABEL_PREFIX = 'magnum.'

# The engine's State of a container -> a Magnum status.
_STATUS = {
    'running': container_obj.RUNNING,
    'restarting': container_obj.RUNNING,
    'paused': container_obj.PAUSED,
    'created': container_obj.STOPPED,
    'exited': container_obj.STOPPED,
    'dead': container_obj.STOPPED,
    'removing': container_obj.STOPPED,
}

# NOTE: a client left to find the API version itself asks /version each
# time it is made; one answer per engine and process is enough.
_VERSIONS = {}
_VERSIONS_LOCK = threading.Lock()


def status_of(state):
    return _STATUS.get(state, container_obj.UNKNOWN)


def tls_config(bay):
    """The bay's TLS client material (``bay_tls.ClientTLS``), or None.

    Set when the bay's endpoint serves the certificates of the bay's own
    CA: the engine is then reached over TLS (``tcp://`` means
    ``https://``) with the conductor's client certificate, and its
    certificate is checked against the bay's CA and the bay's server name
    (magnum/drivers/tls_clients.py).
    """
    return bay_tls.client_tls(bay)


def labels_for(container):
    """The labels Magnum puts on ``container`` on the engine."""
    labels = dict(container.labels or {})
    labels.update({LABEL_UUID: container.uuid,
                   LABEL_PROJECT: container.project_id,
                   LABEL_BAY: container.bay_uuid})
    return labels


class Engine:
    """A bay's Docker Engine, as the conductor uses it."""

    def __init__(self, bay):
        self.bay = bay
        self.url = bay.api_address
        if not self.url:
            raise exception.BayEndpointUnavailable(
                bay=bay.uuid, reason='the bay has no API address (it is %s)'
                % bay.status)

    # -- the connection ---------------------------------------------------

    def _client(self):
        with _VERSIONS_LOCK:
            version = _VERSIONS.get(self.url)
        try:
            client = tls_clients.docker_api_client(
                self.url, self.bay, CONF.docker.api_timeout, version)
        except (docker_errors.DockerException,
                requests.RequestException) as e:
            raise self._unavailable(e)
        if version is None:
            with _VERSIONS_LOCK:
                _VERSIONS[self.url] = client.api_version
        return client

    def _unavailable(self, e):
        return exception.BayEndpointUnavailable(
            bay=self.bay.uuid, reason='%s: %s' % (self.url, e))

    @contextlib.contextmanager
    def _call(self, container=None):
        """A client; the engine's errors as Magnum's (see the module)."""
        client = self._client()
        try:
            yield client
        except docker_errors.APIError as e:
            raise self._translate(e, container)
        except (docker_errors.DockerException,
                requests.RequestException) as e:
            raise self._unavailable(e)
        finally:
            client.close()

    def _translate(self, e, container):
        reason = e.explanation or str(e)
        if isinstance(reason, bytes):
            reason = reason.decode('utf-8', 'replace')
        status = e.status_code or 500
        if status == 404 and container is not None:
            return exception.ContainerGone(container=container,
                                           bay=self.bay.uuid)
        if status == 409:
            return exception.ContainerEngineConflict(bay=self.bay.uuid,
                                                     reason=reason)
        if 400 <= status < 500:
            return exception.ContainerEngineRefused(bay=self.bay.uuid,
                                                    reason=reason)
        return exception.ContainerEngineFailed(bay=self.bay.uuid,
                                               reason=reason)

    # -- the engine ------------------------------------------------------

    def memory_total(self):
        """The engine's memory in bytes (``/info`` MemTotal), or None."""
        with self._call() as client:
            return client.info().get('MemTotal')

    def has_image(self, image):
        with self._call() as client:
            try:
                client.inspect_image(image)
            except docker_errors.NotFound:
                return False
            return True

    def pull(self, image):
        with self._call() as client:
            # NOTE: a pull answers 200 and reports a failure in its stream.
            for event in client.pull(image, stream=True, decode=True):
                if 'error' in event:
                    raise exception.ContainerEngineRefused(
                        bay=self.bay.uuid, reason=event['error'])

    def create(self, container):
        """Create (not start) ``container``; the engine's id."""
        with self._call() as client:
            host_config = client.create_host_config(
                mem_limit=container.memory or None)
            created = client.create_container(
                container.image, command=container.command or None,
                environment=container.environment or None,
                labels=labels_for(container), host_config=host_config)
        return created['Id']

    def state(self, container_id, uuid):
        """(status, the engine's words) of one container."""
        with self._call(uuid) as client:
            state = client.inspect_container(container_id)['State']
        status = status_of(state.get('Status'))
        reason = state.get('Error') or None
        if status == container_obj.STOPPED and state.get('FinishedAt', '')[
                :4] not in ('', '0001'):
            reason = reason or 'exited with code %s at %s' % (
                state.get('ExitCode'), state['FinishedAt'])
        return status, reason

    def labels(self, container_id, uuid):
        with self._call(uuid) as client:
            return client.inspect_container(container_id)['Config'].get(
                'Labels') or {}

    def start(self, container_id, uuid):
        with self._call(uuid) as client:
            client.start(container_id)

    def stop(self, container_id, uuid):
        with self._call(uuid) as client:
            client.stop(container_id, timeout=CONF.docker.stop_timeout)

    def reboot(self, container_id, uuid):
        with self._call(uuid) as client:
            client.restart(container_id, timeout=CONF.docker.stop_timeout)

    def pause(self, container_id, uuid):
        with self._call(uuid) as client:
            client.pause(container_id)

    def unpause(self, container_id, uuid):
        with self._call(uuid) as client:
            client.unpause(container_id)

    def remove(self, container_id, uuid, force=False):
        with self._call(uuid) as client:
            client.remove_container(container_id, force=force)

    def logs(self, container_id, uuid):
        with self._call(uuid) as client:
            output = client.logs(container_id, stdout=True, stderr=True,
                                 tail=CONF.docker.log_lines)
        return output.decode('utf-8', 'replace')

    def execute(self, container_id, uuid, command):
        """(exit code, output) of ``command`` run in the container."""
        with self._call(uuid) as client:
            exec_id = client.exec_create(container_id, command)['Id']
            output = client.exec_start(exec_id)
            exit_code = client.exec_inspect(exec_id).get('ExitCode')
        return exit_code, output.decode('utf-8', 'replace')

    def list_states(self):
        """The bay's Magnum containers on the engine, in one list call:
        {uuid: (project_id, status, the engine's words, engine id)}.
        """
        with self._call() as client:
            rows = client.containers(
                all=True, filters={'label': '%s=%s' % (LABEL_BAY,
                                                       self.bay.uuid)})
        states = {}
        for row in rows:
            labels = row.get('Labels') or {}
            uuid = labels.get(LABEL_UUID)
            if uuid:
                states[uuid] = (labels.get(LABEL_PROJECT),
                                status_of(row.get('State')),
                                row.get('Status'), row['Id'])
        return states
