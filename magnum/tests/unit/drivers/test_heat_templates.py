"""The shipped Heat templates: well-formed, complete, and their boot
configuration renders to scripts that keep every value as data.

The real Heat engine runs them in the functional tests
(test_heat_bays.py); nodes cannot boot here, so the boot scripts are
checked with ``shellcheck`` (installed by tools/install.sh) and the
parameter file is rendered the way Heat's ``str_replace`` does and run in
a scratch directory.
"""

import os
import re
import shutil
import subprocess
import tempfile

import yaml

from magnum.common import exception
from magnum.drivers.heat import definition
from magnum.tests import base
from magnum.tests.unit import utils

TEMPLATES = os.path.dirname(definition.TEMPLATE)
FRAGMENTS = os.path.join(TEMPLATES, 'fragments')


def _load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _str_replace(template, params):
    """Heat's str_replace: every key, longest first, in one pass."""
    keys = sorted(params, key=len, reverse=True)
    pattern = re.compile('|'.join(re.escape(k) for k in keys))
    return pattern.sub(lambda m: str(params[m.group(0)]), template)


class TestTemplateFiles(base.TestCase):

    def _templates(self):
        for directory, _, names in os.walk(TEMPLATES):
            for name in names:
                if name.endswith('.yaml'):
                    yield os.path.join(directory, name)

    def test_every_file_and_nested_template_named_exists(self):
        for path in self._templates():
            here = os.path.dirname(path)
            for node in _walk(_load(path)):
                named = node.get('get_file')
                kind = node.get('type')
                for ref in (named, kind):
                    if isinstance(ref, str) and ref.endswith(('.yaml',
                                                              '.sh')):
                        self.assertTrue(
                            os.path.exists(os.path.join(here, ref)),
                            '%s names missing %s' % (path, ref))

    def test_every_parameter_given_is_declared_and_used(self):
        bay = _load(definition.TEMPLATE)
        declared = set(bay['parameters'])
        used = {node['get_param'] for node in _walk(bay)
                if isinstance(node.get('get_param'), str)}
        self.assertEqual(declared, used)

    def test_node_count_only_changes_the_nodes_group(self):
        cluster = _load(os.path.join(TEMPLATES, 'common', 'cluster.yaml'))
        users = [name for name, res in cluster['resources'].items()
                 if {'get_param': 'node_count'} in _walk(res)]
        self.assertEqual(['nodes'], users)
        self.assertEqual('OS::Heat::ResourceGroup',
                         cluster['resources']['nodes']['type'])

    def test_only_the_api_port_is_open_from_outside(self):
        groups = _load(os.path.join(TEMPLATES, 'common', 'secgroups.yaml'))
        for name, group in groups['resources'].items():
            for rule in group['properties']['rules']:
                if 'remote_ip_prefix' not in rule:
                    self.assertEqual('masters', name)
                    self.assertEqual({'get_param': 'api_port'},
                                     rule['port_range_min'])
                    self.assertEqual(rule['port_range_min'],
                                     rule['port_range_max'])


