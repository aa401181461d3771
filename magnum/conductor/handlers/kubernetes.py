"""Pods, services and replication controllers: the conductor's side.

The API has found the bay (in the caller's scope) and checked the policy;
here the bay's row is read again, the request is checked against it (a
kubernetes bay whose API is up) and the bay's Kubernetes is asked, through
the COE client. Answers are plain dicts (Magnum's view of each object).
Nothing here holds the bay's lock: the objects live in Kubernetes, which
orders concurrent changes itself.
"""

from magnum.common import exception
from magnum.conductor.coe import kubernetes as kube
from magnum.conductor import manifest as manifests
from magnum.objects import bay as bay_obj
from magnum.objects import baymodel as baymodel_obj
from magnum.objects import states



def _kind(name):
    try:
        return kube.KINDS[name]
    except KeyError:
        raise exception.Invalid(reason='%r is not a Kubernetes object kind '
                                       'Magnum knows' % (name,))


class KubernetesHandler:

    def _client(self, context, kind, bay_uuid):
        bay = bay_obj.Bay.get_by_uuid_unscoped(context, bay_uuid)
        baymodel = baymodel_obj.BayModel.get_by_uuid_unscoped(
            context, bay.baymodel_id)
        if baymodel.coe != 'kubernetes':
            raise exception.BayNotKubernetes(bay=bay.uuid, coe=baymodel.coe,
                                             kind=kind.kind)
        if bay.status not in states.READY_FOR_KUBE_OBJECTS:
            raise exception.BayNotReady(bay=bay.uuid, status=bay.status,
                                        kind=kind.kind)
        return kube.KubernetesClient(bay, baymodel)

    def object_list(self, context, kind, bay_uuid):
        kind = _kind(kind)
        return self._client(context, kind, bay_uuid).list(kind)

    def object_show(self, context, kind, bay_uuid, ident):
        kind = _kind(kind)
        return self._client(context, kind, bay_uuid).get(kind, ident)

    def object_create(self, context, kind, bay_uuid, manifest=None,
                      manifest_url=None):
        kind = _kind(kind)
        client = self._client(context, kind, bay_uuid)
        document = manifests.load(kind.kind, manifest, manifest_url)
        return client.create(kind, document)

    def object_update(self, context, kind, bay_uuid, ident, patch):
        kind = _kind(kind)
        client = self._client(context, kind, bay_uuid)
        manifest = _manifest_in(patch)
        if manifest is not None:
            document = manifests.check_kind(
                manifests.parse_text(manifest), kind.kind)
            return client.update(kind, ident, manifest=document)
        return client.update(kind, ident, patch=patch)

    def object_delete(self, context, kind, bay_uuid, ident):
        kind = _kind(kind)
        self._client(context, kind, bay_uuid).delete(kind, ident)


def _manifest_in(patch):
    """The new manifest text of a patch that replaces ``/manifest``.

    NOTE: python-magnumclient 2.x's ``pod-update ... replace manifest=FILE``
    sends the file's text so; it must be the patch's only operation.
    """
    if not isinstance(patch, list):
        return None
    ops = [op for op in patch
           if isinstance(op, dict) and op.get('path') == '/manifest']
    if not ops:
        return None
    if len(patch) != 1 or ops[0].get('op') not in ('add', 'replace'):
        raise exception.InvalidPatch(
            reason='/manifest can only be replaced, alone in its patch')
    value = ops[0].get('value')
    if not isinstance(value, str):
        raise exception.InvalidParameterValue(
            field='manifest', reason='it must be JSON or YAML text')
    return value
