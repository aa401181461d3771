"""The management cluster: Magnum's client of its Kubernetes API.

Clients come from ``[capi] kubeconfig`` (and ``context``), one ApiClient a
process, shared by every thread (the official client's pool is
thread-safe). Objects travel as plain dicts in Kubernetes' JSON shape.
"""

import functools
import json
import threading

import kubernetes.client
import kubernetes.config
from kubernetes.client import exceptions as kube_exc
from oslo_config import cfg

from magnum.common import exception
from magnum.common import k8s_names

CONF = cfg.CONF

GROUP = 'cluster.x-k8s.io'
VERSION = 'v1beta2'
API_VERSION = '%s/%s' % (GROUP, VERSION)
CLUSTERS = 'clusters'
CLUSTER_CLASSES = 'clusterclasses'
MACHINE_DEPLOYMENTS = 'machinedeployments'
MACHINES = 'machines'

# Labels on what Magnum makes (and, by Cluster API's propagation of the
# topology's metadata, on the MachineDeployments and Machines).
BAY_LABEL = 'magnum.openstack.org/bay'
PROJECT_LABEL = 'magnum.openstack.org/project-id'
NODEGROUP_LABEL = 'magnum.openstack.org/nodegroup'
CLUSTER_NAME_LABEL = 'cluster.x-k8s.io/cluster-name'

_LOCK = threading.Lock()
_CLIENT = None
_POOL_SIZE = 96


class NotConfigured(exception.ProvisionerError):
    pass


def configured():
    return bool(CONF.capi.kubeconfig)


def client():
    """The ApiClient of the management cluster (made once a process)."""
    global _CLIENT
    with _LOCK:
        if _CLIENT is None:
            if not configured():
                raise NotConfigured(
                    reason='the capi provisioner needs [capi] kubeconfig, '
                           'the management cluster\'s kubeconfig')
            configuration = kubernetes.client.Configuration()
            kubernetes.config.load_kube_config(
                config_file=CONF.capi.kubeconfig,
                context=CONF.capi.context or None,
                client_configuration=configuration)
            # NOTE: one connection a thread that may call at once (the RPC
            # server's and the watch's), not the client's 5 a CPU.
            configuration.connection_pool_maxsize = _POOL_SIZE
            _CLIENT = kubernetes.client.ApiClient(configuration)
        return _CLIENT


def reset():
    """Forget the client (tests that change [capi] kubeconfig)."""
    global _CLIENT
    with _LOCK:
        _CLIENT = None


def custom():
    return kubernetes.client.CustomObjectsApi(client())


def core():
    return kubernetes.client.CoreV1Api(client())


def timeout():
    return CONF.capi.request_timeout


def namespace_for(project_id):
    return k8s_names.namespace(CONF.capi.namespace_prefix, project_id)


def error_text(e):
    """What the API server said, in its words (its Status message)."""
    body = getattr(e, 'body', None)
    if body:
        try:
            return json.loads(body).get('message') or str(body)
        except (ValueError, AttributeError):
            return str(body)
    return '%s %s' % (getattr(e, 'status', ''), getattr(e, 'reason', ''))


def ensure_namespace(name, project_id=None):
    """Create namespace ``name`` unless it exists (once a process)."""
    _ensure_namespace(name, project_id)


@functools.lru_cache(maxsize=4096)
def _ensure_namespace(name, project_id):
    labels = {'app.kubernetes.io/managed-by': 'magnum'}
    if project_id:
        labels[PROJECT_LABEL] = project_id
    body = {'metadata': {'name': name, 'labels': labels}}
    try:
        core().create_namespace(body, _request_timeout=timeout())
    except kube_exc.ApiException as e:
        if e.status != 409:
            raise


def get(namespace, plural, name):
    """The object, or None when it is not there."""
    try:
        return custom().get_namespaced_custom_object(
            GROUP, VERSION, namespace, plural, name,
            _request_timeout=timeout())
    except kube_exc.ApiException as e:
        if e.status == 404:
            return None
        raise


def list_objects(plural, label_selector, namespace=None):
    """(items, resourceVersion) of ``plural`` with the labels, in
    ``namespace`` or in every namespace."""
    api = custom()
    if namespace:
        answer = api.list_namespaced_custom_object(
            GROUP, VERSION, namespace, plural,
            label_selector=label_selector, _request_timeout=timeout())
    else:
        answer = api.list_cluster_custom_object(
            GROUP, VERSION, plural, label_selector=label_selector,
            _request_timeout=timeout())
    return answer.get('items', []), answer['metadata'].get('resourceVersion')


def merge_patch(namespace, plural, name, patch):
    return custom().patch_namespaced_custom_object(
        GROUP, VERSION, namespace, plural, name, patch,
        _request_timeout=timeout())


def apply_secret(namespace, body, replace=False):
    """Create Secret ``body``; one of that name that exists is kept as it
    is, or, with ``replace``, given ``body``'s data. Returns the Secret."""
    api = core()
    try:
        return api.create_namespaced_secret(namespace, body,
                                            _request_timeout=timeout())
    except kube_exc.ApiException as e:
        if e.status != 409:
            raise
    if replace:
        return api.patch_namespaced_secret(
            body['metadata']['name'], namespace,
            {'metadata': {'labels': body['metadata'].get('labels', {})},
             'data': body.get('data'), 'stringData': body.get('stringData')},
            _request_timeout=timeout())
    return api.read_namespaced_secret(body['metadata']['name'], namespace,
                                      _request_timeout=timeout())


def read_secret(namespace, name):
    try:
        return core().read_namespaced_secret(name, namespace,
                                             _request_timeout=timeout())
    except kube_exc.ApiException as e:
        if e.status == 404:
            return None
        raise
