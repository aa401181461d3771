"""Pods, services and replication controllers in a bay's Kubernetes.

The conductor's client of a bay's Kubernetes API (core/v1), with Magnum's
credentials for it (``magnum.drivers.kube_auth``).

Tenancy: every project has its own namespace in each bay,
``<[kubernetes] namespace_prefix><the bay's project id>``
(``namespace_for``). The objects of a bay belong to the project that owns
the bay, whoever of its members (or an administrator) made them; two
projects never share a namespace, even when their bays point at the same
Kubernetes API. The namespace is created on first use, labelled
``magnum.openstack.org/project-id``; Magnum never deletes it.

Objects travel as plain dicts in Kubernetes' own JSON shape. What Magnum
shows of them is ``view``; Kubernetes' errors become Magnum exceptions with
Kubernetes' own message (``_error``).
"""

import dataclasses
import json
import re

import kubernetes.client
from oslo_config import cfg
from oslo_log import log as logging
import urllib3

from magnum.common import exception
from magnum.common import k8s_names
from magnum.drivers import kube_auth

LOG = logging.getLogger(__name__)
CONF = cfg.CONF

PROJECT_LABEL = 'magnum.openstack.org/project-id'
JSON_PATCH = 'application/json-patch+json'
MERGE_PATCH = 'application/strategic-merge-patch+json'


def namespace_for(project_id):
    """The namespace of a project (magnum.common.k8s_names.namespace)."""
    if not project_id:
        raise exception.Invalid(reason='the request has no project; '
                                       'Kubernetes objects belong to one')
    return k8s_names.namespace(CONF.kubernetes.namespace_prefix, project_id)


# -- what Magnum shows of an object -------------------------------------------

def _timestamp(value):
    # Kubernetes: 2026-01-02T03:04:05Z; Magnum: ...+00:00 like its rows.
    if isinstance(value, str) and value.endswith('Z'):
        return value[:-1] + '+00:00'
    return value


def _images(pod_spec):
    return [c.get('image') for c in (pod_spec or {}).get('containers') or []]


def _common(obj, bay_uuid):
    metadata = obj.get('metadata') or {}
    return {
        'uuid': metadata.get('uid'),
        'name': metadata.get('name'),
        'bay_uuid': bay_uuid,
        'labels': metadata.get('labels') or {},
        'created_at': _timestamp(metadata.get('creationTimestamp')),
        'updated_at': None,
    }


def _pod_view(obj, bay_uuid):
    spec = obj.get('spec') or {}
    status = obj.get('status') or {}
    annotations = (obj.get('metadata') or {}).get('annotations') or {}
    return dict(_common(obj, bay_uuid),
                desc=annotations.get('description'),
                images=_images(spec),
                status=status.get('phase'),
                host=spec.get('nodeName') or status.get('hostIP'))


def _service_view(obj, bay_uuid):
    spec = obj.get('spec') or {}
    return dict(_common(obj, bay_uuid),
                selector=spec.get('selector') or {},
                ip=spec.get('clusterIP'),
                ports=spec.get('ports') or [])


def _rc_view(obj, bay_uuid):
    spec = obj.get('spec') or {}
    template = spec.get('template') or {}
    return dict(_common(obj, bay_uuid),
                selector=spec.get('selector') or {},
                images=_images(template.get('spec')),
                replicas=spec.get('replicas'),
                current_replicas=(obj.get('status') or {}).get('replicas',
                                                               0))


@dataclasses.dataclass(frozen=True)
class Kind:
    """One kind of object: its Magnum and Kubernetes names and its view."""

    resource: str        # Magnum's name: pod, service, rc
    kind: str            # Kubernetes' kind
    method: str          # the kubernetes client's name: ..._namespaced_<m>
    view: object
    # PATCH paths on Magnum's view -> paths in the Kubernetes object
    aliases: tuple = ()


_COMMON_ALIASES = (('labels', '/metadata/labels'),
                   ('desc', '/metadata/annotations/description'))

KINDS = {
    'pod': Kind('pod', 'Pod', 'pod', _pod_view, _COMMON_ALIASES),
    'service': Kind('service', 'Service', 'service', _service_view,
                    _COMMON_ALIASES + (('selector', '/spec/selector'),)),
    'rc': Kind('rc', 'ReplicationController', 'replication_controller',
               _rc_view, _COMMON_ALIASES + (('selector', '/spec/selector'),
                                            ('replicas', '/spec/replicas'))),
}

