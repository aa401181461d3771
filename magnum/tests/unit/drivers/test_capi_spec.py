"""The capi provisioner's Cluster of a bay (magnum/drivers/capi/spec.py):
its name, labels, topology and variables, and what it refuses (a 400
naming the field)."""

import base64
import importlib
import re

from magnum.common import exception
from magnum.db import nodegroups as db_nodegroups
from magnum.drivers.capi import kube
from magnum.drivers.capi import spec
from magnum.drivers.capi import status
from magnum.objects import nodegroup as nodegroup_obj
from magnum.tests import base
from magnum.tests.unit import utils

_DNS_LABEL = re.compile(r'^[a-z0-9]([a-z0-9-]*[a-z0-9])?$')
CLASS_REF = {'name': 'magnum-0123456789', 'namespace': 'magnum-system'}
NAMESPACE = 'magnum-project-a'
ACTION = '5e4f3c2b-1a09-4877-8655-443322110000'


def _classes():
    """magnum.drivers.capi.classes, or None while it is not written."""
    try:
        return importlib.import_module('magnum.drivers.capi.classes')
    except ImportError:
        return None


class CapiSpecTestCase(base.TestCase):

    def setUp(self):
        super().setUp()
        self.model = utils.baymodel(
            self.context, coe='kubernetes', image_id='ubuntu-2404-kube',
            flavor_id='m1.medium', master_flavor_id='m1.large',
            keypair_id='kp', external_network_id='public',
            fixed_network='private', fixed_subnet='10.1.0.0/24',
            dns_nameserver='8.8.8.8',
            labels={'provisioner': 'capi', 'kube_tag': 'v1.33.4'})
        self.bay = utils.bay(self.context, self.model, provisioner='capi',
                             name='My Bay!', node_count=3, master_count=3)

    # -- helpers -----------------------------------------------------------

    def group(self, name, **values):
        """A node group of the bay (a row), as the API adds one."""
        defaults = {'name': name, 'cluster_id': self.bay.uuid,
                    'project_id': self.bay.project_id, 'role': 'worker',
                    'is_default': False, 'node_count': 2,
                    'min_node_count': 0}
        db_nodegroups.create_nodegroup(self.context,
                                       dict(defaults, **values))

    def groups(self):
        return nodegroup_obj.NodeGroup.list_of(self.context, self.bay.uuid)

    def set_group(self, name, **values):
        row = db_nodegroups.get_nodegroup(self.bay.uuid, name)
        db_nodegroups.update_nodegroup(row.uuid, values)

    def cluster(self):
        return spec.cluster(self.bay, self.model, self.groups(), NAMESPACE,
                            CLASS_REF, 'v1.33.4', 'default-worker', ACTION)

    def topology(self):
        return self.cluster()['spec']['topology']

    def deployments(self):
        return {md['name']: md for md in
                self.topology()['workers']['machineDeployments']}

    def variables(self):
        return {v['name']: v['value'] for v in self.topology()['variables']}

    def assertRefused(self, field, call, *args):
        e = self.assertRaises(exception.InvalidParameterValue, call, *args)
        self.assertEqual(field, e.kwargs['field'])
        self.assertIn(field, str(e))
        return e


