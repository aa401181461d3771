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

from magnum.drivers.heat import definition
from magnum.tests import base

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
