"""Magnum's shipped ClusterClass (magnum/drivers/capi/class.yaml): well
formed, named after its content, every template it refers to and every
variable its patches use in the file, and exactly the variables the capi
provisioner sends.

What the patches make of the templates is Cluster API's to compute (Go
templates with sprig's functions, then JSON patches); these tests check
what the file itself must keep consistent.
"""

import re

import fixtures
import testtools
import yaml

from magnum.drivers.capi import classes

TOKEN = 'CLASS_NAME'
NAME = re.compile(r'^magnum-[0-9a-f]{10}$')

# name: (type, required, default) -- as the provisioner sends them.
VARIABLES = {
    'image': ('string', True, None),
    'controlPlaneFlavor': ('string', True, None),
    'workerFlavor': ('string', True, None),
    'cloudCredentialsSecretName': ('string', True, None),
    'sshKeyName': ('string', False, ''),
    'apiServerCertSANs': ('array', False, []),
    'externalNetworkId': ('string', False, ''),
    'fixedNetworkId': ('string', False, ''),
    'fixedSubnetId': ('string', False, ''),
    'fixedSubnetCidr': ('string', False, '10.0.0.0/24'),
    'dnsNameservers': ('array', False, []),
    'apiServerLoadBalancer': ('boolean', False, False),
    'apiServerFloatingIP': ('boolean', False, True),
    'bootVolume': ('object', False, {'type': '', 'size': 0}),
    'httpProxy': ('string', False, ''),
    'httpsProxy': ('string', False, ''),
    'noProxy': ('string', False, ''),
    'insecureRegistry': ('string', False, ''),
    'nodeLabels': ('object', False, {}),
}
# Overridden by a MachineDeployment (a node group's own).
OVERRIDDEN = ('image', 'workerFlavor', 'nodeLabels')