class TestClusterName(CapiSpecTestCase):

    def test_a_readable_part_and_the_start_of_the_uuid(self):
        self.assertEqual('my-bay-%s' % self.bay.uuid[:8],
                         spec.cluster_name(self.bay))

    def test_it_is_a_dns_label_whatever_the_bay_is_called(self):
        for name in ('My Bay!', 'été 2026', 'a' * 100, '--x--', 'UPPER_case',
                     '9lives', '', None, '***', '0' * 80):
            self.bay.name = name
            found = spec.cluster_name(self.bay)
            self.assertTrue(_DNS_LABEL.match(found), (name, found))
            self.assertLessEqual(len(found), 45, name)
            self.assertTrue(found[0].isalpha(), (name, found))
            self.assertTrue(found.endswith('-' + self.bay.uuid[:8]), name)

    def test_a_name_starting_with_a_digit_gets_a_prefix(self):
        self.bay.name = '9lives'
        self.assertEqual('bay-9lives-%s' % self.bay.uuid[:8],
                         spec.cluster_name(self.bay))

    def test_no_name_at_all(self):
        self.bay.name = None
        self.assertEqual('bay-%s' % self.bay.uuid[:8],
                         spec.cluster_name(self.bay))

    def test_two_bays_of_one_name_differ(self):
        other = utils.bay(self.context, self.model, provisioner='capi',
                          name='My Bay!')
        self.assertNotEqual(spec.cluster_name(self.bay),
                            spec.cluster_name(other))

    def test_secret_names_follow_the_cluster(self):
        self.assertEqual('c1-ca', spec.secret_name('c1', 'ca'))
        self.assertEqual('c1-cloud-config', spec.credentials_secret_name('c1'))


class TestClusterObject(CapiSpecTestCase):

    def test_metadata(self):
        body = self.cluster()
        self.assertEqual(('cluster.x-k8s.io/v1beta2', 'Cluster'),
                         (body['apiVersion'], body['kind']))
        meta = body['metadata']
        self.assertEqual(spec.cluster_name(self.bay), meta['name'])
        self.assertEqual(NAMESPACE, meta['namespace'])
        self.assertEqual({'magnum.openstack.org/bay': self.bay.uuid,
                          'magnum.openstack.org/project-id': 'project-a'},
                         meta['labels'])
        self.assertEqual(ACTION,
                         meta['annotations']['magnum.openstack.org/action'])
        self.assertEqual(ACTION, meta['annotations'][status.ACTION_ANNOTATION])
        self.assertEqual('My Bay!',
                         meta['annotations']['magnum.openstack.org/bay-name'])

    def test_class_version_and_control_plane(self):
        topology = self.topology()
        self.assertEqual(CLASS_REF, topology['classRef'])
        self.assertEqual('v1.33.4', topology['version'])
        self.assertEqual(3, topology['controlPlane']['replicas'])
        self.assertEqual({kube.BAY_LABEL: self.bay.uuid},
                         topology['controlPlane']['metadata']['labels'])

    def test_network(self):
        network = self.cluster()['spec']['clusterNetwork']
        self.assertEqual(6443, network['apiServerPort'])
        self.assertEqual(['10.254.0.0/16'],
                         network['services']['cidrBlocks'])
        self.assertEqual(['10.100.0.0/16'], network['pods']['cidrBlocks'])
        self.model.apiserver_port = 8443
        self.model.labels = {'service_cluster_ip_range': '10.96.0.0/12',
                             'calico_ipv4pool': '192.168.0.0/16'}
        network = self.cluster()['spec']['clusterNetwork']
        self.assertEqual(8443, network['apiServerPort'])
        self.assertEqual(['10.96.0.0/12'], network['services']['cidrBlocks'])
        self.assertEqual(['192.168.0.0/16'], network['pods']['cidrBlocks'])

    def test_labels_of_the_bay(self):
        self.assertEqual({kube.BAY_LABEL: self.bay.uuid,
                          kube.PROJECT_LABEL: 'project-a'},
                         spec.labels(self.bay))


