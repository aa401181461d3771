"""``/v1/clustertemplates``: the BayModels under their later name.

One table, two paths: a ClusterTemplate is a BayModel, with the same
fields, rules and checks; only the collection name and policy names differ.
"""

from magnum.api.controllers.v1 import baymodel
from magnum.api.controllers.v1 import collection

VIEW = collection.View(
    'clustertemplates',
    short_fields=('uuid', 'name', 'coe', 'image_id', 'keypair_id',
                  'public', 'hidden', 'server_type', 'tls_disabled', 'tags',
                  'docker_volume_size', 'labels', 'master_flavor_id',
                  'flavor_id', 'external_network_id', 'network_driver',
                  'cluster_distro'),
    detail_fields=tuple(name for name, _ in baymodel.VIEW.detail))


class ClusterTemplatesController(baymodel.BayModelsController):

    VIEW = VIEW
    POLICY = 'clustertemplate'
