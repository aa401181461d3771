"""Read-only stand-ins for the lists of Nova, Neutron and Glance that the
dashboard's Magnum forms fill their choices from.

Nova and Neutron cannot run on these machines (see ARCHITECTURE.md; the
Heat tests replace them with provider templates). magnum-ui's cluster
template form requires an image (from Glance, with an ``os_distro`` it
knows) and an external network (from Neutron); its cluster form a keypair,
an availability zone and flavors (from Nova) and a network with a subnet.
This server answers those list calls, and the version documents the
clients ask for first, with a small fixed catalog; nothing can be created
through it. Every request is recorded in ``requests`` (method, path,
status) so that a test can say what the dashboard asked; anything else is
a 404. It runs in a thread of the test process on a free 127.0.0.1 port::

    with processes.running(cloud_standin.CloudStandIn()) as cloud:
        cloud.register(keystone)   # compute, network and image in the catalog
"""

import http.server
import json
import threading
from urllib import parse

import fixtures

IMAGE = {'id': '7b1f6d4a-5a0e-4b53-9a3c-6b2b8a0e0001',
         'name': 'fedora-coreos-40', 'os_distro': 'fedora-coreos',
         'status': 'active', 'visibility': 'public', 'disk_format': 'qcow2',
         'container_format': 'bare', 'min_disk': 0, 'min_ram': 0,
         'size': 1024, 'protected': False, 'tags': [],
         'created_at': '2024-01-01T00:00:00Z',
         'updated_at': '2024-01-01T00:00:00Z', 'owner': 'admin'}