class TestKubeVersion(CapiSpecTestCase):

    def test_the_templates_kube_tag(self):
        self.assertEqual('v1.33.4', spec.kube_version(self.model, 'v1.30.0'))

    def test_a_tag_without_the_v_gets_one(self):
        self.model.labels = {'kube_tag': '1.32.1'}
        self.assertEqual('v1.32.1', spec.kube_version(self.model, None))

    def test_a_pre_release_or_build_is_kept(self):
        self.model.labels = {'kube_tag': 'v1.34.0-rc.1'}
        self.assertEqual('v1.34.0-rc.1', spec.kube_version(self.model, None))

    def test_no_tag_means_the_default(self):
        self.model.labels = {'provisioner': 'capi'}
        self.assertEqual('v1.31.2', spec.kube_version(self.model, 'v1.31.2'))
        self.assertEqual('v1.31.2', spec.kube_version(self.model, '1.31.2'))

    def test_a_bad_tag_is_refused_naming_labels(self):
        for tag in ('v1.29', 'latest', 'v1.2.3.4', 'vv1.2.3', '1.x.0'):
            self.model.labels = {'kube_tag': tag}
            e = self.assertRefused('labels', spec.kube_version, self.model,
                                   'v1.33.4')
            self.assertIn(tag, str(e))

    def test_no_tag_and_no_default_is_refused(self):
        self.model.labels = {}
        self.assertRefused('labels', spec.kube_version, self.model, None)


class TestMachineDeployments(CapiSpecTestCase):

    def test_one_per_worker_group_the_default_first(self):
        self.group('zeta')
        self.group('alpha', node_count=5)
        names = [md['name'] for md in
                 self.topology()['workers']['machineDeployments']]
        self.assertEqual(['default-worker', 'alpha', 'zeta'], names)

    def test_a_masters_group_is_no_machine_deployment(self):
        self.group('extra-masters', role='master')
        self.assertEqual(['default-worker'], list(self.deployments()))

    def test_the_default_group(self):
        md = self.deployments()['default-worker']
        self.assertEqual('default-worker', md['class'])
        self.assertEqual(3, md['replicas'])
        self.assertEqual({kube.BAY_LABEL: self.bay.uuid},
                         md['metadata']['labels'])
        self.assertEqual(
            {'magnum.openstack.org/nodegroup': 'default-worker'},
            md['metadata']['annotations'])
        self.assertNotIn('failureDomain', md)
        self.assertNotIn('variables', md)
        self.assertEqual({'enabled': False}, md['healthCheck'])

    def test_a_group_name_becomes_a_dns_label(self):
        self.group('gpu-pool')
        self.assertIn('gpu-pool', self.deployments())
        self.group('GPU Pool')
        name = spec.machine_deployment_name(self.groups()[-1])
        # NOTE: not a label itself: a readable part and a hash of it all,
        # so "GPU Pool" and "gpu-pool" never share a MachineDeployment.
        self.assertRegex(name, r'^gpu-pool-[0-9a-f]{8}$')
        md = self.deployments()[name]
        self.assertEqual('GPU Pool', md['metadata']['annotations'][
            status.NODEGROUP_ANNOTATION])

    def test_replicas_are_the_groups_node_count(self):
        self.group('big', node_count=7)
        self.assertEqual(7, self.deployments()['big']['replicas'])

    def test_failure_domain_is_the_groups_availability_zone(self):
        self.group('az2', labels={'availability_zone': 'nova-2'})
        self.assertEqual('nova-2', self.deployments()['az2']['failureDomain'])

    def test_a_non_default_group_overrides_flavor_and_image(self):
        self.group('gpu', flavor_id='g1.large', image_id='ubuntu-gpu')
        md = self.deployments()['gpu']
        self.assertEqual(
            {'overrides': [{'name': 'workerFlavor', 'value': 'g1.large'},
                           {'name': 'image', 'value': 'ubuntu-gpu'}]},
            md['variables'])

    def test_an_image_of_the_template_is_no_override(self):
        self.group('same', flavor_id='m1.small', image_id='ubuntu-2404-kube')
        self.assertEqual(
            {'overrides': [{'name': 'workerFlavor', 'value': 'm1.small'}]},
            self.deployments()['same']['variables'])

    def test_the_default_groups_flavor_is_the_bays(self):
        self.set_group('default-worker', flavor_id='other')
        self.assertNotIn('variables', self.deployments()['default-worker'])


