"""A Heat bay's workers register with their node group's Kubernetes labels
and taints: from the node group's row, through ``common/cluster.yaml`` as
the heat provisioner renders it, to the kubelet's extra flags the boot
scripts write.

Nodes cannot boot here: the scripts run with /bin/sh in a scratch
directory that stands in for /etc (``/etc/magnum``, ``/etc/default``,
``/etc/sysconfig``, ``/etc/kubernetes``), with ``kubeadm`` a stub on PATH
that records how it was called and what the kubelet would read then, and
the package installation (``magnum_install_kubernetes``) a stub too.
"""

import json
import os
import shutil
import subprocess
import tempfile

import fixtures
import yaml

from magnum.db import nodegroups as db_nodegroups
from magnum.drivers import heat
from magnum.drivers.heat import clients as heat_clients
from magnum.drivers.heat import definition
from magnum.objects import nodegroup as nodegroup_obj
from magnum.tests import base
from magnum.tests.unit import utils
from magnum.tests.unit.drivers import test_heat_provisioner
from magnum.tests.unit.drivers import test_heat_templates

FRAGMENTS = test_heat_templates.FRAGMENTS
TOKEN = 'abcdef.0123456789abcdef'
# Where the kubeadm drop-in of the kubelet's unit reads KUBELET_EXTRA_ARGS.
KUBELET_DEFAULTS = {'debian': ('etc-default', 'kubelet'),
                    'fedora': ('etc-sysconfig', 'kubelet')}

_KUBEADM = '''#!/bin/sh
# Records its call, and the kubelet's extra flags as they are then.
echo "kubeadm $*" >> "%(log)s"
for f in "%(root)s/etc-default/kubelet" "%(root)s/etc-sysconfig/kubelet"; do
    [ ! -e "$f" ] || echo "kubelet flags then: $(cat "$f")" >> "%(log)s"
done
'''


def _read(path):
    with open(path) as f:
        return f.read()