# A Go template's actions, its string literals, and the fields of its data
# (`.name`, `.name.part`) an action reads.
_ACTION = re.compile(r'{{(.*?)}}', re.S)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`')
_FIELD = re.compile(r'(?<![\w$)\]])\.([A-Za-z_]\w*)')


def _raw():
    with open(classes.PATH) as f:
        return list(d for d in yaml.safe_load_all(f) if d)


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _refs(cluster_class):
    """Every templateRef of the ClusterClass."""
    return [node['templateRef'] for node in _walk(cluster_class['spec'])
            if 'templateRef' in node]


def _template_fields(text):
    """The top-level data fields a Go template reads (``.builtin`` and
    the rest)."""
    fields = set()
    for action in _ACTION.findall(text):
        fields.update(_FIELD.findall(_STRING.sub('""', action)))
    return fields


class TestFile(testtools.TestCase):

    def setUp(self):
        super().setUp()
        self.docs = _raw()
        self.cluster_class = [d for d in self.docs
                              if d['kind'] == 'ClusterClass']

    def test_parses_to_one_class_and_its_templates(self):
        self.assertEqual(1, len(self.cluster_class))
        kinds = sorted((d['apiVersion'], d['kind']) for d in self.docs)
        self.assertEqual(
            [('bootstrap.cluster.x-k8s.io/v1beta2', 'KubeadmConfigTemplate'),
             ('cluster.x-k8s.io/v1beta2', 'ClusterClass'),
             ('controlplane.cluster.x-k8s.io/v1beta2',
              'KubeadmControlPlaneTemplate'),
             ('infrastructure.cluster.x-k8s.io/v1beta1',
              'OpenStackClusterTemplate'),
             ('infrastructure.cluster.x-k8s.io/v1beta1',
              'OpenStackMachineTemplate'),
             ('infrastructure.cluster.x-k8s.io/v1beta1',
              'OpenStackMachineTemplate')], kinds)

    def test_every_object_is_named_from_the_token_without_namespace(self):
        keys = set()
        for doc in self.docs:
            metadata = doc['metadata']
            self.assertNotIn('namespace', metadata)
            name = metadata['name']
            self.assertTrue(name == TOKEN or name.startswith(TOKEN + '-'),
                            name)
            keys.add((doc['kind'], name))
        self.assertEqual(len(self.docs), len(keys), 'a name twice')

    def test_every_template_ref_is_in_the_file(self):
        objects = {(d['apiVersion'], d['kind'], d['metadata']['name'])
                   for d in self.docs}
        refs = _refs(self.cluster_class[0])
        # infrastructure, control plane and its machines, and the workers'
        # bootstrap and machines.
        self.assertEqual(5, len(refs))
        for ref in refs:
            self.assertIn((ref['apiVersion'], ref['kind'], ref['name']),
                          objects)
        self.assertEqual(
            objects - {(d['apiVersion'], d['kind'], d['metadata']['name'])
                       for d in self.cluster_class},
            {(r['apiVersion'], r['kind'], r['name']) for r in refs},
            'a template the class does not refer to')

    def test_one_worker_class(self):
        deployments = self.cluster_class[0]['spec']['workers'][
            'machineDeployments']
        self.assertEqual([classes.worker_class()],
                         [md['class'] for md in deployments])
        self.assertEqual('default-worker', classes.worker_class())
        self.assertNotIn('machinePools',
                         self.cluster_class[0]['spec']['workers'])

    def test_the_variables_are_exactly_those_the_provisioner_sends(self):
        declared = {v['name']: v for v in
                    self.cluster_class[0]['spec']['variables']}
        self.assertEqual(set(VARIABLES), set(declared))
        self.assertEqual(set(VARIABLES), classes.variable_names())
        for name, (kind, required, default) in VARIABLES.items():
            variable = declared[name]
            schema = variable['schema']['openAPIV3Schema']
            self.assertEqual(kind, schema['type'], name)
            # v1beta2 makes `required` itself required.
            self.assertIs(required, variable['required'], name)
            if required:
                self.assertNotIn('default', schema, name)
                self.assertEqual(1, schema.get('minLength'), name)
            else:
                self.assertEqual(default, schema['default'], name)
        boot = declared['bootVolume']['schema']['openAPIV3Schema']
        self.assertEqual({'type': 'string', 'size': 'integer'},
                         {k: v['type']
                          for k, v in boot['properties'].items()})
        labels = declared['nodeLabels']['schema']['openAPIV3Schema']
        self.assertEqual({'type': 'string'}, labels['additionalProperties'])
        servers = declared['dnsNameservers']['schema']['openAPIV3Schema']
        self.assertEqual({'type': 'string'}, servers['items'])

    def test_every_variable_a_patch_uses_is_declared(self):
        declared = classes.variable_names()
        used = set()
        for patch in self.cluster_class[0]['spec']['patches']:
            used |= _template_fields(patch.get('enabledIf', ''))
            for definition in patch['definitions']:
                for json_patch in definition['jsonPatches']:
                    source = json_patch.get('valueFrom') or {}
                    if 'variable' in source:
                        used.add(source['variable'].split('.')[0])
                    used |= _template_fields(source.get('template', ''))
        used.discard('builtin')
        self.assertEqual(set(), used - declared)
        # and every declared variable does something.
        self.assertEqual(set(), declared - used)

    def test_every_patch_selects_a_template_of_the_file(self):
        kinds = {(d['apiVersion'], d['kind']) for d in self.docs
                 if d['kind'] != 'ClusterClass'}
        names = set()
        for patch in self.cluster_class[0]['spec']['patches']:
            names.add(patch['name'])
            for definition in patch['definitions']:
                selector = definition['selector']
                self.assertIn((selector['apiVersion'], selector['kind']),
                              kinds, patch['name'])
                match = selector['matchResources']
                self.assertTrue(match, patch['name'])
                if 'machineDeploymentClass' in match:
                    self.assertEqual(
                        [classes.worker_class()],
                        match['machineDeploymentClass']['names'])
                for json_patch in definition['jsonPatches']:
                    self.assertIn(json_patch['op'],
                                  ('add', 'replace', 'remove'))
                    self.assertTrue(
                        json_patch['path'].startswith('/spec/'))
        self.assertEqual(len(self.cluster_class[0]['spec']['patches']),
                         len(names), 'two patches of one name')

    def test_overridden_variables_reach_the_worker_templates(self):
        """A MachineDeployment's overrides only reach its own templates:
        each overridden variable is used by a patch of the workers'."""
        for name in OVERRIDDEN:
            found = False
            for patch in self.cluster_class[0]['spec']['patches']:
                for definition in patch['definitions']:
                    if ('machineDeploymentClass' not in
                            definition['selector']['matchResources']):
                        continue
                    text = yaml.safe_dump(definition['jsonPatches'])
                    text += patch.get('enabledIf', '')
                    if re.search(r'\.%s\b|variable: %s\b' % (name, name),
                                 text):
                        found = True
            self.assertTrue(found, name)


class TestObjects(testtools.TestCase):

    def test_name_is_the_hash_of_the_file(self):
        name = classes.name()
        self.assertRegex(name, NAME)
        self.assertEqual(name, classes.name())

    def test_objects_are_named_namespaced_and_labelled(self):
        name = classes.name()
        objects = classes.objects('magnum-system')
        self.assertEqual(6, len(objects))
        # The templates first: the class finds them when it is made.
        self.assertEqual('ClusterClass', objects[-1]['kind'])
        self.assertEqual(name, objects[-1]['metadata']['name'])
        for body in objects:
            self.assertTrue(body['apiVersion'])
            self.assertTrue(body['kind'])
            metadata = body['metadata']
            self.assertTrue(metadata['name'] == name or
                            metadata['name'].startswith(name + '-'))
            self.assertEqual('magnum-system', metadata['namespace'])
            self.assertEqual({classes.LABEL: name}, metadata['labels'])
            self.assertNotIn(TOKEN, yaml.safe_dump(body))
        for ref in _refs(objects[-1]):
            self.assertTrue(ref['name'].startswith(name + '-'))

    def test_objects_are_copies(self):
        one = classes.objects('a')
        one[0]['spec'].clear()
        one[-1]['spec']['patches'][0]['definitions'].clear()
        two = classes.objects('b')
        self.assertTrue(two[0]['spec'])
        self.assertTrue(two[-1]['spec']['patches'][0]['definitions'])
        self.assertEqual('b', two[0]['metadata']['namespace'])

    def test_a_changed_file_is_a_new_class(self):
        content = classes._read()
        before = classes.name()
        changed = content + b'\n# another release\n'
        self.useFixture(fixtures.MonkeyPatch(
            'magnum.drivers.capi.classes._read', lambda: changed))
        after = classes.name()
        self.assertRegex(after, NAME)
        self.assertNotEqual(before, after)
        for body in classes.objects('ns'):
            self.assertTrue(body['metadata']['name'].startswith(after))
            self.assertEqual(after, body['metadata']['labels'][classes.LABEL])

    def test_the_same_bytes_are_the_same_name(self):
        content = classes._read()
        before = classes.name()
        self.useFixture(fixtures.MonkeyPatch(
            'magnum.drivers.capi.classes._read', lambda: bytes(content)))
        self.assertEqual(before, classes.name())