class TestAutoscaling(CapiSpecTestCase):

    def enable(self, **labels):
        self.bay.labels = dict({'auto_scaling_enabled': 'true'}, **labels)

    def test_the_autoscaler_sizes_the_group(self):
        self.enable(min_node_count='2', max_node_count='6')
        md = self.deployments()['default-worker']
        self.assertNotIn('replicas', md)
        annotations = md['metadata']['annotations']
        self.assertEqual('2', annotations[
            'cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size'])
        self.assertEqual('6', annotations[
            'cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size'])
        self.assertEqual('default-worker',
                         annotations[status.NODEGROUP_ANNOTATION])

    def test_a_groups_own_sizes_come_first(self):
        self.enable(min_node_count='2', max_node_count='6')
        self.group('own', min_node_count=1, max_node_count=9)
        annotations = self.deployments()['own']['metadata']['annotations']
        self.assertEqual(('1', '9'), (annotations[spec.MIN_SIZE],
                                      annotations[spec.MAX_SIZE]))

    def test_a_groups_own_label_turns_it_on(self):
        self.group('scaled', labels={'auto_scaling_enabled': 'True'},
                   min_node_count=1, max_node_count=4)
        mds = self.deployments()
        self.assertNotIn('replicas', mds['scaled'])
        self.assertEqual(3, mds['default-worker']['replicas'])
        self.assertEqual((1, 4), spec.autoscaling(self.bay,
                                                  self.groups()[-1]))

    def test_off_by_default_and_when_false(self):
        self.assertIsNone(spec.autoscaling(self.bay, self.groups()[-1]))
        self.bay.labels = {'auto_scaling_enabled': 'false',
                           'max_node_count': '5'}
        self.assertEqual(3, self.deployments()['default-worker']['replicas'])

    def test_check_accepts_min_and_max(self):
        self.enable(min_node_count='2', max_node_count='6')
        spec.check(self.bay, self.model, self.groups())

    def test_a_missing_max_is_refused_naming_max_node_count(self):
        self.enable(min_node_count='1')
        workers = [g for g in self.groups() if g.role != 'master']
        e = self.assertRefused('max_node_count', spec.check, self.bay,
                               self.model, workers)
        self.assertIn('default-worker', str(e))

    def test_min_above_max_is_refused_naming_min_node_count(self):
        self.enable(min_node_count='5', max_node_count='3')
        self.assertRefused('min_node_count', spec.check, self.bay,
                           self.model, self.groups())

    def test_a_groups_min_above_its_max_is_refused(self):
        self.enable(min_node_count='1', max_node_count='6')
        self.group('bad', min_node_count=4, max_node_count=2)
        e = self.assertRefused('min_node_count', spec.check, self.bay,
                               self.model, self.groups())
        self.assertIn('bad', str(e))

    def test_the_masters_group_is_not_autoscaled(self):
        """Each worker group has its own max; the control plane's group,
        which no autoscaler sizes, has none: nothing to refuse."""
        self.enable()
        self.set_group('default-worker', max_node_count=5)
        self.group('gpu', max_node_count=3)
        spec.check(self.bay, self.model, self.groups())


class TestAutoHealing(CapiSpecTestCase):

    def test_health_checks_on_everywhere(self):
        self.group('extra')
        self.bay.labels = {'auto_healing_enabled': 'true'}
        topology = self.topology()
        self.assertEqual({'enabled': True},
                         topology['controlPlane']['healthCheck'])
        for md in topology['workers']['machineDeployments']:
            self.assertEqual({'enabled': True}, md['healthCheck'], md['name'])

    def test_the_templates_label_counts_too(self):
        self.model.labels = {'auto_healing_enabled': 'true'}
        self.assertTrue(self.topology()['controlPlane']['healthCheck'][
            'enabled'])

    def test_off_by_default(self):
        topology = self.topology()
        self.assertEqual({'enabled': False},
                         topology['controlPlane']['healthCheck'])
        self.assertEqual({'enabled': False}, self.deployments()[
            'default-worker']['healthCheck'])