FLAVORS = [
    {'id': 'f-small', 'name': 'm1.small', 'vcpus': 2, 'ram': 4096,
     'disk': 40, 'OS-FLV-EXT-DATA:ephemeral': 0, 'swap': 0,
     'os-flavor-access:is_public': True, 'rxtx_factor': 1.0,
     'OS-FLV-DISABLED:disabled': False, 'description': None,
     'extra_specs': {}, 'links': []},
    {'id': 'f-medium', 'name': 'm1.medium', 'vcpus': 4, 'ram': 8192,
     'disk': 80, 'OS-FLV-EXT-DATA:ephemeral': 0, 'swap': 0,
     'os-flavor-access:is_public': True, 'rxtx_factor': 1.0,
     'OS-FLV-DISABLED:disabled': False, 'description': None,
     'extra_specs': {}, 'links': []},
]
KEYPAIR = {'name': 'standin-key', 'type': 'ssh', 'fingerprint':
           '00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff',
           'public_key': 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIStandIn test'}
NETWORKS = [
    {'id': '4d3f2a6e-0000-4000-8000-00000000e001', 'name': 'public',
     'router:external': True, 'shared': False, 'status': 'ACTIVE',
     'admin_state_up': True,
     'subnets': ['4d3f2a6e-0000-4000-8000-0000000051e1'],
     'tenant_id': 'admin', 'project_id': 'admin', 'mtu': 1500,
     'availability_zones': ['nova'], 'description': '',
     'port_security_enabled': True, 'is_default': False, 'tags': []},
    {'id': '4d3f2a6e-0000-4000-8000-00000000f001', 'name': 'private',
     'router:external': False, 'shared': True, 'status': 'ACTIVE',
     'admin_state_up': True,
     'subnets': ['4d3f2a6e-0000-4000-8000-0000000051f1'],
     'tenant_id': 'admin', 'project_id': 'admin', 'mtu': 1450,
     'availability_zones': ['nova'], 'description': '',
     'port_security_enabled': True, 'is_default': False, 'tags': []},
]
SUBNETS = [
    {'id': '4d3f2a6e-0000-4000-8000-0000000051e1', 'name': 'public-subnet',
     'network_id': NETWORKS[0]['id'], 'cidr': '203.0.113.0/24',
     'ip_version': 4, 'enable_dhcp': False, 'gateway_ip': '203.0.113.1',
     'allocation_pools': [], 'dns_nameservers': [], 'host_routes': [],
     'tenant_id': 'admin', 'project_id': 'admin', 'description': '',
     'ipv6_address_mode': None, 'ipv6_ra_mode': None, 'subnetpool_id': None,
     'tags': []},
    {'id': '4d3f2a6e-0000-4000-8000-0000000051f1', 'name': 'private-subnet',
     'network_id': NETWORKS[1]['id'], 'cidr': '10.0.0.0/24',
     'ip_version': 4, 'enable_dhcp': True, 'gateway_ip': '10.0.0.1',
     'allocation_pools': [], 'dns_nameservers': [], 'host_routes': [],
     'tenant_id': 'admin', 'project_id': 'admin', 'description': '',
     'ipv6_address_mode': None, 'ipv6_ra_mode': None, 'subnetpool_id': None,
     'tags': []},
]

# NOTE: glanceclient builds its image objects from this schema (warlock
# checks every image against it): each field above that is not a string
# is declared; other properties are strings.
IMAGE_SCHEMA = {
    'name': 'image',
    'properties': {
        'id': {'type': 'string'},
        'name': {'type': ['null', 'string']},
        'status': {'type': 'string'},
        'visibility': {'type': 'string'},
        'min_disk': {'type': 'integer'},
        'min_ram': {'type': 'integer'},
        'size': {'type': ['null', 'integer']},
        'protected': {'type': 'boolean'},
        'tags': {'type': 'array', 'items': {'type': 'string'}},
    },
    'additionalProperties': {'type': 'string'},
    'links': [],
}


def _nova_version(base):
    return {'id': 'v2.1', 'status': 'CURRENT', 'version': '2.79',
            'min_version': '2.1', 'updated': '2013-07-23T11:33:21Z',
            'links': [{'rel': 'self', 'href': base + '/compute/v2.1/'}]}


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, format, *args):
        pass  # recorded in server.requests instead

    def _answer(self, status, body, headers=None):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
        self.server.requests.append((self.command, self.path, status))

    def do_GET(self):
        base = 'http://127.0.0.1:%d' % self.server.server_address[1]
        path = parse.urlsplit(self.path).path.rstrip('/')
        nova_headers = {'OpenStack-API-Version': 'compute 2.79',
                        'X-OpenStack-Nova-API-Version': '2.79'}
        answers = {
            # Nova
            '/compute': ({'versions': [_nova_version(base)]}, None),
            '/compute/v2.1': ({'version': _nova_version(base)}, None),
            '/compute/v2.1/flavors/detail': ({'flavors': FLAVORS},
                                             nova_headers),
            '/compute/v2.1/flavors': ({'flavors': FLAVORS}, nova_headers),
            '/compute/v2.1/os-keypairs': (
                {'keypairs': [{'keypair': KEYPAIR}]}, nova_headers),
            '/compute/v2.1/os-availability-zone': (
                {'availabilityZoneInfo': [{'zoneName': 'nova', 'zoneState': {
                    'available': True}, 'hosts': None}]}, nova_headers),
            # Neutron
            '/network': ({'versions': [{'id': 'v2.0', 'status': 'CURRENT',
                                        'links': [{'rel': 'self', 'href':
                                                   base + '/network/v2.0/'}]}
                                       ]}, None),
            '/network/v2.0/networks': ({'networks': NETWORKS}, None),
            '/network/v2.0/subnets': ({'subnets': SUBNETS}, None),
            '/network/v2.0/extensions': ({'extensions': []}, None),
            # Glance
            '/image': ({'versions': [{'id': 'v2.16', 'status': 'CURRENT',
                                      'links': [{'rel': 'self', 'href':
                                                 base + '/image/v2/'}]}]},
                       None),
            '/image/versions': ({'versions': [{
                'id': 'v2.16', 'status': 'CURRENT', 'links': [{
                    'rel': 'self', 'href': base + '/image/v2/'}]}]}, None),
            '/image/v2/schemas/image': (IMAGE_SCHEMA, None),
            '/image/v2/images': ({'images': [IMAGE],
                                  'first': '/v2/images',
                                  'schema': '/v2/schemas/images'}, None),
        }
        answer = answers.get(path)
        if answer is None:
            self._answer(404, {'error': 'not in the stand-in: %s' % path})
        else:
            self._answer(200, *answer)

    def do_POST(self):
        self._answer(405, {'error': 'the stand-in is read-only'})

    do_PUT = do_PATCH = do_DELETE = do_POST


class CloudStandIn(fixtures.Fixture):
    """The list calls of Nova, Neutron and Glance on a free port."""

    def _setUp(self):
        self.server = http.server.ThreadingHTTPServer(
            ('127.0.0.1', 0), _Handler)
        self.server.daemon_threads = True
        self.server.requests = []
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]
        thread = threading.Thread(target=self.server.serve_forever,
                                  name='cloud-standin', daemon=True)
        thread.start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)

    @property
    def requests(self):
        return list(self.server.requests)

    def register(self, keystone):
        """``compute`` (nova), ``network`` (neutron) and ``image``
        (glance) in ``keystone``'s catalog, at this server.
        """
        keystone.register_service('nova', 'compute',
                                  self.url + '/compute/v2.1')
        keystone.register_service('neutron', 'network', self.url + '/network')
        keystone.register_service('glance', 'image', self.url + '/image')