# Paths of the object itself that a JSON-patch may name directly.
_OBJECT_PREFIXES = ('metadata', 'spec')
_PATCH_PATH = re.compile(r'^(/[\w.~-]+)+$')
_PATCH_OPS = ('add', 'replace', 'remove')


def translate_patch(kind, patch, current):
    """A JSON-patch on Magnum's view as one on the Kubernetes object.

    ``current`` is the object as it is, so ``add`` of a label to an object
    that has none first adds the empty map Kubernetes would otherwise
    refuse. Returns the list to send; refusals are InvalidPatch (400).
    """
    if not isinstance(patch, list) or not patch:
        raise exception.InvalidPatch(
            reason='the body must be a non-empty JSON-patch list')
    aliases = dict(kind.aliases)
    result = []
    created = set()
    for op in patch:
        if not isinstance(op, dict):
            raise exception.InvalidPatch(
                reason='each operation must be a JSON object')
        if op.get('op') not in _PATCH_OPS:
            raise exception.InvalidPatch(
                reason='op %r is not one of %s'
                % (op.get('op'), ', '.join(_PATCH_OPS)))
        path = op.get('path')
        if not isinstance(path, str) or not _PATCH_PATH.match(path):
            raise exception.InvalidPatch(
                reason='path %r is not of the form /field[/...]' % (path,))
        if op['op'] != 'remove' and 'value' not in op:
            raise exception.InvalidPatch(
                reason='operation %s on %s needs a value' % (op['op'], path))
        head, _, rest = path[1:].partition('/')
        if head in aliases:
            target = aliases[head] + ('/' + rest if rest else '')
        elif head in _OBJECT_PREFIXES:
            target = path
        else:
            changeable = sorted(list(aliases) + ['manifest'] + [
                '%s/...' % p for p in _OBJECT_PREFIXES])
            raise exception.InvalidPatch(
                reason="'%s' cannot be changed; changeable: %s"
                % (path, ', '.join(changeable)))
        new = {'op': op['op'], 'path': target}
        if 'value' in op:
            new['value'] = op['value']
        if target == '/spec/replicas' and op['op'] != 'remove':
            new['value'] = _replicas(op['value'])
        parent = target.rsplit('/', 1)[0]
        if (op['op'] == 'add' and parent in ('/metadata/labels',
                                            '/metadata/annotations')
                and parent not in created
                and not (current.get('metadata') or {}).get(
                    parent.rsplit('/', 1)[1])):
            result.append({'op': 'add', 'path': parent, 'value': {}})
            created.add(parent)
        result.append(new)
    return result


def _replicas(value):
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise exception.InvalidParameterValue(
            field='replicas', reason='%r is not a whole number of at least '
                                     '0' % (value,))
    return value


# -- errors -------------------------------------------------------------------

def _k8s_message(e):
    try:
        body = json.loads(e.body)
        return body.get('message') or e.reason
    except (TypeError, ValueError, AttributeError):
        return '%s %s' % (e.status, e.reason)


def _error(e, bay, kind, name):
    """The Magnum exception for a kubernetes.client ApiException about
    the object ``name`` of Kubernetes kind ``kind``.
    """
    message = _k8s_message(e)
    values = {'bay': bay, 'kind': kind, 'name': name,
              'reason': message}
    if e.status == 404:
        return exception.KubernetesObjectNotFound(**values)
    if e.status == 409:
        try:
            already = json.loads(e.body).get('reason') == 'AlreadyExists'
        except (TypeError, ValueError, AttributeError):
            already = False
        if already:
            return exception.KubernetesObjectExists(**values)
        return exception.KubernetesConflict(bay=bay, reason=message)
    if e.status in (400, 422):
        return exception.KubernetesInvalid(**values)
    if e.status in (401, 403):
        return exception.BayEndpointRefused(bay=bay, reason='%s %s' % (
            e.status, message))
    return exception.BayEndpointUnavailable(bay=bay, reason='%s %s' % (
        e.status, message))


# -- the client ---------------------------------------------------------------

