"""``/v1/pods``: pods of a kubernetes bay.

Everything but the names is shared: see kube_object.py.
"""

from magnum.api.controllers.v1 import kube_object


class PodsController(kube_object.KubeObjectController):
    resource = 'pod'
    collection_name = 'pods'
    short_fields = ('uuid', 'name', 'bay_uuid', 'images', 'labels', 'status')
