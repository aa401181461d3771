"""``/v1``: the version document and its collections."""

import pecan

from magnum.api.controllers.v1 import bay
from magnum.api.controllers.v1 import baymodel
from magnum.api.controllers.v1 import certificate
from magnum.api.controllers.v1 import cluster
from magnum.api.controllers.v1 import cluster_template
from magnum.api.controllers.v1 import collection
from magnum.api.controllers.v1 import container
from magnum.api.controllers.v1 import credential
from magnum.api.controllers.v1 import magnum_service
from magnum.api.controllers.v1 import node
from magnum.api.controllers.v1 import pod
from magnum.api.controllers.v1 import quota
from magnum.api.controllers.v1 import rc
from magnum.api.controllers.v1 import service
from magnum.api.controllers.v1 import stats
from magnum.api import openapi

_COLLECTIONS = ('baymodels', 'bays', 'certificates', 'clustertemplates',
                'clusters', 'containers', 'mservices', 'nodes', 'pods',
                'quotas', 'rcs', 'services', 'stats')


class V1Controller:

    baymodels = baymodel.BayModelsController()
    bays = bay.BaysController()
    certificates = certificate.CertificatesController()
    clustertemplates = cluster_template.ClusterTemplatesController()
    clusters = cluster.ClustersController()
    containers = container.ContainersController()
    credentials = credential.CredentialsController()
    mservices = magnum_service.MagnumServiceController()
    nodes = node.NodesController()
    pods = pod.PodsController()
    quotas = quota.QuotasController()
    rcs = rc.ReplicationControllersController()
    services = service.ServicesController()
    stats = stats.StatsController()

    @pecan.expose('json')
    def index(self):
        collection.read_only()
        base = pecan.request.host_url
        body = {
            'id': 'v1',
            'media_types': [{
                'base': 'application/json',
                'type': 'application/vnd.openstack.magnum.v1+json'}],
            'links': [{'href': '%s/v1/' % base, 'rel': 'self'}],
        }
        for name in _COLLECTIONS:
            body[name] = collection.links(name)
        return body

    @pecan.expose('json', route='openapi.json')
    def openapi_json(self, **params):
        """The API's OpenAPI 3.1 description (magnum/api/openapi.py)."""
        collection.read_only()
        collection.refuse_query(params)
        return openapi.document()