class TestKubeletRegistration(base.TestCase):

    def setUp(self):
        super().setUp()
        self.scratch = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.scratch)
        self.base = yaml.safe_load(_read(definition.CLUSTER_TEMPLATE))

    def _boot(self, group, distro='fedora-40'):
        """Boot a worker of ``group`` (a node group row or dict; the
        cluster's ``nodes`` when it is the default workers') as far as
        ``kubeadm join``: (root, the commands it ran)."""
        root = os.path.join(self.scratch, distro)
        fake_bin = os.path.join(root, 'bin')
        log = os.path.join(root, 'commands.log')
        for directory in (fake_bin, os.path.join(root, 'etc-default'),
                          os.path.join(root, 'etc-sysconfig')):
            os.makedirs(directory)
        kubeadm = os.path.join(fake_bin, 'kubeadm')
        with open(kubeadm, 'w') as f:
            f.write(_KUBEADM % {'log': log, 'root': root})
        os.chmod(kubeadm, 0o755)
        paths = {'/etc/magnum': os.path.join(root, 'etc-magnum'),
                 '/etc/kubernetes': os.path.join(root, 'etc-kubernetes'),
                 '/etc/default': os.path.join(root, 'etc-default'),
                 '/etc/sysconfig': os.path.join(root, 'etc-sysconfig')}

        def run(script):
            for path, here in paths.items():
                script = script.replace(path, here)
            env = dict(os.environ,
                       PATH='%s:%s' % (fake_bin, os.environ['PATH']))
            done = subprocess.run(['/bin/sh', '-c', script], env=env,
                                  capture_output=True, text=True,
                                  timeout=30)
            self.assertEqual(0, done.returncode, done.stderr)

        # The worker's boot parts in their order (common/cluster.yaml's
        # node_boot, then bay.yaml's): the masters' address, its group's
        # labels and taints, the bay's parameters, kubernetes-node.sh.
        run('mkdir -p /etc/magnum\n'
            'echo MASTER_ADDRESS=10.0.0.9 > /etc/magnum/masters.env')
        rendered = definition.cluster_template(self.base, [group])
        # NOTE: a NodeGroup's get() is its lookup, not a dict's.
        default = 'is_default' in group and group['is_default']
        resource = ('node_registration' if default
                    else 'node-registration-%s' % group['name'])
        config = rendered['resources'][resource]['properties']['config']
        fragment = os.path.normpath(os.path.join(
            os.path.dirname(definition.CLUSTER_TEMPLATE),
            config['str_replace']['template']['get_file']))
        run(test_heat_templates._str_replace(
            _read(fragment), config['str_replace']['params']))
        run(test_heat_templates.TestBootScripts()._render({
            '$CLUSTER_DISTRO': distro, '$API_PORT': '6443',
            '$KUBE_TOKEN': TOKEN}))
        with open(os.path.join(paths['/etc/magnum'], 'functions.sh'),
                  'a') as f:
            # NOTE: no packages here; what it runs is recorded.
            f.write('magnum_install_kubernetes() {\n'
                    '    echo magnum_install_kubernetes >> "%s"\n}\n' % log)
        run(_read(os.path.join(FRAGMENTS, 'kubernetes-node.sh')))
        return root, _read(log).splitlines()

    def _flags(self, root, family):
        """The kubelet's extra flags file, and its words as the kubelet
        gets them (the drop-in's unquoted $KUBELET_EXTRA_ARGS)."""
        text = _read(os.path.join(root, *KUBELET_DEFAULTS[family]))
        words = subprocess.run(
            ['/bin/sh', '-c', '. "$1"; printf "%s\\n" $KUBELET_EXTRA_ARGS',
             'sh', os.path.join(root, *KUBELET_DEFAULTS[family])],
            capture_output=True, text=True, check=True,
            timeout=30).stdout.splitlines()
        return text, words

    def _join(self):
        return ('kubeadm join 10.0.0.9:6443 --token %s '
                '--discovery-token-unsafe-skip-ca-verification' % TOKEN)

    def test_an_extra_groups_labels_and_taints_reach_the_kubelet(self):
        root, commands = self._boot({
            'name': 'gpu', 'role': 'worker', 'is_default': False,
            'node_count': 2, 'flavor_id': 'g1', 'image_id': 'fedora-40',
            'node_labels': {'tier': 'gpu', 'example.com/zone': 'a'},
            'node_taints': [{'key': 'nvidia.com/gpu', 'value': 'present',
                             'effect': 'NoSchedule'},
                            {'key': 'spot', 'value': '',
                             'effect': 'NoExecute'}]})
        flags = ('--node-labels=example.com/zone=a,tier=gpu '
                 '--register-with-taints=nvidia.com/gpu=present:NoSchedule,'
                 'spot:NoExecute')
        text, words = self._flags(root, 'fedora')
        self.assertEqual('KUBELET_EXTRA_ARGS="%s"\n' % flags, text)
        self.assertEqual(flags.split(' '), words)
        self.assertFalse(os.path.exists(os.path.join(
            root, *KUBELET_DEFAULTS['debian'])))
        # Written before the node joins (and registers).
        self.assertEqual(['magnum_install_kubernetes', self._join(),
                          'kubelet flags then: KUBELET_EXTRA_ARGS="%s"'
                          % flags], commands)

    def test_the_default_workers_row_reaches_the_kubelet_on_debian(self):
        model = utils.baymodel(self.context)
        bay = utils.bay(self.context, model)
        row = nodegroup_obj.NodeGroup.get(self.context, bay.uuid,
                                          'default-worker')
        nodegroup_obj.NodeGroup.update(row.uuid, {
            'node_labels': {'disk': 'ssd'}})
        row = nodegroup_obj.NodeGroup.get(self.context, bay.uuid,
                                          'default-worker')
        root, commands = self._boot(row, 'ubuntu-24.04')
        text, words = self._flags(root, 'debian')
        self.assertEqual('KUBELET_EXTRA_ARGS="--node-labels=disk=ssd"\n',
                         text)
        self.assertEqual(['--node-labels=disk=ssd'], words)
        self.assertFalse(os.path.exists(os.path.join(
            root, *KUBELET_DEFAULTS['fedora'])))

    def test_taints_alone(self):
        root, _ = self._boot({
            'name': 'spot', 'node_count': 1, 'node_labels': {},
            'node_taints': [{'key': 'spot', 'value': None,
                             'effect': 'PreferNoSchedule'}]})
        text, _ = self._flags(root, 'fedora')
        self.assertEqual('KUBELET_EXTRA_ARGS="--register-with-taints='
                         'spot:PreferNoSchedule"\n', text)

    def test_a_group_without_labels_or_taints_leaves_the_kubelet_alone(self):
        root, commands = self._boot({'name': 'plain', 'node_count': 1,
                                     'node_labels': None,
                                     'node_taints': None})
        for family in KUBELET_DEFAULTS:
            self.assertFalse(os.path.exists(os.path.join(
                root, *KUBELET_DEFAULTS[family])), family)
        self.assertEqual(['magnum_install_kubernetes', self._join()],
                         commands)
        self.assertEqual('NODE_LABELS=\nNODE_TAINTS=\n', _read(
            os.path.join(root, 'etc-magnum', 'nodegroup.env')))


