"""``/v1/rcs``: replication controllers of a kubernetes bay.

Everything but the names is shared: see kube_object.py.
"""

from magnum.api.controllers.v1 import kube_object


class ReplicationControllersController(kube_object.KubeObjectController):
    resource = 'rc'
    collection_name = 'rcs'
    short_fields = ('uuid', 'name', 'bay_uuid', 'images', 'labels', 'replicas')
