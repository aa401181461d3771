"""The heat provisioner's parameters, and what it refuses (a 400)."""

from magnum.common import exception
from magnum.drivers.heat import definition
from magnum.tests import base
from magnum.tests.unit import utils


class TestBayDefinition(base.TestCase):

    def setUp(self):
        super().setUp()
        self.model = utils.baymodel(
            self.context, coe='kubernetes', image_id='fedora-40',
            flavor_id='m1.small', external_network_id='public',
            cluster_distro='fedora-40', labels={'provisioner': 'heat'})
        self.bay = utils.bay(self.context, self.model, provisioner='heat',
                             name='my bay!', node_count=3, master_count=1)

    def test_parameters_come_from_the_baymodel_and_the_bay(self):
        self.model.update(dict(
            master_flavor_id='m1.large', keypair_id='kp',
            ssh_authorized_key='ssh-ed25519 AAAA ops', docker_volume_size=7, http_proxy='http://proxy:3128',
            dns_nameserver='10.1.1.1', tls_disabled=False,
            labels={'provisioner': 'heat', 'kube_tag': 'v1.29'}))
        params = definition.BayDefinition(self.model, self.bay).parameters()
        self.assertEqual('fedora-40', params['image'])
        self.assertEqual('m1.large', params['master_flavor'])
        self.assertEqual('m1.small', params['node_flavor'])
        self.assertEqual('kp', params['key_name'])
        self.assertEqual('ssh-ed25519 AAAA ops',
                         params['ssh_authorized_key'])
        self.assertEqual('public', params['external_network'])
        self.assertEqual(7, params['docker_volume_size'])
        self.assertEqual('http://proxy:3128', params['http_proxy'])
        self.assertEqual('10.1.1.1', params['dns_nameserver'])
        self.assertEqual('v1.29', params['kube_version'])
        self.assertEqual(3, params['node_count'])
        self.assertEqual(6443, params['api_port'])
        self.assertEqual(self.bay.uuid, params['bay_uuid'])
        # Heat's name rules: a letter first, no spaces.
        self.assertEqual('my-bay', params['name'])

    def test_stack_name_is_unique_and_valid(self):
        name = definition.stack_name(self.bay)
        self.assertEqual('my-bay-%s' % self.bay.uuid, name)
        self.bay.name = '9lives'
        self.assertTrue(definition.stack_name(self.bay).startswith(
            'bay-9lives-'))

    def test_api_address_by_coe_and_tls(self):
        spec = definition.BayDefinition(self.model, self.bay)
        self.assertEqual('https://1.2.3.4:6443', spec.api_address('1.2.3.4'))
        self.assertIsNone(spec.api_address(None))
        self.model.coe = 'swarm'
        self.assertEqual('tcp://1.2.3.4:2376', definition.BayDefinition(
            self.model, self.bay).api_address('1.2.3.4'))
        self.model.tls_disabled = True
        self.assertEqual('tcp://1.2.3.4:2375', definition.BayDefinition(
            self.model, self.bay).api_address('1.2.3.4'))
        self.model.apiserver_port = 8443
        self.assertEqual('tcp://1.2.3.4:8443', definition.BayDefinition(
            self.model, self.bay).api_address('1.2.3.4'))

    def test_fixed_subnet_is_used_only_when_it_is_a_cidr(self):
        self.model.fixed_subnet = '192.168.7.0/24'
        params = definition.BayDefinition(self.model, self.bay).parameters()
        self.assertEqual('192.168.7.0/24', params['fixed_cidr'])
        self.model.fixed_subnet = 'private-subnet'
        params = definition.BayDefinition(self.model, self.bay).parameters()
        self.assertNotIn('fixed_cidr', params)

    def test_what_the_templates_cannot_build_names_the_field(self):
        for field, value in (('coe', 'mesos'), ('server_type', 'lxc'),
                             ('cluster_distro', 'windows'),
                             ('image_id', None), ('flavor_id', None),
                             ('external_network_id', None)):
            model = utils.baymodel(
                self.context, coe='kubernetes', image_id='i', flavor_id='f',
                external_network_id='public', cluster_distro='ubuntu')
            setattr(model, field, value)
            e = self.assertRaises(exception.InvalidParameterValue,
                                  definition.BayDefinition, model, self.bay)
            self.assertIn(field, str(e))
            self.assertEqual(400, e.code)

    def test_default_distribution_comes_from_config(self):
        self.model.cluster_distro = None
        self.conf.config(default_cluster_distro='ubuntu-24.04', group='heat')
        params = definition.BayDefinition(self.model, self.bay).parameters()
        self.assertEqual('ubuntu-24.04', params['cluster_distro'])