class TestProvisionerSendsTheLabels(base.TestCase):
    """The node groups' rows reach the stack: at create (the default
    workers' row is written with the bay) and at every update."""

    def setUp(self):
        super().setUp()
        self.heat = test_heat_provisioner.FakeStacks()
        client = type('Client', (), {'stacks': self.heat})()
        for name in ('service_client', 'user_client'):
            self.useFixture(fixtures.MockPatchObject(
                heat_clients, name, lambda *a: client))
        self.model = utils.baymodel(
            self.context, coe='kubernetes', image_id='img', flavor_id='m1',
            external_network_id='public', cluster_distro='fedora',
            labels={'provisioner': 'heat'})
        self.bay = utils.bay(self.context, self.model, provisioner='heat',
                             name='b')
        worker = nodegroup_obj.NodeGroup.get(self.context, self.bay.uuid,
                                             'default-worker')
        nodegroup_obj.NodeGroup.update(worker.uuid, {
            'node_labels': {'tier': 'web'},
            'node_taints': [{'key': 'web', 'value': '',
                             'effect': 'NoSchedule'}]})

    @staticmethod
    def _registrations(files):
        cluster = json.loads(files[heat._CLUSTER_URL])
        return {name: tuple(
            resource['properties']['config']['str_replace']['params'][k]
            for k in ('$NODE_LABELS', '$NODE_TAINTS'))
            for name, resource in cluster['resources'].items()
            if 'registration' in name}

    def test_create_sends_the_default_workers_labels_and_taints(self):
        state = heat.HeatProvisioner().create(self.context, self.bay,
                                              self.model)
        self.assertIsNotNone(state.stack_id)
        self.assertEqual({'node_registration': ('tier=web', 'web:NoSchedule')},
                         self._registrations(self.heat.created_with['files']))

    def test_an_update_sends_every_worker_groups(self):
        self.bay.stack_id = heat.HeatProvisioner().create(
            self.context, self.bay, self.model).stack_id
        db_nodegroups.create_nodegroup(self.context, {
            'name': 'gpu', 'cluster_id': self.bay.uuid,
            'project_id': self.bay.project_id, 'role': 'worker',
            'is_default': False, 'node_count': 1, 'min_node_count': 0,
            'flavor_id': 'g1', 'image_id': 'img',
            'node_labels': {'accelerator': 'nvidia'},
            'node_taints': None, 'status': 'CREATE_IN_PROGRESS'})
        sent = []
        self.heat.update = lambda ident, **kw: sent.append(kw)
        heat.HeatProvisioner().update(self.context, self.bay, self.model)
        self.assertEqual(
            {'node_registration': ('tier=web', 'web:NoSchedule'),
             'node-registration-gpu': ('accelerator=nvidia', '')},
            self._registrations(sent[0]['files']))
        # heatclient resolved the part's script into the files sent.
        cluster = json.loads(sent[0]['files'][heat._CLUSTER_URL])
        script = cluster['resources']['node-registration-gpu'][
            'properties']['config']['str_replace']['template']['get_file']
        self.assertIn(b'NODE_LABELS=$NODE_LABELS\n',
                      sent[0]['files'][script])
        self.assertNotIn('nodegroup-default-worker', cluster['resources'])
