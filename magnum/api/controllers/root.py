"""``GET /``: the API versions."""

import pecan

from magnum.api.controllers import v1
from magnum.api.controllers.v1 import collection
from magnum.api.middleware import version as api_version


def version_document(host_url):
    return {
        'id': 'v1',
        'links': [{'href': '%s/v1/' % host_url, 'rel': 'self'}],
        'status': 'CURRENT',
        'min_version': api_version.as_string(api_version.MIN_VERSION),
        'max_version': api_version.as_string(api_version.MAX_VERSION),
    }


class RootController:

    v1 = v1.V1Controller()

    @pecan.expose('json')
    def index(self):
        collection.read_only()
        version = version_document(pecan.request.host_url)
        return {
            'name': 'OpenStack Magnum API',
            'description': 'Magnum is an OpenStack project which aims to '
                           'provide container cluster management.',
            'versions': [version],
            'default_version': version,
        }