class TestBootScripts(base.TestCase):

    def test_shellcheck_finds_nothing(self):
        shellcheck = shutil.which('shellcheck')
        if shellcheck is None:
            if os.environ.get('CI'):
                self.fail('shellcheck is missing: tools/install.sh '
                          'installs it')
            self.skipTest('shellcheck is not installed')
        scripts = sorted(os.path.join(FRAGMENTS, n)
                         for n in os.listdir(FRAGMENTS) if n.endswith('.sh'))
        result = subprocess.run(
            [shellcheck, '--shell=sh', '--exclude=SC1091'] + scripts,
            capture_output=True, text=True, timeout=60)
        self.assertEqual(0, result.returncode, result.stdout)
        rendered = self._render({})
        functions = re.search(
            r"<<'MAGNUM_FUNCTIONS_END'\n(.*)MAGNUM_FUNCTIONS_END\n",
            rendered, re.S).group(1)
        result = subprocess.run(
            [shellcheck, '--shell=sh', '-'], input=functions,
            capture_output=True, text=True, timeout=60)
        self.assertEqual(0, result.returncode, result.stdout)

    def _render(self, overrides):
        with open(os.path.join(FRAGMENTS, 'write-heat-params.sh')) as f:
            template = f.read()
        keys = re.findall(r'^([A-Z_]+)=\$\1$', template, re.M)
        params = {'$%s' % k: 'value-of-%s' % k.lower() for k in keys}
        params.update(overrides)
        return _str_replace(template, params)

    def test_rendered_parameters_are_data_not_shell(self):
        hostile = {
            '$HTTP_PROXY': 'http://proxy:3128/$(touch PWNED)`touch PWNED`',
            '$NO_PROXY': "a,b'c\"d;e",
            '$KUBE_TOKEN': 'abc123.0123456789abcdef',
        }
        scratch = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, scratch)
        etc = os.path.join(scratch, 'etc-magnum')
        script = self._render(hostile).replace('/etc/magnum', etc)
        subprocess.run(['sh', '-c', script], check=True, cwd=scratch,
                       timeout=30)
        self.assertFalse(os.path.exists(os.path.join(scratch, 'PWNED')))
        self.assertEqual(0o600, os.stat(os.path.join(
            etc, 'heat-params')).st_mode & 0o777)
        for key, expected in (('HTTP_PROXY', hostile['$HTTP_PROXY']),
                              ('NO_PROXY', hostile['$NO_PROXY']),
                              ('KUBE_TOKEN', hostile['$KUBE_TOKEN']),
                              ('COE', 'value-of-coe')):
            got = subprocess.run(
                ['sh', '-c', '. %s/functions.sh; magnum_param %s'
                 % (etc, key)],
                capture_output=True, text=True, check=True, timeout=30,
                cwd=scratch).stdout.rstrip('\n')
            self.assertEqual(expected, got, key)
        self.assertFalse(os.path.exists(os.path.join(scratch, 'PWNED')))

    def _write_certs(self, scratch, bundle, ca_key):
        """Run fragments/write-certs.sh as Heat renders it, in ``scratch``;
        the directory it wrote."""
        with open(os.path.join(FRAGMENTS, 'write-certs.sh')) as f:
            template = f.read()
        os.makedirs(scratch)
        etc = os.path.join(scratch, 'etc-magnum')
        script = _str_replace(template, {
            '$CA_CERT': bundle.ca_cert, '$SERVER_CERT': bundle.server_cert,
            '$SERVER_KEY': bundle.server_key, '$CA_KEY': ca_key,
        }).replace('/etc/magnum', etc)
        subprocess.run(['sh', '-c', script], check=True, cwd=scratch,
                       timeout=30)
        return os.path.join(etc, 'certs')

    def test_certificates_reach_the_files_kubeadm_reads(self):
        """The masters' copy has the CA's key (0600), the nodes' none; the
        nodes pin the CA's public key when they join (kubeadm's hash)."""
        from cryptography import x509 as crypto_x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives import serialization

        from magnum.objects import bay_tls
        bundle = bay_tls._new(
            utils.bay(self.context, utils.baymodel(self.context)),
            utils.baymodel(self.context), True, 1)
        scratch = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, scratch)
        master = self._write_certs(os.path.join(scratch, 'master'),
                                   bundle, bundle.ca_key)
        node = self._write_certs(os.path.join(scratch, 'node'), bundle, '')
        with open(os.path.join(master, 'ca.key')) as f:
            self.assertEqual(bundle.ca_key.strip(), f.read().strip())
        for name in ('ca.key', 'server.key'):
            self.assertEqual(0o600, os.stat(os.path.join(
                master, name)).st_mode & 0o777)
        self.assertEqual(['ca.crt', 'server.crt', 'server.key'],
                         sorted(os.listdir(node)))
        functions = re.search(
            r"<<'MAGNUM_FUNCTIONS_END'\n(.*)MAGNUM_FUNCTIONS_END\n",
            self._render({}), re.S).group(1)
        etc = os.path.dirname(node)
        pinning = subprocess.run(
            ['sh', '-c', functions.replace('/etc/magnum', etc)
             + '\nmagnum_kube_ca_pinning'],
            capture_output=True, text=True, check=True, timeout=30).stdout
        spki = crypto_x509.load_pem_x509_certificate(
            bundle.ca_cert.encode()).public_key().public_bytes(
            serialization.Encoding.DER,
            serialization.PublicFormat.SubjectPublicKeyInfo)
        digest = hashes.Hash(hashes.SHA256())
        digest.update(spki)
        self.assertEqual('--discovery-token-ca-cert-hash sha256:%s'
                         % digest.finalize().hex(), pinning.strip())
        os.remove(os.path.join(node, 'ca.crt'))
        pinning = subprocess.run(
            ['sh', '-c', functions.replace('/etc/magnum', etc)
             + '\nmagnum_kube_ca_pinning'],
            capture_output=True, text=True, check=True, timeout=30).stdout
        self.assertEqual('--discovery-token-unsafe-skip-ca-verification',
                         pinning.strip())

    def test_distribution_families(self):
        scratch = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, scratch)
        etc = os.path.join(scratch, 'etc-magnum')
        for distro, family in (('ubuntu-24.04', 'debian'),
                               ('fedora-40', 'fedora'),
                               ('rocky-9', 'fedora')):
            script = self._render({'$CLUSTER_DISTRO': distro}).replace(
                '/etc/magnum', etc)
            subprocess.run(['sh', '-c', script], check=True, timeout=30)
            got = subprocess.run(
                ['sh', '-c', '. %s/functions.sh; magnum_distro_family'
                 % etc], capture_output=True, text=True, check=True,
                timeout=30).stdout.strip()
            self.assertEqual(family, got, distro)
        # Every family the definition accepts is one the scripts know.
        self.assertEqual({'debian', 'fedora'},
                         set(definition.DISTRO_FAMILIES.values()))