class TestVariables(CapiSpecTestCase):

    def test_values_of_the_template(self):
        values = self.variables()
        cluster = spec.cluster_name(self.bay)
        self.assertEqual('ubuntu-2404-kube', values['image'])
        self.assertEqual('m1.large', values['controlPlaneFlavor'])
        self.assertEqual('m1.medium', values['workerFlavor'])
        self.assertEqual('kp', values['sshKeyName'])
        self.assertEqual('public', values['externalNetworkId'])
        self.assertEqual('private', values['fixedNetworkId'])
        self.assertEqual(['8.8.8.8'], values['dnsNameservers'])
        self.assertEqual(False, values['apiServerLoadBalancer'])
        self.assertEqual(True, values['apiServerFloatingIP'])
        self.assertEqual({'type': '', 'size': 0}, values['bootVolume'])
        self.assertEqual(('', '', ''), (values['httpProxy'],
                                        values['httpsProxy'],
                                        values['noProxy']))
        self.assertEqual('', values['insecureRegistry'])
        self.assertEqual('%s-cloud-config' % cluster,
                         values['cloudCredentialsSecretName'])

    def test_listed_by_name(self):
        names = [v['name'] for v in self.topology()['variables']]
        self.assertEqual(sorted(names), names)
        self.assertEqual(len(set(names)), len(names))

    def test_the_bays_own_values_come_first(self):
        self.bay.flavor_id = 'b.worker'
        self.bay.master_flavor_id = 'b.master'
        self.bay.keypair = 'bay-kp'
        self.bay.fixed_network = 'bay-net'
        values = self.variables()
        self.assertEqual(('b.master', 'b.worker', 'bay-kp', 'bay-net'),
                         (values['controlPlaneFlavor'],
                          values['workerFlavor'], values['sshKeyName'],
                          values['fixedNetworkId']))

    def test_a_fixed_subnet_cidr(self):
        values = self.variables()
        self.assertEqual(('', '10.1.0.0/24'),
                         (values['fixedSubnetId'], values['fixedSubnetCidr']))

    def test_a_fixed_subnet_id(self):
        self.bay.fixed_subnet = '6b1c7d1e-0b7e-4d0c-9a55-2f1f0c7d2a10'
        values = self.variables()
        self.assertEqual(('6b1c7d1e-0b7e-4d0c-9a55-2f1f0c7d2a10',
                          '10.0.0.0/24'),
                         (values['fixedSubnetId'], values['fixedSubnetCidr']))

    def test_an_ipv6_cidr(self):
        self.model.fixed_subnet = 'fd00:10::/64'
        self.assertEqual(('', 'fd00:10::/64'), (
            self.variables()['fixedSubnetId'],
            self.variables()['fixedSubnetCidr']))

    def test_no_dns_nameserver(self):
        self.model.dns_nameserver = None
        self.assertEqual([], self.variables()['dnsNameservers'])

    def test_load_balancer_and_floating_ip(self):
        self.model.master_lb_enabled = True
        self.model.floating_ip_enabled = False
        values = self.variables()
        self.assertEqual((True, False), (values['apiServerLoadBalancer'],
                                         values['apiServerFloatingIP']))
        # The bay's own choice over the template's.
        self.bay.master_lb_enabled = False
        self.bay.floating_ip_enabled = True
        values = self.variables()
        self.assertEqual((False, True), (values['apiServerLoadBalancer'],
                                         values['apiServerFloatingIP']))

    def test_boot_volume_labels(self):
        self.model.labels = {'boot_volume_type': 'ssd',
                             'boot_volume_size': '40'}
        self.assertEqual({'type': 'ssd', 'size': 40},
                         self.variables()['bootVolume'])

    def test_proxies_and_insecure_registry(self):
        self.model.http_proxy = 'http://proxy:3128'
        self.model.https_proxy = 'http://proxy:3129'
        self.model.no_proxy = 'localhost,10.0.0.0/8'
        self.model.insecure_registry = 'registry.local:5000'
        values = self.variables()
        self.assertEqual(('http://proxy:3128', 'http://proxy:3129',
                          'localhost,10.0.0.0/8', 'registry.local:5000'),
                         (values['httpProxy'], values['httpsProxy'],
                          values['noProxy'], values['insecureRegistry']))

    def test_every_variable_is_declared_by_the_shipped_class(self):
        classes = _classes()
        if classes is None or not hasattr(classes, 'variable_names'):
            self.skipTest('magnum.drivers.capi.classes.variable_names is '
                          'not written yet')
        declared = classes.variable_names()
        self.group('gpu', flavor_id='g1', image_id='gpu-img')
        topology = self.topology()
        used = {v['name'] for v in topology['variables']}
        for md in topology['workers']['machineDeployments']:
            used |= {v['name'] for v in
                     (md.get('variables') or {}).get('overrides', ())}
        self.assertEqual(set(), used - declared)


