"""etc/magnum/policy.yaml.sample is what oslopolicy-sample-generator writes.

The rules live in magnum/common/policies/; the sample is only ever
generated from them.
"""

import os
import subprocess
import sys
import tempfile

import testtools

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..',
                                    '..'))
SAMPLE = os.path.join(ROOT, 'etc', 'magnum', 'policy.yaml.sample')
GENERATOR_CONF = os.path.join(ROOT, 'etc', 'magnum',
                              'magnum-policy-generator.conf')

_GENERATE = '''
import sys
from oslo_policy import generator
generator.generate_sample(sys.argv[1:])
'''


def generate():
    """The sample as the generator writes it from the rules in code now."""
    with tempfile.TemporaryDirectory() as directory:
        output = os.path.join(directory, 'policy.yaml.sample')
        subprocess.run(
            [sys.executable, '-c', _GENERATE, '--config-file', GENERATOR_CONF,
             '--output-file', output],
            cwd=ROOT, check=True, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, timeout=60)
        with open(output) as f:
            return f.read()


class TestPolicySample(testtools.TestCase):

    def test_committed_sample_is_what_the_generator_writes(self):
        with open(SAMPLE) as f:
            committed = f.read()
        self.assertEqual(
            committed, generate(),
            'etc/magnum/policy.yaml.sample is stale; regenerate it with '
            '"tox -e genpolicy" (oslopolicy-sample-generator --config-file '
            'etc/magnum/magnum-policy-generator.conf)')

    def test_sample_lists_every_rule_in_code(self):
        from magnum.common import policies
        with open(SAMPLE) as f:
            committed = f.read()
        for rule in policies.list_rules():
            self.assertIn('#"%s":' % rule.name, committed)