class TestNodeGroupTemplate(base.TestCase):
    """common/cluster.yaml as the heat provisioner renders it for a
    cluster's extra node groups (Heat templates cannot loop)."""

    def setUp(self):
        super().setUp()
        self.base = _load(definition.CLUSTER_TEMPLATE)
        self.groups = [
            {'name': 'gpu', 'node_count': 2, 'flavor_id': 'm1.gpu',
             'image_id': 'fedora-41', 'docker_volume_size': 20},
            {'name': 'small', 'node_count': 0, 'flavor_id': 'm1.tiny',
             'image_id': 'fedora-40', 'docker_volume_size': None}]

    def test_each_extra_group_is_a_resource_group_of_its_own(self):
        rendered = definition.cluster_template(self.base, self.groups)
        gpu = rendered['resources']['nodegroup-gpu']
        self.assertEqual('OS::Heat::ResourceGroup', gpu['type'])
        self.assertEqual(2, gpu['properties']['count'])
        member = gpu['properties']['resource_def']
        self.assertEqual('server.yaml', member['type'])
        self.assertEqual('m1.gpu', member['properties']['flavor'])
        self.assertEqual('fedora-41', member['properties']['image'])
        self.assertEqual(20, member['properties']['docker_volume_size'])
        self.assertEqual('node', member['properties']['role'])
        self.assertEqual('NAME-gpu-%index%', member['properties']['name'][
            'str_replace']['template'])
        # Booted like the default workers, after the masters, but with
        # its own labels and taints (a boot configuration of its own).
        nodes = self.base['resources']['nodes']
        for key in ('security_group', 'network', 'subnet'):
            self.assertEqual(nodes['properties']['resource_def'][
                'properties'][key], member['properties'][key])
        self.assertEqual(['masters'], gpu['depends_on'])
        self.assertEqual({'get_attr': ['node-boot-gpu', 'config']},
                         member['properties']['user_data'])
        self.assertEqual({'get_attr': ['node_boot', 'config']},
                         nodes['properties']['resource_def'][
                             'properties']['user_data'])
        parts = self.base['resources']['node_boot']['properties']['parts']
        self.assertEqual(
            [{'config': {'get_resource': 'node-registration-gpu'}}
             if p == {'config': {'get_resource': 'node_registration'}}
             else p for p in parts],
            rendered['resources']['node-boot-gpu']['properties']['parts'])
        small = rendered['resources']['nodegroup-small']
        self.assertEqual(0, small['properties']['count'])
        self.assertEqual(0, small['properties']['resource_def'][
            'properties']['docker_volume_size'])
        self.assertEqual(
            {'gpu': {'get_attr': ['nodegroup-gpu', 'server_info']},
             'small': {'get_attr': ['nodegroup-small', 'server_info']}},
            rendered['outputs']['nodegroup_servers']['value'])

    def test_default_groups_and_the_loaded_template_stay_as_they_are(self):
        before = _load(definition.CLUSTER_TEMPLATE)
        rendered = definition.cluster_template(self.base, self.groups)
        self.assertEqual(before, self.base)
        for name, resource in before['resources'].items():
            self.assertEqual(resource, rendered['resources'][name], name)
        # A group deleted is gone from the next rendering.
        rendered = definition.cluster_template(self.base, self.groups[1:])
        self.assertNotIn('nodegroup-gpu', rendered['resources'])
        self.assertEqual(before['resources'],
                         definition.cluster_template(self.base)['resources'])
        self.assertEqual({}, definition.cluster_template(self.base)[
            'outputs']['nodegroup_servers']['value'])

    def _registration(self, rendered, resource):
        """The labels and taints a resource writes to nodegroup.env."""
        config = rendered['resources'][resource]
        self.assertEqual('OS::Heat::SoftwareConfig', config['type'])
        params = config['properties']['config']['str_replace']['params']
        return params['$NODE_LABELS'], params['$NODE_TAINTS']

    def test_each_worker_group_boots_with_its_labels_and_taints(self):
        groups = [
            {'name': 'default-master', 'role': 'master', 'is_default': True,
             'node_count': 1, 'node_labels': {'role': 'master'}},
            {'name': 'default-worker', 'role': 'worker', 'is_default': True,
             'node_count': 3,
             'node_labels': {'tier': 'web', 'example.com/zone': 'a'},
             'node_taints': [{'key': 'dedicated', 'value': 'web',
                              'effect': 'NoSchedule'}]},
            dict(self.groups[0], role='worker', is_default=False,
                 node_labels={'accelerator': 'nvidia'},
                 node_taints=[
                     {'key': 'nvidia.com/gpu', 'value': 'present',
                      'effect': 'NoSchedule'},
                     {'key': 'spot', 'value': '', 'effect': 'NoExecute'},
                     {'key': 'batch', 'value': None,
                      'effect': 'PreferNoSchedule'}]),
            dict(self.groups[1], role='worker', is_default=False,
                 node_labels=None, node_taints=None)]
        rendered = definition.cluster_template(self.base, groups)
        self.assertEqual(
            ('example.com/zone=a,tier=web', 'dedicated=web:NoSchedule'),
            self._registration(rendered, 'node_registration'))
        self.assertEqual(
            ('accelerator=nvidia',
             'nvidia.com/gpu=present:NoSchedule,spot:NoExecute,'
             'batch:PreferNoSchedule'),
            self._registration(rendered, 'node-registration-gpu'))
        self.assertEqual(('', ''), self._registration(
            rendered, 'node-registration-small'))
        # Each group's boot configuration carries its own part, in the
        # place of the default workers'.
        for boot, registration in (
                ('node_boot', 'node_registration'),
                ('node-boot-gpu', 'node-registration-gpu'),
                ('node-boot-small', 'node-registration-small')):
            self.assertIn(
                {'config': {'get_resource': registration}},
                rendered['resources'][boot]['properties']['parts'])
        # The default groups are no resource group of their own; the
        # masters' boot configuration has no labels or taints.
        self.assertNotIn('nodegroup-default-worker', rendered['resources'])
        self.assertNotIn('nodegroup-default-master', rendered['resources'])
        self.assertEqual(self.base['resources']['master_boot'],
                         rendered['resources']['master_boot'])
        self.assertNotIn('node_registration', str(
            rendered['resources']['masters']))
        self.assertEqual(['gpu', 'small'], sorted(
            rendered['outputs']['nodegroup_servers']['value']))

    def test_a_group_without_labels_or_taints_boots_with_none(self):
        self.assertEqual(('', ''), self._registration(
            self.base, 'node_registration'))
        rendered = definition.cluster_template(self.base, [
            {'name': 'default-worker', 'role': 'worker', 'is_default': True,
             'node_labels': {}, 'node_taints': []}] + self.groups)
        for resource in ('node_registration', 'node-registration-gpu',
                         'node-registration-small'):
            self.assertEqual(('', ''),
                             self._registration(rendered, resource))

    def test_labels_or_taints_the_boot_scripts_cannot_keep_are_refused(self):
        """The API checks their syntax; what would reach the boot scripts
        as more than data (a line break, shell, a separator of the
        kubelet's flags) never renders."""
        for field, value in (
                ('node_labels', {'a': 'b\nNODE_TAINTS=x:NoExecute'}),
                ('node_labels', {'a': '$(reboot)'}),
                ('node_labels', {'a,b': 'c'}),
                ('node_labels', {'': 'c'}),
                ('node_labels', {'a': 7}),
                ('node_taints', [{'key': 'k', 'value': 'v',
                                  'effect': 'Evict'}]),
                ('node_taints', [{'key': 'k=v', 'value': '',
                                  'effect': 'NoSchedule'}]),
                ('node_taints', [{'key': None, 'value': '',
                                  'effect': 'NoSchedule'}]),
                ('node_taints', [{'key': 'k', 'value': "v'; reboot",
                                  'effect': 'NoSchedule'}])):
            group = dict(self.groups[0], **{field: value})
            e = self.assertRaises(exception.InvalidParameterValue,
                                  definition.cluster_template, self.base,
                                  [group])
            self.assertIn(field, str(e))

    def test_servers_to_remove_are_their_groups_removal_policy(self):
        rendered = definition.cluster_template(
            self.base, self.groups,
            {'gpu': ['server-a'], 'default-worker': ['server-b', 'server-c'],
             'gone': ['server-d']})
        self.assertEqual(
            [{'resource_list': ['server-a']}],
            rendered['resources']['nodegroup-gpu']['properties'][
                'removal_policies'])
        self.assertEqual(
            [{'resource_list': ['server-b', 'server-c']}],
            rendered['resources']['nodes']['properties']['removal_policies'])
        self.assertNotIn('removal_policies', rendered['resources'][
            'nodegroup-small']['properties'])

    def test_a_member_is_named_by_its_server_id(self):
        # removal_policies' resource_list takes a member's reference.
        server = _load(os.path.join(TEMPLATES, 'common', 'server.yaml'))
        self.assertEqual({'get_resource': 'server'},
                         server['outputs']['OS::stack_id']['value'])
        self.assertEqual({'get_resource': 'server'},
                         server['outputs']['server_info']['value']['id'])

    def test_provisioner_sends_the_rendered_file(self):
        import json

        from magnum.drivers import heat
        files, template = heat.HeatProvisioner._template(
            self.groups, {'gpu': ['server-a']})
        cluster = json.loads(files[heat._CLUSTER_URL])
        gpu = cluster['resources']['nodegroup-gpu']
        # heatclient's absolute URL of server.yaml, as for the default
        # groups, and that file is in the files sent.
        kind = gpu['properties']['resource_def']['type']
        self.assertEqual(cluster['resources']['nodes']['properties'][
            'resource_def']['type'], kind)
        self.assertIn(kind, files)
        self.assertEqual(heat._CLUSTER_URL,
                         template['resources']['cluster']['type'])
        # Each call renders from its own copy.
        files, _ = heat.HeatProvisioner._template()
        cluster = json.loads(files[heat._CLUSTER_URL])
        self.assertNotIn('nodegroup-gpu', cluster['resources'])
        self.assertNotIn('removal_policies',
                         cluster['resources']['nodes']['properties'])

    def test_the_bay_passes_the_node_groups_servers_on(self):
        bay = _load(definition.TEMPLATE)
        self.assertEqual({'get_attr': ['cluster', 'nodegroup_servers']},
                         bay['outputs']['nodegroup_servers']['value'])