class TestCheck(CapiSpecTestCase):

    def test_a_whole_template_passes(self):
        spec.check(self.bay, self.model, self.groups())

    def test_swarm_and_docker_are_refused_naming_coe(self):
        for coe in ('swarm', 'docker', 'mesos'):
            self.model.coe = coe
            e = self.assertRefused('coe', spec.check, self.bay, self.model,
                                   self.groups())
            self.assertIn(coe, str(e))

    def test_a_missing_image_is_refused(self):
        self.model.image_id = None
        self.assertRefused('image_id', spec.check, self.bay, self.model,
                           self.groups())

    def test_a_missing_flavor_is_refused(self):
        self.model.flavor_id = None
        self.assertRefused('flavor_id', spec.check, self.bay, self.model,
                           self.groups())
        self.bay.flavor_id = 'bay-flavor'
        spec.check(self.bay, self.model, self.groups())

    def test_a_missing_master_flavor_is_refused(self):
        self.model.master_flavor_id = ''
        self.assertRefused('master_flavor_id', spec.check, self.bay,
                           self.model, self.groups())


class TestSecrets(CapiSpecTestCase):

    def test_a_certificate_secret(self):
        body = spec.secret(self.bay, 'c1', 'ca',
                           {'tls.crt': 'CERT\n', 'tls.key': 'KEY é'})
        self.assertEqual(('v1', 'Secret', 'cluster.x-k8s.io/secret'),
                         (body['apiVersion'], body['kind'], body['type']))
        self.assertEqual('c1-ca', body['metadata']['name'])
        self.assertEqual({kube.BAY_LABEL: self.bay.uuid,
                          kube.PROJECT_LABEL: 'project-a',
                          'cluster.x-k8s.io/cluster-name': 'c1'},
                         body['metadata']['labels'])
        self.assertEqual(
            {'tls.crt': 'CERT\n', 'tls.key': 'KEY é'},
            {k: base64.b64decode(v).decode('utf-8')
             for k, v in body['data'].items()})
        self.assertEqual(base64.b64encode(b'CERT\n').decode('ascii'),
                         body['data']['tls.crt'])

    def test_an_opaque_secret(self):
        body = spec.secret(self.bay, 'c1', 'cloud-config',
                           {'clouds.yaml': 'clouds: {}'}, kind='Opaque')
        self.assertEqual('Opaque', body['type'])
        self.assertEqual('c1-cloud-config', body['metadata']['name'])

    def test_owned_by_the_cluster(self):
        cluster = self.cluster()
        cluster['metadata']['uid'] = 'uid-1'
        body = spec.owned_by({'metadata': {'name': 'x'}}, cluster)
        self.assertEqual([{
            'apiVersion': 'cluster.x-k8s.io/v1beta2', 'kind': 'Cluster',
            'name': spec.cluster_name(self.bay), 'uid': 'uid-1',
            'blockOwnerDeletion': True}], body['metadata']['ownerReferences'])
        self.assertEqual('x', body['metadata']['name'])