class KubernetesClient:
    """One bay's Kubernetes API, for the objects of one project."""

    def __init__(self, bay, baymodel):
        if not bay.api_address:
            raise exception.BayEndpointUnavailable(
                bay=bay.uuid, reason='the bay has no API address yet')
        self.bay = bay.uuid
        self.namespace = namespace_for(bay.project_id)
        self.project_id = bay.project_id
        labels = baymodel.labels or {}
        verify = labels.get('kube_tls_verify', 'true').lower() != 'false'
        self.config = kube_auth.configuration(bay.api_address, verify,
                                              bay=bay)

    def _call(self, kind, verb, *args, name=None, **kwargs):
        """``<verb>_namespaced_<kind>`` (or ``verb`` itself for a
        non-namespaced call), its JSON answer as plain data.
        """
        method = verb if kind is None else '%s_namespaced_%s' % (
            verb, kind.method)
        kwargs['_request_timeout'] = CONF.kubernetes.request_timeout
        kwargs['_preload_content'] = False
        try:
            with kubernetes.client.ApiClient(self.config) as api:
                response = getattr(kubernetes.client.CoreV1Api(api),
                                   method)(*args, **kwargs)
                data = response.data
        except kubernetes.client.ApiException as e:
            raise _error(e, self.bay, kind.kind if kind else 'Namespace',
                         name)
        except (urllib3.exceptions.HTTPError, OSError) as e:
            reason = getattr(e, 'reason', None) or e
            raise exception.BayEndpointUnavailable(bay=self.bay,
                                                   reason=str(reason))
        except Exception as e:
            # NOTE: neither the message nor a traceback: an error building
            # the request (a bad header, say) may quote a credential.
            LOG.error('%s to bay %s could not be sent: %s', method, self.bay,
                      type(e).__name__)
            raise exception.BayEndpointUnavailable(
                bay=self.bay, reason='the request could not be sent (%s); '
                'the operator can check Magnum\'s credentials for it'
                % type(e).__name__)
        return json.loads(data) if data else {}

    def _ensure_namespace(self):
        try:
            self._call(None, 'read_namespace', self.namespace,
                       name=self.namespace)
            return
        except exception.KubernetesObjectNotFound:
            pass
        body = {'apiVersion': 'v1', 'kind': 'Namespace', 'metadata': {
            'name': self.namespace,
            'labels': {PROJECT_LABEL: self.project_id[:63]}}}
        try:
            self._call(None, 'create_namespace', body, name=self.namespace)
            LOG.info('Created namespace %s in bay %s', self.namespace,
                     self.bay)
        except exception.KubernetesObjectExists:
            pass  # another request made it meanwhile

    def _find(self, kind, ident):
        """The object named ``ident``, or whose uid is ``ident``."""
        try:
            return self._call(kind, 'read', ident, self.namespace,
                              name=ident)
        except exception.KubernetesObjectNotFound as e:
            not_found = e
        for obj in self._list(kind):
            if (obj.get('metadata') or {}).get('uid') == ident:
                return obj
        raise not_found

    def _list(self, kind):
        return self._call(kind, 'list', self.namespace).get('items') or []

    def view(self, kind, obj):
        return kind.view(obj, self.bay)

    # -- what the handler calls --------------------------------------------

    def list(self, kind):
        return [self.view(kind, obj) for obj in self._list(kind)]

    def get(self, kind, ident):
        return self.view(kind, self._find(kind, ident))

    def create(self, kind, document):
        document = dict(document)
        document['metadata'] = dict(document['metadata'],
                                    namespace=self.namespace)
        self._ensure_namespace()
        name = document['metadata']['name']
        obj = self._call(kind, 'create', self.namespace, document, name=name)
        LOG.info('Created %s %s in namespace %s of bay %s', kind.kind, name,
                 self.namespace, self.bay)
        return self.view(kind, obj)

    def update(self, kind, ident, patch=None, manifest=None):
        """Apply a JSON-patch on Magnum's view, or a manifest over the
        object (a strategic merge: what it names changes, the rest stays).
        """
        current = self._find(kind, ident)
        name = current['metadata']['name']
        if manifest is not None:
            body = dict(manifest)
            body['metadata'] = dict(manifest['metadata'],
                                    namespace=self.namespace)
            if body['metadata']['name'] != name:
                raise exception.InvalidParameterValue(
                    field='manifest', reason='it names %r, not %r; a name '
                    'cannot change' % (body['metadata']['name'], name))
            content_type = MERGE_PATCH
        else:
            body = translate_patch(kind, patch, current)
            content_type = JSON_PATCH
        obj = self._call(kind, 'patch', name, self.namespace, body,
                         name=name, _content_type=content_type)
        return self.view(kind, obj)

    def delete(self, kind, ident):
        name = self._find(kind, ident)['metadata']['name']
        # NOTE: Background: an RC's pods go with it (core/v1 would orphan
        # them by default).
        self._call(kind, 'delete', name, self.namespace, name=name,
                   propagation_policy='Background')
        LOG.info('Deleted %s %s in namespace %s of bay %s', kind.kind, name,
                 self.namespace, self.bay)
