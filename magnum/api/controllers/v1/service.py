"""``/v1/services``: services (the CLI's coe-service-*) of a kubernetes bay.

Everything but the names is shared: see kube_object.py.
"""

from magnum.api.controllers.v1 import kube_object


class ServicesController(kube_object.KubeObjectController):
    resource = 'service'
    collection_name = 'services'
    short_fields = ('uuid', 'name', 'bay_uuid', 'labels', 'selector', 'ip',
                    'ports')
