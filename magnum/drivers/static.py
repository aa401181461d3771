"""The ``static`` provisioner: put an existing COE endpoint under a bay.

Nothing is built. The BayModel's labels name the endpoint:

* ``docker_url``: a Docker Engine (or Swarm) API, ``unix:///path``,
  ``tcp://host:port``, ``http(s)://host:port``. Docker and Swarm bays.
* ``kube_api_url``: a Kubernetes API server, ``http(s)://host:port``.
  Kubernetes bays. ``kube_tls_verify=false`` skips checking its certificate.
  Magnum's credentials for it come from the conductor's configuration
  (magnum/common/kube_auth.py), never from labels.

Creating or updating the bay asks the endpoint for real (Docker ``/info``,
Kubernetes ``/version`` and its nodes) and records what it reports; a bay is
CREATE_FAILED with the endpoint's own error when it does not answer. Nodes
are managed outside Magnum, so ``node_count`` is recorded, never enforced.
Deleting the bay leaves the endpoint as it was.
"""

from urllib import parse

import docker
import kubernetes.client
from oslo_config import cfg
from oslo_log import log as logging

from magnum.common import kube_auth
from magnum.drivers import base
from magnum.objects import bay as bay_status

LOG = logging.getLogger(__name__)
CONF = cfg.CONF


class EndpointError(Exception):
    pass


def _docker_state(url):
    timeout = CONF.static.connect_timeout
    try:
        client = docker.DockerClient(base_url=url, timeout=timeout)
        try:
            info = client.info()
        finally:
            client.close()
    except Exception as e:
        raise EndpointError('Docker endpoint %s did not answer: %s'
                            % (url, e))
    swarm = info.get('Swarm') or {}
    parsed = parse.urlparse(url)
    if swarm.get('LocalNodeState') == 'active' and swarm.get('NodeAddr'):
        nodes = [swarm['NodeAddr']]
    elif parsed.scheme == 'unix':
        # NOTE: a socket is on the conductor's own host; name it as the
        # engine names itself.
        nodes = [info.get('Name') or 'localhost']
    else:
        nodes = [parsed.hostname]
    return base.BayState(api_address=url, master_addresses=[],
                         node_addresses=nodes)


def _kube_state(url, verify):
    # NOTE: with Magnum's credentials for the endpoint, if the operator
    # gave any ([kubernetes] kubeconfig): a cluster with RBAC does not show
    # its nodes to anonymous callers.
    config = kube_auth.configuration(url, verify)
    timeout = CONF.static.connect_timeout
    try:
        with kubernetes.client.ApiClient(config) as api:
            version = kubernetes.client.VersionApi(api).get_code(
                _request_timeout=timeout)
            nodes = kubernetes.client.CoreV1Api(api).list_node(
                _request_timeout=timeout)
    except kubernetes.client.ApiException as e:
        raise EndpointError('Kubernetes endpoint %s refused: %s %s'
                            % (url, e.status, e.reason))
    except Exception as e:
        raise EndpointError('Kubernetes endpoint %s did not answer: %s'
                            % (url, e))
    addresses = []
    for node in nodes.items:
        for address in (node.status.addresses or []):
            if address.type == 'InternalIP':
                addresses.append(address.address)
    LOG.debug('Kubernetes endpoint %s runs %s with %d node(s)',
              url, version.git_version, len(nodes.items))
    return base.BayState(api_address=url,
                         master_addresses=[parse.urlparse(url).hostname],
                         node_addresses=addresses)


class StaticProvisioner(base.Provisioner):

    def _check(self, baymodel, done, failed):
        labels = baymodel.labels or {}
        try:
            if baymodel.coe == 'kubernetes':
                url = labels.get('kube_api_url')
                if not url:
                    raise EndpointError('the BayModel has no kube_api_url '
                                        'label for the static provisioner')
                verify = labels.get('kube_tls_verify', 'true') != 'false'
                state = _kube_state(url, verify)
            else:
                url = labels.get('docker_url')
                if not url:
                    raise EndpointError('the BayModel has no docker_url '
                                        'label for the static provisioner')
                state = _docker_state(url)
        except EndpointError as e:
            return base.BayState(status=failed, status_reason=str(e))
        state.status = done
        state.status_reason = 'Endpoint %s answered.' % url
        return state

    def create(self, context, bay, baymodel):
        return self._check(baymodel, bay_status.CREATE_COMPLETE,
                           bay_status.CREATE_FAILED)

    def update(self, context, bay, baymodel):
        return self._check(baymodel, bay_status.UPDATE_COMPLETE,
                           bay_status.UPDATE_FAILED)

    def delete(self, context, bay, baymodel):
        return base.BayState(status=bay_status.DELETE_COMPLETE)

    def poll(self, context, bays):
        # NOTE: static work finishes inside create/update/delete, so a bay
        # still in progress here lost its RPC message: do the work now.
        actions = {bay_status.CREATE_IN_PROGRESS: self.create,
                   bay_status.UPDATE_IN_PROGRESS: self.update,
                   bay_status.DELETE_IN_PROGRESS: self.delete}
        return {bay.uuid: actions[bay.status](context, bay, baymodel)
                for bay, baymodel in bays if bay.status in actions}