_FAKE_COMMAND = '''#!/bin/sh
# Records how it was called; answers what the rotation script reads.
call=$(basename "$0")
[ $# -eq 0 ] || call="$call $*"
echo "$call" >> "%(log)s"
case "$call" in
    "hostname -I") echo "10.0.0.5 172.17.0.1" ;;
    "hostname") echo "%(hostname)s" ;;
    "crictl ps -q --name "*) echo "container-of-$4" ;;
esac
'''


class TestRotationScript(base.TestCase):
    """fragments/rotate-certs.sh as Heat renders it for the servers'
    certificates deployment, run in a scratch directory with the
    commands it restarts things with recorded (nothing here runs Docker
    or kubeadm; the paths of /etc/magnum, /etc/kubernetes and
    /var/lib/kubelet are the scratch directory's)."""

    def setUp(self):
        super().setUp()
        from magnum.objects import bay_tls
        self.model = utils.baymodel(self.context, coe='kubernetes')
        self.bay = utils.bay(self.context, self.model)
        self.old = bay_tls._new(self.bay, self.model, True, 1)
        self.new = bay_tls._new(self.bay, self.model, True, 2)
        self.scratch = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.scratch)

    def _server(self, name, role, coe, hostname):
        """A server booted with the old certificates; (root, run), where
        run() applies the rotation to the new ones and returns the
        commands it ran."""
        root = os.path.join(self.scratch, name)
        etc = os.path.join(root, 'etc-magnum')
        kube = os.path.join(root, 'etc-kubernetes')
        kubelet = os.path.join(root, 'var-lib-kubelet')
        fake_bin = os.path.join(root, 'bin')
        log = os.path.join(root, 'commands.log')
        for directory in (os.path.join(kube, 'pki'),
                          os.path.join(kubelet, 'pki'), fake_bin):
            os.makedirs(directory)
        for command in ('systemctl', 'kubeadm', 'crictl', 'hostname'):
            path = os.path.join(fake_bin, command)
            with open(path, 'w') as f:
                f.write(_FAKE_COMMAND % {'log': log, 'hostname': hostname})
            os.chmod(path, 0o755)
        for stale in (os.path.join(kube, 'kubelet.conf'),
                      os.path.join(kubelet, 'pki',
                                   'kubelet-client-current.pem')):
            with open(stale, 'w') as f:
                f.write('of the old CA\n')
        params = TestBootScripts()._render({
            '$BAY_UUID': self.bay.uuid, '$API_PORT': '6443',
            '$KUBE_TOKEN': 'abcdef.0123456789abcdef'})
        subprocess.run(['sh', '-c', params.replace('/etc/magnum', etc)],
                       check=True, timeout=30)
        with open(os.path.join(etc, 'masters.env'), 'w') as f:
            f.write('MASTER_ADDRESS=10.0.0.9\n')
        paths = {'/etc/magnum': etc, '/etc/kubernetes': kube,
                 '/var/lib/kubelet': kubelet}

        def render(template, bundle, ca_key, **extra):
            text = _str_replace(template, dict({
                '$CA_CERT': bundle.ca_cert,
                '$SERVER_CERT': bundle.server_cert,
                '$SERVER_KEY': bundle.server_key, '$CA_KEY': ca_key},
                **extra))
            for path, here in paths.items():
                text = text.replace(path, here)
            return text
        with open(os.path.join(FRAGMENTS, 'write-certs.sh')) as f:
            boot = render(f.read(), self.old,
                          self.old.ca_key if role == 'master' else '')
        subprocess.run(['sh', '-c', boot], check=True, timeout=30)

        def run():
            with open(os.path.join(FRAGMENTS, 'rotate-certs.sh')) as f:
                script = render(
                    f.read(), self.new,
                    self.new.ca_key if role == 'master' else '',
                    **{'$ROLE': role, '$COE': coe})
            env = dict(os.environ,
                       PATH='%s:%s' % (fake_bin, os.environ['PATH']))
            done = subprocess.run(['sh', '-c', script], env=env,
                                  capture_output=True, text=True,
                                  timeout=60)
            self.assertEqual(0, done.returncode, done.stderr)
            self.assertNotIn('PRIVATE KEY', done.stdout + done.stderr)
            with open(log) as f:
                return f.read().splitlines()
        return root, run

    def _read(self, root, *path):
        with open(os.path.join(root, *path)) as f:
            return f.read().strip()

    def test_docker_servers_get_the_new_files_and_restart_docker(self):
        root, run = self._server('docker-node', 'node', 'docker',
                                 'bay-node-0')
        self.assertEqual(self.old.ca_cert.strip(),
                         self._read(root, 'etc-magnum', 'certs', 'ca.crt'))
        self.assertEqual(['systemctl restart docker'], run())
        certs = os.path.join(root, 'etc-magnum', 'certs')
        for name, text in (('ca.crt', self.new.ca_cert),
                           ('server.crt', self.new.server_cert),
                           ('server.key', self.new.server_key)):
            self.assertEqual(text.strip(), self._read(certs, name), name)
        self.assertEqual(['ca.crt', 'server.crt', 'server.key'],
                         sorted(os.listdir(certs)))
        self.assertEqual(0o600, os.stat(os.path.join(
            certs, 'server.key')).st_mode & 0o777)

    def test_a_kubernetes_master_renews_what_the_cluster_ca_signed(self):
        root, run = self._server('master', 'master', 'kubernetes',
                                 'bay-master-0')
        commands = run()
        pki = os.path.join(root, 'etc-kubernetes', 'pki')
        self.assertEqual(self.new.ca_cert.strip(), self._read(pki, 'ca.crt'))
        self.assertEqual(self.new.ca_key.strip(), self._read(pki, 'ca.key'))
        self.assertEqual(0o600, os.stat(os.path.join(
            pki, 'ca.key')).st_mode & 0o777)
        self.assertEqual([
            'hostname -I',
            'kubeadm init phase certs apiserver '
            '--apiserver-advertise-address 10.0.0.5 '
            '--apiserver-cert-extra-sans %s.bay.magnum '
            '--control-plane-endpoint 10.0.0.5:6443' % self.bay.uuid,
            'kubeadm init phase certs apiserver-kubelet-client',
            'hostname',
            'kubeadm init phase kubeconfig all '
            '--apiserver-advertise-address 10.0.0.5 '
            '--apiserver-bind-port 6443 '
            '--control-plane-endpoint 10.0.0.5:6443 '
            '--node-name bay-master-0',
            'crictl ps -q --name kube-apiserver',
            'crictl stop container-of-kube-apiserver',
            'crictl ps -q --name kube-controller-manager',
            'crictl stop container-of-kube-controller-manager',
            'crictl ps -q --name kube-scheduler',
            'crictl stop container-of-kube-scheduler',
            'systemctl restart kubelet',
            'hostname',
            'kubeadm init phase bootstrap-token '
            '--kubeconfig /etc/kubernetes/admin.conf'.replace(
                '/etc/kubernetes', os.path.join(root, 'etc-kubernetes')),
        ], commands)
        # The kubelet's certificates of the old CA are gone; kubeadm
        # wrote its new kubeconfig.
        self.assertFalse(os.path.exists(os.path.join(
            root, 'var-lib-kubelet', 'pki', 'kubelet-client-current.pem')))
        self.assertFalse(os.path.exists(os.path.join(
            root, 'etc-kubernetes', 'kubelet.conf')))

    def test_a_kubernetes_node_bootstraps_its_kubelet_pinning_the_new_ca(self):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives import serialization
        from cryptography import x509 as crypto_x509
        root, run = self._server('node', 'node', 'kubernetes', 'bay-node-0')
        commands = run()
        certs = os.path.join(root, 'etc-magnum', 'certs')
        self.assertFalse(os.path.exists(os.path.join(certs, 'ca.key')))
        self.assertEqual(self.new.ca_cert.strip(), self._read(
            root, 'etc-kubernetes', 'pki', 'ca.crt'))
        spki = crypto_x509.load_pem_x509_certificate(
            self.new.ca_cert.encode()).public_key().public_bytes(
            serialization.Encoding.DER,
            serialization.PublicFormat.SubjectPublicKeyInfo)
        digest = hashes.Hash(hashes.SHA256())
        digest.update(spki)
        # NOTE: magnum_kube_ca_pinning reads /etc/magnum/certs/ca.crt of
        # the real server; here that file is the scratch one.
        self.assertEqual(['systemctl stop kubelet',
                          'kubeadm join phase kubelet-start 10.0.0.9:6443 '
                          '--token abcdef.0123456789abcdef '
                          '--discovery-token-ca-cert-hash sha256:%s'
                          % digest.finalize().hex()], commands)
        self.assertFalse(os.path.exists(os.path.join(
            root, 'etc-kubernetes', 'kubelet.conf')))

    def test_every_fragment_is_ascii(self):
        """Heat's MultipartMime and SOFTWARE_CONFIG user data re-add each
        part with its payload as it is: a part that is not ASCII would be
        base64 there, and reach cloud-init as base64 text."""
        for name in sorted(os.listdir(FRAGMENTS)):
            with open(os.path.join(FRAGMENTS, name), 'rb') as f:
                f.read().decode('ascii')
